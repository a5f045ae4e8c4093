package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import org.junit.jupiter.api.Test;

/**
 * Pow with the exponent computed at run time (the graph's input) and a constant base broadcast over it: one Java
 * step reading the base as floats. Expected values are exact powers of two (2^k is exact in float for these k),
 * NaN for a NaN exponent, and 1 for exponent 0 (C's pow).
 */
class RuntimeExponentTest {

    @Test
    void aConstantBaseRaisedToRunTimeExponents() {
        GraphBuilder g = Graph.builder("pow-exponent");
        String x = g.input("e", Shape.batched("N", 6));
        String base = g.initializer("base", Tensor.of(new float[] {2f, 2f, 2f, 2f, 2f, 2f}, 6));
        Graph graph = g.output(g.node("Pow", "pow", Attributes.empty(), base, x)).build();
        float[] e = {-3f, 0f, 1f, 2f, 10f, Float.NaN};
        try (CompiledModel plan = CompiledModel.compile(graph, CompileOptions.defaults(), new long[] {2, 6});
             Tensor in = Tensor.of(concat(e, new float[] {0.5f, -1f, 3f, 24f, -24f, 1f}), 2, 6); Tensor out = plan.run(in)) {
            assertTrue(plan.steps().stream().anyMatch(s -> s.startsWith("java pow")), plan.describe());
            assertArrayEquals(new float[] {0.125f, 1f, 2f, 4f, 1024f, Float.NaN, (float) Math.sqrt(2), 0.5f, 8f, 16777216f, 0x1p-24f, 2f},
                    out.toFloatArray());
        }
    }

    private static float[] concat(float[] a, float[] b) {
        float[] r = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
