package dev.panamadnn.nn;

import dev.panamadnn.Tensor;

/**
 * A mask for attention, in PyTorch's two kinds: a <b>boolean</b> mask (an F32 tensor read as
 * {@code value != 0} = True) or an <b>additive</b> float mask (added to the scores, -inf blocks).
 *
 * <p>What True means depends on the consumer, exactly as in PyTorch:
 * {@link Attention#scaledDotProductAttention} reads True as "takes part in attention" (torch 2.x's
 * {@code F.scaled_dot_product_attention}), while {@link MultiheadAttention}'s {@code attn_mask} and
 * {@code key_padding_mask} (and so the encoder's {@code src_mask}, {@code src_key_padding_mask})
 * read True as "masked out". A position masked out becomes {@code -inf} in the scores; a query row
 * with every position masked out therefore gives NaN, as PyTorch does (docs/attention.md).
 *
 * <p>Holds the caller's tensor, neither copied nor owned: it must stay open while a forward uses
 * it; every forward reads its current values.
 */
public final class AttentionMask {
    private final Tensor values;
    private final boolean bool;

    private AttentionMask(Tensor values, boolean bool) {
        if (values == null) throw new IllegalArgumentException("AttentionMask: the mask tensor must not be null");
        this.values = values;
        this.bool = bool;
    }

    /**
     * {@return a boolean mask: an element is True where {@code values} is not 0 (NaN counts as True)}
     *
     * @param values the mask's values (its shape as described above)
     */
    public static AttentionMask bool(Tensor values) {
        return new AttentionMask(values, true);
    }

    /**
     * {@return an additive float mask, added to the attention scores}
     *
     * @param values the mask's values (its shape as described above)
     */
    public static AttentionMask additive(Tensor values) {
        return new AttentionMask(values, false);
    }

    /** {@return the mask's tensor (the caller's)} */
    public Tensor values() {
        return values;
    }

    /** {@return whether this is a boolean mask (else additive)} */
    public boolean isBool() {
        return bool;
    }

    @Override
    public String toString() {
        return (bool ? "bool" : "additive") + " mask " + values;
    }
}
