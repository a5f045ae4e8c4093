package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.BatchNorm1d} in inference mode (running statistics): input {@code [N, C]}
 * or {@code [N, C, L]}, output the same shape,
 * {@code y = (x - running_mean[c]) / sqrt(running_var[c] + eps) * weight[c] + bias[c]} over channel
 * dimension 1. See {@link BatchNorm} for parameters, the native path and threading.
 */
public final class BatchNorm1d extends BatchNorm {
    /**
     * {@code BatchNorm1d(numFeatures)}: eps 1e-5, affine.
     *
     * @param numFeatures the number of features (channels) normalized
     */
    public BatchNorm1d(int numFeatures) {
        this(numFeatures, 1e-5, true);
    }

    /**
     * A {@code BatchNorm1d} with PyTorch's arguments of the same names.
     *
     * @param numFeatures the number of features (channels) normalized
     * @param eps added to the variance for stability
     * @param affine whether there is a learnable scale and shift
     * @throws IllegalArgumentException if {@code numFeatures < 1} or {@code eps} is not finite and > 0 as a float
     */
    public BatchNorm1d(int numFeatures, double eps, boolean affine) {
        super("BatchNorm1d", numFeatures, eps, affine);
    }

    @Override
    boolean acceptsRank(int rank) {
        return rank == 2 || rank == 3;
    }

    @Override
    String expectedRanks() {
        return "a 2-D [N, C] or 3-D [N, C, L]";
    }
}
