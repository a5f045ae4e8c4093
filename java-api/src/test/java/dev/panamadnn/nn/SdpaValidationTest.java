package dev.panamadnn.nn;

import static dev.panamadnn.nn.ValidationCases.Case.illegal;
import static dev.panamadnn.nn.ValidationCases.Case.state;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Invalid inputs to scaled_dot_product_attention: each refused before any native call, naming the function, expected and given. */
class SdpaValidationTest {
    private static final Arena ARENA = Arena.ofShared();
    private static final Tensor Q = Tensor.zeros(2, 3, 4), K = Tensor.zeros(2, 5, 4), V = Tensor.zeros(2, 5, 6);
    private static final Tensor CLOSED = closed();

    private static Tensor closed() {
        Tensor t = Tensor.zeros(2, 3, 4);
        t.close();
        return t;
    }

    @AfterAll
    static void free() {
        for (Tensor t : new Tensor[] {Q, K, V}) t.close();
        ARENA.close();
    }

    private static Tensor sdpa(Tensor q, Tensor k, Tensor v, AttentionMask m, boolean causal, Double scale, Backend b) {
        return Attention.scaledDotProductAttention(q, k, v, m, causal, scale, b);
    }

    static Stream<ValidationCases.Case> cases() {
        String n = "scaled_dot_product_attention";
        Tensor i64 = Tensor.allocate(ARENA, DataType.I64, 2, 3, 4);
        return Stream.of(
                illegal("null query", () -> sdpa(null, K, V, null, false, null, Backend.AUTO), n, "query must not be null"),
                illegal("null key", () -> sdpa(Q, null, V, null, false, null, Backend.AUTO), n, "key must not be null"),
                illegal("null value", () -> sdpa(Q, K, null, null, false, null, Backend.AUTO), n, "value must not be null"),
                state("closed query", () -> sdpa(CLOSED, K, V, null, false, null, Backend.AUTO), n, "live query", "freed"),
                illegal("I64 query", () -> sdpa(i64, K, V, null, false, null, Backend.AUTO), n, "F32 query", "I64"),
                illegal("rank-1 query", () -> sdpa(Tensor.zeros(4), K, V, null, false, null, Backend.AUTO), n, "rank >= 2", "[4]"),
                illegal("key of another rank", () -> sdpa(Q, Tensor.zeros(5, 4), V, null, false, null, Backend.AUTO), n, "rank 3", "[5, 4]"),
                illegal("value of another rank", () -> sdpa(Q, K, Tensor.zeros(1, 2, 5, 6), null, false, null, Backend.AUTO), n, "rank 3",
                        "[1, 2, 5, 6]"),
                illegal("key batch differs", () -> sdpa(Q, Tensor.zeros(3, 5, 4), V, null, false, null, Backend.AUTO), n, "leading dimensions [2]",
                        "[3, 5, 4]"),
                illegal("value batch differs", () -> sdpa(Q, K, Tensor.zeros(1, 5, 6), null, false, null, Backend.AUTO), n, "[2]", "[1, 5, 6]"),
                illegal("key E differs", () -> sdpa(Q, Tensor.zeros(2, 5, 3), V, null, false, null, Backend.AUTO), n, "E=4", "[2, 5, 3]"),
                illegal("value S differs", () -> sdpa(Q, K, Tensor.zeros(2, 4, 6), null, false, null, Backend.AUTO), n, "S=5", "[2, 4, 6]"),
                illegal("mask and causal", () -> sdpa(Q, K, V, AttentionMask.bool(Tensor.zeros(3, 5)), true, null, Backend.AUTO), n,
                        "either attn_mask or is_causal"),
                illegal("NaN scale", () -> sdpa(Q, K, V, null, false, Double.NaN, Backend.AUTO), n, "finite scale", "NaN"),
                illegal("infinite scale", () -> sdpa(Q, K, V, null, false, Double.POSITIVE_INFINITY, Backend.REFERENCE), n, "finite scale",
                        "Infinity"),
                illegal("null backend", () -> sdpa(Q, K, V, null, false, null, null), n, "backend must not be null"),
                illegal("mask not broadcastable", () -> sdpa(Q, K, V, AttentionMask.additive(Tensor.zeros(3, 4)), false, null, Backend.AUTO), n,
                        "broadcastable to [2, 3, 5]", "[3, 4]"),
                illegal("mask of higher rank", () -> sdpa(Q, K, V, AttentionMask.bool(Tensor.zeros(1, 2, 3, 5)), false, null, Backend.AUTO), n,
                        "broadcastable to [2, 3, 5]", "[1, 2, 3, 5]"),
                illegal("mask batch differs", () -> sdpa(Q, K, V, AttentionMask.bool(Tensor.zeros(3, 3, 5)), false, null, Backend.ONEDNN), n,
                        "broadcastable", "[3, 3, 5]"),
                state("closed mask", () -> sdpa(Q, K, V, AttentionMask.bool(CLOSED), false, null, Backend.AUTO), n, "live attn_mask"),
                illegal("I64 mask", () -> sdpa(Q, K, V, AttentionMask.additive(i64), false, null, Backend.AUTO), n, "F32 attn_mask", "I64"),
                illegal("null mask tensor", () -> AttentionMask.bool(null), "AttentionMask", "must not be null"),
                illegal("null additive mask tensor", () -> AttentionMask.additive(null), "AttentionMask", "must not be null"));
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
}
