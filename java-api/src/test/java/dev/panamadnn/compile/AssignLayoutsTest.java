package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions.Layout;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.models.ResNet;
import dev.panamadnn.models.ResNets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The {@code assign_layouts} rule on small graphs: the layouts it decides (its {@code rulesFired()}
 * lines), where the plan then reorders (only where two decisions meet), and the results against
 * the same graph compiled with the rule switched off (every activation plain, no reorders).
 * Tolerance {@code 1e-5 * max|reference| + 1e-6}: the kernels for other layouts sum in another order.
 * Winograd is off except where a test says so, so each convolution is oneDNN's direct one.
 */
class AssignLayoutsTest {
    private static final String RULE = "assign_layouts";
    private final List<Tensor> tensors = new ArrayList<>();
    private final SplittableRandom random = new SplittableRandom(11);
    private final String blocked = "nChw" + ConvOps.channelBlock() + "c";

    @AfterEach
    void free() {
        tensors.forEach(Tensor::close);
    }

    private Tensor random(long... shape) {
        float[] v = new float[(int) Arrays.stream(shape).reduce(1, (a, b) -> a * b)];
        for (int i = 0; i < v.length; i++) v[i] = (float) random.nextDouble(-1, 1);
        Tensor t = Tensor.of(v, shape);
        tensors.add(t);
        return t;
    }

    /** A 3x3, padding-1 convolution {@code in -> out} channels in {@code groups} groups, with a bias. */
    private String conv(GraphBuilder g, String x, String name, long in, long out, long groups) {
        return g.node("Conv", name, Attributes.of("pads", new long[] {1, 1, 1, 1}, "group", groups), x,
                g.initializer(name + ".weight", random(out, in / groups, 3, 3)), g.initializer(name + ".bias", random(out)));
    }

    private static Graph graph(long[] inputShape, BiFunction<GraphBuilder, String, String> body) {
        GraphBuilder g = Graph.builder("layout-test");
        String x = g.input("input", Shape.batched("N", Arrays.copyOfRange(inputShape, 1, inputShape.length)));
        return g.output(body.apply(g, x)).build();
    }

    /** The plan's steps, each cut to its kind ({@code conv}, {@code reorder}, {@code java}, ...). */
    private static List<String> kinds(CompiledModel p) {
        return p.steps().stream().map(s -> s.split(" ", 2)[0]).toList();
    }

    /**
     * Compiles {@code graph} under {@code options} and with the rule off, asserts equal results on one
     * random input, and returns the plan with the rule (closed by the caller) for the structural checks.
     */
    private CompiledModel compileAndCompare(Graph graph, long[] shape, CompileOptions options) {
        CompiledModel a = CompiledModel.compile(graph, options, shape);
        try (CompiledModel b = CompiledModel.compile(graph, options.withoutRule(RULE), shape); Tensor x = random(shape);
             Tensor ya = a.run(x); Tensor yb = b.run(x)) {
            assertFalse(b.rulesFired().stream().anyMatch(r -> r.startsWith(RULE)), b.describe());
            assertFalse(kinds(b).contains("reorder"), "the rule off: every activation plain, no reorders\n" + b.describe());
            float[] p = ya.toFloatArray(), q = yb.toFloatArray();
            double max = 0;
            for (float v : q) max = Math.max(max, Math.abs(v));
            for (int i = 0; i < p.length; i++) assertEquals(q[i], p[i], 1e-5 * max + 1e-6, "element " + i + "\n" + a.describe());
        } catch (RuntimeException | Error e) {
            a.close();
            throw e;
        }
        return a;
    }

    private static final CompileOptions NO_WINOGRAD = CompileOptions.defaults().withWinograd(false);

