package dev.panamadnn.nn;

import static dev.panamadnn.nn.ValidationCases.Case.illegal;
import static dev.panamadnn.nn.ValidationCases.Case.state;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Invalid configurations and inputs of MultiheadAttention: refused with messages naming the module, expected and given. */
class MultiheadAttentionValidationTest {
    // embed 8, 2 heads, kdim 6, vdim 5, sequence first: query [L=3, N=2, 8], key [S=4, 2, 6], value [4, 2, 5]
    private static final MultiheadAttention MHA = new MultiheadAttention(8, 2, 0.0, true, false, false, 6, 5, false);
    private static final MultiheadAttention CLOSED_MHA = closedModule();
    private static final Tensor Q = Tensor.zeros(3, 2, 8), K = Tensor.zeros(4, 2, 6), V = Tensor.zeros(4, 2, 5);
    private static final String NAME = "MultiheadAttention(embed_dim=8, num_heads=2, bias=True, kdim=6, vdim=5, batch_first=False)";

    private static MultiheadAttention closedModule() {
        MultiheadAttention m = new MultiheadAttention(4, 2);
        m.close();
        return m;
    }

    @AfterAll
    static void free() {
        MHA.close();
        for (Tensor t : new Tensor[] {Q, K, V}) t.close();
    }

    private static MultiheadAttention.Output call(Tensor q, Tensor k, Tensor v, AttentionMask kpm, AttentionMask am) {
        return MHA.forward(q, k, v, kpm, true, am, true, Backend.AUTO);
    }

    private static MultiheadAttention make(int e, int h, double dropout, boolean biasKv, boolean zeroAttn, Integer kdim, Integer vdim) {
        return new MultiheadAttention(e, h, dropout, true, biasKv, zeroAttn, kdim, vdim, false);
    }

    static Stream<ValidationCases.Case> cases() {
        String m = "MultiheadAttention";
        Tensor closed = Tensor.zeros(3, 2, 8);
        closed.close();
        return Stream.of(
                illegal("embed_dim 0", () -> make(0, 1, 0, false, false, null, null), m, "embed_dim must be >= 1", "0"),
                illegal("num_heads 0", () -> make(8, 0, 0, false, false, null, null), m, "num_heads must be >= 1"),
                illegal("num_heads negative", () -> make(8, -2, 0, false, false, null, null), m, "num_heads must be >= 1", "-2"),
                illegal("embed_dim not divisible", () -> make(10, 3, 0, false, false, null, null), m, "divisible", "embed_dim=10",
                        "num_heads=3"),
                illegal("kdim 0", () -> make(8, 2, 0, false, false, 0, null), m, "kdim must be >= 1", "0"),
                illegal("vdim negative", () -> make(8, 2, 0, false, false, null, -1), m, "vdim must be >= 1", "-1"),
                illegal("dropout > 1", () -> make(8, 2, 1.5, false, false, null, null), m, "dropout must be in [0, 1]", "1.5"),
                illegal("dropout NaN", () -> make(8, 2, Double.NaN, false, false, null, null), m, "dropout", "NaN"),
                illegal("add_bias_kv", () -> make(8, 2, 0, true, false, null, null), m, "add_bias_kv=True is not supported"),
                illegal("add_zero_attn", () -> make(8, 2, 0, false, true, null, null), m, "add_zero_attn=True is not supported"),
                illegal("null query", () -> call(null, K, V, null, null), NAME, "query must not be null"),
                state("closed query", () -> call(closed, K, V, null, null), NAME, "live query", "freed"),
                illegal("rank-4 query", () -> call(Tensor.zeros(1, 3, 2, 8), K, V, null, null), NAME, "rank 3 ([L, N, E])", "[1, 3, 2, 8]"),
                illegal("key of another rank", () -> call(Q, Tensor.zeros(4, 6), V, null, null), NAME, "rank 3", "[4, 6]"),
                illegal("query's E wrong", () -> call(Tensor.zeros(3, 2, 6), K, V, null, null), NAME, "embed_dim=8", "[3, 2, 6]"),
                illegal("key's kdim wrong", () -> call(Q, Tensor.zeros(4, 2, 8), V, null, null), NAME, "kdim=6", "[4, 2, 8]"),
                illegal("value's vdim wrong", () -> call(Q, K, Tensor.zeros(4, 2, 6), null, null), NAME, "vdim=5", "[4, 2, 6]"),
                illegal("key batch differs", () -> call(Q, Tensor.zeros(4, 3, 6), V, null, null), NAME, "batch size 2", "[4, 3, 6]"),
                illegal("value length differs", () -> call(Q, K, Tensor.zeros(5, 2, 5), null, null), NAME, "sequence length 4", "[5, 2, 5]"),
                illegal("2-D attn_mask wrong", () -> call(Q, K, V, null, AttentionMask.bool(Tensor.zeros(4, 3))), NAME, "[3, 4] or [4, 3, 4]",
                        "got [4, 3]"),
                illegal("3-D attn_mask wrong", () -> call(Q, K, V, null, AttentionMask.additive(Tensor.zeros(2, 3, 4))), NAME, "[4, 3, 4]",
                        "got [2, 3, 4]"),
                illegal("key_padding_mask wrong", () -> call(Q, K, V, AttentionMask.bool(Tensor.zeros(4, 2)), null), NAME,
                        "key_padding_mask of shape [2, 4]", "got [4, 2]"),
                illegal("key_padding_mask 1-D on batched", () -> call(Q, K, V, AttentionMask.bool(Tensor.zeros(4)), null), NAME, "[2, 4]",
                        "got [4]"),
                state("closed attn_mask", () -> call(Q, K, V, null, AttentionMask.bool(closed)), NAME, "live attn_mask"),
                illegal("null backend", () -> MHA.forward(Q, K, V, null, false, null, false, null), NAME, "backend must not be null"),
                state("closed module", () -> CLOSED_MHA.forward(Tensor.zeros(2, 1, 4)), "MultiheadAttention(embed_dim=4", "is closed"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refused(ValidationCases.Case c) {
        c.check();
    }

    @Test
    void atLeastTwentyCases() {
        List<ValidationCases.Case> all = cases().toList();
        assertTrue(all.size() >= 20, "expected >= 20 invalid cases, got " + all.size());
    }

    @Test
    void reprAndStateDictNames() {
        assertEquals(NAME, MHA.toString());
        assertEquals(List.of("q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias"),
                List.copyOf(MHA.parameters().keySet()));
        try (MultiheadAttention same = new MultiheadAttention(8, 2, 0.0, false, false, false, null, null, true)) {
            assertEquals(List.of("in_proj_weight", "out_proj.weight"), List.copyOf(same.parameters().keySet()));
        }
    }
}
