package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.GraphException;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link MultiheadAttention#lower(GraphBuilder, String, String, String, String, GraphMasks, boolean, boolean)}: the
 * full {@code forward(query, key, value, key_padding_mask, need_weights, attn_mask, average_attn_weights)} compiled.
 * Every MultiheadAttention golden of {@code scripts/goldens/generate_attention.py} (cross-attention with kdim and
 * vdim != embed_dim, L != S, batch first, unbatched, bool and float masks of both kinds, a fully masked query
 * giving NaN, weights averaged and per head, no bias; and the self-attention cases) compiled with query, key,
 * value and masks as graph inputs, output and weights against PyTorch (tolerance 2e-5 + 1e-5 * |want|,
 * {@link AttentionTesting}); compiled vs the eager module on random cross-attention with random masks; and the
 * shapes it refuses, each naming the module, what it expected and what it got.
 */
class CompiledCrossAttentionTest {
    static List<String> mhaGoldens() {
        List<String> out = new ArrayList<>();
        try (GoldenFile f = GoldenFile.open("attention.safetensors")) {
            for (GoldenFile.Case c : f.cases()) if (c.spec().startsWith("MultiheadAttention")) out.add(c.name());
        }
        return out;
    }

    @Test
    void theGoldensCoverCrossAttentionAndBothWeightForms() {
        List<String> names = mhaGoldens();
        assertEquals(18, names.size(), names.toString());
        try (GoldenFile f = GoldenFile.open("attention.safetensors")) {
            long cross = 0, averaged = 0, perHead = 0, kdim = 0;
            for (GoldenFile.Case c : f.cases()) {
                if (!c.spec().startsWith("MultiheadAttention")) continue;
                Map<String, String> m = c.fields();
                if (!AttentionTesting.flag(m.get("self"))) cross++;
                if (AttentionTesting.flag(m.get("need_weights"))) {
                    if (AttentionTesting.flag(m.get("average"))) averaged++;
                    else perHead++;
                }
                if (!m.get("kdim").equals(m.get("embed_dim")) || !m.get("vdim").equals(m.get("embed_dim"))) kdim++;
            }
            assertTrue(cross >= 6 && averaged >= 4 && perHead >= 1 && kdim >= 2,
                    "cross " + cross + ", averaged " + averaged + ", per head " + perHead + ", kdim/vdim != E " + kdim);
        }
    }

    /** The graph of {@code mha} with query (and, unless {@code self}, key and value) and the masks as graph inputs. */
    private static Graph graph(MultiheadAttention mha, long[] q, long[] k, long[] v, boolean self, long[] attn, boolean attnBool,
                               long[] padding, boolean paddingBool, boolean needWeights, boolean average) {
        GraphBuilder g = Graph.builder("cross attention");
        String query = g.input("query", Shape.of(q));
        String key = self ? query : g.input("key", Shape.of(k)), value = self ? query : g.input("value", Shape.of(v));
        GraphMasks masks = GraphMasks.none();
        if (attn != null) masks = masks.withAttnMask(g.input("attn_mask", Shape.of(attn)), attnBool);
        if (padding != null) masks = masks.withKeyPaddingMask(g.input("key_padding_mask", Shape.of(padding)), paddingBool);
        MultiheadAttention.Lowered y = mha.lower(g, query, key, value, "mha", masks, needWeights, average);
        if (!needWeights) assertNull(y.weights(), "weights not asked for");
        return needWeights ? g.output(y.output()).output(y.weights()).build() : g.output(y.output()).build();
    }

