package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code fuse_layer_norm} on the op-by-op layer normalizations exporters write, built in code: the plan with the rule
 * against the plan without it (each op its own step), where it fires, what it takes in, and where it must not fire.
 * Tolerance {@code 1e-5 * max|op by op| + 1e-5}: oneDNN's layer normalization and the op-by-op form differ in rounding
 * only. The torch-exported form against PyTorch itself: onnx/ OnnxLayerNormFusionTest.
 */
class FuseLayerNormTest {
    private static final String RULE = "fuse_layer_norm";
    private final List<Tensor> tensors = new ArrayList<>();
    private final SplittableRandom random = new SplittableRandom(23);

    @AfterEach
    void free() {
        tensors.forEach(Tensor::close);
    }

    private Tensor random(double offset, double scale, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (offset + scale * random.nextDouble(-1, 1));
        return keep(Tensor.of(v, shape));
    }

    private Tensor keep(Tensor t) {
        tensors.add(t);
        return t;
    }

    private String scalar(GraphBuilder g, String name, double v, long... shape) {
        return g.initializer(name, keep(Tensor.of(new float[] {(float) v}, shape)));
    }

    private static String op(GraphBuilder g, String op, String name, String... in) {
        return g.node(op, name, Attributes.empty(), in);
    }

    private static String mean(GraphBuilder g, String name, String x, long... axes) {
        return g.node("ReduceMean", name, Attributes.of("axes", axes), x);
    }

    /** torch 1.13's {@code native_layer_norm} below opset 17: ReduceMean, Sub, Pow 2, ReduceMean, Add eps, Sqrt, Div. */
    private String torchForm(GraphBuilder g, String x, String p, double eps, long... axes) {
        String d = op(g, "Sub", p + "sub", x, mean(g, p + "mean", x, axes));
        String var = mean(g, p + "var", op(g, "Pow", p + "pow", d, scalar(g, p + "two", 2)), axes);
        return op(g, "Div", p + "div", d, op(g, "Sqrt", p + "sqrt", op(g, "Add", p + "eps", var, scalar(g, p + "epsilon", eps))));
    }

    private Graph graph(long[] shape, BiFunction<GraphBuilder, String, String> body) {
        GraphBuilder g = Graph.builder("layer-norm-test");
        String x = g.input("input", Shape.batched("N", Arrays.copyOfRange(shape, 1, shape.length)));
        return g.output(body.apply(g, x)).build();
    }

    /** With and without the rule on {@code input}: equal results (NaN where the op-by-op form has NaN); the rule's firings. */
    private List<String> check(Graph graph, Tensor input, int times) {
        CompileOptions with = CompileOptions.defaults();
        long[] shape = input.shape();
        try (CompiledModel a = CompiledModel.compile(graph, with, shape); CompiledModel b = CompiledModel.compile(graph, with.withoutRule(RULE), shape)) {
            List<String> fired = a.rulesFired().stream().filter(r -> r.startsWith(RULE + ":")).toList();
            assertEquals(times, fired.size(), a.describe());
            assertEquals(0, b.rulesFired().stream().filter(r -> r.startsWith(RULE + ":")).count(), b.describe());
            if (times > 0) {
                assertTrue(a.primitiveCount() < b.primitiveCount(), a.describe() + "\nvs\n" + b.describe());
                assertTrue(a.steps().stream().anyMatch(s -> s.startsWith("layer norm ")), a.describe());
            }
            try (Tensor ya = a.run(input); Tensor yb = b.run(input)) {
                float[] p = ya.toFloatArray(), q = yb.toFloatArray();
                double max = 0;
                for (float v : q) if (Float.isFinite(v)) max = Math.max(max, Math.abs(v));
                for (int i = 0; i < p.length; i++) {
                    assertEquals(Float.isNaN(q[i]), Float.isNaN(p[i]), "element " + i + ": " + p[i] + " fused, " + q[i] + " op by op");
                    if (!Float.isNaN(q[i])) assertEquals(q[i], p[i], 1e-5 * max + 1e-5, "element " + i + "\n" + a.describe());
                }
            }
            return fired;
        }
    }

