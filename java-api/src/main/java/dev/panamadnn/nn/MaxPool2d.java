package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.MaxPool2d}: the maximum over each {@code kernel_size} window (taps
 * {@code dilation} apart), moved by {@code stride}, over the input padded by {@code padding} on
 * every side with -infinity (padding never wins).
 *
 * <p>Input {@code [N, C, H, W]} or {@code [C, H, W]}; output {@code [N, C, H_out, W_out]} (or unbatched)
 * with, per dimension,
 * {@code out = floor((in + 2*padding - dilation*(kernel_size-1) - 1 + (ceil_mode ? stride-1 : 0)) / stride) + 1},
 * less one with {@code ceil_mode} if the last window would start in the right padding.
 * Requires {@code padding <= kernel_size / 2} and outputs >= 1. Native: oneDNN max pooling
 * (see {@link PoolNd}); reference: plain loops. Exact on both. Thread-safe (see {@link Layer}).
 * {@code return_indices} is not supported.
 */
public final class MaxPool2d extends PoolNd {
    /**
     * {@code MaxPool2d(kernel_size)}: square window, stride = kernel_size, no padding.
     *
     * @param kernelSize the kernel size
     */
    public MaxPool2d(int kernelSize) {
        this(kernelSize, kernelSize, 0, 1, false);
    }

    /**
     * {@code MaxPool2d(kernelSize, stride)} without padding, square window.
     * @param kernelSize the window side
     * @param stride     the step in both dimensions
     */
    public MaxPool2d(int kernelSize, int stride) {
        this(kernelSize, stride, 0, 1, false);
    }

    /**
     * {@code MaxPool2d(kernelSize, stride, padding)}, square window.
     * @param kernelSize the window side
     * @param stride     the step in both dimensions
     * @param padding    implicit -infinity added on every side
     */
    public MaxPool2d(int kernelSize, int stride, int padding) {
        this(kernelSize, stride, padding, 1, false);
    }

    /**
     * Every option, the same for height and width; {@code dilation} is PyTorch's (1 = adjacent).
     *
     * @param kernelSize the kernel size
     * @param stride the step of the window
     * @param padding zeros added on each side
     * @param dilation the spacing between kernel taps
     * @param ceilMode whether the output size rounds up (PyTorch's {@code ceil_mode})
     */
    public MaxPool2d(int kernelSize, int stride, int padding, int dilation, boolean ceilMode) {
        this(new int[] {kernelSize, kernelSize}, new int[] {stride, stride}, new int[] {padding, padding},
                new int[] {dilation, dilation}, ceilMode);
    }

    /**
     * Every option per dimension {@code {height, width}}; a null {@code stride} means kernel_size.
     *
     * @param kernelSize the kernel size
     * @param stride the step of the window
     * @param padding zeros added on each side
     * @param dilation the spacing between kernel taps
     * @param ceilMode whether the output size rounds up (PyTorch's {@code ceil_mode})
     */
    public MaxPool2d(int[] kernelSize, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        super("MaxPool2d", 2, true, kernelSize, stride, padding, dilation, ceilMode, true);
    }

    /** {@return the {@code dilation} setting this layer was built with (PyTorch's name)} */
    public int[] dilation() {
        long[] d = dilationValues();
        return new int[] {(int) d[0], (int) d[1]};
    }
}
