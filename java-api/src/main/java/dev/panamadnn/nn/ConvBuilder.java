package dev.panamadnn.nn;

/**
 * Builder options of the forward convolutions ({@link Conv1d}, {@link Conv2d}) beyond the
 * shared ones: PyTorch's string padding, per-side (asymmetric) padding and {@code padding_mode}.
 */
abstract class ConvBuilder<S extends ConvBuilder<S>> extends ConvNdBuilder<S> {
    ConvBuilder(long in, long out, int... kernel) {
        super(in, out, kernel);
    }

    /**
     * {@code "valid"} (no padding) or {@code "same"} (output size = input size; stride must be 1;
     * an odd total goes to the right/bottom side, as in PyTorch).
     *
     * @param padding zeros added on each side
     * @return this builder
     */
    public S padding(String padding) {
        this.paddingText = padding;
        this.explicitPadding = true;
        return self();
    }

    /**
     * Asymmetric padding: {@code before[i]} zeros before and {@code after[i]} after spatial
     * dimension i (one value for all dimensions, or one per dimension). PyTorch's equivalent is
     * {@code F.pad} followed by a convolution without padding.
     *
     * @param before zeros added before, per spatial dimension
     * @param after zeros added after, per spatial dimension
     * @return this builder
     */
    public S padding(int[] before, int[] after) {
        this.paddingBefore = longs(before);
        this.paddingAfter = longs(after);
        this.paddingText = null;
        this.explicitPadding = true;
        return self();
    }

    /**
     * How the border is filled (default {@link PaddingMode#ZEROS}).
     *
     * @param mode how the border is filled
     * @return this builder
     */
    public S paddingMode(PaddingMode mode) {
        this.paddingMode = mode;
        return self();
    }
}