    @Test
    void aStemReadsThePlainInputAndWritesChannelBlockedOthersNhwc() {
        long[] shape = {2, 3, 12, 12};
        Graph g = graph(shape, (b, x) -> conv(b, b.node("Relu", "relu", Attributes.empty(), conv(b, x, "stem", 3, 16, 1)), "body", 16, 16, 1));
        try (CompiledModel p = compileAndCompare(g, shape, NO_WINOGRAD)) {
            assertEquals(List.of(RULE + ": stem plain -> " + blocked, RULE + ": body nhwc"), fired(p));
            // One reorder between the two decisions (blocked -> nhwc) and one to the caller's plain output.
            assertEquals(List.of("conv", "reorder", "conv", "reorder"), kinds(p), p.describe());
            assertTrue(p.steps().get(1).startsWith("reorder into body"), p.describe());
        }
    }

    @Test
    void channelBlockedLeavesGroupedAndNonDividingConvolutionsToOneDnn() {
        long block = ConvOps.channelBlock();
        long[] shape = {1, 2 * block, 8, 8};
        Graph g = graph(shape, (b, x) -> conv(b, conv(b, conv(b, x, "full", 2 * block, 2 * block, 1), "grouped", 2 * block, 2 * block, 4),
                "odd", 2 * block, 12, 1));
        try (CompiledModel p = compileAndCompare(g, shape, NO_WINOGRAD.withLayout(Layout.CHANNEL_BLOCKED))) {
            assertEquals(List.of(RULE + ": full " + blocked, RULE + ": grouped any", RULE + ": odd " + blocked + " -> any"), fired(p));
        }
        try (CompiledModel p = compileAndCompare(g, shape, NO_WINOGRAD)) {   // channels last: grouped and odd ones too
            assertEquals(List.of(RULE + ": full nhwc", RULE + ": grouped nhwc", RULE + ": odd nhwc"), fired(p));
            assertEquals(List.of("reorder", "conv", "conv", "conv", "reorder"), kinds(p), "reorders only at the input and output\n" + p.describe());
        }
        long[] depthwise = {1, 16, 8, 8};
        try (CompiledModel p = compileAndCompare(graph(depthwise, (b, x) -> conv(b, x, "dw", 16, 16, 16)), depthwise,
                NO_WINOGRAD.withLayout(Layout.CHANNEL_BLOCKED))) {
            assertEquals(List.of(RULE + ": dw any"), fired(p));
        }
    }

    @Test
    void aJavaStepBetweenConvolutionsIsTheOnlyBoundaryInside() {
        long[] shape = {2, 16, 6, 6};
        Graph g = graph(shape, (b, x) -> conv(b, b.node("Erf", "erf", Attributes.empty(), conv(b, x, "c1", 16, 16, 1)),
                "c2", 16, 16, 1));
        try (CompiledModel p = compileAndCompare(g, shape, NO_WINOGRAD)) {
            assertEquals(List.of(RULE + ": c1 nhwc", RULE + ": erf plain", RULE + ": c2 nhwc"), fired(p));
            // input -> nhwc, nhwc -> plain for the Java step, plain -> nhwc after it, nhwc -> the plain output.
            assertEquals(List.of("reorder", "conv", "reorder", "java", "reorder", "conv", "reorder"), kinds(p), p.describe());
        }
        try (CompiledModel p = CompiledModel.compile(g, NO_WINOGRAD.withoutRule(RULE), shape)) {
            assertEquals(List.of("conv", "java", "conv"), kinds(p), p.describe());
        }
    }

