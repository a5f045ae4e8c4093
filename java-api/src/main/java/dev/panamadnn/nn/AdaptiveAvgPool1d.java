package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.AdaptiveAvgPool1d(output_size)}: input {@code [N, C, L]} or {@code [C, L]},
 * output {@code [N, C, output_size]} or {@code [C, output_size]}; output {@code i} is the mean of
 * {@code x[floor(i*L/out) .. ceil((i+1)*L/out))}. {@code output_size = 1} is global average pooling.
 * Native: oneDNN when {@code L % output_size == 0}, else the plain-Java loops (see
 * {@link AdaptivePoolNd}). Thread-safe (see {@link Layer}).
 */
public final class AdaptiveAvgPool1d extends AdaptivePoolNd {
    /**
     * Average pooling to a fixed output length: [N, C, L] to [N, C, outputSize].
     * @param outputSize the output length, at least 1
     */
    public AdaptiveAvgPool1d(int outputSize) {
        super("AdaptiveAvgPool1d", 1, false, new int[] {outputSize});
    }
}
