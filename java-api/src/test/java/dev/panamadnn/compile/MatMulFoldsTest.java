package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.util.Arrays;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code fuse_matmul_scale} and {@code fold_transpose_matmul} over many shapes: each plan against the plan compiled with
 * the rule switched off (every transpose a reorder, every scale its own binary step), which the attention goldens check
 * against PyTorch. The sweep covers size-1 dims on every axis, because oneDNN's matmul reads strided operands by their
 * strides and a size-1 dim's stride is arbitrary (one such pattern gave wrong products before {@code LowerMatMul.view}).
 */
class MatMulFoldsTest {
    private static final long[] PERM_Q = {1, 2, 0, 3}, PERM_K = {1, 2, 3, 0}, PERM_MERGE = {2, 0, 1, 3};
    private final RandomTensors tensors = new RandomTensors(11);

    @AfterEach
    void free() {
        tensors.close();
    }

    /**
     * Attention's core over an input {@code x} of {@code [L, N, H, D]}: {@code q = x}, {@code k = x + c}, {@code v = x - c},
     * {@code merge(softmax((q^T k^T) * s) v^T)}, every transpose as attention writes it.
     */
    private Graph attention(long[] shape, String scaleOp) {
        GraphBuilder g = Graph.builder("attention-core");
        String x = g.input("x", Shape.of(shape));
        long[] cShape = {1, 1, shape[2], shape[3]};
        String k = g.node("Add", "k", Attributes.empty(), x, g.initializer("ck", tensors.uniform(cShape)));
        String v = g.node("Sub", "v", Attributes.empty(), x, g.initializer("cv", tensors.uniform(cShape)));
        String qt = g.node("Transpose", "q_t", Attributes.of("perm", PERM_Q), x);
        String kt = g.node("Transpose", "k_t", Attributes.of("perm", PERM_K), k);
        String vt = g.node("Transpose", "v_t", Attributes.of("perm", PERM_Q), v);
        String scores = g.node("MatMul", "scores", Attributes.empty(), qt, kt);
        String s = g.initializer("scale", tensors.keep(Tensor.of(new float[] {0.3535f})));
        String scaled = g.node(scaleOp, "scaled", Attributes.empty(), scores, s);
        String p = g.node("Softmax", "p", Attributes.of("axis", -1L), scaled);
        String attend = g.node("MatMul", "attend", Attributes.empty(), p, vt);
        return g.output(g.node("Transpose", "merge", Attributes.of("perm", PERM_MERGE), attend)).build();
    }

    /** Compiles {@code graph} with and without {@code rule}; returns the rules fired and asserts the results agree. */
    private List<String> compare(Graph graph, long[] shape, String rule, boolean exact) {
        CompileOptions with = CompileOptions.defaults().withWinograd(false);
        try (CompiledModel a = CompiledModel.compile(graph, with, shape);
             CompiledModel b = CompiledModel.compile(graph, with.withoutRule(rule), shape);
             Tensor x = tensors.uniform(shape);
             Tensor ya = a.run(x);
             Tensor yb = b.run(x)) {
            float[] p = ya.toFloatArray(), q = yb.toFloatArray();
            double max = 0;
            for (float f : q) max = Math.max(max, Math.abs(f));
            for (int i = 0; i < p.length; i++) {
                if (exact) assertEquals(Float.floatToRawIntBits(q[i]), Float.floatToRawIntBits(p[i]), Arrays.toString(shape) + " element " + i + "\n" + a.describe());
                else assertEquals(q[i], p[i], 1e-5 * max + 1e-6, Arrays.toString(shape) + " element " + i + "\n" + a.describe());
            }
            return a.rulesFired();
        }
    }

    @Test
    void attentionTransposesFoldOnEveryShape() {
        long[] sizes = {1, 2, 3, 5};
        int compared = 0;
        for (long l : sizes) for (long n : sizes) for (long h : sizes) for (long d : new long[] {1, 4, 7}) {
            long[] shape = {l, n, h, d};
            List<String> fired = compare(attention(shape, "Mul"), shape, "fold_transpose_matmul", false);
            for (String t : List.of("q_t into scores (A)", "k_t into scores (B)", "merge into attend (result)")) {
                assertTrue(fired.contains("fold_transpose_matmul: " + t), Arrays.toString(shape) + ": " + fired);
            }
            assertTrue(fired.stream().noneMatch(f -> f.startsWith("fold_transpose_matmul: v_t")), "v^T as B has a long leading dimension: " + fired);
            compared++;
        }
        assertEquals(192, compared);
    }

