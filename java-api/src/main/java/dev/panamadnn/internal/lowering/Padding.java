package dev.panamadnn.internal.lowering;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Padding of a row-major f32 tensor into another, the one kernel behind ONNX's {@code Pad} in compiled plans, the
 * zero padding the compiler applies before convolutions, and the eager convolutions' explicit padding (reflect,
 * replicate, circular, and zeros where oneDNN mishandles a window wholly in the padding), on their native path and
 * over the reference's Java arrays alike. Output index {@code o} reads input {@code o - before} per dimension; outside
 * the input: the constant ({@link #CONSTANT}), the mirror without the edge ({@link #REFLECT}: numpy's, PyTorch's
 * reflect), the edge ({@link #EDGE}: PyTorch's replicate) or the wrapped-around element ({@link #WRAP}: circular). A
 * negative {@code before} (or a smaller output) crops. Rows of the innermost dimension move in one bulk copy where
 * they read the input, their border elements one by one, so no Java array and no allocation are needed, and the
 * sizes are {@code long}.
 */
public final class Padding {
    private Padding() {}

    /** Modes ({@link #mode(String)} maps ONNX's names). */
    public static final int CONSTANT = 0, REFLECT = 1, EDGE = 2, WRAP = 3;

    /** ONNX's mode name ({@code constant}, {@code reflect}, {@code edge}, {@code wrap}; anything else: constant). */
    public static int mode(String onnxName) {
        return switch (onnxName) {
            case "reflect" -> REFLECT;
            case "edge" -> EDGE;
            case "wrap" -> WRAP;
            default -> CONSTANT;
        };
    }

    /**
     * Writes every element of {@code dst} ({@code out}, row-major) from {@code src} ({@code in}, row-major).
     *
     * @param before per dimension, how many outputs come before input index 0 (negative: cropped)
     * @param value  the constant of {@link #CONSTANT}
     */
    public static void pad(MemorySegment src, long[] in, MemorySegment dst, long[] out, long[] before, int mode, float value) {
        int rank = in.length;
        if (rank == 0) {
            dst.setAtIndex(ValueLayout.JAVA_FLOAT, 0, src.getAtIndex(ValueLayout.JAVA_FLOAT, 0));
            return;
        }
        long[] inStride = new long[rank];
        long s = 1;
        for (int d = rank - 1; d >= 0; d--) {
            inStride[d] = s;
            s *= in[d];
        }
        long row = out[rank - 1], inRow = in[rank - 1], b = before[rank - 1];
        long lo = Math.clamp(b, 0, row), hi = Math.clamp(b + inRow, 0, row);   // the outputs of a row that read the input
        long rows = 1;
        for (int d = 0; d < rank - 1; d++) rows *= out[d];
        long[] idx = new long[rank - 1];
        for (long r = 0; r < rows; r++) {
            long at = 0, o = r * row;
            boolean outside = false;
            for (int d = 0; d < rank - 1 && !outside; d++) {
                long i = source(idx[d] - before[d], in[d], mode);
                outside = i < 0;
                at += i * inStride[d];
            }
            if (outside) {
                for (long j = 0; j < row; j++) dst.setAtIndex(ValueLayout.JAVA_FLOAT, o + j, value);
            } else {
                if (hi > lo) MemorySegment.copy(src, (at + lo - b) * Float.BYTES, dst, (o + lo) * Float.BYTES, (hi - lo) * Float.BYTES);
                for (long j = 0; j < row; j++) {
                    if (j == lo && hi > lo) j = hi;   // the bulk-copied part
                    if (j >= row) break;
                    long i = source(j - b, inRow, mode);
                    dst.setAtIndex(ValueLayout.JAVA_FLOAT, o + j, i < 0 ? value : src.getAtIndex(ValueLayout.JAVA_FLOAT, at + i));
                }
            }
            for (int d = rank - 2; d >= 0 && ++idx[d] == out[d]; d--) idx[d] = 0;
        }
    }

    /** The input index output offset {@code i} reads in a dimension of {@code size}, or -1 for the constant. */
    private static long source(long i, long size, int mode) {
        if (i >= 0 && i < size) return i;
        return switch (mode) {
            case REFLECT -> {
                long period = 2 * (size - 1);
                long m = period == 0 ? 0 : Math.floorMod(i, period);
                yield m >= size ? period - m : m;
            }
            case EDGE -> i < 0 ? 0 : size - 1;
            case WRAP -> Math.floorMod(i, size);
            default -> -1;
        };
    }
}
