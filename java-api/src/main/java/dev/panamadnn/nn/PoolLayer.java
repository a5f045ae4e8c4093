package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * What every pooling layer shares: the input is {@code [N, C, L]} or {@code [C, L]} (1-D) or
 * {@code [N, C, H, W]} or {@code [C, H, W]} (2-D), seen as planes {@code [N*C, H, W]} (H = 1 for
 * 1-D); the output keeps the input's rank and channels and changes the spatial sizes only.
 * Subclasses give the spatial output size and the two kernels.
 */
abstract sealed class PoolLayer extends Layer permits PoolNd, AdaptivePoolNd {
    final String name;
    final int nd;

    PoolLayer(String name, int nd) {
        this.name = name;
        this.nd = nd;
    }

    /** The spatial output size {@code {oh, ow}} (oh = 1 for 1-D) or an exception naming the problem. */
    abstract long[] spatialOutput(long ih, long iw, long[] inputShape);

    /** The native path: contiguous off-heap planes in, a zeroed contiguous output to fill. */
    abstract void pool(MemorySegment x, long n, long c, long ih, long iw, long oh, long ow, MemorySegment y);

    /** The plain-Java path over the same layout. */
    abstract void poolReference(MemorySegment x, long n, long c, long ih, long iw, long oh, long ow, MemorySegment y);

    @Override
    public final long[] outputShape(long... inputShape) {
        checkShapeArgument(inputShape);
        long[] v = view(inputShape);
        long[] o = spatialOutput(v[2], v[3], inputShape);
        long[] out = inputShape.clone();
        if (nd == 2) out[out.length - 2] = o[0];
        out[out.length - 1] = o[1];
        return out;
    }

    /** {@code [N, C, H, W]} for an input shape of a valid rank (N = 1 unbatched, H = 1 for 1-D). */
    final long[] view(long[] shape) {
        int r = shape.length;
        if (r != nd + 1 && r != nd + 2) {
            String expected = nd == 1 ? "[N, C, L] or [C, L]" : "[N, C, H, W] or [C, H, W]";
            throw new IllegalArgumentException(label() + ": expected an input of rank " + (nd + 1) + " or " + (nd + 2) + " ("
                    + expected + "), got rank " + r + " (shape " + Arrays.toString(shape) + ")");
        }
        boolean batched = r == nd + 2;
        return new long[] {batched ? shape[0] : 1, shape[batched ? 1 : 0], nd == 2 ? shape[r - 2] : 1, shape[r - 1]};
    }

    @Override
    final void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        long[] v = view(input.shape());
        long oh = nd == 2 ? outShape[outShape.length - 2] : 1, ow = outShape[outShape.length - 1];
        // The reference's toFloatArray also gathers a strided view into the plain layout the loops assume.
        into(input, out, backend,
                (x, y) -> poolReference(MemorySegment.ofArray(x), v[0], v[1], v[2], v[3], oh, ow, y.segment()),
                (x, y) -> pool(x.segment(), v[0], v[1], v[2], v[3], oh, ow, y.segment()));
    }

    /** A per-dimension value as PyTorch prints it: the number if all dimensions agree, else a tuple. */
    final String show(long[] v) {
        if (nd == 1 || v[0] == v[1]) return Long.toString(v[0]);
        return "(" + v[0] + ", " + v[1] + ")";
    }
}
