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
        // b's |8 x| <= 16, with the rounding slack (and the F32 sum's: 1 + 2 n 2^-24, n = 1)
        assertEquals(2.0 * 8 * (1 + 2 * 0x1p-24) * 1.01, bounds.get("merge"), 1e-9, bounds.toString());
    }

    /**
     * ShuffleNetV2's unit: the graph inputs x0, x1 ([n, k, h, w]) concatenated, shuffled in two groups and split again
     * by two Slices at {@code cut} (the halves when cut = k); returns the slices' values.
     */
    private Graph unit(long n, long k, long h, long w, long cut) {
        GraphBuilder g = Graph.builder("unit");
        String a = g.input("x0", Shape.of(n, k, h, w)), b = g.input("x1", Shape.of(n, k, h, w));
        String cat = g.node("Concat", "cat", Attributes.of("axis", 1L), a, b);
        String split = g.node("Reshape", "split", Attributes.empty(), cat, g.constant("split.shape", n, 2, k, h, w));
        String t = g.node("Transpose", "swap", Attributes.of("perm", new long[] {0, 2, 1, 3, 4}), split);
        String z = g.node("Reshape", "merge", Attributes.empty(), t, g.constant("merge.shape", n, 2 * k, h, w));
        String lo = g.node("Slice", "lo", Attributes.empty(), z, g.constant("lo.s", 0), g.constant("lo.e", cut), g.constant("lo.a", 1));
        String hi = g.node("Slice", "hi", Attributes.empty(), z, g.constant("hi.s", cut), g.constant("hi.e", Long.MAX_VALUE), g.constant("hi.a", 1),
                g.constant("hi.st", 1));
        return g.output(lo, hi).build();
    }

    @Test
    void theSlicesOfAShuffledPairAreWrittenByTheShuffleItself() {
        long n = 2, k = 6, h = 3, w = 5;
        Tensor x0 = random(n, k, h, w), x1 = random(n, k, h, w);
        float[][] xs = {x0.toFloatArray(), x1.toFloatArray()};
        for (long cut : new long[] {k, k - 1}) {
            // expected by index arithmetic: shuffled channel c = 2j + i is group i's channel j
            float[][] want = {new float[(int) (n * cut * h * w)], new float[(int) (n * (2 * k - cut) * h * w)]};
            for (int b = 0; b < n; b++) {
                for (int c = 0; c < 2 * k; c++) {
                    for (int p = 0; p < h * w; p++) {
                        float v = xs[c % 2][(int) ((b * k + c / 2) * h * w + p)];
                        if (c < cut) want[0][(int) ((b * cut + c) * h * w + p)] = v;
                        else want[1][(int) ((b * (2 * k - cut) + c - cut) * h * w + p)] = v;
                    }
                }
            }
            for (CompileOptions o : new CompileOptions[] {OPTIONS, OPTIONS.withLayout(CompileOptions.Layout.PLAIN)}) {
                try (CompiledModel p = CompiledModel.compile(unit(n, k, h, w, cut), o, Map.of("x0", x0.shape(), "x1", x1.shape()))) {
                    boolean halves = p.rulesFired().contains(RULE + ": merge writes the halves lo and hi itself (their slices absorbed)");
                    assertEquals(cut == k, halves, "only a cut at the middle is absorbed: " + p.rulesFired());
                    if (halves) {
                        // the graph inputs arrive plain, so the halves are plain whatever the options
                        assertEquals(4, p.steps().stream().filter(st -> st.startsWith("channel shuffle merge (group 2, input ")
                                && st.endsWith(", plain)")).count(), p.describe());
                        assertFalse(p.steps().stream().anyMatch(st -> st.startsWith("slice")), p.describe());
                    }
                    Map<String, Tensor> out = p.run(Map.of("x0", x0, "x1", x1));
                    try {
                        assertArrayEquals(want[0], out.get("lo").toFloatArray(), "lo, cut " + cut + "\n" + p.describe());
                        assertArrayEquals(want[1], out.get("hi").toFloatArray(), "hi, cut " + cut + "\n" + p.describe());
                    } finally {
                        out.values().forEach(Tensor::close);
                    }
                }
            }
        }
        // odd halves (k = 5: each half takes 3 channels of one group and 2 of the other) keep the slices
        try (CompiledModel p = CompiledModel.compile(unit(1, 5, 2, 2, 5), OPTIONS, Map.of("x0", new long[] {1, 5, 2, 2}, "x1", new long[] {1, 5, 2, 2}))) {
            assertFalse(p.rulesFired().stream().anyMatch(r -> r.contains("writes the halves")), p.rulesFired().toString());
        }
    }

    @Test
    void halvesBetweenChannelsLastConvolutionsAreWrittenInNhwc() {
        long[] shape = {2, 16, 6, 6};
        GraphBuilder g = Graph.builder("unit_nhwc");
        String in = g.input("input", Shape.of(shape));
        String a = conv(g, in, "p0", 16, 16), b = conv(g, in, "p1", 16, 16);
        String cat = g.node("Concat", "cat", Attributes.of("axis", 1L), a, b);
        String split = g.node("Reshape", "split", Attributes.empty(), cat, g.constant("split.shape", 2, 2, 16, 6, 6));
        String t = g.node("Transpose", "swap", Attributes.of("perm", new long[] {0, 2, 1, 3, 4}), split);
        String z = g.node("Reshape", "merge", Attributes.empty(), t, g.constant("merge.shape", 2, 32, 6, 6));
        String lo = g.node("Slice", "lo", Attributes.empty(), z, g.constant("lo.s", 0), g.constant("lo.e", 16), g.constant("lo.a", 1));
        String hi = g.node("Slice", "hi", Attributes.empty(), z, g.constant("hi.s", 16), g.constant("hi.e", 32), g.constant("hi.a", -3));
        g.output(conv(g, g.node("Add", "sum", Attributes.empty(), conv(g, lo, "q0", 16, 16), hi), "b", 16, 16));
        try (CompiledModel p = closeToRuleOff(g.build(), shape, OPTIONS)) {
            assertTrue(p.rulesFired().contains(RULE + ": merge writes the halves lo and hi itself (their slices absorbed)"), p.rulesFired().toString());
            assertEquals(4, p.steps().stream().filter(st -> st.startsWith("channel shuffle merge (group 2, input ") && st.endsWith(", nhwc)")).count(),
                    p.describe());
        }
    }
}
