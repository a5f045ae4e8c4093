package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.nn.MaskedAttentionPlans.Masks;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Compiled self-attention with masks ({@link GraphMasks}): every golden of
 * {@code scripts/goldens/generate_attention.py} that is self-attention with a mask (MultiheadAttention
 * {@code mha_self_*}: bool and float, 2-D and 3-D attn_mask, bool and float key_padding_mask, unbatched,
 * a fully masked batch element giving NaN, torch's causal mask; every encoder case) compiled with the
 * masks as graph inputs, against PyTorch (tolerance 2e-5 + 1e-5 * |want|, {@link AttentionTesting};
 * NaN where PyTorch has NaN); the causal goldens again through {@code GraphMasks.causal()} with no mask
 * input; and compiled vs eager on random masks (both kinds, both masks, NaN and infinite mask values,
 * batch first, unbatched, norm first) at several sizes. A mask added at the wrong place, broadcast along
 * the wrong axis or with the wrong sign moves outputs by O(0.1) or gives NaN where PyTorch has none.
 */
class CompiledAttentionMaskTest {
    static List<String> maskedGoldens() {
        List<String> out = new ArrayList<>();
        try (GoldenFile f = GoldenFile.open("attention.safetensors")) {
            for (GoldenFile.Case c : f.cases()) {
                Map<String, String> m = c.fields();
                boolean masked = !"none".equals(m.get("attn_mask")) || !"none".equals(m.get("key_padding_mask"));
                boolean self = c.spec().startsWith("TransformerEncoder") || c.spec().startsWith("MultiheadAttention") && AttentionTesting.flag(m.get("self"));
                if (masked && self) out.add(c.name());
            }
        }
        return out;
    }

    @Test
    void everyMaskKindHasAGolden() {
        List<String> names = maskedGoldens();
        for (String want : List.of("mha_self_bool_masks", "mha_self_float_3d_bf", "mha_self_float_kpm", "mha_self_fully_masked",
                "mha_self_unbatched", "mha_self_causal", "mha_self_bool_mask_float_kpm", "enc_post_relu", "enc_pre_gelu", "enc_post_gelu_float", "encoder_2_norm", "encoder_3_prenorm")) {
            assertTrue(names.contains(want), "golden " + want + " missing from " + names);
        }
    }

    private static Module build(GoldenFile.Case c) {
        Map<String, String> f = c.fields();
        if (c.spec().startsWith("MultiheadAttention")) return MultiheadAttentionGoldenTest.build(f);
        int layers = Integer.parseInt(f.get("num_layers"));
        if (layers == 0) return TransformerEncoderGoldenTest.layer(f);
        return new TransformerEncoder(() -> TransformerEncoderGoldenTest.layer(f), layers, AttentionTesting.flag(f.get("final_norm"))
                ? new LayerNorm(new long[] {Integer.parseInt(f.get("d_model"))}, Double.parseDouble(f.get("eps")), true) : null);
    }

    @ParameterizedTest(name = "{0} compiled with its masks")
    @MethodSource("maskedGoldens")
    void compiledMatchesPyTorch(String name) {
        try (GoldenFile f = GoldenFile.open("attention.safetensors")) {
            GoldenFile.Case c = f.cases().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
            Map<String, String> m = c.fields();
            Tensor attn = c.extras().get("attn_mask"), padding = c.extras().get("key_padding_mask");
            Masks masks = Masks.of(attn, "bool".equals(m.get("attn_mask")), padding, "bool".equals(m.get("key_padding_mask")));
            try (Module model = build(c)) {
                AttentionTesting.loadStateDict(name, model, c.params());
                try (CompiledModel plan = MaskedAttentionPlans.compile(model, c.input().shape(), masks);
                     Tensor y = MaskedAttentionPlans.run(plan, c.input(), attn, padding)) {
                    double err = AttentionTesting.assertMatches(name + " compiled with masks", c.output(), y);
                    System.out.println("compiled masked attention " + name + " max abs error " + err);
                    assertTrue(plan.steps().stream().noneMatch(s -> s.startsWith("java " + name + " (")), plan.describe());
                }
            }
        }
    }

    /** The goldens whose attn_mask is torch's causal bool mask (True above the diagonal), compiled with GraphMasks.causal() instead. */
    @ParameterizedTest(name = "{0} with is_causal")
    @MethodSource("causalGoldens")
    void isCausalIsTheCausalMask(String name) {
        try (GoldenFile f = GoldenFile.open("attention.safetensors")) {
            GoldenFile.Case c = f.cases().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
            float[] mask = c.extras().get("attn_mask").toFloatArray();
            int l = (int) Math.round(Math.sqrt(mask.length));
            for (int i = 0; i < l; i++) {
                for (int j = 0; j < l; j++) assertTrue(mask[i * l + j] == (j > i ? 1f : 0f), name + " is not the causal mask at " + i + ", " + j);
            }
            Tensor padding = c.extras().get("key_padding_mask");
            Masks masks = new Masks(null, false, padding == null ? null : padding.shape(), "bool".equals(c.fields().get("key_padding_mask")), true);
            try (Module model = build(c)) {
                AttentionTesting.loadStateDict(name, model, c.params());
                try (CompiledModel plan = MaskedAttentionPlans.compile(model, c.input().shape(), masks);
                     Tensor y = MaskedAttentionPlans.run(plan, c.input(), null, padding)) {
                    AttentionTesting.assertMatches(name + " compiled with is_causal", c.output(), y);
                }
            }
        }
    }

    static List<String> causalGoldens() {
        return List.of("mha_self_causal", "enc_post_relu", "encoder_3_prenorm");
    }

    // ---- compiled vs eager on random masks ----



    /** An additive mask: normal-ish values with some -inf. */
    private static Tensor floatMask(SplittableRandom r, long... shape) {
        try (Tensor t = AttentionTesting.random(r, shape)) {
            float[] v = t.toFloatArray();
            for (int i = 0; i < v.length; i++) if (r.nextDouble() < 0.15) v[i] = Float.NEGATIVE_INFINITY;
            return Tensor.of(v, shape);
        }
    }

    private static void againstEager(Module m, long[] xShape, Tensor attn, boolean attnBool, Tensor padding, boolean paddingBool, String what) {
        SplittableRandom r = new SplittableRandom(what.hashCode());
        AttentionTesting.randomize(m, r);
        AttentionMask am = attn == null ? null : attnBool ? AttentionMask.bool(attn) : AttentionMask.additive(attn);
        AttentionMask kp = padding == null ? null : paddingBool ? AttentionMask.bool(padding) : AttentionMask.additive(padding);
        try (m; Tensor x = AttentionTesting.random(r, xShape);
             CompiledModel plan = MaskedAttentionPlans.compile(m, xShape, Masks.of(attn, attnBool, padding, paddingBool));
             Tensor got = MaskedAttentionPlans.run(plan, x, attn, padding)) {
            Tensor want = switch (m) {
                case MultiheadAttention a -> {
                    try (MultiheadAttention.Output o = a.forward(x, x, x, kp, false, am, true, Backend.AUTO)) {
                        yield Tensor.of(o.output().toFloatArray(), o.output().shape());
                    }
                }
                case TransformerEncoderLayer l -> l.forward(x, am, kp, Backend.AUTO);
                case TransformerEncoder e -> e.forward(x, am, kp, Backend.AUTO);
                default -> throw new IllegalStateException(m.toString());
            };
            try (want) {
                AttentionTesting.assertMatches(what + " compiled vs eager", want, got);
            }
        } finally {
            if (attn != null) attn.close();
            if (padding != null) padding.close();
        }
    }

    @Test
    void multiheadAttentionMatchesTheEagerModule() {
        SplittableRandom r = new SplittableRandom(41);
        againstEager(new MultiheadAttention(8, 2), new long[] {5, 3, 8}, AttentionTesting.boolMask(r, 5, 5), true, AttentionTesting.boolMask(r, 3, 5), true, "mha bool both");
        againstEager(new MultiheadAttention(12, 3, 0, true, false, false, null, null, true), new long[] {2, 6, 12},
                floatMask(r, 6, 6, 6), false, AttentionTesting.boolMask(r, 2, 6), true, "mha bf float 3-D + bool padding");
        againstEager(new MultiheadAttention(8, 4), new long[] {4, 2, 8}, null, false, floatMask(r, 2, 4), false, "mha float padding");
        againstEager(new MultiheadAttention(8, 2), new long[] {7, 8}, AttentionTesting.boolMask(r, 2, 7, 7), true, AttentionTesting.boolMask(r, 7), true, "mha unbatched 3-D bool");
        againstEager(new MultiheadAttention(16, 4), new long[] {9, 1, 16}, floatMask(r, 9, 9), false, null, false, "mha float 2-D only");
    }

    @Test
    void encodersMatchTheEagerModules() {
        SplittableRandom r = new SplittableRandom(43);
        againstEager(new TransformerEncoderLayer(8, 2, 16, 0, "relu", 1e-5, false, false), new long[] {6, 2, 8},
                AttentionTesting.boolMask(r, 6, 6), true, AttentionTesting.boolMask(r, 2, 6), true, "encoder post-norm bool both");
        againstEager(new TransformerEncoderLayer(8, 4, 12, 0, "gelu", 1e-5, true, true), new long[] {3, 5, 8},
                floatMask(r, 12, 5, 5), false, null, false, "encoder pre-norm bf float 3-D");
        againstEager(new TransformerEncoder(() -> new TransformerEncoderLayer(8, 2, 16, 0, "relu", 1e-5, true, false), 2,
                new LayerNorm(new long[] {8}, 1e-5, true)), new long[] {2, 4, 8}, null, false, AttentionTesting.boolMask(r, 2, 4), true, "encoder of 2 + norm, padding");
    }
}
