package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.AvgPool1d}: the mean over each window of {@code kernel_size}, moved by
 * {@code stride}, over the input zero-padded by {@code padding} on both ends.
 *
 * <p>Input {@code [N, C, L]} or {@code [C, L]}; output {@code [N, C, L_out]} or {@code [C, L_out]} with
 * {@code L_out = floor((L + 2*padding - kernel_size + (ceil_mode ? stride-1 : 0)) / stride) + 1},
 * less one with {@code ceil_mode} if the last window would start in the right padding.
 * The divisor: with {@code count_include_pad} the window size clipped to {@code [-padding, L + padding)}
 * (padding counts, a ceil_mode overhang past it does not), without it the number of input
 * elements in the window. Requires {@code padding <= kernel_size / 2} and {@code L_out >= 1}.
 * Native: oneDNN average pooling (see {@link PoolNd}); reference: plain loops, sums in double.
 * Thread-safe (see {@link Layer}).
 */
public final class AvgPool1d extends PoolNd {
    /**
     * {@code AvgPool1d(kernel_size)}: stride = kernel_size, no padding.
     *
     * @param kernelSize the kernel size
     */
    public AvgPool1d(int kernelSize) {
        this(kernelSize, kernelSize, 0, false, true);
    }

    /**
     * {@code AvgPool1d(kernelSize, stride)} without padding.
     * @param kernelSize the window length
     * @param stride     the step
     */
    public AvgPool1d(int kernelSize, int stride) {
        this(kernelSize, stride, 0, false, true);
    }

    /**
     * {@code AvgPool1d(kernelSize, stride, padding)}, padding counted in the average (PyTorch's default).
     * @param kernelSize the window length
     * @param stride     the step
     * @param padding    zeros added at both ends
     */
    public AvgPool1d(int kernelSize, int stride, int padding) {
        this(kernelSize, stride, padding, false, true);
    }

    /**
     * Every option.
     *
     * @param kernelSize the kernel size
     * @param stride the step of the window
     * @param padding zeros added on each side
     * @param ceilMode whether the output size rounds up (PyTorch's {@code ceil_mode})
     * @param countIncludePad whether padding zeros count in the average
     */
    public AvgPool1d(int kernelSize, int stride, int padding, boolean ceilMode, boolean countIncludePad) {
        super("AvgPool1d", 1, false, new int[] {kernelSize}, new int[] {stride}, new int[] {padding}, new int[] {1},
                ceilMode, countIncludePad);
    }

    /** {@return the {@code countIncludePad} setting this layer was built with (PyTorch's name)} */
    public boolean countIncludePad() {
        return countIncludePadValue();
    }
}
