package dev.panamadnn.nn;

/**
 * PyTorch's {@code nn.BatchNorm2d} in inference mode (running statistics): input
 * {@code [N, C, H, W]}, output the same shape,
 * {@code y = (x - running_mean[c]) / sqrt(running_var[c] + eps) * weight[c] + bias[c]} over channel
 * dimension 1. See {@link BatchNorm} for parameters, the native path and threading.
 */
public final class BatchNorm2d extends BatchNorm {
    /**
     * {@code BatchNorm2d(numFeatures)}: eps 1e-5, affine.
     *
     * @param numFeatures the number of features (channels) normalized
     */
    public BatchNorm2d(int numFeatures) {
        this(numFeatures, 1e-5, true);
    }

    /**
     * A {@code BatchNorm2d} with PyTorch's arguments of the same names.
     *
     * @param numFeatures the number of features (channels) normalized
     * @param eps added to the variance for stability
     * @param affine whether there is a learnable scale and shift
     * @throws IllegalArgumentException if {@code numFeatures < 1} or {@code eps} is not finite and > 0 as a float
     */
    public BatchNorm2d(int numFeatures, double eps, boolean affine) {
        super("BatchNorm2d", numFeatures, eps, affine);
    }

    @Override
    boolean acceptsRank(int rank) {
        return rank == 4;
    }

    @Override
    String expectedRanks() {
        return "a 4-D [N, C, H, W]";
    }
}
