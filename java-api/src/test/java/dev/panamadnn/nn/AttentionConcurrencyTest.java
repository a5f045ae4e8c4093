package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.panamadnn.Tensor;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * 16 platform and 16 virtual threads running attention at once on shared modules (shared cached
 * primitives, per-call scratchpads) give results bit-identical to a single-threaded run.
 */
class AttentionConcurrencyTest {
    private static final int THREADS = 16, ROUNDS = 8;
    private static GoldenFile file;

    @BeforeAll
    static void open() {
        file = GoldenFile.open("attention.safetensors");
    }

    @AfterAll
    static void closeFile() {
        file.close();
    }

    private static GoldenFile.Case golden(String name) {
        return file.cases().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    /** Runs {@code call} once alone, then ROUNDS times on each of THREADS threads, comparing every bit. */
    private static void sameBits(String what, boolean virtual, Supplier<Tensor> call) throws Exception {
        float[] expected;
        try (Tensor y = call.get()) {
            expected = y.toFloatArray();
        }
        ManyThreads.run(virtual, THREADS, t -> {
            for (int r = 0; r < ROUNDS; r++) {
                try (Tensor y = call.get()) {
                    assertArrayEquals(expected, y.toFloatArray(), what + ": thread " + t + " round " + r + " differs");
                }
            }
        });
    }

    @ParameterizedTest(name = "virtual={0}")
    @ValueSource(booleans = {false, true})
    void sdpaWithMaskAndNaNRows(boolean virtual) throws Exception {
        GoldenFile.Case c = golden("sdpa_bool");
        AttentionMask m = AttentionMask.bool(c.extras().get("attn_mask"));
        sameBits("sdpa", virtual, () -> Attention.scaledDotProductAttention(c.input(), c.extras().get("key"), c.extras().get("value"),
                m, false, null, Backend.ONEDNN));
    }

    @ParameterizedTest(name = "virtual={0}")
    @ValueSource(booleans = {false, true})
    void multiheadAttentionWeights(boolean virtual) throws Exception {
        GoldenFile.Case c = golden("mha_bool_masks");
        try (MultiheadAttention mha = MultiheadAttentionGoldenTest.build(c.fields())) {
            AttentionTesting.loadStateDict(c.name(), mha, c.params());
            AttentionMask am = AttentionMask.bool(c.extras().get("attn_mask")), kpm = AttentionMask.bool(c.extras().get("key_padding_mask"));
            sameBits("mha output", virtual, () -> mha.forward(c.input(), c.extras().get("key"), c.extras().get("value"), kpm, false, am,
                    true, Backend.ONEDNN).output());
            sameBits("mha weights", virtual, () -> {
                MultiheadAttention.Output o = mha.forward(c.input(), c.extras().get("key"), c.extras().get("value"), kpm, true, am, false,
                        Backend.AUTO);
                o.output().close();
                return o.weights();
            });
        }
    }

    @ParameterizedTest(name = "virtual={0}")
    @ValueSource(booleans = {false, true})
    void encoder(boolean virtual) throws Exception {
        GoldenFile.Case c = golden("encoder_2_norm");
        var f = c.fields();
        try (TransformerEncoder enc = new TransformerEncoder(() -> TransformerEncoderGoldenTest.layer(f), 2, new LayerNorm(8))) {
            AttentionTesting.loadStateDict(c.name(), enc, c.params());
            AttentionMask kpm = AttentionMask.bool(c.extras().get("key_padding_mask"));
            sameBits("encoder", virtual, () -> enc.forward(c.input(), null, kpm, Backend.AUTO));
        }
    }
}
