package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import java.util.Arrays;

/**
 * PyTorch's {@code nn.Flatten(start_dim=1, end_dim=-1)}: merges dimensions {@code start_dim}
 * to {@code end_dim} (inclusive; negative counts from the end) into one of their product, e.g.
 * {@code [N, C, H, W] -> [N, C*H*W]} with the defaults.
 *
 * <p>A contiguous input gives a view of the same memory (no copy; closing the view does
 * nothing, the input must stay alive); a strided one gives a contiguous copy the caller owns.
 * Every backend does the same. A rank-0 input counts as rank 1, as in PyTorch.
 */
public final class Flatten extends Layer {
    private final int startDim;
    private final int endDim;

    /** {@code Flatten(start_dim=1, end_dim=-1)}. */
    public Flatten() {
        this(1, -1);
    }

    /**
     * @throws IllegalArgumentException if both dims have the same sign and {@code startDim > endDim}
     *                                  (other combinations are checked against the input's rank)
     */
    public Flatten(int startDim, int endDim) {
        if ((startDim >= 0) == (endDim >= 0) && startDim > endDim) {
            throw new IllegalArgumentException("Flatten: start_dim must not come after end_dim, got start_dim="
                    + startDim + ", end_dim=" + endDim);
        }
        this.startDim = startDim;
        this.endDim = endDim;
    }

    @Override
    public long[] outputShape(long... inputShape) {
        checkShapeArgument(inputShape);
        long[] shape = inputShape.length == 0 ? new long[] {1} : inputShape;
        int rank = shape.length;
        int start = normalise("start_dim", startDim, shape);
        int end = normalise("end_dim", endDim, shape);
        if (start > end) {
            throw new IllegalArgumentException(this + ": start_dim must not come after end_dim, got " + start + " > " + end
                    + " for input shape " + Arrays.toString(inputShape));
        }
        long[] out = new long[rank - (end - start)];
        System.arraycopy(shape, 0, out, 0, start);
        long merged = 1;
        for (int i = start; i <= end; i++) merged = Math.multiplyExact(merged, shape[i]);
        out[start] = merged;
        System.arraycopy(shape, end + 1, out, start + 1, rank - end - 1);
        return out;
    }

    private int normalise(String name, int dim, long[] shape) {
        int rank = shape.length;
        if (dim < -rank || dim >= rank) {
            throw new IllegalArgumentException(this + ": expected " + name + " in [" + -rank + ", " + (rank - 1)
                    + "] for input shape " + Arrays.toString(shape) + ", got " + dim);
        }
        return dim < 0 ? dim + rank : dim;
    }

    @Override
    Tensor compute(Tensor input, long[] outShape, Backend backend) {
        if (input.isContiguous()) return input.reshape(outShape);
        return Tensor.of(input.toFloatArray(), outShape);
    }

    @Override
    public String toString() {
        return "Flatten(start_dim=" + startDim + ", end_dim=" + endDim + ")";
    }
}