    @Test
    void aFlattenBeforeAGemmHeadReadsPlain() {
        long[] shape = {3, 16, 4, 4};
        Graph g = graph(shape, (b, x) -> b.node("Gemm", "fc", Attributes.of("transB", 1L),
                b.node("Flatten", "flatten", Attributes.of("axis", 1L), conv(b, x, "conv", 16, 16, 1)),
                b.initializer("fc.weight", random(10, 256)), b.initializer("fc.bias", random(10))));
        for (Layout layout : new Layout[] {Layout.CHANNELS_LAST, Layout.CHANNEL_BLOCKED}) {
            try (CompiledModel p = compileAndCompare(g, shape, NO_WINOGRAD.withLayout(layout))) {
                String conv = layout == Layout.CHANNELS_LAST ? "nhwc" : blocked;
                assertEquals(List.of(RULE + ": conv " + conv, RULE + ": flatten plain", RULE + ": fc plain"), fired(p));
                assertEquals(List.of("reorder", "conv", "reorder", "linear"), kinds(p), p.describe());
                assertTrue(p.steps().get(2).startsWith("reorder to plain for flatten"), p.describe());
            }
        }
    }

    @Test
    void elementwiseNodesKeepTheLayoutTheirInputArrivesIn() {
        long[] shape = {2, 16, 5, 5};
        Graph g = graph(shape, (b, x) -> b.node("Relu", "relu", Attributes.empty(), b.node("Add", "add", Attributes.empty(),
                b.node("BatchNormalization", "bn", Attributes.of("epsilon", 1e-5), conv(b, x, "conv", 16, 16, 1), b.initializer("bn.weight", random(16)),
                        b.initializer("bn.bias", random(16)), b.initializer("bn.mean", random(16)), b.initializer("bn.var", positive(16))), x)));
        CompileOptions unfolded = NO_WINOGRAD.withFoldBatchNorm(false).withFuseResidualSum(false);
        try (CompiledModel p = compileAndCompare(g, shape, unfolded)) {
            assertEquals(List.of(RULE + ": conv nhwc"), fired(p));
            // The input's nhwc copy, made for the convolution, is the add's second operand too: no reorder in between.
            assertEquals(List.of("reorder", "conv", "batchnorm", "add", "reorder"), kinds(p), p.describe());
        }
    }

    /**
     * A fire module (SqueezeNet) / Inception shape: two channels-last convolutions concatenated on channels and read
     * by a third. The Concat is decided nhwc and runs as oneDNN's concat, so no reorder sits between the convolutions;
     * with the rule off it is the Java step on plain copies.
     */
    @Test
    void aConcatBetweenChannelsLastConvolutionsStaysNhwc() {
        long[] shape = {2, 16, 6, 6};
        // e3's half block of channels (8 with AVX-512, 4 with AVX2) keeps concat_in_place, and so the blocked layout, out
        long half = ConvOps.channelBlock() / 2;
        Graph g = graph(shape, (b, x) -> conv(b, b.node("Concat", "cat", Attributes.of("axis", 1L), conv(b, x, "e1", 16, 16, 1),
                conv(b, x, "e3", 16, half, 1), conv(b, x, "e5", 16, 24, 4)), "next", 40 + half, 16, 1));
        try (CompiledModel p = compileAndCompare(g, shape, NO_WINOGRAD)) {
            assertEquals(List.of(RULE + ": e1 nhwc", RULE + ": e3 nhwc", RULE + ": e5 nhwc", RULE + ": cat nhwc", RULE + ": next nhwc"), fired(p));
            assertEquals(List.of("reorder", "conv", "conv", "conv", "concat", "conv", "reorder"), kinds(p), p.describe());
            assertTrue(p.steps().get(4).startsWith("concat cat on axis 1 (nhwc, 3 inputs)"), p.describe());
        }
        try (CompiledModel p = CompiledModel.compile(g, NO_WINOGRAD.withoutRule(RULE), shape)) {
            assertEquals(List.of("conv", "conv", "conv", "java", "conv"), kinds(p), p.describe());
        }
    }

