package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.AdaptiveMaxPool1d(output_size)}: input {@code [N, C, L]} or {@code [C, L]},
 * output {@code [N, C, output_size]} or {@code [C, output_size]}; output {@code i} is the maximum of
 * {@code x[floor(i*L/out) .. ceil((i+1)*L/out))} (NaN if the window holds one, as PyTorch).
 * Native: oneDNN when {@code L % output_size == 0}, else the plain-Java loops (see
 * {@link AdaptivePoolNd}). Thread-safe (see {@link Layer}). {@code return_indices} is not supported.
 */
public final class AdaptiveMaxPool1d extends AdaptivePoolNd {
    /**
     * Max pooling to a fixed output length: [N, C, L] to [N, C, outputSize].
     * @param outputSize the output length, at least 1
     */
    public AdaptiveMaxPool1d(int outputSize) {
        super("AdaptiveMaxPool1d", 1, true, new int[] {outputSize});
    }
}
