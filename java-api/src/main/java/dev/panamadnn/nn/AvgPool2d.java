package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.AvgPool2d}: the mean over each {@code kernel_size} window, moved by
 * {@code stride}, over the input zero-padded by {@code padding} on every side.
 *
 * <p>Input {@code [N, C, H, W]} or {@code [C, H, W]}; output {@code [N, C, H_out, W_out]} (or
 * unbatched) with, per dimension,
 * {@code out = floor((in + 2*padding - kernel_size + (ceil_mode ? stride-1 : 0)) / stride) + 1},
 * less one with {@code ceil_mode} if the last window would start in the right padding.
 * The divisor: with {@code count_include_pad} the window area clipped to the padded input
 * (padding counts, a ceil_mode overhang past it does not), without it the number of input
 * elements in the window. Requires {@code padding <= kernel_size / 2} and outputs >= 1.
 * {@code divisor_override} is not supported. Native: oneDNN average pooling (see
 * {@link PoolNd}); reference: plain loops, sums in double. Thread-safe (see {@link Layer}).
 */
public final class AvgPool2d extends PoolNd {
    /**
     * {@code AvgPool2d(kernel_size)}: square window, stride = kernel_size, no padding.
     *
     * @param kernelSize the kernel size
     */
    public AvgPool2d(int kernelSize) {
        this(kernelSize, kernelSize, 0, false, true);
    }

    /**
     * {@code AvgPool2d(kernelSize, stride)} without padding, square window.
     * @param kernelSize the window side
     * @param stride     the step in both dimensions
     */
    public AvgPool2d(int kernelSize, int stride) {
        this(kernelSize, stride, 0, false, true);
    }

    /**
     * {@code AvgPool2d(kernelSize, stride, padding)}, padding counted in the average (PyTorch's default).
     * @param kernelSize the window side
     * @param stride     the step in both dimensions
     * @param padding    zeros added on every side
     */
    public AvgPool2d(int kernelSize, int stride, int padding) {
        this(kernelSize, stride, padding, false, true);
    }

    /**
     * Every option, the same for height and width.
     *
     * @param kernelSize the kernel size
     * @param stride the step of the window
     * @param padding zeros added on each side
     * @param ceilMode whether the output size rounds up (PyTorch's {@code ceil_mode})
     * @param countIncludePad whether padding zeros count in the average
     */
    public AvgPool2d(int kernelSize, int stride, int padding, boolean ceilMode, boolean countIncludePad) {
        this(new int[] {kernelSize, kernelSize}, new int[] {stride, stride}, new int[] {padding, padding}, ceilMode,
                countIncludePad);
    }

    /**
     * Every option per dimension {@code {height, width}}; a null {@code stride} means kernel_size.
     *
     * @param kernelSize the kernel size
     * @param stride the step of the window
     * @param padding zeros added on each side
     * @param ceilMode whether the output size rounds up (PyTorch's {@code ceil_mode})
     * @param countIncludePad whether padding zeros count in the average
     */
    public AvgPool2d(int[] kernelSize, int[] stride, int[] padding, boolean ceilMode, boolean countIncludePad) {
        super("AvgPool2d", 2, false, kernelSize, stride, padding, new int[] {1, 1}, ceilMode, countIncludePad);
    }

    /** {@return the {@code countIncludePad} setting this layer was built with (PyTorch's name)} */
    public boolean countIncludePad() {
        return countIncludePadValue();
    }
}
