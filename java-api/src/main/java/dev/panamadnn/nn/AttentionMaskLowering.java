package dev.panamadnn.nn;

import dev.panamadnn.DataType;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.graph.Value;

/**
 * {@link GraphMasks} as graph ops: one additive mask broadcastable to the scores {@code [N, H, L, S]},
 * added after the scale (the eager order: {@code q k^T * scale + mask}). A bool mask becomes 0 / -inf
 * through the graph op {@code BoolMaskToAdditive} (ours; a Java step over the mask's few elements:
 * value != 0, NaN included, is True = masked out = -inf, exactly as {@link AttentionMask#bool} reads it).
 * {@code attn_mask [N*H, L, S]} is reshaped to {@code [N, H, L, S]}, {@code key_padding_mask [N, S]} to
 * {@code [N, 1, 1, S]}; both are summed first (the eager merge), then added to the scores once.
 */
final class AttentionMaskLowering {
    private AttentionMaskLowering() {}

    /**
     * The additive mask's value name, or null without masks.
     *
     * @throws IllegalArgumentException if a mask's shape or dtype does not fit (naming the module, expected and given)
     */
    static String additive(GraphBuilder graph, String path, String who, GraphMasks masks, Dim batch, Dim steps, Dim keys, int heads,
                           boolean batched) {
        if (masks == null || masks.isEmpty()) return null;
        String attn = null, padding = null;
        if (masks.attnMask() != null) {
            Shape s = check(graph, who, "attn_mask", masks.attnMask());
            Shape heads3 = Shape.of(batched ? batch.times(heads) : Dim.of(heads), steps, keys);
            boolean two = s.equals(Shape.of(steps, keys));
            if (!two && !s.equals(heads3)) {
                throw new IllegalArgumentException(who + ": attn_mask must be " + Shape.of(steps, keys) + " or " + heads3
                        + " (N * num_heads, L, S), got " + s);
            }
            attn = masks.attnMaskBool() ? boolToAdditive(graph, masks.attnMask(), Lowering.join(path, "attn_mask")) : masks.attnMask();
            if (!two) attn = Lowering.reshape(graph, attn, Lowering.join(path, "attn_mask_heads"), Shape.of(batch, Dim.of(heads), steps, keys));
        } else if (masks.isCausal()) {
            if (!steps.isFixed() || !keys.isFixed()) {
                throw new IllegalArgumentException(who + ": is_causal needs a fixed sequence length, got L=" + steps + ", S=" + keys);
            }
            int l = Math.toIntExact(steps.size()), sk = Math.toIntExact(keys.size());
            float[] causal = new float[l * sk];   // torch's lower-triangular L x S mask, also when L != S (docs/attention.md)
            for (int i = 0; i < l; i++) {
                for (int j = i + 1; j < sk; j++) causal[i * sk + j] = Float.NEGATIVE_INFINITY;   // key j after query i: masked out
            }
            attn = graph.initializer(graph.uniqueName(Lowering.join(path, "causal_mask")), AttentionLowering.tensor(causal, l, sk));
        }
        if (masks.keyPaddingMask() != null) {
            Shape s = check(graph, who, "key_padding_mask", masks.keyPaddingMask());
            Shape want = batched ? Shape.of(batch, keys) : Shape.of(keys);
            if (!s.equals(want)) {
                throw new IllegalArgumentException(who + ": key_padding_mask must be " + want + (batched ? " (N, S)" : " (S) for an unbatched input")
                        + ", got " + s);
            }
            padding = masks.keyPaddingBool() ? boolToAdditive(graph, masks.keyPaddingMask(), Lowering.join(path, "key_padding_mask"))
                    : masks.keyPaddingMask();
            padding = Lowering.reshape(graph, padding, Lowering.join(path, "key_padding_mask_keys"), Shape.of(batch, Dim.of(1), Dim.of(1), keys));
        }
        if (attn == null) return padding;
        if (padding == null) return attn;
        return graph.node("Add", Lowering.join(path, "merged_mask"), Attributes.empty(), attn, padding);
    }

    private static Shape check(GraphBuilder graph, String who, String what, String value) {
        Value v;
        try {
            v = graph.value(value);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException(who + ": " + what + " '" + value + "' is not a value of the graph", e);
        }
        if (v.dtype() != DataType.F32) {
            throw new IllegalArgumentException(who + ": " + what + " '" + value + "' must be F32 (a bool mask as 0/1), got " + v.dtype());
        }
        return v.shape();
    }

    /** 0 where {@code mask} is 0, -inf elsewhere (NaN included): one exact Java step over the mask's elements. */
    private static String boolToAdditive(GraphBuilder graph, String mask, String path) {
        return graph.node("BoolMaskToAdditive", Lowering.join(path, "additive"), Attributes.empty(), mask);
    }
}
