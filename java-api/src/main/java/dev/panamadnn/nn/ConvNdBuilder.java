package dev.panamadnn.nn;

/**
 * Options shared by every convolution builder, with PyTorch's defaults (stride 1, padding 0,
 * dilation 1, groups 1, bias on). Values are checked when the layer is built, not here, so a
 * bad value is reported with the layer's name.
 *
 * @param <S> the concrete builder, returned by every setter for chaining
 */
abstract class ConvNdBuilder<S extends ConvNdBuilder<S>> {
    final long in, out;
    final long[] kernel;
    long[] stride = {1}, paddingBefore = {0}, paddingAfter = {0}, dilation = {1}, outputPadding = {0};
    String paddingText;
    boolean causal;
    long groups = 1;
    boolean bias = true;
    PaddingMode paddingMode = PaddingMode.ZEROS;
    boolean explicitPadding;

    ConvNdBuilder(long in, long out, int... kernel) {
        this.in = in;
        this.out = out;
        this.kernel = longs(kernel);
    }

    @SuppressWarnings("unchecked")
    final S self() {
        return (S) this;
    }

    /**
     * Step between kernel applications: one value for all spatial dimensions, or one per dimension.
     *
     * @param stride the step of the window
     * @return this builder
     */
    public S stride(int... stride) {
        this.stride = longs(stride);
        return self();
    }

    /**
     * Symmetric padding on each side: one value for all spatial dimensions, or one per dimension.
     *
     * @param padding zeros added on each side
     * @return this builder
     */
    public S padding(int... padding) {
        this.paddingBefore = longs(padding);
        this.paddingAfter = this.paddingBefore;
        this.paddingText = null;
        this.explicitPadding = true;
        return self();
    }

    /**
     * Kernel element spacing, PyTorch's meaning: 1 is a dense kernel.
     *
     * @param dilation the spacing between kernel taps
     * @return this builder
     */
    public S dilation(int... dilation) {
        this.dilation = longs(dilation);
        return self();
    }

    /**
     * Channel groups; {@code groups == in == out} is a depthwise convolution.
     *
     * @param groups the number of channel groups (in and out must divide by it)
     * @return this builder
     */
    public S groups(int groups) {
        this.groups = groups;
        return self();
    }

    /**
     * Whether to add a learnable bias (default true).
     *
     * @param bias whether to add it
     * @return this builder
     */
    public S bias(boolean bias) {
        this.bias = bias;
        return self();
    }

    static long[] longs(int[] values) {
        if (values == null) return null;
        long[] l = new long[values.length];
        for (int i = 0; i < values.length; i++) l[i] = values[i];
        return l;
    }

    ConvConfig config(String layer, boolean transposed, int spatialDims) {
        return new ConvConfig(layer, transposed, spatialDims, in, out, kernel, stride, paddingBefore, paddingAfter,
                paddingText, causal, dilation, outputPadding, groups, bias, paddingMode);
    }
}
