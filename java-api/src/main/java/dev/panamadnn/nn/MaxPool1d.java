package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.MaxPool1d}: the maximum over each window of {@code kernel_size} taps,
 * {@code dilation} apart, moved by {@code stride}, over the input padded by {@code padding} on both
 * ends with -infinity (padding never wins).
 *
 * <p>Input {@code [N, C, L]} or {@code [C, L]}; output {@code [N, C, L_out]} or {@code [C, L_out]} with
 * {@code L_out = floor((L + 2*padding - dilation*(kernel_size-1) - 1 + (ceil_mode ? stride-1 : 0)) / stride) + 1},
 * less one with {@code ceil_mode} if the last window would start in the right padding.
 * Requires {@code padding <= kernel_size / 2} and {@code L_out >= 1}. Native: oneDNN max pooling
 * (see {@link PoolNd}); reference: plain loops. Exact on both (a maximum does not round).
 * Thread-safe (see {@link Layer}). {@code return_indices} is not supported.
 */
public final class MaxPool1d extends PoolNd {
    /**
     * {@code MaxPool1d(kernel_size)}: stride = kernel_size, no padding.
     *
     * @param kernelSize the kernel size
     */
    public MaxPool1d(int kernelSize) {
        this(kernelSize, kernelSize, 0, 1, false);
    }

    /**
     * {@code MaxPool1d(kernelSize, stride)} without padding.
     * @param kernelSize the window length
     * @param stride     the step
     */
    public MaxPool1d(int kernelSize, int stride) {
        this(kernelSize, stride, 0, 1, false);
    }

    /**
     * {@code MaxPool1d(kernelSize, stride, padding)}.
     * @param kernelSize the window length
     * @param stride     the step
     * @param padding    implicit -infinity added at both ends
     */
    public MaxPool1d(int kernelSize, int stride, int padding) {
        this(kernelSize, stride, padding, 1, false);
    }

    /**
     * Every option; {@code dilation} is PyTorch's (1 = adjacent taps).
     *
     * @param kernelSize the kernel size
     * @param stride the step of the window
     * @param padding zeros added on each side
     * @param dilation the spacing between kernel taps
     * @param ceilMode whether the output size rounds up (PyTorch's {@code ceil_mode})
     */
    public MaxPool1d(int kernelSize, int stride, int padding, int dilation, boolean ceilMode) {
        super("MaxPool1d", 1, true, new int[] {kernelSize}, new int[] {stride}, new int[] {padding}, new int[] {dilation},
                ceilMode, true);
    }

    /** {@return the {@code dilation} setting this layer was built with (PyTorch's name)} */
    public int dilation() {
        return (int) dilationValues()[0];
    }
}
