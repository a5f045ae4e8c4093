package dev.panamadnn.nn;

/**
 * PyTorch's {@code torch.nn.ConvTranspose1d} (the gradient of Conv1d with respect to its input,
 * a.k.a. deconvolution): {@code [N, C_in, L]} (or {@code [C_in, L]}) to {@code [N, C_out, L_out]} with
 * {@code L_out = (L-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1}.
 * Weight {@code [C_in, C_out/groups, k]}, bias {@code [C_out]} ("weight", "bias").
 * Thread-safe for concurrent {@link #forward}; see {@link ConvNd} for the native path.
 */
public final class ConvTranspose1d extends ConvNd {
    ConvTranspose1d(ConvConfig config) {
        super(config);
    }

    /**
     * {@code ConvTranspose1d(in, out, kernelSize)} with PyTorch's defaults.
     *
     * @param in input channels
     * @param out output channels
     * @param kernelSize the kernel size
     */
    public ConvTranspose1d(int in, int out, int kernelSize) {
        this(builder(in, out, kernelSize).config("ConvTranspose1d", true, 1));
    }

    /**
     * {@return a builder with PyTorch's defaults (stride 1, no padding, bias)}
     * @param in         input channels
     * @param out        output channels
     * @param kernelSize the kernel length
     */
    public static Builder builder(int in, int out, int kernelSize) {
        return new Builder(in, out, kernelSize);
    }

    /** Options for a {@link ConvTranspose1d}; validated by {@link #build()}. */
    public static final class Builder extends ConvTransposeBuilder<Builder> {
        Builder(int in, int out, int kernelSize) {
            super(in, out, kernelSize);
        }

        /**
         * {@return the layer}
         * @throws IllegalArgumentException naming the option, if one is invalid
         */
        public ConvTranspose1d build() {
            return new ConvTranspose1d(config("ConvTranspose1d", true, 1));
        }
    }
}
