package dev.panamadnn;

import static dev.panamadnn.bindings.cblas.cblas_h.CblasNoTrans;
import static dev.panamadnn.bindings.cblas.cblas_h.CblasRowMajor;
import static dev.panamadnn.bindings.cblas.cblas_h.CblasTrans;

import dev.panamadnn.bindings.cblas.cblas_h;
import dev.panamadnn.internal.BlasCallers;
import dev.panamadnn.natives.Natives;
import dev.panamadnn.internal.lifetime.NativeAccess;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Single-precision BLAS on OpenBLAS, row-major (Java's order), with every argument checked in
 * Java first: CBLAS returns {@code void}, so a wrong leading dimension or a short buffer would
 * otherwise corrupt memory silently.
 *
 * <p>Segments may be off-heap or heap ({@code MemorySegment.ofArray(float[])}): heap ones go
 * through a critical downcall, which passes the array's address without copying and holds off
 * the garbage collector for the call's duration (fine for the microseconds-to-milliseconds of a
 * GEMM; for very long calls prefer off-heap). Thread-safe: OpenBLAS may be called from many
 * threads at once; its own pool size is set in {@link dev.panamadnn.natives.ThreadControl}.
 *
 * <p>Concurrent callers are capped, so that address-space pressure is a wait or an exception,
 * never the end of the process: OpenBLAS maps a 128 MiB work buffer (address space; only the
 * pages a call touches become resident) whenever it has more concurrent callers than buffers,
 * and calls {@code exit(1)} if that mapping fails. So at first use this class has OpenBLAS map
 * the buffers for {@code panamadnn.blas.callers} callers (environment
 * {@code PANAMADNN_BLAS_CALLERS}; default the number of processors, at most 64) and lets at most
 * that many threads into OpenBLAS at once; the others wait their turn (uninterruptibly; a
 * virtual thread unmounts). If not even one buffer fits at first use, {@code sgemm} throws
 * {@link IllegalStateException}. Set the count before the first call; docs/safety.md says what
 * this does and does not cover.
 */
public final class Blas {
    private Blas() {}

