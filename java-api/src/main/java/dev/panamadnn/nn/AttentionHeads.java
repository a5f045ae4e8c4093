package dev.panamadnn.nn;

import dev.panamadnn.Blas;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The data movement of {@link MultiheadAttention} around {@link AttentionCore}: the in-projections
 * ({@code x W^T + b}, on OpenBLAS or in plain Java) and the split of projected rows into heads and
 * back. A sequence of {@code T} steps for {@code N} batch elements is stored as rows
 * {@code (n, t)} at {@code n*T + t} (batch first) or {@code t*N + n} (sequence first); heads are
 * {@code [N*H, T, hd]} with head {@code h} of batch {@code n} at {@code n*H + h}, as PyTorch
 * reshapes them. Both backends move data with the same code, on off-heap or heap segments.
 */
final class AttentionHeads {
    private AttentionHeads() {}

    /** Where row {@code (n, t)} of a sequence of {@code steps} steps for {@code batch} elements is stored. */
    static long row(boolean batchFirst, long batch, long steps, long n, long t) {
        return batchFirst ? n * steps + t : t * batch + n;
    }

    /** {@code rows x E} projected rows to {@code [N*H, T, hd]} heads. */
    static void split(MemorySegment rows, MemorySegment heads, boolean batchFirst, long batch, long steps, int numHeads, int headDim) {
        long embed = (long) numHeads * headDim, bytes = (long) headDim * Float.BYTES;
        for (long n = 0; n < batch; n++) {
            for (long t = 0; t < steps; t++) {
                long from = row(batchFirst, batch, steps, n, t) * embed;
                for (int h = 0; h < numHeads; h++) {
                    MemorySegment.copy(rows, (from + (long) h * headDim) * Float.BYTES, heads,
                            (((n * numHeads + h) * steps + t) * headDim) * Float.BYTES, bytes);
                }
            }
        }
    }

    /** The inverse of {@link #split}: heads {@code [N*H, T, hd]} concatenated back into {@code rows x E}. */
    static void merge(MemorySegment heads, MemorySegment rows, boolean batchFirst, long batch, long steps, int numHeads, int headDim) {
        long embed = (long) numHeads * headDim, bytes = (long) headDim * Float.BYTES;
        for (long n = 0; n < batch; n++) {
            for (long t = 0; t < steps; t++) {
                long to = row(batchFirst, batch, steps, n, t) * embed;
                for (int h = 0; h < numHeads; h++) {
                    MemorySegment.copy(heads, (((n * numHeads + h) * steps + t) * headDim) * Float.BYTES, rows,
                            (to + (long) h * headDim) * Float.BYTES, bytes);
                }
            }
        }
    }

    /**
     * {@code y = x W^T + b} on OpenBLAS: {@code x} is {@code rows x in}, {@code w} is {@code out x in}
     * (a slice of {@code in_proj_weight} or a separate weight), {@code b} {@code out} floats or null.
     */
    static void projectNative(MemorySegment x, int rows, int in, MemorySegment w, MemorySegment b, int out, MemorySegment y) {
        long rowBytes = (long) out * Float.BYTES;
        if (b != null) for (long r = 0; r < rows; r++) MemorySegment.copy(b, 0, y, r * rowBytes, rowBytes);
        Blas.sgemm(false, true, rows, out, in, 1f, x, in, w, in, b == null ? 0f : 1f, y, out);
    }

    /** The reference of {@link #projectNative}: each output a sum in double, bias first. */
    static float[] projectReference(float[] x, int rows, int in, MemorySegment w, MemorySegment b, int out) {
        float[] y = new float[rows * out];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < out; o++) {
                double sum = b == null ? 0 : b.getAtIndex(ValueLayout.JAVA_FLOAT, o);
                for (int i = 0; i < in; i++) sum += (double) x[r * in + i] * w.getAtIndex(ValueLayout.JAVA_FLOAT, (long) o * in + i);
                y[r * out + o] = (float) sum;
            }
        }
        return y;
    }

    /** Head-averaged weights: {@code [N, H, L, S]} to {@code [N, L, S]}, each mean summed in double. */
    static void average(MemorySegment perHead, MemorySegment averaged, long batch, int numHeads, long queries, long keys) {
        long plane = queries * keys;
        for (long n = 0; n < batch; n++) {
            for (long i = 0; i < plane; i++) {
                double sum = 0;
                for (int h = 0; h < numHeads; h++) sum += perHead.getAtIndex(ValueLayout.JAVA_FLOAT, (n * numHeads + h) * plane + i);
                averaged.setAtIndex(ValueLayout.JAVA_FLOAT, n * plane + i, (float) (sum / numHeads));
            }
        }
    }
}