    /**
     * The same with {@code CHANNEL_BLOCKED}: where every input's channels divide the block the Concat is oneDNN's
     * concat in the blocked layout (whole channel blocks per input, no reorders around it); where one does not (half
     * a block) it stays the Java step on plain copies.
     */
    @Test
    void aConcatOfChannelBlockedConvolutionsStaysBlocked() {
        long block = ConvOps.channelBlock();
        long[] shape = {2, block, 6, 6};
        Graph g = graph(shape, (b, x) -> conv(b, b.node("Concat", "cat", Attributes.of("axis", 1L), conv(b, x, "e1", block, block, 1),
                conv(b, x, "e3", block, 2 * block, 1)), "next", 3 * block, block, 1));
        // (concat_in_place off: with it the convolutions write into the concat's channels, ConcatInPlaceTest)
        try (CompiledModel p = compileAndCompare(g, shape, NO_WINOGRAD.withLayout(Layout.CHANNEL_BLOCKED).withoutRule("concat_in_place"))) {
            assertEquals(List.of(RULE + ": e1 " + blocked, RULE + ": e3 " + blocked, RULE + ": cat " + blocked, RULE + ": next " + blocked), fired(p));
            assertEquals(List.of("reorder", "conv", "conv", "concat", "conv", "reorder"), kinds(p), p.describe());
            assertTrue(p.steps().get(3).startsWith("concat cat on axis 1 (blocked, 2 inputs)"), p.describe());
        }
        Graph odd = graph(shape, (b, x) -> conv(b, b.node("Concat", "cat", Attributes.of("axis", 1L), conv(b, x, "e1", block, block, 1),
                conv(b, x, "e3", block, block / 2, 1)), "next", block + block / 2, block, 1));
        try (CompiledModel p = compileAndCompare(odd, shape, NO_WINOGRAD.withLayout(Layout.CHANNEL_BLOCKED))) {
            assertTrue(fired(p).contains(RULE + ": cat plain"), fired(p).toString());
            assertTrue(kinds(p).contains("java"), p.describe());
        }
    }

    /**
     * ShuffleNet's channel split: two unit-step Slices of a channels-last activation, each read by a convolution.
     * Each Slice keeps its input's layout as a reorder from a view (no Java step, no reorders to plain and back);
     * a Slice with step 2 stays the Java step; with the rule off both are Java steps on plain buffers.
     */
    @Test
    void aUnitStepSliceOfAnNhwcActivationStaysNhwc() {
        long[] shape = {2, 16, 6, 6};
        Graph g = graph(shape, (b, x) -> {
            String c = conv(b, x, "c", 16, 32, 1);
            String lo = b.node("Slice", "lo", Attributes.empty(), c, b.constant("lo.s", 0), b.constant("lo.e", 16), b.constant("lo.a", 1));
            String hi = b.node("Slice", "hi", Attributes.empty(), c, b.constant("hi.s", 16), b.constant("hi.e", 32), b.constant("hi.a", 1));
            return b.node("Add", "sum", Attributes.empty(), conv(b, lo, "l", 16, 16, 1), conv(b, hi, "h", 16, 16, 1));
        });
        try (CompiledModel p = compileAndCompare(g, shape, NO_WINOGRAD)) {
            assertEquals(List.of("reorder", "conv", "slice", "conv", "slice", "conv", "reorder"), kinds(p), p.describe());   // the add: a sum post-op
            assertTrue(p.steps().get(2).startsWith("slice lo (reorder of a view, nhwc)"), p.describe());
        }
        try (CompiledModel p = CompiledModel.compile(g, NO_WINOGRAD.withoutRule(RULE), shape)) {
            assertEquals(List.of("conv", "java", "conv", "java", "conv"), kinds(p), p.describe());
        }
        Graph strided = graph(shape, (b, x) -> conv(b, b.node("Slice", "even", Attributes.empty(), conv(b, x, "c", 16, 32, 1),
                b.constant("s", 0), b.constant("e", 32), b.constant("a", 1), b.constant("st", 2)), "l", 16, 16, 1));
        try (CompiledModel p = compileAndCompare(strided, shape, NO_WINOGRAD)) {
            assertTrue(kinds(p).contains("java"), p.describe());
        }
    }

