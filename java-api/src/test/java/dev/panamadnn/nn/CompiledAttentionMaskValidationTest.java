package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.nn.MaskedAttentionPlans.Masks;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Invalid masks for the compiled self-attention ({@link GraphMasks}): refused while lowering (shape,
 * dtype, unknown value, is_causal with attn_mask or without a fixed length) or when running (a mask
 * tensor of another shape, a missing mask), each with a message naming the module or the input, the
 * expected and the given value, and before any native call.
 */
class CompiledAttentionMaskValidationTest {
    private static void refused(Executable call, String... fragments) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "message lacks '" + f + "': " + e.getMessage());
    }

    /** Lowers a fresh MHA(8, 2) (or the module from {@code make}) over input {@code x} with masks from {@code masks}. */
    private static void lower(Module m, Shape x, Function<GraphBuilder, GraphMasks> masks) {
        try (m) {
            GraphBuilder g = Graph.builder("invalid");
            String in = g.input("input", x);
            GraphMasks gm = masks.apply(g);
            switch (m) {
                case MultiheadAttention a -> a.lower(g, in, "", gm);
                case TransformerEncoderLayer l -> l.lower(g, in, "", gm);
                case TransformerEncoder e -> e.lower(g, in, "", gm);
                default -> throw new IllegalStateException(m.toString());
            }
        }
    }

    private static final Shape X = Shape.of(5, 3, 8);   // [L, N, E], 2 heads

    @Test
    void attnMaskShapesAreChecked() {
        refused(() -> lower(new MultiheadAttention(8, 2), X, g -> GraphMasks.none().withAttnMask(g.input("m", Shape.of(5, 6)), true)),
                "MultiheadAttention", "attn_mask must be [5, 5] or [6, 5, 5]", "got [5, 6]");
        refused(() -> lower(new MultiheadAttention(8, 2), X, g -> GraphMasks.none().withAttnMask(g.input("m", Shape.of(5)), false)),
                "attn_mask must be", "got [5]");
        refused(() -> lower(new MultiheadAttention(8, 2), X, g -> GraphMasks.none().withAttnMask(g.input("m", Shape.of(3, 5, 5)), true)),
                "[6, 5, 5] (N * num_heads, L, S)", "got [3, 5, 5]");
        refused(() -> lower(new MultiheadAttention(8, 2), X, g -> GraphMasks.none().withAttnMask(g.input("m", Shape.of(1, 6, 5, 5)), true)),
                "got [1, 6, 5, 5]");
        refused(() -> lower(new MultiheadAttention(8, 2), Shape.of(5, 8), g -> GraphMasks.none().withAttnMask(g.input("m", Shape.of(6, 5, 5)), true)),
                "[2, 5, 5]", "got [6, 5, 5]");
    }

    @Test
    void keyPaddingMaskShapesAreChecked() {
        refused(() -> lower(new MultiheadAttention(8, 2), X, g -> GraphMasks.none().withKeyPaddingMask(g.input("p", Shape.of(4, 5)), true)),
                "key_padding_mask must be [3, 5] (N, S)", "got [4, 5]");
        refused(() -> lower(new MultiheadAttention(8, 2), X, g -> GraphMasks.none().withKeyPaddingMask(g.input("p", Shape.of(3, 6)), true)),
                "got [3, 6]");
        refused(() -> lower(new MultiheadAttention(8, 2), X, g -> GraphMasks.none().withKeyPaddingMask(g.input("p", Shape.of(3, 1, 5)), false)),
                "got [3, 1, 5]");
        refused(() -> lower(new MultiheadAttention(8, 2), Shape.of(5, 8), g -> GraphMasks.none().withKeyPaddingMask(g.input("p", Shape.of(1, 5)), true)),
                "key_padding_mask must be [5] (S) for an unbatched input", "got [1, 5]");
        refused(() -> lower(new MultiheadAttention(8, 2, 0, true, false, false, null, null, true), Shape.of(3, 5, 8),
                g -> GraphMasks.none().withKeyPaddingMask(g.input("p", Shape.of(5, 3)), true)), "must be [3, 5]", "got [5, 3]");
        refused(() -> lower(new MultiheadAttention(8, 2), Shape.of(Dim.of(5), Dim.symbol("N"), Dim.of(8)),
                g -> GraphMasks.none().withKeyPaddingMask(g.input("p", Shape.of(2, 5)), true)), "must be [N, 5]", "got [2, 5]");
    }

    @Test
    void encodersCheckTheirMasksToo() {
        refused(() -> lower(new TransformerEncoderLayer(8, 2), X, g -> GraphMasks.none().withAttnMask(g.input("m", Shape.of(4, 4)), true)),
                "attn_mask must be [5, 5]", "got [4, 4]");
        refused(() -> lower(new TransformerEncoder(() -> new TransformerEncoderLayer(8, 2), 2, null), X,
                g -> GraphMasks.none().withKeyPaddingMask(g.input("p", Shape.of(5, 3)), true)), "key_padding_mask must be [3, 5]", "got [5, 3]");
    }

    @Test
    void dtypesAndNamesAreChecked() {
        refused(() -> lower(new MultiheadAttention(8, 2), X, g -> GraphMasks.none().withAttnMask(g.input("m", DataType.I64, Shape.of(5, 5)), true)),
                "attn_mask 'm' must be F32", "I64");
        refused(() -> lower(new MultiheadAttention(8, 2), X, g -> GraphMasks.none().withKeyPaddingMask(g.input("p", DataType.BOOL, Shape.of(3, 5)), true)),
                "key_padding_mask 'p' must be F32", "BOOL");
        refused(() -> lower(new MultiheadAttention(8, 2), X, g -> GraphMasks.none().withAttnMask("no_such_value", false)),
                "attn_mask 'no_such_value' is not a value of the graph");
        refused(() -> GraphMasks.none().withAttnMask(null, true), "attn_mask value name must not be null");
        refused(() -> GraphMasks.none().withKeyPaddingMask(null, true), "key_padding_mask value name must not be null");
        refused(() -> lower(new MultiheadAttention(8, 2), X, g -> null), "masks must not be null");
    }

    @Test
    void isCausalIsChecked() {
        refused(() -> GraphMasks.none().withAttnMask("m", true).causal(), "is_causal and attn_mask ('m') cannot be combined");
        refused(() -> GraphMasks.none().causal().withAttnMask("m", false), "cannot be combined");
        refused(() -> lower(new MultiheadAttention(8, 2), Shape.of(Dim.symbol("L"), Dim.of(3), Dim.of(8)), g -> GraphMasks.none().causal()),
                "is_causal needs a fixed sequence length", "got L");
    }

    @Test
    void runningWithAnotherMaskShapeOrNoMaskIsRefused() {
        try (MultiheadAttention m = new MultiheadAttention(8, 2);
             CompiledModel plan = MaskedAttentionPlans.compile(m, new long[] {5, 3, 8}, new Masks(new long[] {5, 5}, true, new long[] {3, 5}, true, false));
             Tensor x = Tensor.zeros(5, 3, 8); Tensor attn = Tensor.zeros(5, 5); Tensor wrongAttn = Tensor.zeros(5, 4);
             Tensor padding = Tensor.zeros(3, 5); Tensor wrongPadding = Tensor.zeros(2, 5)) {
            refused(() -> MaskedAttentionPlans.run(plan, x, wrongAttn, padding), "attn_mask", "[5, 5]", "[5, 4]");
            refused(() -> MaskedAttentionPlans.run(plan, x, attn, wrongPadding), "key_padding_mask", "[3, 5]", "[2, 5]");
            refused(() -> MaskedAttentionPlans.run(plan, x, attn, null), "key_padding_mask");
            try (Tensor y = MaskedAttentionPlans.run(plan, x, attn, padding)) {   // and the right ones still run
                assertTrue(y.shape().length == 3);
            }
        }
    }
}
