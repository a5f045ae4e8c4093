package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A model whose shapes depend on an integer input's values (ONNX's test_reshape_reordered_all_dims:
 * Reshape(data f32[2, 3, 4], shape i64[3]) with the shape fed as an input): it loads, run(Map)
 * binds the shape per call (a plan per value, kept), and the graph and plan-set views refuse clearly.
 */
class BoundInputsTest {
    private static final Path CASE = BackendSuiteTest.DATA.resolve("node/test_reshape_reordered_all_dims/model.onnx");

    @Test
    void runBindsTheIntegerInputPerCall() throws Exception {
        assumeTrue(Files.exists(CASE), "ONNX backend test data not installed");
        try (Arena arena = Arena.ofConfined(); OnnxModel m = Onnx.load(CASE)) {
            assertEquals(2, m.inputs().size());
            String data = m.inputs().get(0).name(), shape = m.inputs().get(1).name(), out = m.outputs().get(0).name();
            assertEquals(DataType.I64, m.inputs().get(1).dtype());
            var graph = assertThrows(OnnxException.class, m::toGraph);
            assertTrue(graph.getMessage().contains("run(Map) binds the call's shapes, and values where needed, per call"), graph.getMessage());
            var plans = assertThrows(OnnxException.class, () -> m.compile(CompileOptions.defaults()));
            assertTrue(plans.getMessage().contains("must be a constant"), plans.getMessage());

            float[] x = new float[24];
            for (int i = 0; i < x.length; i++) x[i] = i - 7.5f;
            Tensor in = Tensor.of(x, 2, 3, 4);
            for (long[] target : new long[][] {{4, 2, 3}, {3, -1, 2}, {4, 2, 3}, {2, 0, 4}}) {   // the first value again: its kept plan
                Tensor s = TensorProtos.longs(arena, target, target.length);
                Map<String, Tensor> y = m.run(Map.of(data, in, shape, s));
                try (Tensor t = y.get(out)) {
                    long[] expect = target[1] == -1 ? new long[] {3, 4, 2} : target[1] == 0 ? new long[] {2, 3, 4} : target;
                    assertArrayEquals(expect, t.shape());
                    assertArrayEquals(x, t.toFloatArray());   // a reshape keeps the order
                }
            }
            Tensor bad = TensorProtos.longs(arena, new long[] {5, 5, 1}, 3);
            var e = assertThrows(OnnxException.class, () -> m.run(Map.of(data, in, shape, bad)));
            assertTrue(e.getMessage().contains("integer inputs bound to this call's values"), e.getMessage());
            try (Tensor t = m.run(Map.of(data, in, shape, TensorProtos.longs(arena, new long[] {1, 24, 1}, 3))).get(out)) {   // still runs
                assertArrayEquals(new long[] {1, 24, 1}, t.shape());
            }
        }
    }
}