    @Test
    void torchsLayerNormOverTheLastDimWithScaleAndShiftBecomesOneNode() {
        long[] shape = {2, 5, 12};
        Tensor gamma = random(1, 0.5, 12), beta = random(0, 1, 12);
        List<String> fired = check(graph(shape, (g, x) -> op(g, "Add", "ln.shift", op(g, "Mul", "ln.scale", torchForm(g, x, "ln.", 1e-5, -1),
                g.initializer("ln.weight", gamma)), g.initializer("ln.bias", beta))), random(3, 2, shape), 1);
        assertEquals(List.of(RULE + ": 9 nodes ending in ln.shift into one LayerNormalization over [12] with its scale and shift"), fired);
    }

    @Test
    void theLastTwoDimsWithAScaleBroadcastWithinThemAndTheOpset18Axes() {
        long[] shape = {3, 4, 6, 5};
        List<String> fired = check(graph(shape, (g, x) -> {
            String axes = g.initializer("axes", Tensor.wrap(Arena.ofAuto().allocateFrom(ValueLayout.JAVA_LONG, 2, 3), DataType.I64, 2));   // ReduceMean-18: axes as an input
            String d = op(g, "Sub", "sub", x, g.node("ReduceMean", "mean", Attributes.empty(), x, axes));
            String var = g.node("ReduceMean", "var", Attributes.empty(), op(g, "Mul", "square", d, d), axes);
            String inv = op(g, "Reciprocal", "inv", op(g, "Sqrt", "sqrt", op(g, "Add", "eps", scalar(g, "epsilon", 1e-6), var)));
            // a scale [1, 1, 5] (broadcast over the normalized dim of 6), a shift [6, 1] (broadcast over the 5)
            String y = op(g, "Mul", "scale", g.initializer("w", random(0, 2, 1, 1, 5)), op(g, "Mul", "norm", inv, d));
            return op(g, "Add", "shift", y, g.initializer("b", random(0, 1, 6, 1)));
        }), random(-2, 5, shape), 1);
        assertEquals(List.of(RULE + ": 10 nodes ending in shift into one LayerNormalization over [6, 5] with its scale and shift"), fired);
    }

    @Test
    void withoutAffineAndAScaleThatVariesAlongALeadingDimStaysSeparate() {
        long[] shape = {2, 4, 8};
        check(graph(shape, (g, x) -> torchForm(g, x, "", 1e-5, 2)), random(0, 3, shape), 1);
        // every dim, the batch's too: one row over the whole batch (never split per sample by split_batch)
        assertEquals(List.of(RULE + ": 7 nodes ending in div into one LayerNormalization over [2, 4, 8]"),
                check(graph(shape, (g, x) -> torchForm(g, x, "", 1e-5, 0, 1, 2)), random(0, 3, shape), 1));
        List<String> fired = check(graph(shape, (g, x) -> op(g, "Mul", "per-row", torchForm(g, x, "", 1e-5, -1), g.initializer("w", random(1, 1, 4, 1)))),
                random(0, 3, shape), 1);
        assertEquals(List.of(RULE + ": 7 nodes ending in div into one LayerNormalization over [8]"), fired);
    }

    @Test
    void onlyAShiftGetsAScaleOfOnes() {
        long[] shape = {2, 8};
        List<String> fired = check(graph(shape, (g, x) -> op(g, "Add", "shift", g.initializer("b", random(0, 1, 8)), torchForm(g, x, "", 1e-5, 1))),
                random(0, 3, shape), 1);
        assertEquals(List.of(RULE + ": 8 nodes ending in shift into one LayerNormalization over [8] with its scale and shift"), fired);
    }

