package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.natives.Natives;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ReduceMax, ReduceMin and GlobalMaxPool of windows holding only -inf (+inf): oneDNN's reduction starts from the lowest
 * (largest) finite float, so they gave -3.4028235E38 (3.4028235E38); expected values from torch 1.13 (numpy agrees):
 * {@code torch.amax(x, 1)} of rows {@code [-inf, -inf, -inf]}, {@code [1, -inf, 2]}, {@code [-0.0, -1, -inf]},
 * {@code [NaN, -inf, -inf]} is {@code [-inf, 2, -0.0, NaN]}, {@code torch.amin(-x, 1)} is {@code [inf, -2, 0.0, NaN]},
 * and {@code adaptive_max_pool2d} of the rows as [1, 4, 3, 1] gives the same maxima. The sign of a zero maximum is kept.
 */
class ReduceInfiniteWindowsTest {
    private static final float INF = Float.POSITIVE_INFINITY, NAN = Float.NaN;
    private static final float[] X = {-INF, -INF, -INF, 1, -INF, 2, -0.0f, -1, -INF, NAN, -INF, -INF};

    @BeforeAll
    static void natives() {
        Natives.load();
    }

    private static float[] run(String op, long[] shape, float[] x, Attributes a) {
        GraphBuilder g = Graph.builder("r");
        String in = g.input("x", Shape.of(shape));
        Graph graph = g.output(g.node(op, "r", a, in)).build();
        try (CompiledModel p = CompiledModel.compile(graph, CompileOptions.defaults(), shape); Tensor t = Tensor.of(x, shape); Tensor y = p.run(t)) {
            return y.toFloatArray();
        }
    }

    private static void assertBits(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), what + " [" + i + "]: " + got[i] + ", expected " + want[i]);
        }
    }

    @Test
    void maxAndMinOfOnlyInfinities() {
        Attributes rows = Attributes.of("axes", new long[] {1}, "keepdims", 0L);
        assertBits(new float[] {-INF, 2, -0.0f, NAN}, run("ReduceMax", new long[] {4, 3}, X, rows), "ReduceMax");
        float[] neg = new float[X.length];
        for (int i = 0; i < X.length; i++) neg[i] = -X[i];
        assertBits(new float[] {INF, -2, 0.0f, NAN}, run("ReduceMin", new long[] {4, 3}, neg, rows), "ReduceMin");
        assertBits(new float[] {-INF, 2, -0.0f, NAN}, run("GlobalMaxPool", new long[] {1, 4, 3, 1}, X, Attributes.empty()), "GlobalMaxPool");
    }
}