    /** Compiles and runs; returns [output, weights or null], owned by the caller. */
    private static Tensor[] run(MultiheadAttention mha, Tensor q, Tensor k, Tensor v, boolean self, Tensor attn, boolean attnBool,
                                Tensor padding, boolean paddingBool, boolean needWeights, boolean average) {
        Graph graph = graph(mha, q.shape(), k.shape(), v.shape(), self, attn == null ? null : attn.shape(), attnBool,
                padding == null ? null : padding.shape(), paddingBool, needWeights, average);
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, Tensor> in = new LinkedHashMap<>();
        shapes.put("query", q.shape());
        in.put("query", q);
        if (!self) {
            shapes.put("key", k.shape());
            shapes.put("value", v.shape());
            in.put("key", k);
            in.put("value", v);
        }
        if (attn != null) {
            shapes.put("attn_mask", attn.shape());
            in.put("attn_mask", attn);
        }
        if (padding != null) {
            shapes.put("key_padding_mask", padding.shape());
            in.put("key_padding_mask", padding);
        }
        try (CompiledModel plan = CompiledModel.compile(graph, CompileOptions.defaults(), shapes)) {
            assertTrue(plan.steps().stream().noneMatch(s -> s.startsWith("java mha")), plan.describe());
            Map<String, Tensor> out = plan.run(in);
            assertEquals(needWeights ? 2 : 1, out.size(), out.keySet().toString());
            return new Tensor[] {out.get(graph.outputs().get(0)), needWeights ? out.get(graph.outputs().get(1)) : null};
        }
    }

    @ParameterizedTest(name = "{0} compiled")
    @MethodSource("mhaGoldens")
    void compiledMatchesPyTorch(String name) {
        try (GoldenFile f = GoldenFile.open("attention.safetensors")) {
            GoldenFile.Case c = f.cases().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
            Map<String, String> m = c.fields();
            boolean self = AttentionTesting.flag(m.get("self")), needWeights = AttentionTesting.flag(m.get("need_weights"));
            Tensor q = c.input(), k = self ? q : c.extras().get("key"), v = self ? q : c.extras().get("value");
            Tensor attn = c.extras().get("attn_mask"), padding = c.extras().get("key_padding_mask");
            try (MultiheadAttention mha = MultiheadAttentionGoldenTest.build(m)) {
                AttentionTesting.loadStateDict(name, mha, c.params());
                Tensor[] got = run(mha, q, k, v, self, attn, "bool".equals(m.get("attn_mask")), padding, "bool".equals(m.get("key_padding_mask")),
                        needWeights, AttentionTesting.flag(m.get("average")));
                try (Tensor y = got[0]; Tensor w = got[1]) {
                    double err = AttentionTesting.assertMatches(name + " compiled output", c.output(), y);
                    if (needWeights) err = Math.max(err, AttentionTesting.assertMatches(name + " compiled weights", c.extras().get("weights"), w));
                    System.out.println("compiled MHA " + name + (needWeights ? " (output and weights)" : "") + " max abs error " + err);
                }
            }
        }
    }

    // ---- compiled vs eager on random cross-attention ----



    private static void againstEager(MultiheadAttention mha, long[] q, long[] k, long[] v, Tensor attn, boolean attnBool, Tensor padding,
                                     boolean paddingBool, boolean needWeights, boolean average, String what) {
        SplittableRandom r = new SplittableRandom(what.hashCode());
        AttentionTesting.randomize(mha, r);
        AttentionMask am = attn == null ? null : attnBool ? AttentionMask.bool(attn) : AttentionMask.additive(attn);
        AttentionMask kp = padding == null ? null : paddingBool ? AttentionMask.bool(padding) : AttentionMask.additive(padding);
        try (mha; Tensor query = AttentionTesting.random(r, q); Tensor key = AttentionTesting.random(r, k); Tensor value = AttentionTesting.random(r, v);
             MultiheadAttention.Output want = mha.forward(query, key, value, kp, needWeights, am, average, Backend.REFERENCE)) {
            Tensor[] got = run(mha, query, key, value, false, attn, attnBool, padding, paddingBool, needWeights, average);
            try (Tensor y = got[0]; Tensor w = got[1]) {
                AttentionTesting.assertMatches(what + " output, compiled vs eager", want.output(), y);
                if (needWeights) {
                    assertArrayEquals(want.weights().shape(), w.shape(), what + " weights' shape");
                    AttentionTesting.assertMatches(what + " weights, compiled vs eager", want.weights(), w);
                }
            }
        } finally {
            if (attn != null) attn.close();
            if (padding != null) padding.close();
        }
    }