    /** Values in [0.5, 1.5): a variance. */
    private Tensor positive(long n) {
        Tensor t = random(n);
        float[] v = t.toFloatArray();
        for (int i = 0; i < n; i++) t.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, 0.5f + Math.abs(v[i]));
        return t;
    }

    @Test
    void plainLayoutIsTheRuleSwitchedOff() {
        long[] shape = {1, 3, 10, 10};
        Graph g = graph(shape, (b, x) -> b.node("MaxPool", "pool", Attributes.of("kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2}),
                conv(b, b.node("Relu", "r", Attributes.empty(), conv(b, x, "stem", 3, 16, 1)), "c", 16, 16, 1)));
        try (CompiledModel plain = CompiledModel.compile(g, NO_WINOGRAD.withLayout(Layout.PLAIN), shape);
             CompiledModel off = CompiledModel.compile(g, NO_WINOGRAD.withoutRule(RULE), shape)) {
            assertTrue(fired(plain).isEmpty(), plain.describe());
            assertEquals(plain.steps(), off.steps());
        }
    }

    @Test
    void winogradFollowsTheNhwcDecision() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Winograd.available(), "needs --add-modules jdk.incubator.vector");
        long[] shape = {2, 16, 14, 14};   // 32 output tiles: enough for Winograd
        Graph g = graph(shape, (b, x) -> conv(b, b.node("Relu", "pre", Attributes.empty(), x), "conv", 16, 16, 1));
        for (CompileOptions o : List.of(CompileOptions.defaults(), CompileOptions.defaults().withLayout(Layout.CHANNEL_BLOCKED),
                CompileOptions.defaults().withoutRule(RULE))) {
            try (CompiledModel p = CompiledModel.compile(g, o, shape)) {
                boolean nhwc = o.layout() == Layout.CHANNELS_LAST && !o.disabledRules().contains(RULE);
                assertEquals(nhwc, p.rulesFired().contains("select_winograd: conv"), o + "\n" + p.describe());
            }
        }
    }

    /**
     * ResNet-18's plans keep the reorders they had before layout assignment became a rule: counted on
     * main at 9543b53 (the commit before this rule), batch 1 and 16 alike: CHANNELS_LAST 25 steps with
     * 2 reorders (the stem's nChw16c output into layer1.0.conv1's nhwc, and the copy of the shortcut
     * for layer1.0.conv2's sum), CHANNEL_BLOCKED 24 with 1 (to plain before flatten), PLAIN 23 with none.
     */
    @Test
    void resnet18PlansKeepTheirReorders() {
        org.junit.jupiter.api.Assumptions.assumeTrue(ConvOps.channelBlock() == 16, "counted on AVX-512 (16-channel blocks)");
        // by Layout.values(): CHANNELS_LAST, CHANNEL_BLOCKED, PLAIN; each with the max pooling's two NaN-mask steps (skipped on runs
        // proven finite, LowerPool; three until 3cccf530 dropped the tanh pass over a ReLU's output, which this test, skipped
        // on AVX2-only machines, went on expecting until it next ran on AVX-512)
        int[][] stepsAndReorders = {{27, 2}, {26, 1}, {25, 0}};
        try (ResNet net = ResNets.resnet18(1000)) {
            for (long batch : new long[] {1, 16}) {
                for (Layout layout : Layout.values()) {
                    try (CompiledModel p = CompiledModel.compile(net, CompileOptions.defaults().withLayout(layout), batch, 3, 224, 224)) {
                        int[] expected = stepsAndReorders[layout.ordinal()];
                        String at = "batch " + batch + ", " + layout + "\n" + p.describe();
                        assertEquals(expected[0], p.steps().size(), at);
                        assertEquals(expected[1], kinds(p).stream().filter("reorder"::equals).count(), at);
                    }
                }
            }
        }
    }

    private static List<String> fired(CompiledModel p) {
        return p.rulesFired().stream().filter(r -> r.startsWith(RULE + ":")).toList();
    }
}
