package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link OnnxModel#run} of a model with a batch input {@code [N, 3]} whose outputs do not keep the batch first: a
 * Transpose to {@code [3, N]} and a ReduceSum over the batch to {@code [1, 3]}. A plan set cannot hold such a model (its
 * plans split and join along the batch), and run() used to try one anyway and fail ("a plan set needs a model that keeps
 * the batch dimension") where ONNX Runtime runs it; found by a differential probe against ONNX Runtime 1.23.2 (287 of
 * 3,000 random graphs with a symbolic batch). run() now compiles for the call's shapes; compile() still refuses, naming
 * why. Expected values from NumPy ({@code x.T}, {@code x.sum(0, keepdims=True)}).
 */
class RunAcrossTheBatchTest {
    private static byte[] model() {
        GraphProto g = GraphProto.newBuilder().setName("across").addInput(TestModels.f32("x", "N", 3))
                .addOutput(TestModels.f32("t", 3, "N")).addOutput(TestModels.f32("s", 1, 3))
                .addNode(TestModels.node("tr", "Transpose", new String[] {"x"}, new String[] {"t"}, TestModels.ints("perm", 1, 0)))
                .addNode(TestModels.node("sum", "ReduceSum", new String[] {"x"}, new String[] {"s"}, TestModels.ints("axes", 0),
                        AttributeProto.newBuilder().setName("keepdims").setType(AttributeProto.AttributeType.INT).setI(1).build()))
                .build();
        return TestModels.model(11, g).toByteArray();
    }

    private static float[] x(int n) {
        float[] x = new float[n * 3];
        for (int i = 0; i < x.length; i++) x[i] = i * 0.5f - 1;
        return x;
    }

    @Test
    void runComputesOutputsThatDoNotKeepTheBatch() {
        try (OnnxModel m = Onnx.load(model())) {
            try (Tensor in = Tensor.of(x(2), 2, 3)) {
                assertArrayEquals(new float[] {-1.0f, 0.5f, -0.5f, 1.0f, 0.0f, 1.5f}, TestModels.outputValues(m, Map.of("x", in), "t"));
                assertArrayEquals(new float[] {-0.5f, 0.5f, 1.5f}, TestModels.outputValues(m, Map.of("x", in), "s"));
            }
            try (Tensor in = Tensor.of(x(3), 3, 3)) {
                assertArrayEquals(new float[] {-1.0f, 0.5f, 2.0f, -0.5f, 1.0f, 2.5f, 0.0f, 1.5f, 3.0f}, TestModels.outputValues(m, Map.of("x", in), "t"));
                assertArrayEquals(new float[] {1.5f, 3.0f, 4.5f}, TestModels.outputValues(m, Map.of("x", in), "s"));
            }
            RuntimeException e = assertThrows(RuntimeException.class, () -> {
                try (PlanSet p = m.compile(CompileOptions.defaults()); Tensor in = Tensor.of(x(2), 2, 3)) {
                    p.run(Map.of("x", in)).values().forEach(Tensor::close);
                }
            });
            assertTrue(e.getMessage().contains("keeps the batch dimension"), e.getMessage());
        }
    }
}
