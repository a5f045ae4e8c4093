package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.panamadnn.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * nn.MultiheadAttention against torch 1.13 (scripts/goldens/generate_attention.py): output and
 * weights, state_dict names, on every backend.
 */
class MultiheadAttentionGoldenTest {
    private static GoldenFile file;

    @BeforeAll
    static void open() {
        file = GoldenFile.open("attention.safetensors");
    }

    @AfterAll
    static void closeFile() {
        file.close();
    }

    static List<Object[]> cases() {
        List<Object[]> out = new ArrayList<>();
        try (GoldenFile f = GoldenFile.open("attention.safetensors")) {
            for (GoldenFile.Case c : f.cases()) {
                if (!c.spec().startsWith("MultiheadAttention")) continue;
                for (Backend b : new Backend[] {Backend.AUTO, Backend.ONEDNN, Backend.OPENBLAS, Backend.REFERENCE}) {
                    out.add(new Object[] {c.name(), b});
                }
            }
        }
        if (!GoldenFile.probing()) assertEquals(72, out.size(), "expected 18 MultiheadAttention golden cases (8 + 6 self-attention with masks + 2 non-finite + 2 with a bool attn_mask and a"
                + " float key_padding_mask) on 4 backends");
        return out;
    }

    static MultiheadAttention build(Map<String, String> f) {
        int e = Integer.parseInt(f.get("embed_dim"));
        return new MultiheadAttention(e, Integer.parseInt(f.get("num_heads")), 0.0, AttentionTesting.flag(f.get("bias")), false, false,
                Integer.valueOf(f.get("kdim")), Integer.valueOf(f.get("vdim")), AttentionTesting.flag(f.get("batch_first")));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void matchesPyTorch(String name, Backend backend) {
        GoldenFile.Case c = file.cases().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
        Map<String, String> f = c.fields();
        boolean self = AttentionTesting.flag(f.get("self"));
        Tensor q = c.input(), k = self ? q : c.extras().get("key"), v = self ? q : c.extras().get("value");
        boolean needWeights = AttentionTesting.flag(f.get("need_weights"));
        try (MultiheadAttention mha = build(f)) {
            AttentionTesting.loadStateDict(name, mha, c.params());
            try (MultiheadAttention.Output out = mha.forward(q, k, v, AttentionTesting.mask(c, "key_padding_mask", f.get("key_padding_mask")),
                    needWeights, AttentionTesting.mask(c, "attn_mask", f.get("attn_mask")), AttentionTesting.flag(f.get("average")), backend)) {
                double err = AttentionTesting.assertMatches(name + " output on " + backend, c.output(), out.output());
                if (needWeights) {
                    assertNotNull(out.weights(), name + ": weights asked for");
                    err = Math.max(err, AttentionTesting.assertMatches(name + " weights on " + backend, c.extras().get("weights"), out.weights()));
                } else {
                    assertNull(out.weights(), name + ": weights not asked for");
                }
                System.out.println("MHA " + name + " " + backend + " max abs error " + err);
            }
        }
    }

    /** {@code forwardInto} (output only, no weights) into a NaN-filled out: the same PyTorch output. */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void intoMatchesPyTorch(String name, Backend backend) {
        GoldenFile.Case c = file.cases().stream().filter(x -> x.name().equals(name)).findFirst().orElseThrow();
        Map<String, String> f = c.fields();
        boolean self = AttentionTesting.flag(f.get("self"));
        Tensor q = c.input(), k = self ? q : c.extras().get("key"), v = self ? q : c.extras().get("value");
        try (MultiheadAttention mha = build(f); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            AttentionTesting.loadStateDict(name, mha, c.params());
            Tensor out = Tensor.allocate(arena, dev.panamadnn.DataType.F32, c.output().shape());
            out.segment().fill((byte) 0xFF);   // NaN: an element left unwritten fails
            for (int round = 0; round < 2; round++) {
                mha.forwardInto(q, k, v, AttentionTesting.mask(c, "key_padding_mask", f.get("key_padding_mask")),
                        AttentionTesting.mask(c, "attn_mask", f.get("attn_mask")), out, backend);
                AttentionTesting.assertMatches(name + " forwardInto on " + backend + ", call " + (round + 1), c.output(), out);
            }
        }
    }
}
