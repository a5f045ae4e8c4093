package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.graph.Value;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * A graph output that is a node's second (or later) output, as torch.onnx.export writes an LSTM's {@code h_n} or the
 * pieces of a {@code torch.chunk}: a plan set's and a plan's results are keyed by the model's output names, as
 * {@link OnnxModel#run}'s are. Before, they carried our internal name for it ({@code split:1}, {@code
 * /inner/LSTM_output_0:1}) and {@code out.get("h_n")} was null; found by {@code scripts/torch-probe}'s exports run through
 * plan sets (seed 11: 2 of 60 LSTM exports). Likewise an op composed of several of ours, whose first node took the
 * output's name ({@code y}) and whose last computed {@code y_2}: a legacy Softmax (opset 11 over the last two dims of
 * three). The values: the input's halves, and the softmax over each row's 12 values, which the test computes.
 */
class PlanOutputNamesTest {
    /** x [N, 4] split on axis 1 into a = x[:, :2] and b = x[:, 2:], both graph outputs; c = Relu(b) a third. */
    private static GraphProto graph() {
        return GraphProto.newBuilder().setName("pieces").addInput(TestModels.f32("x", "N", 4))
                .addOutput(TestModels.f32("a", "N", 2)).addOutput(TestModels.f32("b", "N", 2)).addOutput(TestModels.f32("c", "N", 2))
                .addNode(TestModels.node("split", "Split", new String[] {"x"}, new String[] {"a", "b"}, TestModels.ints("split", 2, 2),
                        AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(1).build()))
                .addNode(TestModels.node("relu", "Relu", new String[] {"b"}, new String[] {"c"}))
                .build();
    }

    @Test
    void aComposedOpsOutputKeepsTheModelsName() {
        GraphProto g = GraphProto.newBuilder().setName("legacy").addInput(TestModels.f32("x", "N", 3, 4)).addOutput(TestModels.f32("y", "N", 3, 4))
                .addNode(TestModels.node("sm", "Softmax", new String[] {"x"}, new String[] {"y"})).build();
        try (OnnxModel m = Onnx.load(TestModels.model(11, g).toByteArray()); PlanSet plans = m.compile(CompileOptions.defaults())) {
            float[] x = new float[2 * 12], want = new float[x.length];
            for (int i = 0; i < x.length; i++) x[i] = (i % 7) * 0.5f - 1f;
            for (int r = 0; r < 2; r++) {
                double sum = 0;
                for (int j = 0; j < 12; j++) sum += Math.exp(x[r * 12 + j]);
                for (int j = 0; j < 12; j++) want[r * 12 + j] = (float) (Math.exp(x[r * 12 + j]) / sum);
            }
            try (Tensor in = Tensor.of(x, 2, 3, 4)) {
                Map<String, Tensor> out = plans.run(Map.of("x", in));
                try {
                    assertEquals(Set.of("y"), out.keySet());
                    assertArrayEquals(want, out.get("y").toFloatArray(), 1e-6f);
                } finally {
                    out.values().forEach(Tensor::close);
                }
            }
        }
    }

    @Test
    void planSetsAndPlansKeyEveryOutputByTheModelsName() {
        try (OnnxModel m = Onnx.load(TestModels.model(11, graph()).toByteArray()); PlanSet plans = m.compile(CompileOptions.defaults())) {
            Set<String> names = new TreeSet<>();
            for (Value v : m.outputs()) names.add(v.name());
            assertEquals(Set.of("a", "b", "c"), names);
            for (int n : new int[] {3, 1}) {
                float[] x = new float[n * 4], a = new float[n * 2], b = new float[n * 2], c = new float[n * 2];
                for (int i = 0; i < x.length; i++) x[i] = i * 0.5f - 2.25f;
                for (int r = 0; r < n; r++) {
                    for (int j = 0; j < 2; j++) {
                        a[r * 2 + j] = x[r * 4 + j];
                        b[r * 2 + j] = x[r * 4 + 2 + j];
                        c[r * 2 + j] = Math.max(0f, b[r * 2 + j]);
                    }
                }
                try (Tensor in = Tensor.of(x, n, 4)) {
                    Map<String, Tensor> out = plans.run(Map.of("x", in));
                    try {
                        assertEquals(names, new TreeSet<>(out.keySet()), "plan set, batch " + n);
                        assertArrayEquals(a, out.get("a").toFloatArray(), 0f);
                        assertArrayEquals(b, out.get("b").toFloatArray(), 0f);
                        assertArrayEquals(c, out.get("c").toFloatArray(), 0f);
                    } finally {
                        out.values().forEach(Tensor::close);
                    }
                }
            }
        }
        try (OnnxModel m = Onnx.load(TestModels.model(11, graph()).toByteArray(), OnnxOptions.defaults().withDim("N", 2));
             CompiledModel plan = m.plan(CompileOptions.defaults()); Tensor in = Tensor.of(new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 4)) {
            Map<String, Tensor> out = plan.run(Map.of("x", in));
            try {
                assertEquals(Set.of("a", "b", "c"), new TreeSet<>(out.keySet()), "one plan");
                assertArrayEquals(new float[] {3, 4, 7, 8}, out.get("b").toFloatArray(), 0f);
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }
}
