package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.graph.GraphException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * MultiheadAttention (self-attention), TransformerEncoderLayer and TransformerEncoder lowered to graph
 * ops (Gemm, Reshape, Transpose, MatMul, Mul, Softmax, Add, LayerNormalization, Relu/Gelu) and compiled:
 * the goldens of {@code scripts/goldens/generate_attention.py} that {@code forward(x)} computes (no
 * masks, query = key = value) against PyTorch with the eager tests' tolerance (2e-5 + 1e-5 * |want|,
 * {@link AttentionTesting}); and more configurations (batch first or not, norm first or not, gelu,
 * unbatched, stacks) against the eager modules (themselves checked against PyTorch), same tolerance.
 * A wrong head split, transpose or scale moves values by O(0.1).
 */
class CompiledAttentionTest {
    static List<String> goldenCases() {
        List<String> out = new ArrayList<>();
        try (GoldenFile f = GoldenFile.open("attention.safetensors")) {
            for (GoldenFile.Case c : f.cases()) {
                Map<String, String> m = c.fields();
                boolean noMask = "none".equals(m.get("attn_mask")) && "none".equals(m.get("key_padding_mask"));
                if (noMask && (c.spec().startsWith("TransformerEncoder") || c.spec().startsWith("MultiheadAttention") && AttentionTesting.flag(m.get("self")))) {
                    out.add(c.name());
                }
            }
        }
        return out;
    }

    @Test
    void goldenCasesWithoutMasksExist() {
        assertTrue(goldenCases().size() >= 2, "expected an MHA and an encoder golden without masks, got " + goldenCases());
    }

    @ParameterizedTest(name = "{0} compiled")
    @MethodSource("goldenCases")
    void compiledMatchesPyTorch(String name) {
        try (GoldenFile f = GoldenFile.open("attention.safetensors")) {
            GoldenFile.Case c = f.cases().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
            Map<String, String> m = c.fields();
            try (Module model = c.spec().startsWith("MultiheadAttention") ? MultiheadAttentionGoldenTest.build(m) : encoder(m)) {
                AttentionTesting.loadStateDict(name, model, c.params());
                try (CompiledModel plan = CompiledModel.compile(model, c.input().shape()); Tensor y = plan.run(c.input())) {
                    double err = AttentionTesting.assertMatches(name + " compiled", c.output(), y);
                    System.out.println("compiled attention " + name + " max abs error " + err);
                    assertTrue(plan.steps().stream().noneMatch(s -> s.startsWith("java " + name)), plan.describe());
                }
            }
        }
    }

    private static Module encoder(Map<String, String> f) {
        int layers = Integer.parseInt(f.get("num_layers"));
        if (layers == 0) return TransformerEncoderGoldenTest.layer(f);
        return new TransformerEncoder(() -> TransformerEncoderGoldenTest.layer(f), layers, AttentionTesting.flag(f.get("final_norm"))
                ? new LayerNorm(new long[] {Integer.parseInt(f.get("d_model"))}, Double.parseDouble(f.get("eps")), true) : null);
    }

    private static void randomize(Module m, int seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (Tensor t : m.parameters().values()) {
            float[] v = new float[(int) t.numel()];
            for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() - 0.5);
            java.lang.foreign.MemorySegment.copy(v, 0, t.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, v.length);
        }
    }

    private static Tensor input(int seed, long... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        long n = 1;
        for (long s : shape) n *= s;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return Tensor.of(v, shape);
    }

    private static void againstEager(Module m, String what, long... shape) {
        randomize(m, 7);
        try (m; Tensor x = input(3, shape); Tensor want = m.forward(x); CompiledModel plan = CompiledModel.compile(m, shape); Tensor got = plan.run(x)) {
            assertArrayEquals(want.shape(), got.shape(), what);
            AttentionTesting.assertMatches(what + " compiled vs eager", want, got);
        }
    }

    @Test
    void configurationsMatchTheEagerModules() {
        againstEager(new MultiheadAttention(8, 2), "mha seq-first", 5, 3, 8);
        againstEager(new MultiheadAttention(12, 3, 0, false, false, false, null, null, true), "mha batch-first no bias", 2, 4, 12);
        againstEager(new MultiheadAttention(8, 4), "mha unbatched", 6, 8);
        againstEager(new TransformerEncoderLayer(8, 2, 16, 0, "gelu", 1e-5, true, false), "encoder layer post-norm gelu bf", 3, 5, 8);
        againstEager(new TransformerEncoderLayer(8, 4, 12, 0, "relu", 1e-6, false, true), "encoder layer pre-norm relu", 4, 2, 8);
        againstEager(new TransformerEncoder(() -> new TransformerEncoderLayer(8, 2, 16, 0, "relu", 1e-5, true, true), 2,
                new LayerNorm(new long[] {8}, 1e-5, true)), "encoder of 2 + norm", 2, 3, 8);
    }

    @Test
    void aBatchFirstEncoderRunsAtSeveralBatchSizes() {
        try (TransformerEncoderLayer m = new TransformerEncoderLayer(8, 2, 16, 0, "relu", 1e-5, true, false)) {
            randomize(m, 9);
            try (PlanSet set = PlanSet.of(m, CompileOptions.defaults(), 5, 8)) {
                for (long batch : new long[] {1, 3}) {
                    try (Tensor x = input((int) batch, batch, 5, 8); Tensor want = m.forward(x); Tensor got = set.run(x)) {
                        AttentionTesting.assertMatches("plan set batch " + batch, want, got);
                    }
                }
            }
        }
    }

    @Test
    void crossAttentionShapesAreRefusedWhenLowering() {
        try (MultiheadAttention m = new MultiheadAttention(8, 2, 0, true, false, false, 6, 6, false)) {
            Exception e = assertThrows(GraphException.class, () -> dev.panamadnn.graph.Graph.lower(m, dev.panamadnn.graph.Shape.of(4, 2, 8)));
            assertTrue(e.getMessage().contains("kdim = vdim = embed_dim"), e.getMessage());
            assertEquals(GraphException.class, e.getClass());
        }
    }
}
