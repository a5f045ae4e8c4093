package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
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

    /**
     * Values bound and a broadcast that holds only at the call's batch: Reshape(Add(x [N, 4], c [3, 1]), shape) with the
     * shape fed as an input. The values-bound import used to keep x's dims symbolic ("shapes [N, 4] and [3, 1] do not
     * broadcast"), where ONNX Runtime runs it at N = 3 or 1; found by the differential probe (89 of 800 attention graphs
     * with a symbolic batch and inputs fed at run time). Expected values from NumPy ({@code (x + c).reshape(shape)}).
     */
    @Test
    void valuesBoundWithTheCallsShapes() {
        GraphProto g = GraphProto.newBuilder().setName("bound").addInput(TestModels.f32("x", "N", 4))
                .addInput(ValueInfoProto.newBuilder().setName("shape").setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.INT64_VALUE).setShape(TensorShapeProto.newBuilder()
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(2))))))
                .addInitializer(TestModels.weights("c", new float[] {1, 2, 3}, 3, 1)).addOutput(TestModels.f32("y", "A", "B"))
                .addNode(TestModels.node("add", "Add", new String[] {"x", "c"}, new String[] {"sum"}))
                .addNode(TestModels.node("reshape", "Reshape", new String[] {"sum", "shape"}, new String[] {"y"})).build();
        try (Arena arena = Arena.ofConfined(); OnnxModel m = Onnx.load(TestModels.model(13, g).toByteArray())) {
            float[] x3 = new float[12], x1 = new float[4];
            for (int i = 0; i < x3.length; i++) x3[i] = i * 0.5f - 2;
            System.arraycopy(x3, 0, x1, 0, 4);
            try (Tensor in = Tensor.of(x3, 3, 4); Tensor t = m.run(Map.of("x", in, "shape", TensorProtos.longs(arena, new long[] {4, 3}, 2))).get("y")) {
                assertArrayEquals(new long[] {4, 3}, t.shape());
                assertArrayEquals(new float[] {-1.0f, -0.5f, 0.0f, 0.5f, 2.0f, 2.5f, 3.0f, 3.5f, 5.0f, 5.5f, 6.0f, 6.5f}, t.toFloatArray());
            }
            try (Tensor in = Tensor.of(x1, 1, 4); Tensor t = m.run(Map.of("x", in, "shape", TensorProtos.longs(arena, new long[] {2, 6}, 2))).get("y")) {
                assertArrayEquals(new float[] {-1.0f, -0.5f, 0.0f, 0.5f, 0.0f, 0.5f, 1.0f, 1.5f, 1.0f, 1.5f, 2.0f, 2.5f}, t.toFloatArray());
            }
        }
    }

    /**
     * A model with a rank-0 integer input (which no plan takes: it is bound per call) and an op no plan computes: the
     * refusal names that op, not the plan's "expected an input shape, got none" for the scalar (found by the differential
     * probe).
     */
    @Test
    void aScalarInputDoesNotHideTheRealRefusal() {
        GraphProto g = GraphProto.newBuilder().setName("scalar").addInput(TestModels.f32("x", 2))
                .addInput(ValueInfoProto.newBuilder().setName("k").setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.INT64_VALUE).setShape(TensorShapeProto.newBuilder()))))
                .addInitializer(TensorProto.newBuilder().setName("pads").setDataType(TensorProto.DataType.INT64_VALUE).addDims(2).addInt64Data(-1).addInt64Data(1))
                .addOutput(TestModels.f32("y", 2))
                .addNode(TestModels.node("pad", "Pad", new String[] {"x", "pads"}, new String[] {"y"}, TestModels.string("mode", "reflect"))).build();
        try (Arena arena = Arena.ofConfined(); OnnxModel m = Onnx.load(TestModels.model(13, g).toByteArray()); Tensor in = Tensor.of(new float[] {1, 2}, 2)) {
            Tensor k = TensorProtos.longs(arena, new long[] {3});
            OnnxException e = assertThrows(OnnxException.class, () -> m.run(Map.of("x", in, "k", k)).values().forEach(Tensor::close));
            assertTrue(e.getMessage().contains("mode reflect") && !e.getMessage().contains("expected an input shape"), e.getMessage());
        }
    }
}