    @Test
    void crossAttentionMatchesTheEagerModule() {
        SplittableRandom r = new SplittableRandom(47);
        againstEager(new MultiheadAttention(8, 2, 0, true, false, false, 5, 3, false), new long[] {4, 2, 8}, new long[] {6, 2, 5},
                new long[] {6, 2, 3}, AttentionTesting.boolMask(r, 4, 6), true, AttentionTesting.boolMask(r, 2, 6), true, true, true, "kdim 5 vdim 3, both bool masks, averaged");
        againstEager(new MultiheadAttention(12, 3, 0, true, false, false, null, null, true), new long[] {2, 3, 12}, new long[] {2, 7, 12},
                new long[] {2, 7, 12}, AttentionTesting.random(r, 6, 3, 7), false, null, false, true, false, "batch first, float 3-D mask, per-head weights");
        againstEager(new MultiheadAttention(8, 4, 0, false, false, false, 6, null, false), new long[] {5, 8}, new long[] {2, 6},
                new long[] {2, 8}, null, false, AttentionTesting.boolMask(r, 2), true, true, true, "unbatched, no bias, S = 2, averaged");
        againstEager(new MultiheadAttention(8, 2, 0, true, false, false, null, null, false), new long[] {3, 8}, new long[] {5, 8},
                new long[] {5, 8}, null, false, null, false, true, false, "unbatched per-head weights");
        againstEager(new MultiheadAttention(16, 4, 0, true, false, false, 10, 10, true), new long[] {3, 9, 16}, new long[] {3, 4, 10},
                new long[] {3, 4, 10}, null, false, AttentionTesting.random(r, 3, 4), false, false, true, "no weights, float padding");
    }

