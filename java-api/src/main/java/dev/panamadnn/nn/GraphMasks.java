package dev.panamadnn.nn;

/**
 * The masks of an attention lowered to graph ops ({@link MultiheadAttention#lower(dev.panamadnn.graph.GraphBuilder,
 * String, String, GraphMasks)} and the encoder's for self-attention, {@link MultiheadAttention#lower(dev.panamadnn.graph.GraphBuilder,
 * String, String, String, String, GraphMasks, boolean, boolean)} for any): names of F32 graph values (usually graph inputs, so each
 * run may pass other masks) with their kind, and {@code isCausal}. The semantics are
 * {@link MultiheadAttention}'s, exactly as in the eager {@code forward} ({@link AttentionMask}):
 * <ul>
 * <li>{@code attnMask} {@code [L, S]} or {@code [N * numHeads, L, S]} ({@code [numHeads, L, S]} unbatched):
 *     bool (value != 0, NaN included, is True = <b>masked out</b>) or additive float</li>
 * <li>{@code keyPaddingMask} {@code [N, S]} ({@code [S]} unbatched): bool (True = masked out) or additive float</li>
 * <li>{@code isCausal}: torch's causal mask, as if {@code attnMask} were the bool {@code [L, S]} mask that
 *     masks out key {@code j > i} for query {@code i} (SDPA's {@code is_causal}, also when L != S); not with {@code attnMask}</li>
 * </ul>
 * Both masks present are summed into one additive mask, as torch 1.13 merges them; a query row whose
 * every key is masked out gives NaN, as in PyTorch and the eager modules (docs/attention.md).
 *
 * @param attnMask       the attention mask's graph value, or null
 * @param attnMaskBool   whether {@code attnMask} is a bool mask (else additive)
 * @param keyPaddingMask the key padding mask's graph value, or null
 * @param keyPaddingBool whether {@code keyPaddingMask} is a bool mask (else additive)
 * @param isCausal       whether to apply the causal mask
 */
public record GraphMasks(String attnMask, boolean attnMaskBool, String keyPaddingMask, boolean keyPaddingBool, boolean isCausal) {
    /**
     * Checks the combination.
     *
     * @throws IllegalArgumentException if {@code isCausal} comes with an {@code attnMask} (PyTorch refuses both too)
     */
    public GraphMasks {
        if (isCausal && attnMask != null) {
            throw new IllegalArgumentException("GraphMasks: is_causal and attn_mask ('" + attnMask + "') cannot be combined: "
                    + "give one of them (is_causal is the causal attn_mask)");
        }
    }

    private static final GraphMasks NONE = new GraphMasks(null, false, null, false, false);

    /** {@return no masks: what {@code lower(graph, input, path)} lowers} */
    public static GraphMasks none() {
        return NONE;
    }

    /**
     * {@return these masks with {@code value} as the attention mask}
     *
     * @param value a graph value name (F32)
     * @param bool  whether it is a bool mask (value != 0 = masked out), else additive
     */
    public GraphMasks withAttnMask(String value, boolean bool) {
        if (value == null) throw new IllegalArgumentException("GraphMasks: the attn_mask value name must not be null");
        return new GraphMasks(value, bool, keyPaddingMask, keyPaddingBool, isCausal);
    }

    /**
     * {@return these masks with {@code value} as the key padding mask}
     *
     * @param value a graph value name (F32)
     * @param bool  whether it is a bool mask (value != 0 = padding, masked out), else additive
     */
    public GraphMasks withKeyPaddingMask(String value, boolean bool) {
        if (value == null) throw new IllegalArgumentException("GraphMasks: the key_padding_mask value name must not be null");
        return new GraphMasks(attnMask, attnMaskBool, value, bool, isCausal);
    }

    /** {@return these masks with the causal mask} */
    public GraphMasks causal() {
        return new GraphMasks(attnMask, attnMaskBool, keyPaddingMask, keyPaddingBool, true);
    }

    /** {@return whether there is no mask at all} */
    public boolean isEmpty() {
        return attnMask == null && keyPaddingMask == null && !isCausal;
    }
}
