package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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
 * {@code fuse_channel_shuffle}: ShuffleNet's {@code Reshape -> Transpose [0, 2, 1, 3, 4] -> Reshape} between two
 * convolutions becomes one {@code ChannelShuffle}, a reorder between two views of the channels-last bytes (or of
 * plain ones), with no reorder to plain and back around it. A permutation: the results are bit-identical to the
 * plan with the rule off, for channels-last and plain plans, groups 2 and 4; it does not fire where an
 * intermediate value has another reader, where the transpose is another one, or past {@link FuseChannelShuffle#MAX_BYTES}.
 * A shuffle of a concat of its groups absorbs the concat: one reorder per group, in channels-last, plain and
 * channel-blocked plans, of any size, equal to the interleaving computed by index arithmetic.
 */
class FuseChannelShuffleTest {
    private static final String RULE = "fuse_channel_shuffle";
    private static final CompileOptions OPTIONS = CompileOptions.defaults().withWinograd(false);
    private final RandomTensors tensors = new RandomTensors(5);

    @AfterEach
    void free() {
        tensors.close();
    }

    private Tensor random(long... shape) {
        return tensors.uniform(shape);
    }

    private String conv(GraphBuilder g, String x, String name, long in, long out) {
        return g.node("Conv", name, Attributes.of("pads", new long[] {1, 1, 1, 1}), x, g.initializer(name + ".weight", random(out, in, 3, 3)),
                g.initializer(name + ".bias", random(out)));
    }

    /** conv (c -> c), shuffle in {@code groups} (with the transpose {@code perm}), conv; {@code extraReader}: the 5-D value is an output too. */
    private Graph shuffleNet(long[] x, long groups, long[] perm, boolean extraReader) {
        long c = x[1];
        GraphBuilder g = Graph.builder("shuffle");
        String in = g.input("input", Shape.of(x));
        String a = conv(g, in, "a", c, c);
        String split = g.node("Reshape", "split", Attributes.empty(), a, g.constant("split.shape", x[0], groups, c / groups, x[2], x[3]));
        String t = g.node("Transpose", "swap", Attributes.of("perm", perm), split);
        String merged = g.node("Reshape", "merge", Attributes.empty(), t, g.constant("merge.shape", x[0], c, x[2], x[3]));
        String y = conv(g, merged, "b", c, c);
        g.output(y);
        if (extraReader) g.output(split);
        return g.build();
    }

    /** The output of conv {@code b}. */
    private static float[] run(CompiledModel p, Tensor x) {
        Map<String, Tensor> out = p.run(Map.of("input", x));
        try {
            return out.get("b").toFloatArray();
        } finally {
            out.values().forEach(Tensor::close);
        }
    }

    private CompiledModel checkAgainstRuleOff(Graph g, long[] shape, CompileOptions options) {
        Tensor x = random(shape);
        CompiledModel with = CompiledModel.compile(g, options, Map.of("input", shape));
        try (CompiledModel without = CompiledModel.compile(g, options.withoutRule(RULE), Map.of("input", shape))) {
            assertArrayEquals(run(without, x), run(with, x), "the shuffle is a permutation: bit-identical\n" + with.describe());
        }
        return with;
    }

    @Test
    void aShuffleBetweenChannelsLastConvolutionsIsOneReorderInNhwc() {
        for (long groups : new long[] {2, 4}) {
            long[] shape = {2, 16, 6, 6};
            try (CompiledModel p = checkAgainstRuleOff(shuffleNet(shape, groups, new long[] {0, 2, 1, 3, 4}, false), shape, OPTIONS)) {
                assertTrue(p.rulesFired().contains(RULE + ": split, swap and merge into one ChannelShuffle (group " + groups + ")"),
                        p.rulesFired().toString());
                List<String> steps = p.steps();
                assertEquals(1, steps.stream().filter(s -> s.startsWith("channel shuffle merge (group " + groups + ", nhwc)")).count(), p.describe());
                assertFalse(steps.stream().anyMatch(s -> s.startsWith("transpose") || s.startsWith("reorder to plain")), p.describe());
                // input -> nhwc, conv, shuffle, conv, -> plain output: no reorder between the convolutions
                assertEquals(List.of("reorder", "conv", "channel", "conv", "reorder"), steps.stream().map(s -> s.split(" ", 2)[0]).toList(), p.describe());
            }
        }
    }

    @Test
    void aPlainPlanShufflesPlainBytes() {
        long[] shape = {1, 12, 5, 5};
        try (CompiledModel p = checkAgainstRuleOff(shuffleNet(shape, 3, new long[] {0, 2, 1, 3, 4}, false), shape,
                OPTIONS.withLayout(CompileOptions.Layout.PLAIN))) {
            assertTrue(p.steps().stream().anyMatch(s -> s.startsWith("channel shuffle merge (group 3, plain)")), p.describe());
        }
    }

    @Test
    void otherShapesOfTheGraphAreLeftAlone() {
        long[] shape = {2, 16, 6, 6};
        try (CompiledModel p = checkAgainstRuleOff(shuffleNet(shape, 2, new long[] {0, 1, 2, 4, 3}, false), shape, OPTIONS)) {
            assertFalse(p.rulesFired().stream().anyMatch(r -> r.startsWith(RULE)), "another transpose: " + p.rulesFired());
        }
        try (CompiledModel p = CompiledModel.compile(shuffleNet(shape, 2, new long[] {0, 2, 1, 3, 4}, true), OPTIONS, Map.of("input", shape))) {
            assertFalse(p.rulesFired().stream().anyMatch(r -> r.startsWith(RULE)), "the 5-D value read elsewhere: " + p.rulesFired());
        }
        long[] big = {8, 64, 16, 16};   // 512 KiB, past MAX_BYTES
        assertTrue(4L * 8 * 64 * 16 * 16 > FuseChannelShuffle.MAX_BYTES);
        try (CompiledModel p = checkAgainstRuleOff(shuffleNet(big, 2, new long[] {0, 2, 1, 3, 4}, false), big, OPTIONS)) {
            assertFalse(p.rulesFired().stream().anyMatch(r -> r.startsWith(RULE)), "past MAX_BYTES: " + p.rulesFired());
        }
    }

    /**
     * {@code groups} convolutions (c -> k each) of the input, concatenated on {@code axis} and shuffled, then a convolution;
     * {@code extraReader}: the concat is an output too.
     */
    private Graph shuffledConcat(long[] x, long groups, long k, long axis, boolean extraReader) {
        GraphBuilder g = Graph.builder("cat_shuffle");
        String in = g.input("input", Shape.of(x));
        String[] parts = new String[(int) groups];
        for (int i = 0; i < groups; i++) parts[i] = conv(g, in, "p" + i, x[1], k);
        long c = groups * k;
        String cat = g.node("Concat", "cat", Attributes.of("axis", axis), parts);
        String split = g.node("Reshape", "split", Attributes.empty(), cat, g.constant("split.shape", x[0], groups, k, x[2], x[3]));
        String t = g.node("Transpose", "swap", Attributes.of("perm", new long[] {0, 2, 1, 3, 4}), split);
        String merged = g.node("Reshape", "merge", Attributes.empty(), t, g.constant("merge.shape", x[0], c, x[2], x[3]));
        g.output(conv(g, merged, "b", c, c));
        if (extraReader) g.output(cat);
        return g.build();
    }

    /**
     * The plan against the one with the rule off, within float rounding: absorbing the concat can change the layout
     * assign_layouts picks for the whole graph (with no concat left, channels-last instead of nChw16c), so the
     * convolutions around the shuffle may be other kernels summing in another order (seen: 2e-5 on outputs of magnitude 17).
     */
    private CompiledModel closeToRuleOff(Graph g, long[] shape, CompileOptions options) {
        Tensor x = random(shape);
        CompiledModel with = CompiledModel.compile(g, options, Map.of("input", shape));
        try (CompiledModel without = CompiledModel.compile(g, options.withoutRule(RULE), Map.of("input", shape))) {
            float[] want = run(without, x), got = run(with, x);
            assertEquals(want.length, got.length);
            float scale = 0;
            for (float v : want) scale = Math.max(scale, Math.abs(v));
            for (int i = 0; i < want.length; i++) {   // sums of ~400 terms up to the output's magnitude: rounding of 1e-5 of it
                assertEquals(want[i], got[i], 1e-5f * scale, "element " + i + "\n" + with.describe());
            }
        }
        return with;
    }

    @Test
    void aConcatOfTheGroupsIsShuffledByOneReorderPerGroupInAnyLayout() {
        String fired = RULE + ": cat, split, swap and merge into one ChannelShuffle (group %d, of the %d concatenated inputs)";
        for (long groups : new long[] {2, 3}) {
            long[] shape = {2, 16, 6, 6};
            try (CompiledModel p = closeToRuleOff(shuffledConcat(shape, groups, 16, 1, false), shape, OPTIONS)) {
                assertTrue(p.rulesFired().contains(String.format(fired, groups, groups)), p.rulesFired().toString());
                List<String> steps = p.steps();
                for (int i = 0; i < groups; i++) {
                    assertTrue(steps.contains("channel shuffle merge (group " + groups + ", input " + i + " into nhwc)"), p.describe());
                }
                assertFalse(steps.stream().anyMatch(s -> s.startsWith("concat") || s.startsWith("reorder to plain")), p.describe());
            }
        }
        long[] shape = {1, 16, 5, 5};
        try (CompiledModel p = closeToRuleOff(shuffledConcat(shape, 2, 16, -3, false), shape, OPTIONS.withLayout(CompileOptions.Layout.PLAIN))) {
            assertTrue(p.steps().contains("channel shuffle merge (group 2, input 1 into plain)"), p.describe());
        }
        // channel-blocked convolution outputs are made plain, then placed
        try (CompiledModel p = closeToRuleOff(shuffledConcat(shape, 2, 16, 1, false), shape, OPTIONS.withLayout(CompileOptions.Layout.CHANNEL_BLOCKED))) {
            assertTrue(p.rulesFired().contains(String.format(fired, 2, 2)), p.rulesFired().toString());
        }
        long[] big = {8, 16, 16, 16};   // the shuffled value is 512 KiB, past MAX_BYTES: the concat form has no limit
        try (CompiledModel p = closeToRuleOff(shuffledConcat(big, 2, 32, 1, false), big, OPTIONS)) {
            assertTrue(p.rulesFired().contains(String.format(fired, 2, 2)), p.rulesFired().toString());
        }
        try (CompiledModel p = CompiledModel.compile(shuffledConcat(shape, 2, 16, 1, true), OPTIONS, Map.of("input", shape))) {
            assertTrue(p.rulesFired().contains(RULE + ": split, swap and merge into one ChannelShuffle (group 2)"),
                    "the concat read elsewhere stays: " + p.rulesFired());
        }
    }

    @Test
    void theShuffledGroupsOfGraphInputsAreTheirChannelsInterleaved() {
        // Concat of the caller's own tensors (read in place by the reorders), then the shuffle; expected by index arithmetic
        long n = 2, k = 3, h = 4, w = 5, groups = 3;
        GraphBuilder g = Graph.builder("inputs");
        String[] parts = new String[(int) groups];
        for (int i = 0; i < groups; i++) parts[i] = g.input("x" + i, Shape.of(n, k, h, w));
        String cat = g.node("Concat", "cat", Attributes.of("axis", 1L), parts);
        String split = g.node("Reshape", "split", Attributes.empty(), cat, g.constant("split.shape", n, groups, k, h, w));
        String t = g.node("Transpose", "swap", Attributes.of("perm", new long[] {0, 2, 1, 3, 4}), split);
        g.output(g.node("Reshape", "merge", Attributes.empty(), t, g.constant("merge.shape", n, groups * k, h, w)));
        Graph graph = g.build();
        Map<String, Tensor> in = new java.util.HashMap<>();
        Map<String, long[]> shapes = new java.util.HashMap<>();
        float[][] xs = new float[(int) groups][];
        for (int i = 0; i < groups; i++) {
            Tensor x = random(n, k, h, w);
            in.put("x" + i, x);
            shapes.put("x" + i, x.shape());
            xs[i] = x.toFloatArray();
        }
        float[] want = new float[(int) (n * groups * k * h * w)];
        for (int b = 0; b < n; b++) {
            for (int i = 0; i < groups; i++) {
                for (int j = 0; j < k; j++) {
                    for (int p = 0; p < h * w; p++) want[(int) (((b * groups * k) + j * groups + i) * h * w + p)] = xs[i][(int) ((b * k + j) * h * w + p)];
                }
            }
        }
        for (CompileOptions o : new CompileOptions[] {OPTIONS, OPTIONS.withLayout(CompileOptions.Layout.PLAIN)}) {
            try (CompiledModel p = CompiledModel.compile(graph, o, shapes)) {
                assertTrue(p.rulesFired().stream().anyMatch(r -> r.endsWith("of the 3 concatenated inputs)")), p.rulesFired().toString());
                Map<String, Tensor> out = p.run(in);
                try {
                    assertArrayEquals(want, out.get("merge").toFloatArray(), p.describe());
                } finally {
                    out.values().forEach(Tensor::close);
                }
            }
        }
    }

    @Test
    void theBoundOfAShuffledConcatIsTheLargestOfItsGroups() {
        // fast_when_finite's proof: the shuffle of (a, b) is bounded by max(|a|, |b|), not by its first input's bound
        GraphBuilder g = Graph.builder("bounds");
        String x = g.input("input", Shape.of(1, 1, 4, 4));
        String a = g.node("Conv", "a", Attributes.empty(), x, g.initializer("a.weight", Tensor.of(new float[] {1}, 1, 1, 1, 1)));
        String b = g.node("Conv", "b", Attributes.empty(), x, g.initializer("b.weight", Tensor.of(new float[] {8}, 1, 1, 1, 1)));
        String cat = g.node("Concat", "cat", Attributes.of("axis", 1L), a, b);
        String split = g.node("Reshape", "split", Attributes.empty(), cat, g.constant("split.shape", 1, 2, 1, 4, 4));
        String t = g.node("Transpose", "swap", Attributes.of("perm", new long[] {0, 2, 1, 3, 4}), split);
        Graph graph = g.output(g.node("Reshape", "merge", Attributes.empty(), t, g.constant("merge.shape", 1, 2, 4, 4))).build();
        PlanGraph pg = new PlanGraph(graph.bind(new long[] {1, 1, 4, 4}));
        new FoldConstants().apply(pg, OPTIONS);
        new FuseChannelShuffle().apply(pg, OPTIONS);
        assertEquals(List.of("a", "b"), pg.producer("merge").inputs());
        Map<String, Double> bounds = FiniteBounds.bounds(pg, 2.0, new java.util.HashMap<>());
        assertEquals(2.0 * 8 * 1.01, bounds.get("merge"), 1e-9, bounds.toString());   // b's |8 x| <= 16, with the rounding slack
    }
}