    /**
     * {@code C = alpha * op(A) * op(B) + beta * C}, with op(A) {@code m x k}, op(B) {@code k x n}
     * and C {@code m x n}, all row-major. A is stored {@code m x k} (or {@code k x m} when
     * {@code transA}) with rows {@code lda} floats apart; likewise B and C.
     *
     * @param transA whether to use A transposed
     * @param transB whether to use B transposed
     * @param m rows of op(A) and C
     * @param n columns of op(B) and C
     * @param k columns of op(A), rows of op(B)
     * @param alpha the scale of A*B
     * @param a matrix A, row-major f32
     * @param lda leading dimension of A (its row stride in elements)
     * @param b matrix B, row-major f32
     * @param ldb leading dimension of B
     * @param beta the scale of C's previous contents (0: C is only written)
     * @param c matrix C, row-major f32, written in place
     * @param ldc leading dimension of C
     * @throws IllegalArgumentException if a size is negative, a leading dimension is too small,
     *                                  a segment is too short or C is read-only
     * @throws IllegalStateException    if a segment's arena is closed, or no OpenBLAS work buffer
     *                                  could be reserved at first use (see the class comment)
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             MemorySegment a, int lda, MemorySegment b, int ldb, float beta,
                             MemorySegment c, int ldc) {
        if (m < 0 || n < 0 || k < 0) {
            throw new IllegalArgumentException("sgemm: expected m, n, k >= 0, got m=" + m + " n=" + n + " k=" + k);
        }
        checkMatrix("A", a, transA ? k : m, transA ? m : k, lda);
        checkMatrix("B", b, transB ? n : k, transB ? k : n, ldb);
        checkMatrix("C", c, m, n, ldc);
        if (c.isReadOnly()) throw new IllegalArgumentException("sgemm: C must be writable, got a read-only segment");
        if (m == 0 || n == 0) return;
        if (a.isMapped() || b.isMapped() || c.isMapped()) {
            sgemmMapped(transA, transB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            return;
        }
        Natives.load();
        int ta = transA ? CblasTrans() : CblasNoTrans();
        int tb = transB ? CblasTrans() : CblasNoTrans();
        BlasCallers.enter(); // at most BlasCallers.permits() threads inside OpenBLAS: it never maps a buffer after start-up
        try {
            if (a.isNative() && b.isNative() && c.isNative()) {
                cblas_h.cblas_sgemm(CblasRowMajor(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            } else {
                cblas_h.cblas_sgemm$critical(CblasRowMajor(), ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
            }
        } finally {
            BlasCallers.exit();
        }
    }

    /**
     * sgemm on copies of the memory-mapped operands: OpenBLAS never reads or writes a mapping
     * (a file truncated meanwhile would be a SIGBUS there, ending the JVM); Java's copies turn
     * that into an {@link IllegalStateException}.
     */
    private static void sgemmMapped(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                    MemorySegment a, int lda, MemorySegment b, int ldb, float beta,
                                    MemorySegment c, int ldc) {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment ca = a.isMapped() ? NativeAccess.copyOfMapped(a, tmp, "sgemm A") : a;
            MemorySegment cb = b.isMapped() ? NativeAccess.copyOfMapped(b, tmp, "sgemm B") : b;
            MemorySegment cc = c.isMapped() ? NativeAccess.copyOfMapped(c, tmp, "sgemm C") : c;
            sgemm(transA, transB, m, n, k, alpha, ca, lda, cb, ldb, beta, cc, ldc);
            if (cc != c) NativeAccess.copyToMapped(cc, c, "sgemm C");
        }
    }

    /**
     * {@link #sgemm(boolean, boolean, int, int, int, float, MemorySegment, int, MemorySegment, int, float, MemorySegment, int)} on dense row-major arrays.
     *
     * @param transA whether to use A transposed
     * @param transB whether to use B transposed
     * @param m rows of op(A) and C
     * @param n columns of op(B) and C
     * @param k columns of op(A), rows of op(B)
     * @param alpha the scale of A*B
     * @param a matrix A, row-major f32
     * @param b matrix B, row-major f32
     * @param beta the scale of C's previous contents (0: C is only written)
     * @param c matrix C, row-major f32, written in place
     */
    public static void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                             float[] a, float[] b, float beta, float[] c) {
        sgemm(transA, transB, m, n, k, alpha, MemorySegment.ofArray(a), Math.max(1, transA ? m : k),
                MemorySegment.ofArray(b), Math.max(1, transB ? k : n), beta, MemorySegment.ofArray(c), Math.max(1, n));
    }

    /**
     * The plain-Java reference of {@code sgemm}: three loops, accumulating in float in the
     * natural order. It is the correctness oracle and the "naive Java" baseline, not fast.
     *
     * @param transA whether to use A transposed
     * @param transB whether to use B transposed
     * @param m rows of op(A) and C
     * @param n columns of op(B) and C
     * @param k columns of op(A), rows of op(B)
     * @param alpha the scale of A*B
     * @param a matrix A, row-major f32
     * @param lda leading dimension of A (its row stride in elements)
     * @param b matrix B, row-major f32
     * @param ldb leading dimension of B
     * @param beta the scale of C's previous contents (0: C is only written)
     * @param c matrix C, row-major f32, written in place
     * @param ldc leading dimension of C
     */
    public static void sgemmReference(boolean transA, boolean transB, int m, int n, int k, float alpha,
                                      MemorySegment a, int lda, MemorySegment b, int ldb, float beta,
                                      MemorySegment c, int ldc) {
        checkMatrix("A", a, transA ? k : m, transA ? m : k, lda);
        checkMatrix("B", b, transB ? n : k, transB ? k : n, ldb);
        checkMatrix("C", c, m, n, ldc);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float sum = 0f;
                for (int p = 0; p < k; p++) {
                    float x = a.getAtIndex(ValueLayout.JAVA_FLOAT, transA ? (long) p * lda + i : (long) i * lda + p);
                    float y = b.getAtIndex(ValueLayout.JAVA_FLOAT, transB ? (long) j * ldb + p : (long) p * ldb + j);
                    sum += x * y;
                }
                long ci = (long) i * ldc + j;
                float old = beta == 0f ? 0f : beta * c.getAtIndex(ValueLayout.JAVA_FLOAT, ci);
                c.setAtIndex(ValueLayout.JAVA_FLOAT, ci, alpha * sum + old);
            }
        }
    }

    /** A row-major {@code rows x cols} float matrix with rows {@code ld} apart must fit in {@code s}. */
    private static void checkMatrix(String name, MemorySegment s, int rows, int cols, int ld) {
        if (s == null) throw new IllegalArgumentException("sgemm: " + name + " must not be null");
        if (!s.scope().isAlive()) throw new IllegalStateException("sgemm: the arena of " + name + " is closed");
        if (ld < Math.max(1, cols)) {
            throw new IllegalArgumentException("sgemm: leading dimension of " + name + " must be >= max(1, "
                    + cols + "), got " + ld);
        }
        long needFloats = rows == 0 || cols == 0 ? 0 : (long) (rows - 1) * ld + cols;
        if (s.byteSize() < needFloats * Float.BYTES) {
            throw new IllegalArgumentException("sgemm: " + name + " (" + rows + "x" + cols + ", ld " + ld + ") needs "
                    + needFloats * Float.BYTES + " bytes, got a segment of " + s.byteSize());
        }
    }
}
