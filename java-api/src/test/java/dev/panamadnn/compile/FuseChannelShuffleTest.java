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
}
