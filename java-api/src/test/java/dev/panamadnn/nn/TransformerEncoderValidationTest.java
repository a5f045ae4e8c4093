package dev.panamadnn.nn;

import static dev.panamadnn.nn.ValidationCases.Case.illegal;
import static dev.panamadnn.nn.ValidationCases.Case.state;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Invalid configurations and inputs of TransformerEncoderLayer / TransformerEncoder, each with its message. */
class TransformerEncoderValidationTest {
    private static final TransformerEncoderLayer LAYER = layer(8, 2, "relu", 1e-5, true);
    private static final TransformerEncoder ENCODER = new TransformerEncoder(() -> layer(8, 2, "gelu", 1e-5, false), 2, null);
    private static final Tensor X = Tensor.zeros(2, 5, 8);   // batch first: N=2, L=5

    private static TransformerEncoderLayer layer(int d, int h, String act, double eps, boolean batchFirst) {
        return new TransformerEncoderLayer(d, h, 16, 0.1, act, eps, batchFirst, false);
    }

    @AfterAll
    static void free() {
        LAYER.close();
        ENCODER.close();
        X.close();
    }

    static Stream<ValidationCases.Case> cases() {
        String l = "TransformerEncoderLayer", e = "TransformerEncoder";
        TransformerEncoderLayer closedLayer = layer(4, 1, "relu", 1e-5, false);
        closedLayer.close();
        TransformerEncoderLayer shared = layer(4, 1, "relu", 1e-5, false);
        int[] count = {0};
        return Stream.of(
                illegal("d_model 0", () -> layer(0, 1, "relu", 1e-5, false), l, "d_model must be >= 1"),
                illegal("nhead 0", () -> layer(8, 0, "relu", 1e-5, false), l, "nhead must be >= 1"),
                illegal("d_model not divisible", () -> layer(8, 3, "relu", 1e-5, false), l, "divisible", "d_model=8", "nhead=3"),
                illegal("dim_feedforward 0", () -> new TransformerEncoderLayer(8, 2, 0, 0.1, "relu", 1e-5, false, false), l,
                        "dim_feedforward must be >= 1"),
                illegal("dropout negative", () -> new TransformerEncoderLayer(8, 2, 4, -0.1, "relu", 1e-5, false, false), l, "dropout", "-0.1"),
                illegal("unknown activation", () -> layer(8, 2, "tanh", 1e-5, false), l, "relu/gelu", "tanh"),
                illegal("null activation", () -> layer(8, 2, null, 1e-5, false), l, "relu/gelu", "null"),
                illegal("eps 0", () -> layer(8, 2, "relu", 0, false), l, "layer_norm_eps", "0.0"),
                illegal("eps NaN", () -> layer(8, 2, "relu", Double.NaN, false), l, "layer_norm_eps", "NaN"),
                illegal("eps 0 as a float", () -> layer(8, 2, "relu", 1e-50, false), l, "layer_norm_eps", "1.0E-50"),
                illegal("null src", () -> LAYER.forward(null), l, "src must not be null"),
                illegal("rank-4 src", () -> LAYER.forward(Tensor.zeros(1, 2, 5, 8)), l, "[N, L, 8]", "[1, 2, 5, 8]"),
                illegal("src d_model wrong", () -> LAYER.forward(Tensor.zeros(2, 5, 6)), l, "[N, L, 8]", "[2, 5, 6]"),
                illegal("src_mask wrong", () -> LAYER.forward(X, AttentionMask.bool(Tensor.zeros(5, 4)), null, Backend.AUTO),
                        "MultiheadAttention", "[5, 5] or [4, 5, 5]", "got [5, 4]"),
                illegal("padding mask wrong", () -> LAYER.forward(X, null, AttentionMask.bool(Tensor.zeros(5, 2)), Backend.REFERENCE),
                        "MultiheadAttention", "key_padding_mask of shape [2, 5]", "got [5, 2]"),
                illegal("null backend", () -> LAYER.forward(X, null, null, null), l, "backend must not be null"),
                state("closed layer", () -> closedLayer.forward(Tensor.zeros(3, 1, 4)), l, "is closed"),
                illegal("null factory", () -> new TransformerEncoder(null, 2, null), e, "factory must not be null"),
                illegal("num_layers 0", () -> new TransformerEncoder(() -> layer(4, 1, "relu", 1e-5, false), 0, null), e, "num_layers must be >= 1"),
                illegal("factory returns null", () -> new TransformerEncoder(() -> null, 2, null), e, "returned null for layer 0"),
                illegal("factory returns one instance", () -> new TransformerEncoder(() -> shared, 2, null), e, "same instance twice"),
                illegal("layers disagree", () -> new TransformerEncoder(() -> layer(4 * ++count[0], 1, "relu", 1e-5, false), 2, null), e,
                        "expected every layer like layer 0"),
                illegal("norm of another size", () -> new TransformerEncoder(() -> layer(4, 1, "relu", 1e-5, false), 1, new LayerNorm(6)), e,
                        "final norm over [4]", "LayerNorm((6,)"),
                illegal("encoder src wrong", () -> ENCODER.forward(Tensor.zeros(5, 2, 4)), e, "[L, N, 8]", "[5, 2, 4]"),
                illegal("encoder null backend", () -> ENCODER.forward(X, null, null, null), e, "backend must not be null"));
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
