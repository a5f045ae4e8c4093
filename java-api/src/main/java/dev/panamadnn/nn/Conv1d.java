package dev.panamadnn.nn;

/**
 * PyTorch's {@code torch.nn.Conv1d}: cross-correlation over {@code [N, C_in, L]} (or unbatched
 * {@code [C_in, L]}) giving {@code [N, C_out, L_out]} with
 * {@code L_out = floor((L + padBefore + padAfter - dilation*(k-1) - 1) / stride) + 1}.
 * Weight {@code [C_out, C_in/groups, k]}, bias {@code [C_out]} ("weight", "bias").
 *
 * <p>{@link Builder#causal()} pads {@code (k-1)*dilation} on the left only, so output t sees
 * inputs {@code <= t} (WaveNet/TCN style) and, with stride 1, {@code L_out = L}.
 * Thread-safe for concurrent {@link #forward}; see {@link ConvNd} for the native path.
 */
public final class Conv1d extends ConvNd {
    Conv1d(ConvConfig config) {
        super(config);
    }

    /**
     * {@code Conv1d(in, out, kernelSize)} with PyTorch's defaults.
     *
     * @param in input channels
     * @param out output channels
     * @param kernelSize the kernel size
     */
    public Conv1d(int in, int out, int kernelSize) {
        this(builder(in, out, kernelSize).config("Conv1d", false, 1));
    }

    /**
     * {@return a builder with PyTorch's defaults (stride 1, no padding, dilation 1, groups 1, bias)}
     * @param in         input channels
     * @param out        output channels
     * @param kernelSize the kernel length
     */
    public static Builder builder(int in, int out, int kernelSize) {
        return new Builder(in, out, kernelSize);
    }

    /** Options for a {@link Conv1d}; validated by {@link #build()}. */
    public static final class Builder extends ConvBuilder<Builder> {
        Builder(int in, int out, int kernelSize) {
            super(in, out, kernelSize);
        }

        /**
         * Causal padding: {@code (k-1)*dilation} zeros on the left, none on the right.
         *
         * @return this builder
         */
        public Builder causal() {
            this.causal = true;
            return this;
        }

        /**
         * {@return the layer}
         * @throws IllegalArgumentException naming the option, if one is invalid
         */
        public Conv1d build() {
            return new Conv1d(config("Conv1d", false, 1));
        }
    }
}
