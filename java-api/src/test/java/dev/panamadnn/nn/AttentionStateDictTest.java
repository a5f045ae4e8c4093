package dev.panamadnn.nn;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * torch state_dicts saved as plain safetensors (scripts/goldens/generate_attention.py, STATE_DICTS)
 * load into MultiheadAttention / TransformerEncoder with the strict loader under torch's own names,
 * and the loaded modules reproduce that case's golden output.
 */
class AttentionStateDictTest {
    private static Path resource(String name) throws Exception {
        return Path.of(AttentionStateDictTest.class.getResource("/safetensors/" + name).toURI());
    }

    private static GoldenFile.Case golden(GoldenFile f, String name) {
        return f.cases().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void multiheadAttentionWithSeparateProjections() throws Exception {
        try (GoldenFile f = GoldenFile.open("attention.safetensors")) {
            GoldenFile.Case c = golden(f, "mha_kdim_bf");
            try (MultiheadAttention mha = MultiheadAttentionGoldenTest.build(c.fields())) {
                SafeTensors.load(mha, resource("attention_mha_kdim.safetensors"));
                try (MultiheadAttention.Output out = mha.forward(c.input(), c.extras().get("key"), c.extras().get("value"), null, true, null,
                        false, Backend.AUTO)) {
                    AttentionTesting.assertMatches("loaded mha output", c.output(), out.output());
                    AttentionTesting.assertMatches("loaded mha weights", c.extras().get("weights"), out.weights());
                }
            }
        }
    }

    @Test
    void twoLayerEncoderWithFinalNorm() throws Exception {
        try (GoldenFile f = GoldenFile.open("attention.safetensors")) {
            GoldenFile.Case c = golden(f, "encoder_2_norm");
            Map<String, String> spec = c.fields();
            try (TransformerEncoder enc = new TransformerEncoder(() -> TransformerEncoderGoldenTest.layer(spec), 2, new LayerNorm(8))) {
                SafeTensors.load(enc, resource("attention_encoder.safetensors"));
                try (Tensor y = enc.forward(c.input(), null, AttentionMask.bool(c.extras().get("key_padding_mask")), Backend.AUTO)) {
                    AttentionTesting.assertMatches("loaded encoder output", c.output(), y);
                }
            }
        }
    }
}