    @Test
    void theScaleIsAPostOpWithTheSameBits() {
        for (String op : List.of("Mul", "Div")) {
            for (long[] shape : List.of(new long[] {4, 2, 3, 8}, new long[] {1, 1, 1, 1}, new long[] {7, 3, 2, 5})) {
                List<String> fired = compare(attention(shape, op), shape, "fuse_matmul_scale", true);
                assertTrue(fired.contains("fuse_matmul_scale: scaled into scores"), op + " " + Arrays.toString(shape) + ": " + fired);
            }
        }
    }

    /** A 2-D {@code x @ W} with the graph's own operands, {@code body} building the rest. */
    private List<String> rows(long[] shape, String rule, BiFunction<GraphBuilder, String, String> body) {
        GraphBuilder g = Graph.builder("rows");
        String x = g.input("x", Shape.of(shape));
        return compare(g.output(body.apply(g, x)).build(), shape, rule, rule.equals("fuse_matmul_scale"));
    }

    @Test
    void whereTheScaleStaysAStep() {
        long[] shape = {3, 4};
        // a constant of more than one value, an activation factor, a scalar divided by the product, a product read twice
        List<BiFunction<GraphBuilder, String, String>> bodies = List.of(
                (g, x) -> g.node("Mul", "s", Attributes.empty(), mm(g, x), g.initializer("c", tensors.uniform(1, 4))),
                (g, x) -> g.node("Mul", "s", Attributes.empty(), mm(g, x), mm(g, x, "mm2")),
                (g, x) -> g.node("Div", "s", Attributes.empty(), g.initializer("c", tensors.keep(Tensor.of(new float[] {2f}))), mm(g, x)),
                (g, x) -> {
                    String p = mm(g, x);
                    return g.node("Add", "sum", Attributes.empty(), g.node("Mul", "s", Attributes.empty(), p, g.initializer("c", tensors.keep(Tensor.of(new float[] {2f})))), p);
                });
        for (var body : bodies) {
            List<String> fired = rows(shape, "fuse_matmul_scale", body);
            assertTrue(fired.stream().noneMatch(f -> f.startsWith("fuse_matmul_scale")), fired.toString());
        }
        // a scalar on the left, after a fused bias: (x W + b) * c
        List<String> fired = rows(shape, "fuse_matmul_scale", (g, x) -> g.node("Mul", "s", Attributes.empty(),
                g.initializer("c", tensors.keep(Tensor.of(new float[] {-0.5f}, 1, 1))),
                g.node("Add", "bias", Attributes.empty(), mm(g, x), g.initializer("b", tensors.uniform(4)))));
        assertTrue(fired.contains("fuse_matmul_bias: bias into mm") && fired.contains("fuse_matmul_scale: s into mm"), fired.toString());
    }

    /**
     * {@code fast_when_finite} bounds an activation-times-activation product with its fused bias and scale: a ReLU after
     * {@code (x y^T + c) * s} is proven NaN-free for bounded inputs only while {@code |c|} and {@code |s|} stay far from
     * float's range (the bias was left out of that bound before these rules).
     */
    @Test
    void finiteBoundsCountTheFusedBiasAndScale() {
        float big = 0x1p101f;
        record Case(float bias, String op, float scalar, boolean fast) {}
        for (Case c : List.of(new Case(1f, "Mul", 0.5f, true), new Case(big, "Mul", 0.5f, false), new Case(1f, "Mul", big, false),
                new Case(1f, "Div", 1 / big, false))) {
            GraphBuilder g = Graph.builder("bounds");
            String x = g.input("x", Shape.of(2, 3, 4));
            String t = g.node("Transpose", "t", Attributes.of("perm", new long[] {0, 2, 1}), g.node("Neg", "y", Attributes.empty(), x));
            String biased = g.node("Add", "bias", Attributes.empty(), g.node("MatMul", "mm", Attributes.empty(), x, t),
                    g.initializer("c", tensors.keep(Tensor.of(new float[] {c.bias()}))));
            String scaled = g.node(c.op(), "s", Attributes.empty(), biased, g.initializer("s.c", tensors.keep(Tensor.of(new float[] {c.scalar()}))));
            Graph graph = g.output(g.node("Relu", "relu", Attributes.empty(), scaled)).build();
            try (CompiledModel p = CompiledModel.compile(graph, CompileOptions.defaults(), 2, 3, 4).warmup()) {
                List<String> fired = p.rulesFired();
                assertTrue(fired.contains("fuse_matmul_bias: bias into mm") && fired.contains("fuse_matmul_scale: s into mm")
                        && fired.contains("fold_transpose_matmul: t into mm (B)"), fired.toString());
                boolean fast = fired.stream().anyMatch(f -> f.startsWith("fast_when_finite: mm "));
                assertEquals(c.fast(), fast, c + ": " + fired);
            }
        }
    }

