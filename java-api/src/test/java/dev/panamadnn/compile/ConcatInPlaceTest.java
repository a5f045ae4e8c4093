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
import dev.panamadnn.internal.dnnl.ConvOps;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code concat_in_place} (and the layout choice that goes with it): a DenseNet-shaped block, where layer {@code k}
 * concatenates the first {@code k} feature maps and the block ends with the concat of all of them, runs without a
 * concat step: the 3x3 convolutions write into their channels of the block's buffer, the pre-activation batch norms
 * (depthwise 1x1 convolutions) read views of its leading channels. The results are bit-identical to the same
 * channel-blocked plan with the rule off to 1e-6 of the largest output (the same kernels, the copies gone), and within 1e-5 to the
 * default plan with the rule off (channels-last kernels); at batch 1 and 3 (a view of a batch is strided). Inputs
 * that cannot be written in place (a pooling's output at batch > 1) are copied into their place; a view read by an
 * op other than a convolution or batch norm (an Add, a Sigmoid) gets a dense copy; graphs the rule must not touch
 * are left alone, and a convolution for Winograd keeps a graph channels-last.
 */
class ConcatInPlaceTest {
    private static final String RULE = "concat_in_place";
    private static final CompileOptions OPTIONS = CompileOptions.defaults().withWinograd(false);   // (Winograd keeps a graph nhwc: last test)
    private static final int BLOCK = ConvOps.channelBlock();
    private final List<Tensor> tensors = new ArrayList<>();
    private final SplittableRandom random = new SplittableRandom(11);

    @AfterEach
    void free() {
        tensors.forEach(Tensor::close);
    }

    private Tensor random(double lo, double hi, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) random.nextDouble(lo, hi);
        Tensor t = Tensor.of(v, shape);
        tensors.add(t);
        return t;
    }

    private String conv(GraphBuilder g, String x, String name, long in, long out, long k) {
        long p = k / 2;
        return g.node("Conv", name, Attributes.of("pads", new long[] {p, p, p, p}), x,
                g.initializer(name + ".weight", random(-0.3, 0.3, out, in, k, k)), g.initializer(name + ".bias", random(-0.1, 0.1, out)));
    }

    private String batchNormRelu(GraphBuilder g, String x, String name, long c) {
        String bn = g.node("BatchNormalization", name, Attributes.of("epsilon", 1e-5), x, g.initializer(name + ".scale", random(0.5, 1.5, c)),
                g.initializer(name + ".bias", random(-0.2, 0.2, c)), g.initializer(name + ".mean", random(-0.2, 0.2, c)),
                g.initializer(name + ".var", random(0.5, 2, c)));
        return g.node("Relu", name + ".relu", Attributes.empty(), bn);
    }

    /**
     * stem conv (3 -> c0) [+ max pool], then {@code layers} dense layers (concat of all before, BN+ReLU, 1x1 conv to
     * 2 blocks + ReLU, 3x3 conv to one block), the block's concat, BN+ReLU, a 1x1 conv: DenseNet's structure.
     * {@code pooledStem}: the block's first input is a pooling's output; {@code extraReader}: layer 1's output is
     * also added to itself and returned (a second reader, and a graph output).
     */
    private Graph denseBlock(long[] x, long c0, int layers, boolean pooledStem, boolean extraReader) {
        GraphBuilder g = Graph.builder("dense");
        String in = g.input("input", Shape.of(x));
        String stem = g.node("Relu", "stem.relu", Attributes.empty(), conv(g, in, "stem", x[1], c0, 3));
        if (pooledStem) {
            stem = g.node("MaxPool", "pool", Attributes.of("kernel_shape", new long[] {3, 3}, "pads", new long[] {1, 1, 1, 1},
                    "strides", new long[] {1, 1}), stem);
        }
        List<String> features = new ArrayList<>(List.of(stem));
        long c = c0;
        for (int k = 1; k <= layers; k++) {
            String cat = g.node("Concat", "cat" + k, Attributes.of("axis", 1L), features.toArray(String[]::new));
            String h = batchNormRelu(g, cat, "norm" + k, c);
            h = g.node("Relu", "relu" + k, Attributes.empty(), conv(g, h, "conv" + k + "a", c, 2L * BLOCK, 1));
            String f = conv(g, h, "conv" + k + "b", 2L * BLOCK, BLOCK, 3);
            features.add(f);
            c += BLOCK;
        }
        String all = g.node("Concat", "block", Attributes.of("axis", 1L), features.toArray(String[]::new));
        String y = conv(g, batchNormRelu(g, all, "norm", c), "transition", c, BLOCK, 1);
        g.output(y);
        if (extraReader) g.output(g.node("Add", "twice", Attributes.empty(), features.get(1), features.get(1)));
        return g.build();
    }

    private static float[] run(CompiledModel p, Tensor x, String output) {
        Map<String, Tensor> out = p.run(Map.of("input", x));
        try {
            return out.get(output).toFloatArray();
        } finally {
            out.values().forEach(Tensor::close);
        }
    }

    /** The plan with the rule on, checked against the blocked plan without it (bit-identical) and the default one without it. */
    private CompiledModel check(Graph g, long[] shape, String... outputs) {
        Tensor x = random(-1, 1, shape);
        CompiledModel with = CompiledModel.compile(g, OPTIONS, Map.of("input", shape));
        try (CompiledModel blocked = CompiledModel.compile(g, OPTIONS.withLayout(CompileOptions.Layout.CHANNEL_BLOCKED).withoutRule(RULE),
                Map.of("input", shape));
             CompiledModel nhwc = CompiledModel.compile(g, OPTIONS.withoutRule(RULE), Map.of("input", shape))) {
            for (String o : outputs) {
                float[] y = run(with, x, o), same = run(blocked, x, o), close = run(nhwc, x, o);
                double max = 0;
                for (float v : close) max = Math.max(max, Math.abs(v));
                assertTrue(max > 0.1, "a live output: " + max);
                assertArrayEquals(same, y, (float) (1e-6 * max), o + ": the same kernel families (a strided view may change a kernel's "
                        + "blocking, so not bit for bit)\n" + with.describe() + "\n" + blocked.describe());
                assertArrayEquals(close, y, (float) (1e-5 * max), o + ": the channels-last plan\n" + with.describe() + "\n" + nhwc.describe());
            }
        }
        return with;
    }

    private static long count(CompiledModel p, String prefix) {
        return p.steps().stream().filter(s -> s.startsWith(prefix)).count();
    }

    @Test
    void aDenseBlockConcatenatesWithoutCopies() {
        for (long batch : new long[] {1, 3}) {
            long[] shape = {batch, 3, 12, 12};
            try (CompiledModel p = check(denseBlock(shape, 2L * BLOCK, 3, false, false), shape, "transition")) {
                assertTrue(p.rulesFired().stream().anyMatch(r -> r.startsWith("assign_layouts: nChw" + BLOCK + "c for the whole graph")),
                        p.rulesFired().toString());
                assertTrue(p.rulesFired().contains(RULE + ": block (4 inputs written into its buffer); 3 concats read views of it: cat1, cat2, cat3"),
                        p.rulesFired().toString());
                assertEquals(0, count(p, "concat "), p.describe());
                // the stem (its ReLU fused) and the three 3x3 convolutions write their channels of the block; nothing is copied
                assertEquals(4, p.steps().stream().filter(s -> s.contains("(into its place in a concat)")).count(), p.describe());
                assertEquals(3, p.steps().stream().filter(s -> s.startsWith("batchnorm") && s.contains("depthwise 1x1 conv (reading a concat's channels)")
                        && !s.contains("[ref")).count(), p.describe());
                assertEquals(0, count(p, "copy of "), p.describe());
            }
        }
    }

    @Test
    void inputsThatCannotBeWrittenInPlaceAreCopiedIntoTheirPlace() {
        long[] shape = {2, 3, 10, 10};
        try (CompiledModel p = check(denseBlock(shape, BLOCK, 2, true, true), shape, "transition", "twice")) {
            assertEquals(0, count(p, "concat "), p.describe());
            // the pooling's output is copied into its place (oneDNN's pooling has no fast kernel writing a view at batch > 1);
            // layer 1's output is written in place and its other reader, the Add, gets a dense copy of those channels
            assertEquals(1, count(p, "copy of pool into its place in block"), p.describe());
            assertEquals(1, count(p, "copy of a concat's channels to a dense activation"), p.describe());
            assertEquals(2, p.steps().stream().filter(s -> s.contains("(into its place in a concat)")).count(), p.describe());
        }
    }

    @Test
    void aViewReadByAnotherOpIsCopiedDense() {
        long[] shape = {2, 3, 8, 8};
        GraphBuilder g = Graph.builder("views");
        String in = g.input("input", Shape.of(shape));
        String a = conv(g, in, "a", 3, BLOCK, 3), b = conv(g, in, "b", 3, BLOCK, 3), c = conv(g, in, "c", 3, BLOCK, 3);
        String ab = g.node("Concat", "ab", Attributes.of("axis", 1L), a, b);
        String sig = g.node("Sigmoid", "sig", Attributes.empty(), ab);   // reads a view: not a convolution or batch norm
        String abc = g.node("Concat", "abc", Attributes.of("axis", 1L), a, b, c);
        String y = conv(g, abc, "y", 3L * BLOCK, BLOCK, 1);
        g.output(y);
        g.output(conv(g, sig, "z", 2L * BLOCK, BLOCK, 1));
        try (CompiledModel p = check(g.build(), shape, "y", "z")) {
            assertTrue(p.rulesFired().contains(RULE + ": abc (3 inputs written into its buffer); 1 concats read views of it: ab"), p.rulesFired().toString());
            assertEquals(1, count(p, "copy of a concat's channels to a dense activation"), p.describe());
        }
    }

    /**
     * A concat that is itself an input of a later root (torch's nested {@code cat(cat(a, b), c)}, found by
     * ConcatInPlaceFuzzTest): it is computed, then copied into its place, not mistaken for a view of the root.
     */
    @Test
    void aConcatFeedingAnotherRootIsComputedAndCopiedIntoItsPlace() {
        long[] shape = {1, 3, 9, 12};
        GraphBuilder g = Graph.builder("nested");
        String in = g.input("input", Shape.of(shape));
        String a = conv(g, in, "a", 3, BLOCK, 3), b = conv(g, in, "b", 3, BLOCK, 3);
        String inner = g.node("Concat", "inner", Attributes.of("axis", 1L), a, b);
        String c = conv(g, inner, "c", 2L * BLOCK, BLOCK, 3);
        String outer = g.node("Concat", "outer", Attributes.of("axis", 1L), inner, c);
        g.output(conv(g, outer, "y", 3L * BLOCK, BLOCK, 1));
        try (CompiledModel p = check(g.build(), shape, "y")) {
            assertTrue(p.rulesFired().contains(RULE + ": outer (2 inputs written into its buffer)"), p.rulesFired().toString());
            assertEquals(1, count(p, "copy of inner into its place in outer"), p.describe());
        }
    }

    @Test
    void graphsTheRuleMustNotTouchAreLeftAlone() {
        long[] shape = {1, 3, 8, 8};
        // channels that do not divide the block (half a block more: 24 with AVX-512's 16, 12 with AVX2's 8): channels-last, no rule
        GraphBuilder g = Graph.builder("odd");
        String in = g.input("input", Shape.of(shape));
        int odd = BLOCK + BLOCK / 2;
        String cat = g.node("Concat", "cat", Attributes.of("axis", 1L), conv(g, in, "a", 3, odd, 3), conv(g, in, "b", 3, BLOCK, 3));
        g.output(conv(g, cat, "y", (long) odd + BLOCK, BLOCK, 1));
        try (CompiledModel p = CompiledModel.compile(g.build(), OPTIONS, Map.of("input", shape))) {
            assertFalse(p.rulesFired().stream().anyMatch(r -> r.startsWith(RULE) || r.contains("for the whole graph")), p.rulesFired().toString());
        }
        // a concat that is the graph's output: blocked layout (it concatenates), but no buffer of its own to share
        GraphBuilder h = Graph.builder("out");
        String in2 = h.input("input", Shape.of(shape));
        h.output(h.node("Concat", "cat", Attributes.of("axis", 1L), conv(h, in2, "a", 3, BLOCK, 3), conv(h, in2, "b", 3, BLOCK, 3)));
        try (CompiledModel p = CompiledModel.compile(h.build(), OPTIONS, Map.of("input", shape))) {
            assertFalse(p.rulesFired().stream().anyMatch(r -> r.startsWith(RULE)), p.rulesFired().toString());
            assertEquals(1, count(p, "concat "), p.describe());
        }
    }

    @Test
    void winogradKeepsAGraphChannelsLastWhereItOutweighsTheCopies() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Winograd.available(), "Winograd needs jdk.incubator.vector");
        long[] shape = {4, 64, 16, 16};   // a 64 -> 64 3x3 convolution over enough tiles for Winograd
        GraphBuilder g = Graph.builder("wino");
        String in = g.input("input", Shape.of(shape));
        String w = g.node("Relu", "r", Attributes.empty(), conv(g, in, "w", 64, 64, 3));
        String cat = g.node("Concat", "cat", Attributes.of("axis", 1L), w, conv(g, in, "b", 64, BLOCK, 1));
        g.output(conv(g, cat, "y", 64 + BLOCK, BLOCK, 1));
        try (CompiledModel p = CompiledModel.compile(g.build(), CompileOptions.defaults(), Map.of("input", shape))) {
            assertFalse(p.rulesFired().stream().anyMatch(r -> r.startsWith(RULE) || r.contains("for the whole graph")), p.rulesFired().toString());
            assertTrue(p.rulesFired().contains("select_winograd: w"), p.rulesFired().toString());
        }
        try (CompiledModel p = CompiledModel.compile(g.build(), OPTIONS, Map.of("input", shape))) {
            assertTrue(p.rulesFired().stream().anyMatch(r -> r.startsWith(RULE)), "no Winograd: blocked, in place\n" + p.rulesFired());
        }
        // a 2 MiB concat at 32x32 and, after a 4x4 pooling, one Winograd-sized 3x3 convolution at 8x8 (38 MFLOP < 2 MiB x 30):
        // the copies weigh more, so the graph is blocked and the convolution direct
        long[] big = {4, 64, 32, 32};
        GraphBuilder h = Graph.builder("outweighed");
        String in2 = h.input("input", Shape.of(big));
        String cat2 = h.node("Concat", "cat", Attributes.of("axis", 1L), conv(h, in2, "a", 64, 64, 1), conv(h, in2, "b", 64, 64, 1));
        String pooled = h.node("MaxPool", "pool", Attributes.of("kernel_shape", new long[] {4, 4}, "strides", new long[] {4, 4}), cat2);
        h.output(conv(h, pooled, "w", 128, 64, 3));
        assertTrue(2.0 * 4 * 8 * 8 * 64 * 128 * 9 < 4.0 * 4 * 128 * 32 * 32 * AssignLayouts.FLOPS_PER_CONCAT_BYTE);
        try (CompiledModel p = CompiledModel.compile(h.build(), CompileOptions.defaults(), Map.of("input", big))) {
            assertTrue(p.rulesFired().stream().anyMatch(r -> r.startsWith("assign_layouts: nChw" + BLOCK + "c for the whole graph")),
                    p.rulesFired().toString());
            assertTrue(p.rulesFired().stream().anyMatch(r -> r.startsWith(RULE)), p.rulesFired().toString());
            assertFalse(p.rulesFired().stream().anyMatch(r -> r.startsWith("select_winograd")), p.rulesFired().toString());
        }
        try (CompiledModel p = CompiledModel.compile(h.build(), CompileOptions.defaults().withoutRule(RULE), Map.of("input", big))) {
            assertTrue(p.rulesFired().contains("select_winograd: w"), "the rule off: channels-last, Winograd\n" + p.rulesFired());
        }
    }
}
