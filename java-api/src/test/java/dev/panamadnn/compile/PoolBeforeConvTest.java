package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code pool_before_conv}: a pointwise convolution read only by an average pooling that shrinks it runs after the
 * pooling (DenseNet's transitions). The two commute, so the plan's results equal the plan with the rule off up to
 * float rounding, NaN and infinities in the same places; the rule leaves alone what does not commute (a pooling that
 * counts padded zeros) and what does not pay (a pooling that keeps the size).
 */
class PoolBeforeConvTest {
    private static final String RULE = "pool_before_conv";
    private static final CompileOptions OPTIONS = CompileOptions.defaults().withWinograd(false);
    private final RandomTensors tensors = new RandomTensors(11);

    @AfterEach
    void free() {
        tensors.close();
    }

    private Tensor random(long... shape) {
        return tensors.uniform(shape);
    }

    /** {@code Conv(x)} with a kernel of ones ({@code kernel} 1) or 3 ({@code kernel} 3) then {@code AveragePool(pool)}; {@code alsoOutput}: the conv's output is read elsewhere too. */
    private Graph convThenPool(long[] x, long out, long group, long kernel, Attributes pool, boolean alsoOutput) {
        int spatial = x.length - 2;
        long[] w = new long[x.length];
        w[0] = out;
        w[1] = x[1] / group;
        for (int d = 0; d < spatial; d++) w[2 + d] = kernel;
        GraphBuilder g = Graph.builder("transition");
        String in = g.input("input", Shape.of(x));
        Attributes conv = Attributes.of("group", group);
        if (kernel == 3) conv = conv.toBuilder().put("pads", new long[] {1, 1, 1, 1}).build();
        String y = g.node("Conv", "conv", conv, in, g.initializer("conv.weight", random(w)), g.initializer("conv.bias", random(out)));
        String z = g.node("AveragePool", "pool", pool, y);
        g.output(z);
        if (alsoOutput) g.output(y);
        return g.build();
    }

    private static float[] run(CompiledModel p, Tensor x) {
        Map<String, Tensor> out = p.run(Map.of("input", x));
        try {
            return out.get("pool").toFloatArray();
        } finally {
            out.values().forEach(Tensor::close);
        }
    }

    /** Compiles {@code g} with and without the rule, runs both on {@code x} and compares; returns whether the rule fired. */
    private boolean compare(Graph g, Tensor x) {
        long[] shape = x.shape();
        try (CompiledModel with = CompiledModel.compile(g, OPTIONS, Map.of("input", shape));
             CompiledModel without = CompiledModel.compile(g, OPTIONS.withoutRule(RULE), Map.of("input", shape))) {
            float[] a = run(with, x), b = run(without, x);
            assertEquals(b.length, a.length);
            for (int i = 0; i < a.length; i++) {
                if (Float.isNaN(b[i]) || Float.isInfinite(b[i])) {
                    assertEquals(b[i], a[i], 0f, "non-finite output " + i + " as the plan without the rule\n" + with.describe());
                } else {
                    assertEquals(b[i], a[i], 1e-5 * (1 + Math.abs(b[i])), "output " + i + "\n" + with.describe());
                }
            }
            return with.rulesFired().stream().anyMatch(r -> r.startsWith(RULE));
        }
    }

    @Test
    void aPointwiseConvolutionRunsOnThePooledPositions() {
        Attributes pool = Attributes.of("kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2});
        Tensor x = random(2, 32, 8, 8);
        Graph g = convThenPool(x.shape(), 16, 1, 1, pool, false);
        assertTrue(compare(g, x));
        try (CompiledModel p = CompiledModel.compile(g, OPTIONS, Map.of("input", x.shape()))) {
            List<String> kinds = p.steps().stream().map(s -> s.split(" ", 2)[0]).filter(k -> !k.equals("reorder")).toList();
            assertEquals(List.of("avgpool", "conv"), kinds, p.describe());
            assertTrue(p.rulesFired().contains(RULE + ": pool before conv"), p.rulesFired().toString());
        }
    }

    @Test
    void groupsPartialWindowsAndUncountedPaddingCommuteToo() {
        // grouped, ceil_mode with a last window over the edge, 3x3 stride 2
        Tensor x = random(1, 24, 9, 7);
        assertTrue(compare(convThenPool(x.shape(), 12, 3, 1, Attributes.of("kernel_shape", new long[] {3, 3}, "strides", new long[] {2, 2},
                "ceil_mode", 1L), false), x));
        // padding that the pooling does not count
        assertTrue(compare(convThenPool(x.shape(), 8, 1, 1, Attributes.of("kernel_shape", new long[] {3, 3}, "strides", new long[] {2, 2},
                "pads", new long[] {1, 1, 1, 1}, "count_include_pad", 0L), false), x));
        // 1-D
        Tensor x1 = random(2, 16, 12);
        assertTrue(compare(convThenPool(x1.shape(), 8, 1, 1, Attributes.of("kernel_shape", new long[] {2}, "strides", new long[] {2}), false), x1));
    }

    @Test
    void nanAndInfinitiesReachTheSameOutputs() {
        Tensor x = random(1, 16, 6, 6);
        x.setFloat(Float.NaN, 0, 3, 0, 1);
        x.setFloat(Float.POSITIVE_INFINITY, 0, 5, 2, 2);
        x.setFloat(Float.NEGATIVE_INFINITY, 0, 5, 4, 5);
        x.setFloat(Float.POSITIVE_INFINITY, 0, 9, 4, 4);
        x.setFloat(Float.POSITIVE_INFINITY, 0, 10, 5, 5);
        assertTrue(compare(convThenPool(x.shape(), 8, 1, 1, Attributes.of("kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2}), false), x));
    }

    @Test
    void whatDoesNotCommuteOrPayIsLeftAlone() {
        Tensor x = random(1, 16, 8, 8);
        Attributes halve = Attributes.of("kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2});
        // counted padded zeros: the mean of a padded conv output is not the conv of a padded mean (the bias)
        assertFalse(compare(convThenPool(x.shape(), 8, 1, 1, Attributes.of("kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2},
                "pads", new long[] {1, 1, 1, 1}, "count_include_pad", 1L), false), x));
        // a 3x3 convolution
        assertFalse(compare(convThenPool(x.shape(), 8, 1, 3, halve, false), x));
        // the convolution's output read elsewhere
        try (CompiledModel p = CompiledModel.compile(convThenPool(x.shape(), 8, 1, 1, halve, true), OPTIONS, Map.of("input", x.shape()))) {
            assertFalse(p.rulesFired().stream().anyMatch(r -> r.startsWith(RULE)), p.rulesFired().toString());
        }
        // a pooling that keeps the size saves nothing
        assertFalse(compare(convThenPool(x.shape(), 8, 1, 1, Attributes.of("kernel_shape", new long[] {3, 3}, "pads", new long[] {1, 1, 1, 1},
                "count_include_pad", 0L), false), x));
    }
}