    /**
     * Random products of rank 2 to 5 (sizes 1 to 5 on every dim), each operand and the result behind a random transpose
     * the rule may fold (and some it may not), against the plan with every transpose a reorder. oneDNN's matmul takes
     * a different kernel path per stride pattern; this is where another misread pattern would show.
     */
    @Test
    void randomTransposedProductsAgree() {
        java.util.SplittableRandom r = tensors.random();
        int folded = 0;
        for (int c = 0; c < 400; c++) {
            int rank = 2 + c % 4;
            long[] dims = new long[rank + 1];   // batch dims..., M, K, N
            for (int i = 0; i <= rank; i++) dims[i] = 1 + r.nextInt(5);
            long[] a = Arrays.copyOf(dims, rank), b = Arrays.copyOf(dims, rank);
            b[rank - 2] = dims[rank - 1];
            b[rank - 1] = dims[rank];
            long[] permA = randomPerm(r, rank), permB = randomPerm(r, rank), permOut = randomPerm(r, rank);
            GraphBuilder g = Graph.builder("random-product");
            // each source is the operand with the transpose undone: source dim perm[k] is operand dim k
            String xa = g.input("a", Shape.of(unpermuted(a, permA))), xb = g.input("b", Shape.of(unpermuted(b, permB)));
            String ta = g.node("Transpose", "ta", Attributes.of("perm", permA), xa), tb = g.node("Transpose", "tb", Attributes.of("perm", permB), xb);
            Graph graph = g.output(g.node("Transpose", "to", Attributes.of("perm", permOut), g.node("MatMul", "mm", Attributes.empty(), ta, tb))).build();
            java.util.Map<String, long[]> shapes = java.util.Map.of("a", unpermuted(a, permA), "b", unpermuted(b, permB));
            CompileOptions with = CompileOptions.defaults().withWinograd(false);
            String what = "A " + Arrays.toString(a) + " perm " + Arrays.toString(permA) + ", B " + Arrays.toString(b) + " perm " + Arrays.toString(permB)
                    + ", result perm " + Arrays.toString(permOut);
            try (CompiledModel on = CompiledModel.compile(graph, with, shapes);
                 CompiledModel off = CompiledModel.compile(graph, with.withoutRule("fold_transpose_matmul"), shapes);
                 Tensor x = tensors.uniform(shapes.get("a")); Tensor y = tensors.uniform(shapes.get("b"))) {
                var outOn = on.run(java.util.Map.of("a", x, "b", y));
                var outOff = off.run(java.util.Map.of("a", x, "b", y));
                try (Tensor p = outOn.values().iterator().next(); Tensor q = outOff.values().iterator().next()) {
                    float[] got = p.toFloatArray(), want = q.toFloatArray();
                    assertEquals(want.length, got.length, what);
                    for (int i = 0; i < got.length; i++) assertEquals(want[i], got[i], 1e-5 * (1 + Math.abs(want[i])), what + ", element " + i + "\n" + on.describe());
                }
                folded += on.rulesFired().stream().filter(f -> f.startsWith("fold_transpose_matmul")).count();
            }
        }
        assertTrue(folded > 200, "the rule should fold in many of these cases, folded " + folded);
    }