    @Test
    void noFusionWhereThePatternIsNotALayerNorm() {
        long[] shape = {2, 4, 8};
        Tensor x = random(1, 3, shape);
        check(graph(shape, (g, in) -> torchForm(g, in, "", 1e-5, 1)), x, 0);   // a middle axis, not trailing
        check(graph(shape, (g, in) -> torchForm(g, in, "", 0, -1)), x, 0);   // eps 0: 0/0 for a constant row, op by op
        check(graph(shape, (g, in) -> {   // the variance over other axes than the mean
            String d = op(g, "Sub", "sub", in, mean(g, "mean", in, -1));
            String var = mean(g, "var", op(g, "Pow", "pow", d, scalar(g, "two", 2)), -2, -1);
            return op(g, "Div", "div", d, op(g, "Sqrt", "sqrt", op(g, "Add", "eps", var, scalar(g, "epsilon", 1e-5))));
        }), x, 0);
        check(graph(shape, (g, in) -> {   // a cube, not a square
            String d = op(g, "Sub", "sub", in, mean(g, "mean", in, -1));
            String var = mean(g, "var", op(g, "Pow", "pow", d, scalar(g, "three", 3)), -1);
            return op(g, "Div", "div", d, op(g, "Sqrt", "sqrt", op(g, "Add", "eps", var, scalar(g, "epsilon", 1e-5))));
        }), x, 0);
        check(graph(shape, (g, in) -> {   // the centred value also read after the pattern
            String y = torchForm(g, in, "", 1e-5, -1);
            return op(g, "Add", "both", y, "sub");
        }), x, 0);
        check(graph(shape, (g, in) -> {   // the mean of another value than the one centred
            String d = op(g, "Sub", "sub", in, mean(g, "mean", op(g, "Relu", "relu", in), -1));
            String var = mean(g, "var", op(g, "Pow", "pow", d, scalar(g, "two", 2)), -1);
            return op(g, "Div", "div", d, op(g, "Sqrt", "sqrt", op(g, "Add", "eps", var, scalar(g, "epsilon", 1e-5))));
        }), x, 0);
        check(graph(shape, (g, in) -> {   // keepdims 0 on the mean (then the Sub broadcasts differently)
            String m = g.node("ReduceMean", "mean", Attributes.of("axes", new long[] {0}, "keepdims", 0L), in);
            String d = op(g, "Sub", "sub", in, m);
            String var = mean(g, "var", op(g, "Pow", "pow", d, scalar(g, "two", 2)), -1);
            return op(g, "Div", "div", d, op(g, "Sqrt", "sqrt", op(g, "Add", "eps", var, scalar(g, "epsilon", 1e-5))));
        }), x, 0);
    }

    @Test
    void rowsWithNaNOrInfinityAreNaNBothWaysAndLargeOrConstantRowsAgree() {
        long[] shape = {6, 16};
        float[] v = random(0, 1, shape).toFloatArray();
        v[3] = Float.NaN;   // row 0
        v[16 + 5] = Float.POSITIVE_INFINITY;   // row 1
        v[32 + 7] = Float.NEGATIVE_INFINITY;   // row 2
        for (int i = 48; i < 64; i++) v[i] = 1e18f * (1 + (i - 48) / 16f);   // row 3: large values (their squared deviations well below FLT_MAX)
        Arrays.fill(v, 64, 80, 0.25f);   // row 4: constant, its variance 0: 0 / sqrt(eps)
        for (int i = 80; i < 96; i++) v[i] = i % 2 == 0 ? 1e-3f : -1e-3f;   // row 5: a variance (1e-6) below eps, which then counts
        Tensor x = keep(Tensor.of(v, shape));
        Graph graph = graph(shape, (g, in) -> op(g, "Add", "shift", op(g, "Mul", "scale", torchForm(g, in, "", 1e-5, -1),
                g.initializer("w", random(1, 0.5, 16))), g.initializer("b", random(0, 1, 16))));
        check(graph, x, 1);
        try (CompiledModel a = CompiledModel.compile(graph, CompileOptions.defaults(), shape); Tensor y = a.run(x)) {
            float[] out = y.toFloatArray();
            for (int row = 0; row < 3; row++) for (int i = 0; i < 16; i++) assertTrue(Float.isNaN(out[row * 16 + i]), "row " + row + ": " + out[row * 16 + i]);
            for (int i = 48; i < 96; i++) assertTrue(Float.isFinite(out[i]), "element " + i + ": " + out[i]);
        }
    }