    /** is_causal with L != S is torch's lower-triangular L x S mask (query i sees keys j <= i), as the eager bool mask. */
    @Test
    void isCausalWithMoreKeysThanQueriesIsTheLowerTriangularMask() {
        for (long[] ls : new long[][] {{3, 5}, {5, 3}}) {
            long l = ls[0], s = ls[1];
            float[] tri = new float[(int) (l * s)];
            for (int i = 0; i < l; i++) for (int j = i + 1; j < s; j++) tri[(int) (i * s + j)] = 1f;
            SplittableRandom r = new SplittableRandom(l * 31 + s);
            try (MultiheadAttention mha = new MultiheadAttention(8, 2, 0, true, false, false, 6, null, false);
                 Tensor q = AttentionTesting.random(r, l, 2, 8); Tensor k = AttentionTesting.random(r, s, 2, 6); Tensor v = AttentionTesting.random(r, s, 2, 8); Tensor mask = Tensor.of(tri, l, s);
                 MultiheadAttention.Output want = mha.forward(q, k, v, null, true, AttentionMask.bool(mask), true, Backend.REFERENCE)) {
                GraphBuilder g = Graph.builder("causal cross attention");
                String query = g.input("query", Shape.of(q.shape())), key = g.input("key", Shape.of(k.shape())), value = g.input("value", Shape.of(v.shape()));
                MultiheadAttention.Lowered y = mha.lower(g, query, key, value, "mha", GraphMasks.none().causal(), true, true);
                try (CompiledModel plan = CompiledModel.compile(g.output(y.output(), y.weights()).build(), CompileOptions.defaults(),
                        Map.of("query", q.shape(), "key", k.shape(), "value", v.shape()))) {
                    Map<String, Tensor> out = plan.run(Map.of("query", q, "key", k, "value", v));
                    try (Tensor o = out.get(y.output()); Tensor w = out.get(y.weights())) {
                        AttentionTesting.assertMatches("is_causal L=" + l + " S=" + s + " output", want.output(), o);
                        AttentionTesting.assertMatches("is_causal L=" + l + " S=" + s + " weights", want.weights(), w);
                        float[] wv = w.toFloatArray();
                        for (int n = 0; n < 2; n++) {
                            for (int i = 0; i < l; i++) {
                                for (int j = 0; j < s; j++) {
                                    if (j > i) assertEquals(0f, wv[(int) ((n * l + i) * s + j)], "weight of key " + j + " for query " + i);
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    // ---- refused shapes ----

    private static String refused(MultiheadAttention mha, long[] q, long[] k, long[] v, GraphMasksFor masks) {
        GraphBuilder g = Graph.builder("refused");
        String query = g.input("query", Shape.of(q)), key = g.input("key", Shape.of(k)), value = g.input("value", Shape.of(v));
        RuntimeException e = assertThrows(RuntimeException.class, () -> mha.lower(g, query, key, value, "mha", masks.of(g), true, true));
        assertTrue(e instanceof GraphException || e instanceof IllegalArgumentException, e.toString());
        assertTrue(e.getMessage().contains("MultiheadAttention"), e.getMessage());
        return e.getMessage();
    }

    private interface GraphMasksFor {
        GraphMasks of(GraphBuilder g);
    }

    @Test
    void badShapesAreRefusedNamingExpectedAndGiven() {
        try (MultiheadAttention mha = new MultiheadAttention(8, 2, 0, true, false, false, 5, 3, false)) {
            GraphMasksFor none = g -> GraphMasks.none();
            assertTrue(refused(mha, new long[] {4, 2, 7}, new long[] {6, 2, 5}, new long[] {6, 2, 3}, none).contains("expected a query [L, N, 8]"));
            assertTrue(refused(mha, new long[] {4, 2, 8}, new long[] {6, 5}, new long[] {6, 2, 3}, none).contains("query's rank 3"));
            assertTrue(refused(mha, new long[] {4, 2, 8}, new long[] {6, 2, 8}, new long[] {6, 2, 3}, none).contains("kdim=5"));
            assertTrue(refused(mha, new long[] {4, 2, 8}, new long[] {6, 2, 5}, new long[] {6, 2, 4}, none).contains("vdim=3"));
            assertTrue(refused(mha, new long[] {4, 2, 8}, new long[] {6, 3, 5}, new long[] {6, 3, 3}, none).contains("batch size 2"));
            assertTrue(refused(mha, new long[] {4, 2, 8}, new long[] {6, 2, 5}, new long[] {7, 2, 3}, none).contains("sequence length 6"));
            assertTrue(refused(mha, new long[] {4, 2, 2, 8}, new long[] {6, 2, 5}, new long[] {6, 2, 3}, none).contains("got"));
            String m = refused(mha, new long[] {4, 2, 8}, new long[] {6, 2, 5}, new long[] {6, 2, 3},
                    g -> GraphMasks.none().withAttnMask(g.input("attn_mask", Shape.of(4, 4)), true));
            assertTrue(m.contains("attn_mask must be [4, 6]") && m.contains("got [4, 4]"), m);
            m = refused(mha, new long[] {4, 2, 8}, new long[] {6, 2, 5}, new long[] {6, 2, 3},
                    g -> GraphMasks.none().withKeyPaddingMask(g.input("key_padding_mask", Shape.of(2, 4)), true));
            assertTrue(m.contains("key_padding_mask must be [2, 6]") && m.contains("got [2, 4]"), m);
        }
        try (MultiheadAttention kdim = new MultiheadAttention(8, 2, 0, true, false, false, 5, null, false)) {
            GraphBuilder g = Graph.builder("self with kdim");
            String x = g.input("x", Shape.of(3, 2, 8));
            GraphException e = assertThrows(GraphException.class, () -> kdim.lower(g, x, "mha"));
            assertTrue(e.getMessage().contains("kdim = vdim = embed_dim") && e.getMessage().contains("lower the query, key and value separately"),
                    e.getMessage());
        }
    }
}