    private static long[] randomPerm(java.util.SplittableRandom r, int rank) {
        long[] p = new long[rank];
        for (int i = 0; i < rank; i++) p[i] = i;
        for (int i = rank - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            long t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /** The dims whose transpose by {@code perm} is {@code dims}: source dim {@code perm[k]} has size {@code dims[k]}. */
    private static long[] unpermuted(long[] dims, long[] perm) {
        long[] s = new long[dims.length];
        for (int k = 0; k < perm.length; k++) s[(int) perm[k]] = dims[k];
        return s;
    }

    /** {@code x [2, 3, 7] @ W [7, 12] + b}, then the slices {@code [from, to)} of the last axis (step 1 unless given), summed. */
    private List<String> slicedProduct(long[][] slices, long axis, boolean alsoRead) {
        GraphBuilder g = Graph.builder("sliced");
        String x = g.input("x", Shape.of(2, 3, 7));
        String p = g.node("Add", "bias", Attributes.empty(), g.node("MatMul", "mm", Attributes.empty(), x, g.initializer("w", tensors.uniform(7, 12))),
                g.initializer("b", tensors.uniform(12)));
        String sum = alsoRead ? g.node("ReduceSum", "r", Attributes.of("axes", new long[] {2}, "keepdims", 1L), p) : null;
        for (int i = 0; i < slices.length; i++) {
            String si = "s" + i;
            String part = slices[i].length > 2
                    ? g.node("Slice", si, Attributes.empty(), p, g.constant(si + ".s", slices[i][0]), g.constant(si + ".e", slices[i][1]),
                            g.constant(si + ".a", axis), g.constant(si + ".st", slices[i][2]))
                    : g.node("Slice", si, Attributes.empty(), p, g.constant(si + ".s", slices[i][0]), g.constant(si + ".e", slices[i][1]), g.constant(si + ".a", axis));
            part = g.node("ReduceSum", "sum" + i, Attributes.of("axes", new long[] {axis}, "keepdims", 1L), part);
            sum = sum == null ? part : g.node("Add", "add" + i, Attributes.empty(), sum, part);
        }
        return compare(g.output(sum).build(), new long[] {2, 3, 7}, "split_matmul_by_slices", false);
    }

    @Test
    void slicesOfAProductBecomeProducts() {
        String fired = "split_matmul_by_slices: mm into ";
        assertTrue(slicedProduct(new long[][] {{0, 4}, {4, 8}, {8, 12}}, -1, false).contains(fired + "3 products, one per slice"));
        assertTrue(slicedProduct(new long[][] {{8, 100}, {-12, -8}}, 2, false).contains(fired + "2 products, one per slice"));   // clamped, negative
        // not: one slice only, another axis, a step of 2, the product read elsewhere, columns covered twice
        for (List<String> f : List.of(slicedProduct(new long[][] {{0, 12}}, -1, false), slicedProduct(new long[][] {{0, 1}, {1, 3}}, 1, false),
                slicedProduct(new long[][] {{0, 6, 2}, {6, 12}}, -1, false), slicedProduct(new long[][] {{0, 6}, {6, 12}}, -1, true),
                slicedProduct(new long[][] {{0, 8}, {4, 12}}, -1, false))) {
            assertTrue(f.stream().noneMatch(r -> r.startsWith("split_matmul_by_slices")), f.toString());
        }
    }

    /**
     * torch's export of attention's q: {@code x [4, 2, 6] @ W + b}, reshaped to {@code [4, 4, 3]}, transposed to
     * {@code [4, 4, 3]} (perm 1, 0, 2), divided by a scalar, then multiplied by another head-split operand's transpose ({@code k^T}).
     */
    private List<String> scaledQuery(String op, boolean alsoRead, boolean fromMatMul) {
        GraphBuilder g = Graph.builder("scaled-query");
        String x = g.input("x", Shape.of(4, 2, 6));
        String p = fromMatMul ? g.node("Add", "bias", Attributes.empty(), g.node("MatMul", "proj", Attributes.empty(), x, g.initializer("w", tensors.uniform(6, 6))),
                g.initializer("b", tensors.uniform(6))) : g.node("Tanh", "proj", Attributes.empty(), x);
        String r = g.node("Reshape", "heads", Attributes.empty(), p, g.constant("heads.shape", 4, 4, 3));
        String t = g.node("Transpose", "qt", Attributes.of("perm", new long[] {1, 0, 2}), r);
        String q = g.node(op, "scaled", Attributes.empty(), t, g.initializer("c", tensors.keep(Tensor.of(new float[] {op.equals("Div") ? 2.7f : 0.37f}))));
        String k = g.node("Transpose", "kt", Attributes.of("perm", new long[] {1, 2, 0}),
                g.node("Reshape", "kh", Attributes.empty(), g.node("Neg", "k", Attributes.empty(), x), g.constant("kh.shape", 4, 4, 3)));
        String out = g.node("MatMul", "scores", Attributes.empty(), q, k);
        if (alsoRead) out = g.node("Add", "also", Attributes.empty(), out, g.node("ReduceSum", "rt", Attributes.of("axes", new long[] {2}, "keepdims", 1L), t));
        return compare(g.output(out).build(), new long[] {4, 2, 6}, "hoist_scalar_ops", false);
    }

    @Test
    void aScalarAfterReshapeAndTransposeMovesOntoItsMatMul() {
        for (String op : List.of("Mul", "Div")) {
            List<String> fired = scaledQuery(op, false, true);
            assertTrue(fired.contains("hoist_scalar_ops: scaled onto proj (before [qt, heads])") && fired.contains("fuse_matmul_scale: scaled into proj")
                    && fired.contains("fold_transpose_matmul: qt into scores (A)"), fired.toString());
        }
        // not when the transposed value is read elsewhere, nor when the chain does not start at a MatMul
        for (List<String> fired : List.of(scaledQuery("Mul", true, true), scaledQuery("Div", false, false))) {
            assertTrue(fired.stream().noneMatch(f -> f.startsWith("hoist_scalar_ops")), fired.toString());
        }
    }

    private String mm(GraphBuilder g, String x) {
        return mm(g, x, "mm");
    }

    private String mm(GraphBuilder g, String x, String name) {
        return g.node("MatMul", name, Attributes.empty(), x, g.initializer(name + ".w", tensors.uniform(4, 4)));
    }

    @Test
    void whereTransposesFoldAndWhereNot() {
        // 2-D: x @ y^T reads y as a transposed B; x^T @ y would need A's last dim moved: kept
        List<String> fired = rows(new long[] {5, 6}, "fold_transpose_matmul", (g, x) ->
                g.node("MatMul", "mm", Attributes.empty(), x, g.node("Transpose", "t", Attributes.empty(), g.node("Neg", "y", Attributes.empty(), x))));
        assertTrue(fired.contains("fold_transpose_matmul: t into mm (B)"), fired.toString());
        fired = rows(new long[] {5, 6}, "fold_transpose_matmul", (g, x) ->
                g.node("MatMul", "mm", Attributes.empty(), g.node("Transpose", "t", Attributes.empty(), x), x));
        assertTrue(fired.stream().noneMatch(f -> f.startsWith("fold_transpose_matmul")), fired.toString());
        // batch dims that broadcast ([2, 3, 4] x [1, 4, 3] via a transpose): kept; a transpose also read elsewhere: kept
        fired = rows(new long[] {2, 3, 4}, "fold_transpose_matmul", (g, x) -> g.node("MatMul", "mm", Attributes.empty(), x,
                g.node("Transpose", "t", Attributes.of("perm", new long[] {0, 2, 1}),
                        g.node("ReduceSum", "y", Attributes.of("axes", new long[] {0}, "keepdims", 1L), x))));
        assertTrue(fired.stream().noneMatch(f -> f.startsWith("fold_transpose_matmul")), fired.toString());
        fired = rows(new long[] {2, 3, 4}, "fold_transpose_matmul", (g, x) -> {
            String t = g.node("Transpose", "t", Attributes.of("perm", new long[] {0, 2, 1}), g.node("Neg", "y", Attributes.empty(), x));
            return g.node("Add", "sum", Attributes.empty(), g.node("MatMul", "mm", Attributes.empty(), x, t),
                    g.node("ReduceSum", "r", Attributes.of("axes", new long[] {1}, "keepdims", 1L), t));
        });
        assertTrue(fired.stream().noneMatch(f -> f.startsWith("fold_transpose_matmul")), fired.toString());
        // one transpose as both operands (x^T @ x^T): it stays for A, so B reads it too
        fired = rows(new long[] {2, 4, 4}, "fold_transpose_matmul", (g, x) -> {
            String t = g.node("Transpose", "t", Attributes.of("perm", new long[] {0, 2, 1}), x);
            return g.node("MatMul", "mm", Attributes.empty(), t, t);
        });
        assertTrue(fired.stream().noneMatch(f -> f.startsWith("fold_transpose_matmul")), fired.toString());
        // a result transposed with its last dim moved: kept (its operand's transpose folds)
        fired = rows(new long[] {2, 3, 4}, "fold_transpose_matmul", (g, x) -> g.node("Transpose", "t", Attributes.of("perm", new long[] {0, 2, 1}),
                g.node("MatMul", "mm", Attributes.empty(), x, g.node("Transpose", "u", Attributes.of("perm", new long[] {0, 2, 1}), g.node("Neg", "y", Attributes.empty(), x)))));
        assertTrue(fired.contains("fold_transpose_matmul: u into mm (B)") && fired.stream().noneMatch(f -> f.startsWith("fold_transpose_matmul: t ")), fired.toString());
    }
}
