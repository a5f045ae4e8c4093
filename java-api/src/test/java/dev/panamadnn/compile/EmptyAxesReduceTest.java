package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * ReduceSum, ReduceMean and ReduceMax with an empty {@code axes} input (an I64 initializer of shape [0], as ONNX's
 * ReduceSum-13 and opset 18's reductions take it): every axis with {@code noop_with_empty_axes = 0}, the input unchanged
 * with 1. Expected values from numpy 1.24 on the same float32 data ({@code np.random.RandomState(7).randn(2, 3, 2)}):
 * {@code np.sum/np.mean/np.max(x, keepdims=True)}; the sum and mean within 1e-6 (oneDNN adds in another order than
 * numpy's pairwise sum; the values are of order 1), the max and the identity exactly.
 */
class EmptyAxesReduceTest {
    private static final float[] X = {1.69052565f, -0.465937376f, 0.0328201652f, 0.407516271f, -0.788923025f, 0.00206557289f,
        -0.000890385883f, -1.75472426f, 1.017658f, 0.600498497f, -0.625428975f, -0.171548262f};

    @Test
    void emptyAxesReduceEveryAxis() {
        Map<String, Float> numpy = Map.of("ReduceSum", -0.0563681275f, "ReduceMean", -0.0046973438f, "ReduceMax", 1.69052565f);
        for (Map.Entry<String, Float> e : numpy.entrySet()) {
            float[] y = run(e.getKey(), 0, new long[] {1, 1, 1});
            assertEquals(e.getValue(), y[0], e.getKey().equals("ReduceMax") ? 0f : 1e-6f, e.getKey() + " over every axis");
        }
    }

    @Test
    void emptyAxesWithNoopLeaveTheInput() {
        for (String op : new String[] {"ReduceSum", "ReduceMean", "ReduceMax"}) {
            assertArrayEquals(X, run(op, 1, new long[] {2, 3, 2}), op + " with noop_with_empty_axes = 1");
        }
    }

    @Test
    void theEmptyAxesConstantIsAnEmptyI64Tensor() {
        GraphBuilder g = Graph.builder("axes");
        String axes = g.constant("axes");
        g.output(g.node("ReduceSum", "r", Attributes.empty(), g.input("x", Shape.of(2, 3, 2)), axes));
        Graph graph = g.build();
        assertEquals(DataType.I64, graph.value(axes).dtype());
        assertEquals(Shape.of(0), graph.value(axes).shape());
        assertEquals(Shape.of(1, 1, 1), graph.value("r").shape());
    }

    /** {@code op(x, axes = [])} with {@code noop_with_empty_axes = noop}, compiled and run once; checks the output shape. */
    private static float[] run(String op, long noop, long[] shape) {
        GraphBuilder g = Graph.builder(op);
        String x = g.input("x", Shape.of(2, 3, 2));
        g.output(g.node(op, "r", Attributes.of("noop_with_empty_axes", noop), x, g.constant("axes")));
        try (CompiledModel plan = CompiledModel.compile(g.build(), CompileOptions.defaults(), Map.of("x", new long[] {2, 3, 2}));
             Tensor in = Tensor.of(X, 2, 3, 2)) {
            Map<String, Tensor> out = plan.run(Map.of("x", in));
            try {
                Tensor r = out.get("r");
                assertArrayEquals(shape, r.shape(), () -> op + " noop " + noop + ": " + plan.describe());
                assertTrue(r.numel() > 0);
                return r.toFloatArray();
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }
}
