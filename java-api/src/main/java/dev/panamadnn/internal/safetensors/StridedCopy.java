package dev.panamadnn.internal.safetensors;

import java.lang.foreign.MemorySegment;

/**
 * Moves the elements of a strided tensor layout to or from a dense row-major buffer, so that
 * views can be saved and non-contiguous parameters loaded. Rows whose innermost stride is 1 move
 * in one bulk copy; otherwise element by element.
 */
public final class StridedCopy {
    private StridedCopy() {
    }

    /**
     * @param strided   memory of the strided layout; element {@code idx} is at byte
     *                  {@code sum(idx[d] * strides[d]) * elementBytes}
     * @param dense     row-major buffer of {@code prod(shape) * elementBytes} bytes
     * @param toDense   {@code true} to gather strided into dense, {@code false} to scatter back
     */
    public static void copy(MemorySegment strided, long[] shape, long[] strides, int elementBytes, MemorySegment dense, boolean toDense) {
        int rank = shape.length;
        if (rank == 0) {
            move(strided, 0, dense, 0, elementBytes, toDense);
            return;
        }
        long inner = shape[rank - 1];
        long innerStride = strides[rank - 1];
        long rows = 1;
        for (int d = 0; d < rank - 1; d++) rows *= shape[d];
        long[] idx = new long[rank - 1];
        long denseAt = 0;
        for (long r = 0; r < rows; r++) {
            long base = 0;
            for (int d = 0; d < rank - 1; d++) base += idx[d] * strides[d];
            if (innerStride == 1) {
                move(strided, base * elementBytes, dense, denseAt, inner * elementBytes, toDense);
                denseAt += inner * elementBytes;
            } else {
                for (long i = 0; i < inner; i++, denseAt += elementBytes) {
                    move(strided, (base + i * innerStride) * elementBytes, dense, denseAt, elementBytes, toDense);
                }
            }
            for (int d = rank - 2; d >= 0 && ++idx[d] == shape[d]; d--) idx[d] = 0;
        }
    }

    private static void move(MemorySegment strided, long stridedAt, MemorySegment dense, long denseAt, long bytes, boolean toDense) {
        if (toDense) MemorySegment.copy(strided, stridedAt, dense, denseAt, bytes);
        else MemorySegment.copy(dense, denseAt, strided, stridedAt, bytes);
    }
}
