package dev.panamadnn.nn;

/**
 * PyTorch's {@code torch.nn.ConvTranspose2d}: {@code [N, C_in, H, W]} (or {@code [C_in, H, W]})
 * to {@code [N, C_out, H_out, W_out]} with, per spatial dimension,
 * {@code out = (in-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1}.
 * Weight {@code [C_in, C_out/groups, kH, kW]}, bias {@code [C_out]} ("weight", "bias").
 * Thread-safe for concurrent {@link #forward}; see {@link ConvNd} for the native path.
 */
public final class ConvTranspose2d extends ConvNd {
    ConvTranspose2d(ConvConfig config) {
        super(config);
    }

    /**
     * {@code ConvTranspose2d(in, out, kernelSize)} with PyTorch's defaults.
     *
     * @param in input channels
     * @param out output channels
     * @param kernelSize the kernel size
     */
    public ConvTranspose2d(int in, int out, int kernelSize) {
        this(builder(in, out, kernelSize).config("ConvTranspose2d", true, 2));
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

    /** Options for a {@link ConvTranspose2d}; validated by {@link #build()}. */
    public static final class Builder extends ConvTransposeBuilder<Builder> {
        Builder(int in, int out, int... kernelSize) {
            super(in, out, kernelSize);
        }

        /**
         * {@return the layer}
         * @throws IllegalArgumentException naming the option, if one is invalid
         */
        public ConvTranspose2d build() {
            return new ConvTranspose2d(config("ConvTranspose2d", true, 2));
        }
    }
}
