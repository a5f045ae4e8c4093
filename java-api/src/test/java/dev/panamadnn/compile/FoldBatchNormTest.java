package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code fold_batch_norm} leaves a convolution's (or a Linear's) initializer weights uncopied and has the weight reorder
 * apply the batch norm's per-channel factors ({@link PlanGraph#addScaled}); weights that are already an array (a constant
 * a rule computed) are multiplied in Java instead. The two must be the same plan: the same output bits (NaN inputs
 * included), the same bounds for the fast ReLU ({@link FiniteBounds}), in every layout and for grouped convolutions. The
 * array form is reached here through {@code Mul(W, 1)}, which {@code fold_constants} computes into an array holding
 * exactly W's values. Both are checked against the plan without the fold too (tolerance: folding rounds each weight once).
 * Also how the compiler reads initializers around it: a strided view as its elements (weights, index tensors), and
 * memory only another thread may read refused by name.
 */
class FoldBatchNormTest {
    private static final Pattern FAST = Pattern.compile("fast when \\|inputs\\| <= ([^)]+)\\)");

    private final RandomTensors tensors = new RandomTensors(11);

    @AfterEach
    void free() {
        tensors.close();
    }

    private Tensor positive(long... shape) {
        Tensor t = tensors.uniform(shape);
        float[] v = t.toFloatArray();
        for (int i = 0; i < v.length; i++) t.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, 0.5f + Math.abs(v[i]));
        return t;
    }

    private record Params(Tensor w, Tensor b, Tensor gamma, Tensor beta, Tensor mean, Tensor var) {}

    private static Graph graph(long[] inShape, Params p, long groups, long stride, boolean gemm, boolean arrayWeights) {
        GraphBuilder g = Graph.builder(arrayWeights ? "fold-array" : "fold-lazy");
        String x = g.input("input", Shape.batched("N", Arrays.copyOfRange(inShape, 1, inShape.length)));
        String w = g.initializer("layer.weight", p.w());
        if (arrayWeights) w = g.node("Mul", "times_one", Attributes.empty(), w, g.initializer("one", Tensor.of(new float[] {1f})));
        long k = gemm ? 0 : p.w().dim(2);
        String y = gemm ? g.node("Gemm", "layer", Attributes.of("transB", 1L), x, w, g.initializer("layer.bias", p.b()))
                : g.node("Conv", "layer", Attributes.of("pads", new long[] {k / 2, k / 2, k / 2, k / 2}, "strides", new long[] {stride, stride},
                        "group", groups), x, w, g.initializer("layer.bias", p.b()));
        y = g.node("BatchNormalization", "bn", Attributes.of("epsilon", 1e-5), y, g.initializer("bn.weight", p.gamma()),
                g.initializer("bn.bias", p.beta()), g.initializer("bn.running_mean", p.mean()), g.initializer("bn.running_var", p.var()));
        return g.output(g.node("Relu", "relu", Attributes.empty(), y)).build();
    }

    private void sameAsArrays(long[] inShape, long[] wShape, long groups, long stride, boolean gemm, CompileOptions options) {
        long c = wShape[0];
        Params p = new Params(tensors.uniform(wShape), tensors.uniform(c), tensors.uniform(c), tensors.uniform(c), tensors.uniform(c), positive(c));
        String what = (gemm ? "gemm " : "conv groups " + groups + " stride " + stride + " ") + Arrays.toString(wShape) + " " + options.layout();
        try (CompiledModel lazy = CompiledModel.compile(graph(inShape, p, groups, stride, gemm, false), options, inShape);
             CompiledModel arrays = CompiledModel.compile(graph(inShape, p, groups, stride, gemm, true), options, inShape);
             CompiledModel unfolded = CompiledModel.compile(graph(inShape, p, groups, stride, gemm, false), options.withFoldBatchNorm(false), inShape)) {
            assertTrue(lazy.rulesFired().contains("fold_batch_norm: bn into layer"), what + ": " + lazy.rulesFired());
            assertTrue(arrays.rulesFired().contains("fold_batch_norm: bn into layer"), what + ": " + arrays.rulesFired());
            assertTrue(arrays.rulesFired().stream().anyMatch(r -> r.startsWith("fold_constants")), what + ": " + arrays.rulesFired());
            assertFalse(lazy.rulesFired().stream().anyMatch(r -> r.startsWith("fold_constants")), what + ": " + lazy.rulesFired());
            List<String> bounds = fastBounds(lazy);
            if (!options.winograd()) assertFalse(bounds.isEmpty(), what + ": no fast ReLU proven\n" + lazy.describe());   // (none on Winograd's)
            assertEquals(fastBounds(arrays), bounds, what + ": the fast ReLU's bounds\n" + lazy.describe() + "\nvs\n" + arrays.describe());
            Tensor x = tensors.uniform(inShape);
            Tensor withNaN = tensors.uniform(inShape);
            withNaN.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 3, Float.NaN);
            for (Tensor in : new Tensor[] {x, withNaN}) {
                try (Tensor a = lazy.run(in); Tensor b = arrays.run(in); Tensor u = unfolded.run(in)) {
                    float[] av = a.toFloatArray(), bv = b.toFloatArray(), uv = u.toFloatArray();
                    double max = 0;
                    for (float v : uv) if (Float.isFinite(v)) max = Math.max(max, Math.abs(v));
                    int nans = 0;
                    for (int i = 0; i < av.length; i++) {
                        assertEquals(Float.floatToIntBits(bv[i]), Float.floatToIntBits(av[i]), what + ": element " + i + " " + av[i] + " vs " + bv[i]);
                        if (Float.isNaN(uv[i])) {
                            nans++;
                            assertTrue(Float.isNaN(av[i]), what + ": element " + i + " is NaN unfolded, " + av[i] + " folded");
                        } else {
                            assertEquals(uv[i], av[i], 1e-5 * max + 1e-6, what + ": element " + i + " folded vs unfolded");
                        }
                    }
                    if (in == withNaN) assertTrue(nans > 0, what + ": the NaN input reached no output");
                }
            }
        }
    }

    /** The fast variants' bounds, once proven ({@code warmup()} proves them: DeferredProof). */
    private static List<String> fastBounds(CompiledModel plan) {
        plan.warmup();
        List<String> out = new ArrayList<>();
        Matcher m = FAST.matcher(plan.describe());
        while (m.find()) out.add(m.group(1));
        return out;
    }

    @Test
    void lazilyScaledWeightsAreTheArrayFoldBitForBit() {
        CompileOptions direct = CompileOptions.defaults().withWinograd(false);
        for (CompileOptions o : new CompileOptions[] {direct, direct.withLayout(CompileOptions.Layout.CHANNEL_BLOCKED)}) {
            sameAsArrays(new long[] {2, 8, 9, 9}, new long[] {16, 8, 3, 3}, 1, 1, false, o);
            sameAsArrays(new long[] {1, 16, 8, 8}, new long[] {24, 4, 3, 3}, 4, 2, false, o);   // grouped: [G, O/G, ...] weights
            sameAsArrays(new long[] {2, 3, 12, 12}, new long[] {8, 3, 7, 7}, 1, 2, false, o);   // a stem: 3 input channels
            sameAsArrays(new long[] {1, 16, 5, 5}, new long[] {16, 1, 3, 3}, 16, 1, false, o);   // depthwise
            sameAsArrays(new long[] {2, 24, 6, 6}, new long[] {40, 24, 1, 1}, 1, 1, false, o);
        }
        sameAsArrays(new long[] {3, 20}, new long[] {12, 20}, 1, 1, true, direct);   // a Linear and BatchNorm1d
        // Winograd: its transform reads the array (made from the initializer there), the direct fallback the scaled reorder
        sameAsArrays(new long[] {1, 64, 16, 16}, new long[] {64, 64, 3, 3}, 1, 1, false, CompileOptions.defaults());
    }

    /**
     * An initializer that is a strided view (a slice along dim 1) is read as its elements, not as the memory it spans:
     * the same plan as its dense copy (same bits, same fast-ReLU bounds), with or without a batch norm folded into it.
     */
    @Test
    void aStridedInitializerIsReadAsItsElements() {
        for (boolean bn : new boolean[] {false, true}) {
            Tensor big = tensors.uniform(16, 12, 3, 3);
            for (int i = 0; i < big.numel(); i++) {   // the values between the view's rows 1000x larger: a misread shows in the bound
                int channel = i / 9 % 12;
                if (channel < 2 || channel >= 10) big.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, 1000f);
            }
            Tensor view = big.slice(1, 2, 10);   // [16, 8, 3, 3], not contiguous
            assertFalse(view.isContiguous());
            Tensor dense = Tensor.of(view.toFloatArray(), 16, 8, 3, 3);
            Tensor g = tensors.uniform(16), b = tensors.uniform(16), m = tensors.uniform(16), v = positive(16);
            long[] in = {2, 8, 9, 9};
            CompileOptions o = CompileOptions.defaults().withWinograd(false);
            try (dense; CompiledModel p = CompiledModel.compile(stridedGraph(view, bn, g, b, m, v), o, in);
                 CompiledModel q = CompiledModel.compile(stridedGraph(dense, bn, g, b, m, v), o, in)) {
                assertEquals(fastBounds(q), fastBounds(p), "bn " + bn + ": the fast ReLU's bounds\n" + p.describe() + "\nvs\n" + q.describe());
                assertFalse(fastBounds(p).isEmpty(), p.describe());
                Tensor x = tensors.uniform(in);
                try (Tensor a = p.run(x); Tensor c = q.run(x)) {
                    float[] av = a.toFloatArray(), cv = c.toFloatArray();
                    for (int i = 0; i < av.length; i++) assertEquals(Float.floatToIntBits(cv[i]), Float.floatToIntBits(av[i]), "bn " + bn + ": element " + i);
                }
            }
        }
    }

    private static Graph stridedGraph(Tensor w, boolean bn, Tensor gamma, Tensor beta, Tensor mean, Tensor var) {
        GraphBuilder g = Graph.builder("strided");
        String x = g.input("input", Shape.batched("N", 8, 9, 9));
        String y = g.node("Conv", "layer", Attributes.of("pads", new long[] {1, 1, 1, 1}), x, g.initializer("layer.weight", w));
        if (bn) {
            y = g.node("BatchNormalization", "bn", Attributes.of("epsilon", 1e-5), y, g.initializer("bn.weight", gamma),
                    g.initializer("bn.bias", beta), g.initializer("bn.running_mean", mean), g.initializer("bn.running_var", var));
        }
        return g.output(g.node("Relu", "relu", Attributes.empty(), y)).build();
    }

    /** A strided integer constant (the indices of a Gather, a slice along dim 1) is read as its elements too. */
    @Test
    void aStridedIndexTensorIsReadAsItsElements() {
        long[] all = {0, 9, 1, 2, 7, 8, 3, 4, 5, 6};   // [2, 5]; columns 1..3 are the indices, [2, 3]: 9 1 2 / 3 4 5
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            Tensor whole = Tensor.wrap(arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_LONG, all), dev.panamadnn.DataType.I64, 2, 5);
            Tensor view = whole.slice(1, 1, 4);
            assertFalse(view.isContiguous());
            Tensor dense = Tensor.wrap(arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_LONG, 9, 1, 2, 3, 4, 5), dev.panamadnn.DataType.I64, 2, 3);
            long[] in = {3, 10};
            float[] got = null, want = null;
            Tensor xs = tensors.uniform(in);
            for (Tensor indices : new Tensor[] {view, dense}) {
                GraphBuilder g = Graph.builder("gather");
                String x = g.input("input", Shape.batched("N", 10));
                Graph graph = g.output(g.node("Gather", "take", Attributes.of("axis", 1L), x, g.initializer("indices", indices))).build();
                try (CompiledModel p = CompiledModel.compile(graph, CompileOptions.defaults(), in); Tensor y = p.run(xs)) {
                    float[] v = y.toFloatArray();
                    if (indices == view) got = v;
                    else want = v;
                    float[] xv = xs.toFloatArray();
                    if (indices == dense) {   // the dense indices gather what they name (checked against the input itself)
                        long[] d = {9, 1, 2, 3, 4, 5};
                        for (int r = 0; r < 3; r++) for (int j = 0; j < 6; j++) assertEquals(xv[r * 10 + (int) d[j]], v[r * 6 + j], "row " + r + " index " + j);
                    }
                }
            }
            org.junit.jupiter.api.Assertions.assertArrayEquals(want, got, "the strided indices vs the same indices dense");
        }
    }

    /** Weights only another thread may read (its confined arena): an IllegalStateException naming them, batch norm or not. */
    @Test
    void aConstantOnlyAnotherThreadMayReadIsRefusedByName() throws Exception {
        Tensor[] elsewhere = new Tensor[1];
        java.util.concurrent.CountDownLatch made = new java.util.concurrent.CountDownLatch(1), done = new java.util.concurrent.CountDownLatch(1);
        Thread owner = new Thread(() -> {
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {   // closed by its owner once the test is done
                elsewhere[0] = Tensor.allocate(arena, dev.panamadnn.DataType.F32, 16, 8, 3, 3);
                made.countDown();
                done.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        owner.start();
        made.await();
        try {
            for (boolean bn : new boolean[] {false, true}) {
                Graph graph = stridedGraph(elsewhere[0], bn, tensors.uniform(16), tensors.uniform(16), tensors.uniform(16), positive(16));
                IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                        () -> CompiledModel.compile(graph, CompileOptions.defaults(), 2, 8, 9, 9).close());
                assertTrue(e.getMessage().contains("'layer.weight'") && e.getMessage().contains("confined arena of another thread"),
                        "bn " + bn + ": " + e.getMessage());
            }
        } finally {
            done.countDown();
            owner.join();
        }
    }
}
