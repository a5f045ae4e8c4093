package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.nn.Softmax;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Each rewrite rule on a minimal graph, where it fires and where it must not: the plan with the
 * rule is compared with the plan compiled with that rule switched off (the unrewritten graph,
 * one oneDNN primitive per node), and {@link CompiledModel#rulesFired()} says whether it fired.
 * Tolerance {@code 1e-5 * max|reference| + 1e-6}: folding rounds each weight once more.
 */
class RewriteRulesTest {
    private final RandomTensors tensors = new RandomTensors(7);

    @AfterEach
    void free() {
        tensors.close();
    }

    private Tensor random(long... shape) {
        return tensors.uniform(shape);
    }

    private Tensor positive(long... shape) {
        Tensor t = random(shape);
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) t.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, 0.5f + Math.abs(v[i]));
        return t;
    }

    private String conv(GraphBuilder g, String x, String name, long in, long out) {
        return g.node("Conv", name, Attributes.of("pads", new long[] {1, 1, 1, 1}), x, g.initializer(name + ".weight", random(out, in, 3, 3)),
                g.initializer(name + ".bias", random(out)));
    }

    private String bn(GraphBuilder g, String x, String name, long c) {
        return g.node("BatchNormalization", name, Attributes.of("epsilon", 1e-5), x, g.initializer(name + ".weight", random(c)),
                g.initializer(name + ".bias", random(c)), g.initializer(name + ".running_mean", random(c)),
                g.initializer(name + ".running_var", positive(c)));
    }

    private Graph graph(long[] inputShape, java.util.function.BiFunction<GraphBuilder, String, String> body) {
        GraphBuilder g = Graph.builder("rule-test");
        String x = g.input("input", Shape.batched("N", java.util.Arrays.copyOfRange(inputShape, 1, inputShape.length)));
        return g.output(body.apply(g, x)).build();
    }

    /** Compiles with and without {@code rule}; asserts equal results and whether the rule fired (and where). */
    private void check(Graph graph, long[] inputShape, String rule, boolean fires, Consumer<CompiledModel> more) {
        CompileOptions with = CompileOptions.defaults().withWinograd(false);
        try (CompiledModel a = CompiledModel.compile(graph, with, inputShape);
             CompiledModel b = CompiledModel.compile(graph, with.withoutRule(rule), inputShape);
             Tensor x = random(inputShape)) {
            boolean fired = a.rulesFired().stream().anyMatch(r -> r.startsWith(rule + ":"));
            assertEquals(fires, fired, a.describe());
            assertFalse(b.rulesFired().stream().anyMatch(r -> r.startsWith(rule + ":")), b.describe());
            if (fires) assertTrue(a.primitiveCount() < b.primitiveCount(), a.describe() + "\nvs\n" + b.describe());
            try (Tensor ya = a.run(x); Tensor yb = b.run(x)) {
                float[] p = ya.toFloatArray(), q = yb.toFloatArray();
                double max = 0;
                for (float v : q) max = Math.max(max, Math.abs(v));
                for (int i = 0; i < p.length; i++) {
                    assertEquals(q[i], p[i], 1e-5 * max + 1e-6, "element " + i + "\n" + a.describe());
                }
            }
            if (more != null) more.accept(a);
        }
    }

    @Test
    void foldBatchNormIntoConv() {
        long[] shape = {2, 3, 8, 8};
        check(graph(shape, (g, x) -> bn(g, conv(g, x, "conv", 3, 4), "bn", 4)), shape, "fold_batch_norm", true,
                p -> assertTrue(p.rulesFired().contains("fold_batch_norm: bn into conv"), p.rulesFired().toString()));
    }

    @Test
    void foldBatchNormIntoGemm() {
        long[] shape = {3, 5};
        check(graph(shape, (g, x) -> bn(g, g.node("Gemm", "fc", Attributes.of("transB", 1L), x,
                g.initializer("fc.weight", random(6, 5)), g.initializer("fc.bias", random(6))), "bn", 6)), shape, "fold_batch_norm", true, null);
    }

    @Test
    void noFoldWhenTheConvOutputIsReadTwice() {
        long[] shape = {1, 3, 8, 8};
        check(graph(shape, (g, x) -> {
            String c = conv(g, x, "conv", 3, 4);
            return g.node("Add", "add", Attributes.empty(), bn(g, c, "bn", 4), c);
        }), shape, "fold_batch_norm", false, null);
    }

    @Test
    void fuseActivationIntoConvAndGemm() {
        long[] shape = {2, 3, 8, 8};
        check(graph(shape, (g, x) -> g.node("Relu", "relu", Attributes.empty(), conv(g, x, "conv", 3, 4))), shape, "fuse_activation", true, null);
        check(graph(shape, (g, x) -> g.node("Gelu", "gelu", Attributes.of("approximate", "tanh"), conv(g, x, "conv", 3, 4))), shape,
                "fuse_activation", true, null);
        long[] flat = {4, 7};
        check(graph(flat, (g, x) -> g.node("LeakyRelu", "act", Attributes.of("alpha", 0.2), g.node("Gemm", "fc", Attributes.of("transB", 1L), x,
                g.initializer("fc.weight", random(3, 7))))), flat, "fuse_activation", true, null);
        long[] img = {2, 4, 5, 5};   // an Add broadcasting a per-channel constant (LowerBinary)
        check(graph(img, (g, x) -> g.node("Relu", "act", Attributes.empty(), g.node("Add", "shift", Attributes.empty(), conv(g, x, "conv", 4, 4),
                g.initializer("shift.c", random(4, 1, 1))))), img, "fuse_activation", true, null);
        long[] seq = {2, 5, 7};   // a batched MatMul with constant weights, and attention's q @ k^T (both operands activations)
        check(graph(seq, (g, x) -> g.node("Tanh", "act", Attributes.empty(), g.node("MatMul", "mm", Attributes.empty(), x,
                g.initializer("mm.weight", random(7, 3))))), seq, "fuse_activation", true, null);
        check(graph(seq, (g, x) -> g.node("Relu", "act", Attributes.empty(), g.node("MatMul", "qk", Attributes.empty(), x,
                g.node("Transpose", "kT", Attributes.of("perm", new long[] {0, 2, 1}), x)))), seq, "fuse_activation", true, null);
    }

    /** A Linear on a sequence lowers to flatten, Gemm, unflatten: its activation still fuses, moved before the unflatten. */
    @Test
    void fuseActivationAcrossAReshape() {
        long[] seq = {2, 5, 7};
        check(graph(seq, (g, x) -> g.node("Relu", "act", Attributes.empty(), unflattened(g, x, "fc"))), seq, "fuse_activation", true,
                p -> assertTrue(p.rulesFired().contains("fuse_activation: act into fc (before fc.unflatten)"), p.rulesFired().toString()));
        check(graph(seq, (g, x) -> g.node("Gelu", "act", Attributes.empty(), unflattened(g, x, "fc"))), seq, "fuse_activation", true, null);
        long[] img = {2, 3, 6, 6};   // Flatten after a convolution, then Sigmoid
        check(graph(img, (g, x) -> g.node("Sigmoid", "act", Attributes.empty(), g.node("Flatten", "flat", Attributes.of("axis", 1L),
                conv(g, x, "conv", 3, 4)))), img, "fuse_activation", true, null);
        // not when the reshaped pre-activation is read again, or the host's own output is
        check(graph(seq, (g, x) -> {
            String r = unflattened(g, x, "fc");
            return g.node("Add", "add", Attributes.empty(), g.node("Tanh", "act", Attributes.empty(), r), r);
        }), seq, "fuse_activation", false, null);
        check(graph(seq, (g, x) -> {
            String rows = g.node("Reshape", "fc.flatten", Attributes.empty(), x, g.constant("fc.rows", -1, 7));
            String y = g.node("Gemm", "fc", Attributes.of("transB", 1L), rows, g.initializer("fc.weight", random(7, 7)), g.initializer("fc.bias", random(7)));
            String back = g.node("Reshape", "fc.unflatten", Attributes.empty(), y, g.constant("fc.seq", -1, 5, 7));
            return g.node("Add", "add", Attributes.empty(), g.node("Relu", "act", Attributes.empty(), back),
                    g.node("Reshape", "again", Attributes.empty(), y, g.constant("again.seq", -1, 5, 7)));
        }), seq, "fuse_activation", false, null);
    }

    private String unflattened(GraphBuilder g, String x, String name) {
        String rows = g.node("Reshape", name + ".flatten", Attributes.empty(), x, g.constant(name + ".rows", -1, 7));
        String y = g.node("Gemm", name, Attributes.of("transB", 1L), rows, g.initializer(name + ".weight", random(3, 7)),
                g.initializer(name + ".bias", random(3)));
        return g.node("Reshape", name + ".unflatten", Attributes.empty(), y, g.constant(name + ".seq", -1, 5, 3));
    }

    private String clip(GraphBuilder g, String x, String name, float lo, float hi) {
        return g.node("Clip", name, Attributes.empty(), x, g.initializer(name + ".min", tensor(new float[] {lo})),
                g.initializer(name + ".max", tensor(new float[] {hi})));
    }

    private Tensor tensor(float[] v, long... shape) {
        Tensor t = Tensor.of(v, shape);
        tensors.keep(t);
        return t;
    }

    /**
     * {@code fast_when_finite}: a conv + ReLU6 + conv + ReLU + Gemm + ReLU network, all bounded, so every step with a NaN-keeping
     * activation gets oneDNN's own relu / clip for runs whose inputs are finite and within the proven bound; those runs give
     * the rule-off plan's results (ReLU exactly, ReLU6 within one ulp of 6, as the two formulations round), while a NaN, an
     * infinity or a finite input above the bound runs the NaN-keeping steps (NaN where the rule-off plan has NaN).
     */
    @Test
    void fastWhenFiniteRunsOneDnnsOwnActivationsOnlyForProvenInputs() {
        long[] shape = {2, 3, 8, 8};
        Graph g = graph(shape, (b, x) -> {
            String h = b.node("Relu", "relu", Attributes.empty(), conv(b, clip(b, conv(b, x, "conv1", 3, 4), "relu6", 0f, 6f), "conv2", 4, 4));
            String flat = b.node("Flatten", "flat", Attributes.empty(), h);
            return b.node("Relu", "relu2", Attributes.empty(), b.node("Gemm", "fc", Attributes.of("transB", 1L), flat,
                    b.initializer("fc.weight", random(5, 256)), b.initializer("fc.bias", random(5))));
        });
        CompileOptions options = CompileOptions.defaults().withWinograd(false);
        try (CompiledModel fast = CompiledModel.compile(g, options, shape).warmup();
             CompiledModel exact = CompiledModel.compile(g, options.withoutRule("fast_when_finite"), shape).warmup()) {
            List<String> proven = provenNodes(fast.rulesFired());
            assertEquals(List.of("conv1", "conv2", "fc"), proven, fast.describe());
            assertTrue(provenNodes(exact.rulesFired()).isEmpty(), exact.describe());
            int k = Integer.parseInt(fast.rulesFired().stream().filter(r -> r.startsWith("fast_when_finite: conv2")).findFirst().orElseThrow()
                    .replaceAll(".*2\\^(-?\\d+)\\)$", "$1"));
            assertTrue(k > 60, "a bound of 2^" + k + " for inputs: the network's weight norms are small");
            float[] x = new float[2 * 3 * 8 * 8];
            for (int i = 0; i < x.length; i++) x[i] = (float) tensors.random().nextDouble(-8, 8);
            assertSame(fast, exact, x, shape, 1, "finite inputs");
            x[5] = Math.scalb(1f, Math.min(k, 127));   // exactly at the bound: still proven
            assertSame(fast, exact, x, shape, 1, "an input at the bound 2^" + k);
            x[5] = Math.scalb(1.5f, Math.min(k, 126));   // above it (finite): the NaN-keeping steps
            assertSame(fast, exact, x, shape, 0, "an input above the bound");
            x[5] = Float.POSITIVE_INFINITY;
            assertSame(fast, exact, x, shape, 0, "an infinite input");
            x[5] = Float.NaN;
            assertSame(fast, exact, x, shape, 0, "a NaN input");
        }
    }

    /** The nodes of {@code fast_when_finite}'s lines in {@code fired}. */
    private static List<String> provenNodes(List<String> fired) {
        String prefix = "fast_when_finite: ";
        return fired.stream().filter(f -> f.startsWith(prefix)).map(f -> f.substring(prefix.length(), f.indexOf(' ', prefix.length()))).toList();
    }

    /** Runs both plans on {@code x}; asserts {@code fast} took its fast steps {@code fastRuns} times and the results agree (NaN where NaN). */
    private void assertSame(CompiledModel fast, CompiledModel exact, float[] x, long[] shape, int fastRuns, String what) {
        long before = fast.fastRuns();
        try (Tensor in = tensor(x.clone(), shape); Tensor a = fast.run(in); Tensor b = exact.run(in)) {
            assertEquals(before + fastRuns, fast.fastRuns(), what + ": fast steps taken");
            assertEquals(0, exact.fastRuns(), what);
            float[] p = a.toFloatArray(), q = b.toFloatArray();
            int nan = 0;
            for (int i = 0; i < p.length; i++) {
                if (Float.isNaN(q[i])) {
                    assertTrue(Float.isNaN(p[i]), what + ", element " + i + ": NaN stays NaN, got " + p[i]);
                    nan++;
                } else {
                    assertEquals(q[i], p[i], 1e-5 * Math.abs(q[i]) + Math.ulp(6f), what + ", element " + i);
                }
            }
            if (what.contains("NaN")) assertTrue(nan > 0, what + ": the NaN reaches the output");
        }
    }

    /**
     * A clamp (ReLU6, Sigmoid) bounds finite values only: after a value that may already be NaN - an op not known to keep
     * finite values finite (Sqrt of a negative), or a convolution whose bound passes the overflow limit (inf - inf inside
     * the kernel) - the NaN-keeping clamp passes the NaN on, so nothing after it is proven by the clamp's cap.
     */
    @Test
    void fastWhenFiniteDoesNotTakeAClampOfAPossibleNaNForABound() {
        long[] shape = {1, 3, 8, 8};
        CompileOptions options = CompileOptions.defaults().withWinograd(false);
        Graph afterSqrt = graph(shape, (b, x) -> b.node("Relu", "relu", Attributes.empty(),
                conv(b, clip(b, b.node("Sqrt", "sqrt", Attributes.empty(), x), "relu6", 0f, 6f), "conv", 3, 4)));
        try (CompiledModel fast = CompiledModel.compile(afterSqrt, options, shape).warmup();
             CompiledModel exact = CompiledModel.compile(afterSqrt, options.withoutRule("fast_when_finite"), shape).warmup()) {
            assertEquals(List.of(), provenNodes(fast.rulesFired()), fast.describe());
            float[] x = new float[3 * 8 * 8];
            for (int i = 0; i < x.length; i++) x[i] = (float) tensors.random().nextDouble(0, 4);
            x[9] = -1;   // finite, but sqrt(-1) is NaN
            assertSame(fast, exact, x, shape, 0, "a finite input whose square root is NaN");
        }
        // conv1's weights are 2^90: an input of 2^40 makes it overflow to +inf, and inf - inf is NaN, which ReLU6 keeps.
        float[] w = new float[4 * 3 * 3 * 3];
        java.util.Arrays.fill(w, 0x1p90f);
        Graph overflow = graph(shape, (b, x) -> {
            String h = b.node("Conv", "conv1", Attributes.of("pads", new long[] {1, 1, 1, 1}), x, b.initializer("conv1.weight", tensor(w, 4, 3, 3, 3)));
            return b.node("Relu", "relu", Attributes.empty(), conv(b, clip(b, b.node("Sub", "sub", Attributes.empty(), h, h), "relu6", 0f, 6f), "conv2", 4, 4));
        });
        try (CompiledModel fast = CompiledModel.compile(overflow, options, shape).warmup();
             CompiledModel exact = CompiledModel.compile(overflow, options.withoutRule("fast_when_finite"), shape).warmup()) {
            java.util.Map<String, Integer> k = new java.util.HashMap<>();
            for (String f : fast.rulesFired()) {
                if (f.startsWith("fast_when_finite: ")) k.put(provenNodes(List.of(f)).get(0), Integer.parseInt(f.replaceAll(".*2\\^(-?\\d+)\\)$", "$1")));
            }
            assertTrue(k.get("conv2") != null && k.get("conv2") < 100 - 90, "conv2 proven only for inputs conv1 cannot overflow on: " + k);
            float[] x = new float[3 * 8 * 8];
            java.util.Arrays.fill(x, 0x1p40f);
            assertSame(fast, exact, x, shape, 0, "inputs of 2^40: conv1 overflows, inf - inf is NaN");
        }
    }

    /** The bounds that stop the proof: an op not known to keep values finite, a weight that is not finite. */
    @Test
    void fastWhenFiniteProvesNothingPastAnUnboundedOpOrANonFiniteWeight() {
        long[] shape = {1, 3, 8, 8};
        CompileOptions options = CompileOptions.defaults().withWinograd(false);
        Graph afterExp = graph(shape, (b, x) -> b.node("Relu", "relu2", Attributes.empty(),
                conv(b, b.node("Exp", "exp", Attributes.empty(), b.node("Relu", "relu1", Attributes.empty(), conv(b, x, "conv1", 3, 4))), "conv2", 4, 4)));
        try (CompiledModel p = CompiledModel.compile(afterExp, options, shape).warmup()) {
            assertEquals(List.of("conv1"), provenNodes(p.rulesFired()), p.describe());
        }
        Tensor w = random(4, 3, 3, 3);
        w.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 7, Float.POSITIVE_INFINITY);
        Graph infWeight = graph(shape, (b, x) -> b.node("Relu", "relu", Attributes.empty(), b.node("Conv", "conv", Attributes.of("pads",
                new long[] {1, 1, 1, 1}), x, b.initializer("conv.weight", w))));
        try (CompiledModel p = CompiledModel.compile(infWeight, options, shape).warmup()) {
            assertTrue(provenNodes(p.rulesFired()).isEmpty(), p.describe());
        }
        long[] flat = {2, 7};   // a MatMul by a constant vector [K] (numpy semantics): one output, its |w| summed
        Graph vector = graph(flat, (b, x) -> b.node("Relu", "relu", Attributes.empty(), b.node("MatMul", "mv", Attributes.empty(), x,
                b.initializer("mv.weight", random(7)))));
        try (CompiledModel p = CompiledModel.compile(vector, options, flat).warmup()) {
            assertEquals(List.of("mv"), provenNodes(p.rulesFired()), p.describe());
        }
        // Magnitudes: |conv(x)| <= max_o sum |w_o| * M + max |b|, then the ReLU6 caps at 6 whatever M is.
        Tensor ones = tensor(new float[] {1, -2, 0.5f, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, 2, 1, 3, 3);
        Graph known = graph(new long[] {1, 1, 4, 4}, (b, x) -> clip(b, b.node("Conv", "c", Attributes.empty(), x, b.initializer("c.weight", ones),
                b.initializer("c.bias", tensor(new float[] {3, -4}, 2))), "relu6", 0f, 6f));
        PlanGraph pg = new PlanGraph(known.bind(new long[] {1, 1, 4, 4}));
        new FoldConstants().apply(pg, options);
        new FuseActivation().apply(pg, options);
        java.util.Map<String, Double> bounds = FiniteBounds.bounds(pg, 2.0, new java.util.HashMap<>());
        // sum |w| per output: 1 + 2 + 0.5 + 6 ones = 9.5, and 9; summed in F32 (sasum), so scaled by 1 + 2 n 2^-24 (n = 9)
        assertEquals((9.5 * (1 + 18 * 0x1p-24) * 2 + 4) * 1.01, bounds.get("\0pre\0c"), 1e-9);
        assertEquals(6.0, bounds.get(known.outputs().get(0)), 0.0);
        // A convolution reading a ReLU's output (never below 0): every partial sum of w_i x_i lies in [-M sum w-, M sum w+],
        // so its gain is max over rows of max(sum w+, sum w-) = max(5, 2) = 5, not sum |w| = 9; reading the input itself, 9.
        Tensor signs = tensor(new float[] {1, -1, 1, -1, 1, -1, 1, -1, 1, 2, -2, 0, 0, 0, 0, 0, 0, 0}, 2, 1, 3, 3);
        Tensor bias = tensor(new float[] {3, -4}, 2);
        for (boolean afterRelu : new boolean[] {true, false}) {
            Graph g = graph(new long[] {1, 1, 4, 4}, (b, x) -> b.node("Conv", "c", Attributes.empty(),
                    afterRelu ? b.node("Relu", "r", Attributes.empty(), x) : x, b.initializer("c.weight", signs), b.initializer("c.bias", bias)));
            PlanGraph p = new PlanGraph(g.bind(new long[] {1, 1, 4, 4}));
            new FoldConstants().apply(p, options);
            new FuseActivation().apply(p, options);
            double gain = afterRelu ? 5 : 9;
            assertEquals((gain * (1 + 18 * 0x1p-24) * 2 + 4) * 1.01, FiniteBounds.bounds(p, 2.0, new java.util.HashMap<>()).get("\0pre\0c"), 1e-9,
                    afterRelu ? "after a ReLU" : "on the input");
        }
    }

    /**
     * ReLU6 ({@code Clip(min 0, max 6)}, MobileNets) fuses into the convolution as NaN-keeping post-ops: equal to the
     * unfused plan (Conv, then LowerMath's Clip with its NaN mask) within one ulp of 6, and, as torch.clamp, NaN
     * stays NaN and +-inf become 6 and 0 exactly. Other bounds, or a Clip after anything but a Conv, stay unfused.
     */
    @Test
    void fuseReluSixIntoConvKeepingNaN() {
        long[] shape = {2, 3, 8, 8};
        Graph relu6 = graph(shape, (g, x) -> clip(g, conv(g, x, "conv", 3, 4), "relu6", 0f, 6f));
        check(relu6, shape, "fuse_activation", true, p -> assertTrue(p.rulesFired().contains("fuse_activation: relu6 into conv"),
                p.rulesFired().toString()));
        float[] x = new float[2 * 3 * 8 * 8];
        for (int i = 0; i < x.length; i++) x[i] = (float) tensors.random().nextDouble(-8, 8);   // conv outputs well beyond [0, 6] both ways
        x[3] = Float.NaN;            // image 0: NaN around pixel (0, 3) of channel 0
        x[192 + 70] = Float.POSITIVE_INFINITY;   // image 1: +-inf (and inf - inf = NaN where both reach)
        x[192 + 130] = Float.NEGATIVE_INFINITY;
        CompileOptions options = CompileOptions.defaults().withWinograd(false);
        try (CompiledModel fused = CompiledModel.compile(relu6, options, shape);
             CompiledModel plain = CompiledModel.compile(relu6, options.withoutRule("fuse_activation"), shape);
             Tensor in = tensor(x, shape); Tensor a = fused.run(in); Tensor b = plain.run(in)) {
            float[] p = a.toFloatArray(), q = b.toFloatArray();
            int nan = 0, bounds = 0;
            for (int i = 0; i < p.length; i++) {
                if (Float.isNaN(q[i])) {
                    assertTrue(Float.isNaN(p[i]), "element " + i + ": NaN stays NaN, got " + p[i]);
                    nan++;
                } else if (q[i] == 0f || q[i] == 6f) {
                    assertEquals(q[i], p[i], 0f, "element " + i + ": a bound is exact");
                    bounds++;
                } else {
                    assertEquals(q[i], p[i], Math.ulp(6f), "element " + i);
                }
            }
            assertTrue(nan > 0 && bounds > 100, nan + " NaN and " + bounds + " clamped elements: the case is exercised");
        }
        // withFastRelu: oneDNN's own clip instead (one operation): NaN becomes 0, finite results as the default's.
        try (CompiledModel fast = CompiledModel.compile(relu6, options.withFastRelu(true), shape);
             CompiledModel exact = CompiledModel.compile(relu6, options, shape);
             Tensor in = tensor(x, shape); Tensor a = fast.run(in); Tensor b = exact.run(in)) {
            float[] p = a.toFloatArray(), q = b.toFloatArray();
            int nanToZero = 0;
            for (int i = 0; i < p.length; i++) {
                if (Float.isNaN(q[i])) {
                    assertEquals(0f, p[i], 0f, "element " + i + ": fastRelu's clip turns NaN into its lower bound");
                    nanToZero++;
                } else {
                    assertEquals(q[i], p[i], Math.ulp(6f), "element " + i);
                }
            }
            assertTrue(nanToZero > 0, "the NaN case is exercised");
        }
        check(graph(shape, (g, x2) -> clip(g, conv(g, x2, "conv", 3, 4), "clip", -1f, 6f)), shape, "fuse_activation", false, null);
        check(graph(shape, (g, x2) -> clip(g, g.node("Add", "add", Attributes.empty(), x2, x2), "relu6", 0f, 6f)), shape, "fuse_activation",
                false, null);
    }

    @Test
    void noActivationFusionWhenThePreActivationIsAlsoRead() {
        long[] shape = {1, 3, 8, 8};
        check(graph(shape, (g, x) -> {
            String c = conv(g, x, "conv", 3, 4);
            return g.node("Add", "add", Attributes.empty(), g.node("Sigmoid", "sig", Attributes.empty(), c), c);
        }), shape, "fuse_activation", false, null);
    }

    @Test
    void matMulBiasAsAPostOp() {
        long[] seq = {2, 5, 7};
        check(graph(seq, (g, x) -> g.node("Add", "bias", Attributes.empty(), g.node("MatMul", "mm", Attributes.empty(), x,
                g.initializer("mm.weight", random(7, 3))), g.initializer("mm.bias", random(3)))), seq, "fuse_matmul_bias", true, null);
        // not when the product is also read, nor when the other operand is an activation
        check(graph(seq, (g, x) -> {
            String mm = g.node("MatMul", "mm", Attributes.empty(), x, g.initializer("mm.weight", random(7, 3)));
            return g.node("Mul", "twice", Attributes.empty(), g.node("Add", "bias", Attributes.empty(), mm, g.initializer("mm.bias", random(3))), mm);
        }), seq, "fuse_matmul_bias", false, null);
        check(graph(seq, (g, x) -> g.node("Add", "sum", Attributes.empty(), g.node("MatMul", "mm", Attributes.empty(), x,
                g.initializer("mm.weight", random(7, 7))), x)), seq, "fuse_matmul_bias", false, null);
    }

    @Test
    void noResidualSumIntoAConstant() {
        long[] shape = {1, 4, 8, 8};   // bound to batch 1, the constant has the conv output's exact shape
        check(graph(shape, (g, x) -> g.node("Add", "add", Attributes.empty(), conv(g, x, "conv", 4, 4),
                g.initializer("shift", random(1, 4, 8, 8)))), shape, "fuse_residual_sum", false, null);
    }

    @Test
    void residualSumIntoTheLaterConv() {
        long[] shape = {2, 4, 8, 8};
        check(graph(shape, (g, x) -> {
            String a = conv(g, x, "a", 4, 4);
            String b = conv(g, a, "b", 4, 4);
            return g.node("Relu", "relu", Attributes.empty(), g.node("Add", "add", Attributes.empty(), a, b));
        }), shape, "fuse_residual_sum", true, p -> {
            assertTrue(p.rulesFired().contains("fuse_residual_sum: add into b"), p.rulesFired().toString());
            assertTrue(p.steps().stream().anyMatch(s -> s.contains("conv b+sum(a)+relu")), p.describe());
        });
    }

    /** A linear's add: {@code tanh(x W^T + b + y)} as one inner product with a sum and a tanh post-op, in place of y's buffer. */
    @Test
    void residualSumIntoAGemm() {
        long[] shape = {3, 6};
        check(graph(shape, (g, x) -> {
            String y = g.node("Gemm", "y", Attributes.of("transB", 1L), x, g.initializer("y.weight", random(5, 6)), g.initializer("y.bias", random(5)));
            String z = g.node("Gemm", "z", Attributes.of("transB", 1L), x, g.initializer("z.weight", random(5, 6)), g.initializer("z.bias", random(5)));
            return g.node("Tanh", "tanh", Attributes.empty(), g.node("Add", "add", Attributes.empty(), y, z));
        }), shape, "fuse_residual_sum", true, p -> {
            assertTrue(p.rulesFired().stream().anyMatch(r -> r.startsWith("fuse_residual_sum: add into ")), p.rulesFired().toString());
            assertTrue(p.steps().stream().anyMatch(s -> s.contains("+sum(") && s.contains("+tanh")), p.describe());
        });
    }

    /**
     * An unrolled recurrent cell over the steps of x [T, N, K] (as an ONNX Loop over {@code x[t]} imports): every step's
     * input projection {@code Gemm(Gather(x, t))} becomes rows of one Gemm over all of x. The same outputs as the plan without
     * the rule (each row's inner product is the same); fewer primitives.
     */
    @Test
    void gathersOfOneInputIntoTheSameGemmBecomeOneGemm() {
        long[] shape = {5, 2, 3};
        Graph cell = graph(shape, (g, x) -> {
            String w = g.initializer("i2h.weight", random(4, 3)), b = g.initializer("i2h.bias", random(4));
            String u = g.initializer("h2h.weight", random(4, 4)), c = g.initializer("h2h.bias", random(4));
            String h = g.initializer("h0", random(2, 4));
            for (long t = 0; t < shape[0]; t++) {
                String xt = g.node("Gather", "x" + t, Attributes.of("axis", 0L), x, scalar(g, "t" + t, t == 4 ? -1 : t));
                String i2h = g.node("Gemm", "i2h" + t, Attributes.of("transB", 1L), xt, w, b);
                String h2h = g.node("Gemm", "h2h" + t, Attributes.of("transB", 1L), h, u, c);
                h = g.node("Tanh", "tanh" + t, Attributes.empty(), g.node("Add", "add" + t, Attributes.empty(), i2h, h2h));
            }
            return h;
        });
        check(cell, shape, BatchGatheredGemms.NAME, true, p -> {
            assertTrue(p.rulesFired().contains(BatchGatheredGemms.NAME + ": 5 Gemms on the steps of input (i2h0, ...) as one of 10 rows"), p.rulesFired().toString());
            assertEquals(1, p.steps().stream().filter(s -> s.startsWith("linear i2h")).count(), p.describe());
        });
        // one step of x read: nothing to batch (at least half of x's steps, and two Gemms)
        check(graph(shape, (g, x) -> g.node("Gemm", "only", Attributes.of("transB", 1L),
                g.node("Gather", "x1", Attributes.of("axis", 0L), x, scalar(g, "one", 1)), g.initializer("w", random(4, 3)))),
                shape, BatchGatheredGemms.NAME, false, null);
    }

    /** A rank-0 I64 initializer: a Gather by it drops the axis, as ONNX's Gather by a scalar index does. */
    private static String scalar(dev.panamadnn.graph.GraphBuilder g, String name, long v) {
        return g.initializer(name, Tensor.wrap(java.lang.foreign.Arena.ofAuto().allocateFrom(java.lang.foreign.ValueLayout.JAVA_LONG, v),
                dev.panamadnn.DataType.I64));
    }

    @Test
    void residualSumOntoTheGraphInputCopiesIt() {
        long[] shape = {1, 4, 6, 6};
        check(graph(shape, (g, x) -> g.node("Add", "add", Attributes.empty(), conv(g, x, "c", 4, 4), x)), shape, "fuse_residual_sum", true, null);
    }

    @Test
    void noResidualSumWhenShapesBroadcast() {
        long[] shape = {1, 4, 6, 6};
        check(graph(shape, (g, x) -> {
            String c = conv(g, x, "c", 4, 4);
            String pooled = g.node("GlobalAveragePool", "gap", Attributes.empty(), x);
            return g.node("Relu", "relu", Attributes.empty(), g.node("Add", "add", Attributes.empty(), c, c));
        }), shape, "fuse_residual_sum", false, null);
    }

    @Test
    void deadValuesAndIdentitiesAreDropped() {
        long[] shape = {2, 3, 8, 8};
        Graph graph = graph(shape, (g, x) -> {
            String c = conv(g, x, "conv", 3, 4);
            g.node("Sigmoid", "unused", Attributes.empty(), c);
            return g.node("Identity", "same", Attributes.empty(), g.node("Tanh", "tanh", Attributes.empty(), c));
        });
        check(graph, shape, "remove_dead_values", true, p -> {
            assertTrue(p.rulesFired().contains("remove_dead_values: unused unused"), p.rulesFired().toString());
            assertTrue(p.rulesFired().contains("remove_dead_values: identity same"), p.rulesFired().toString());
        });
    }

    @Test
    void aLayerNodeRunsTheLayersOwnKernelInsideThePlan() {
        long[] shape = {3, 5};
        try (Softmax softmax = new Softmax(1)) {
            Graph graph = graph(shape, (g, x) -> g.node("Layer", "softmax", Attributes.of("module", softmax),
                    g.node("Gemm", "fc", Attributes.of("transB", 1L), x, g.initializer("fc.weight", random(4, 5)))));
            try (CompiledModel p = CompiledModel.compile(graph, CompileOptions.defaults(), shape);
                 Tensor x = random(shape); Tensor y = p.run(x)) {
                assertTrue(p.steps().stream().anyMatch(s -> s.startsWith("java softmax")), p.describe());
                float[] w = graph.initializers().get("fc.weight").toFloatArray(), in = x.toFloatArray(), out = y.toFloatArray();
                for (int r = 0; r < 3; r++) {   // softmax(x W^T) computed here in double
                    double[] z = new double[4];
                    double sum = 0;
                    for (int o = 0; o < 4; o++) {
                        for (int i = 0; i < 5; i++) z[o] += in[r * 5 + i] * w[o * 5 + i];
                        sum += Math.exp(z[o]);
                    }
                    for (int o = 0; o < 4; o++) assertEquals(Math.exp(z[o]) / sum, out[r * 4 + o], 1e-6);
                }
            }
        }
    }

    @Test
    void weightOnlySubgraphsAreFoldedIntoConstants() {
        // W stored input-major [3, 4, 3, 3] and halved in the graph: Conv(x, Mul(Transpose(Wt), 0.5)).
        Tensor wt = random(3, 4, 3, 3), half = random(4, 3, 3, 3), bias = random(4);
        half.segment().fill((byte) 0);
        for (long i = 0; i < half.numel(); i++) half.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, 0.5f);
        float[] t = wt.toFloatArray(), direct = new float[t.length];
        for (int i = 0; i < 3; i++)
            for (int o = 0; o < 4; o++)
                for (int k = 0; k < 9; k++) direct[(o * 3 + i) * 9 + k] = t[(i * 4 + o) * 9 + k] * 0.5f;   // the test's own transpose
        Tensor w = Tensor.of(direct, 4, 3, 3, 3);
        tensors.keep(w);
        long[] shape = {2, 3, 6, 6};
        Graph folded = graph(shape, (g, x) -> {
            String tr = g.node("Transpose", "wT", Attributes.of("perm", new long[] {1, 0, 2, 3}), g.initializer("wt", wt));
            String scaled = g.node("Mul", "scale", Attributes.empty(), tr, g.initializer("half", half));
            return g.node("Conv", "conv", Attributes.empty(), x, scaled, g.initializer("b", bias));
        });
        Graph plain = graph(shape, (g, x) -> g.node("Conv", "conv", Attributes.empty(), x, g.initializer("w", w), g.initializer("b", bias)));
        try (CompiledModel a = CompiledModel.compile(folded, CompileOptions.defaults(), shape);
             CompiledModel b = CompiledModel.compile(plain, CompileOptions.defaults(), shape);
             Tensor x = random(shape); Tensor ya = a.run(x); Tensor yb = b.run(x)) {
            assertTrue(a.rulesFired().contains("fold_constants: transpose wT") && a.rulesFired().contains("fold_constants: mul scale"),
                    a.describe());
            org.junit.jupiter.api.Assertions.assertArrayEquals(yb.toFloatArray(), ya.toFloatArray(), a.describe());
        }
        // Without the rule the weights are computed every run: the constant copied into the plan, transposed, scaled
        // and reordered for the convolution each time (same result, work the folded plan does once).
        try (CompiledModel a = CompiledModel.compile(folded, CompileOptions.defaults(), shape);
             CompiledModel c = CompiledModel.compile(folded, CompileOptions.defaults().withoutRule("fold_constants"), shape);
             Tensor x = random(shape); Tensor ya = a.run(x); Tensor yc = c.run(x)) {
            assertTrue(c.steps().stream().anyMatch(st -> st.startsWith("copy of constant wt")), c.describe());
            assertTrue(a.steps().stream().noneMatch(st -> st.startsWith("copy of constant")), a.describe());
            org.junit.jupiter.api.Assertions.assertArrayEquals(ya.toFloatArray(), yc.toFloatArray(), 1e-5f, c.describe());
        }
    }

    @Test
    void winogradIsSelectedByARuleThatCanBeSwitchedOff() {
        org.junit.jupiter.api.Assumptions.assumeTrue(Winograd.available(), "needs --add-modules jdk.incubator.vector");
        long[] shape = {2, 16, 14, 14};   // 2 x 4 x 4 = 32 output tiles >= 16
        Graph g = graph(shape, (b, x) -> b.node("Relu", "relu", Attributes.empty(), b.node("Conv", "conv",
                Attributes.of("pads", new long[] {1, 1, 1, 1}), b.node("Relu", "pre", Attributes.empty(), x),
                b.initializer("w", random(16, 16, 3, 3)), b.initializer("b", random(16)))));
        try (CompiledModel on = CompiledModel.compile(g, CompileOptions.defaults(), shape);
             CompiledModel off = CompiledModel.compile(g, CompileOptions.defaults().withoutRule("select_winograd"), shape);
             Tensor x = random(shape); Tensor a = on.run(x); Tensor b = off.run(x)) {
            assertTrue(on.rulesFired().contains("select_winograd: conv"), on.describe());
            assertTrue(on.steps().stream().anyMatch(s -> s.contains("winograd")), on.describe());
            assertFalse(off.steps().stream().anyMatch(s -> s.contains("winograd")), off.describe());
            float[] p = a.toFloatArray(), q = b.toFloatArray();
            double max = 0;
            for (float v : q) max = Math.max(max, Math.abs(v));
            for (int i = 0; i < p.length; i++) assertEquals(q[i], p[i], 1e-5 * max + 1e-6, "element " + i);
        }
        long[] small = {1, 16, 6, 6};   // 4 tiles: too few, the rule does not fire
        try (CompiledModel p = CompiledModel.compile(graph(small, (b, x) -> b.node("Conv", "conv", Attributes.of("pads", new long[] {1, 1, 1, 1}),
                b.node("Relu", "pre", Attributes.empty(), x), b.initializer("w", random(16, 16, 3, 3)))), CompileOptions.defaults(), small)) {
            assertFalse(p.rulesFired().stream().anyMatch(r -> r.startsWith("select_winograd")), p.describe());
        }
    }
}
