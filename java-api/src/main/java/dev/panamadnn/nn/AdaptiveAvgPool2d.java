package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.AdaptiveAvgPool2d(output_size)}: input {@code [N, C, H, W]} or {@code [C, H, W]},
 * output {@code [N, C, outH, outW]} or {@code [C, outH, outW]}; output {@code (i, j)} is the mean of
 * rows {@code [floor(i*H/outH), ceil((i+1)*H/outH))} and columns {@code [floor(j*W/outW), ceil((j+1)*W/outW))}.
 * {@code output_size = 1} is global avg pooling. Native: oneDNN when both sizes divide the
 * input's, else the plain-Java loops (see {@link AdaptivePoolNd}). Thread-safe (see {@link Layer}).
 * {@code None} entries (keep the input size) are not supported.
 */
public final class AdaptiveAvgPool2d extends AdaptivePoolNd {
    /**
     * A square output {@code size x size}.
     *
     * @param outputSize the output size
     */
    public AdaptiveAvgPool2d(int outputSize) {
        this(outputSize, outputSize);
    }

    /**
     * Average pooling to a fixed output size: [N, C, H, W] to [N, C, outputHeight, outputWidth].
     * @param outputHeight the output height, at least 1
     * @param outputWidth  the output width, at least 1
     */
    public AdaptiveAvgPool2d(int outputHeight, int outputWidth) {
        super("AdaptiveAvgPool2d", 2, false, new int[] {outputHeight, outputWidth});
    }
}