    /**
     * 60 drawn layer norms: rank 2-4, 1 to rank-1 trailing dims normalized, eps from 1e-12 to 1e-1, the square as Pow or
     * Mul, the division as Div or by Reciprocal, operands of every Add and Mul either way round, a scale and a shift each
     * present or not and shaped as the normalized dims, with leading 1s, broadcast within them or along a leading dim
     * (then left as a separate op), inputs offset and scaled so the mean matters: the fused plan equals the op-by-op one.
     */
    @Test
    void drawnLayerNormsEqualTheOpByOpForm() {
        SplittableRandom r = new SplittableRandom(20261207);
        for (int c = 0; c < 60; c++) {
            int rank = 2 + r.nextInt(3), k = 1 + r.nextInt(rank - 1);
            long[] shape = new long[rank];
            for (int i = 0; i < rank; i++) shape[i] = 1 + r.nextInt(i == 0 ? 3 : 7);
            long[] axes = new long[k];
            for (int i = 0; i < k; i++) axes[i] = r.nextBoolean() ? rank - k + i : rank - k + i - rank;   // positive or negative
            double eps = Math.pow(10, -1 - r.nextInt(12));
            boolean pow = r.nextBoolean(), div = r.nextBoolean(), swap = r.nextBoolean();
            int scaleKind = r.nextInt(4), shiftKind = r.nextInt(4);   // 0 none, 1 normalized shape, 2 leading 1s + broadcast inside, 3 along a leading dim
            String label = "case " + c + ": shape " + Arrays.toString(shape) + " axes " + Arrays.toString(axes) + " eps " + eps + " pow " + pow
                    + " div " + div + " swap " + swap + " scale " + scaleKind + " shift " + shiftKind;
            Graph graph = graph(shape, (g, x) -> {
                String m = mean(g, "mean", x, axes);
                String d = op(g, "Sub", "sub", x, m);
                String sq = pow ? op(g, "Pow", "sq", d, scalar(g, "two", 2)) : op(g, "Mul", "sq", d, d);
                String var = mean(g, "var", sq, axes);
                String e = scalar(g, "eps.c", eps);
                String sqrt = op(g, "Sqrt", "sqrt", swap ? op(g, "Add", "eps", e, var) : op(g, "Add", "eps", var, e));
                String y = div ? op(g, "Div", "norm", d, sqrt)
                        : swap ? op(g, "Mul", "norm", op(g, "Reciprocal", "inv", sqrt), d) : op(g, "Mul", "norm", d, op(g, "Reciprocal", "inv", sqrt));
                if (scaleKind > 0) {
                    String w = g.initializer("w", random(1, 0.5, affineShape(shape, k, scaleKind, r)));
                    y = swap ? op(g, "Mul", "scale", w, y) : op(g, "Mul", "scale", y, w);
                }
                if (shiftKind > 0) {
                    String b = g.initializer("b", random(0, 1, affineShape(shape, k, shiftKind, r)));
                    y = swap ? op(g, "Add", "shift", b, y) : op(g, "Add", "shift", y, b);
                }
                return y;
            });
            List<String> fired = check(graph, random(r.nextDouble(-3, 3), r.nextDouble(0.01, 5), shape), 1);
            assertEquals(1, fired.size(), label);
        }
    }

    /** A scale or shift's shape for {@link #drawnLayerNormsEqualTheOpByOpForm}: the normalized dims, with leading 1s and some broadcast, or along a leading dim. */
    private static long[] affineShape(long[] shape, int k, int kind, SplittableRandom r) {
        int rank = shape.length;
        if (kind == 1) return Arrays.copyOfRange(shape, rank - k, rank);
        long[] s = new long[rank];
        Arrays.fill(s, 1);
        for (int i = rank - k; i < rank; i++) s[i] = r.nextBoolean() ? shape[i] : 1;
        if (kind == 3 && rank - k - 1 > 0) s[rank - k - 1] = shape[rank - k - 1];   // varies along a leading dim (not the batch's): stays a separate op
        return s;
    }
}
