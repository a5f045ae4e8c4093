package dev.panamadnn.nn;

/**
 * PyTorch's {@code torch.nn.Conv2d}: cross-correlation over {@code [N, C_in, H, W]} (or
 * unbatched {@code [C_in, H, W]}) giving {@code [N, C_out, H_out, W_out]} with, per spatial
 * dimension, {@code out = floor((in + padBefore + padAfter - dilation*(k-1) - 1) / stride) + 1}.
 * Weight {@code [C_out, C_in/groups, kH, kW]}, bias {@code [C_out]} ("weight", "bias").
 * Thread-safe for concurrent {@link #forward}; see {@link ConvNd} for the native path.
 */
public final class Conv2d extends ConvNd {
    Conv2d(ConvConfig config) {
        super(config);
    }

    /**
     * {@code Conv2d(in, out, kernelSize)} with PyTorch's defaults.
     *
     * @param in input channels
     * @param out output channels
     * @param kernelSize the kernel size
     */
    public Conv2d(int in, int out, int kernelSize) {
        this(builder(in, out, kernelSize).config("Conv2d", false, 2));
    }

    /**
     * {@return a builder; {@code kernelSize} is one value (square) or {@code kH, kW}}
     *
     * @param in input channels
     * @param out output channels
     * @param kernelSize the kernel size
     */
    public static Builder builder(int in, int out, int... kernelSize) {
        return new Builder(in, out, kernelSize);
    }

    /** Options for a {@link Conv2d}; validated by {@link #build()}. */
    public static final class Builder extends ConvBuilder<Builder> {
        Builder(int in, int out, int... kernelSize) {
            super(in, out, kernelSize);
        }

        /**
         * {@return the layer}
         * @throws IllegalArgumentException naming the option, if one is invalid
         */
        public Conv2d build() {
            return new Conv2d(config("Conv2d", false, 2));
        }
    }
}
