package dev.panamadnn.benchmarks.purejava;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * A well-optimised pure-Java SGEMM, written for the benchmarks as the "best Java" baseline
 * (not a strawman): Goto-style blocking with packed panels, a 6 x (2 vectors) register-blocked
 * micro-kernel on the JDK Vector API ({@code jdk.incubator.vector}) with FMA, and the row blocks
 * (or, when there are too few, column ranges) spread over a {@link ForkJoinPool} of a fixed size.
 *
 * <p>Same contract as {@code Blas.sgemm} on row-major heap arrays:
 * {@code C = alpha * op(A) * op(B) + beta * C}, op(A) {@code m x k}, op(B) {@code k x n}; with
 * {@code beta == 0} C is not read. An instance owns its pool and its packing buffers, so it is
 * not thread-safe: use one per calling thread, and close it.
 */
public final class VectorGemm implements AutoCloseable {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Micro-tile: MR rows x NR columns of C held in 12 vector registers. */
    static final int MR = 6;
    static final int NR = 2 * L;
    /** Cache blocking: a KC x NC panel of B (L2/L3), an MC x KC block of A (L2) per task. */
    private static final int KC = 256;
    private static final int MC = 96;
    private static final int NC = 4096;
    /** Below this many multiply-adds the fork/join costs more than it saves. */
    private static final long PARALLEL_THRESHOLD = 64L * 64 * 64;

    private final ForkJoinPool pool;
    private final int threads;
    private final float[] packedB = new float[KC * (NC + NR)];
    private final ThreadLocal<float[]> packedA = ThreadLocal.withInitial(() -> new float[(MC + MR) * KC]);
    private final ThreadLocal<float[]> edgeTile = ThreadLocal.withInitial(() -> new float[MR * NR]);

    /** @param threads worker threads (>= 1); 1 runs everything on the calling thread. */
    public VectorGemm(int threads) {
        if (threads < 1) throw new IllegalArgumentException("VectorGemm: expected threads >= 1, got " + threads);
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads);
    }

    /** The vector width this JVM chose, in floats (8 for AVX2, 16 for AVX-512). */
    public static int vectorLength() {
        return L;
    }

    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int lda, float[] b, int ldb, float beta, float[] c, int ldc) {
        sgemm(transA, transB, m, n, k, alpha, a, 0, lda, b, 0, ldb, beta, c, 0, ldc);
    }

    /**
     * As above, with the matrices starting at {@code aOff}, {@code bOff} and {@code cOff} in their
     * arrays (one image of a batch, say).
     */
    public void sgemm(boolean transA, boolean transB, int m, int n, int k, float alpha,
                      float[] a, int aOff, int lda, float[] b, int bOff, int ldb, float beta, float[] c, int cOff, int ldc) {
        if (m < 0 || n < 0 || k < 0) throw new IllegalArgumentException("VectorGemm: negative size");
        if (m == 0 || n == 0) return;
        // beta is applied once, up front, so the micro-kernel only ever adds: C += alpha * A * B.
        if (beta != 1f) {
            for (int i = 0; i < m; i++) {
                int row = cOff + i * ldc;
                if (beta == 0f) java.util.Arrays.fill(c, row, row + n, 0f);
                else for (int j = 0; j < n; j++) c[row + j] *= beta;
            }
        }
        if (k == 0 || alpha == 0f) return;
        boolean parallel = pool != null && (long) m * n * k >= PARALLEL_THRESHOLD;
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc);
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc);
                int rowBlocks = (m + MC - 1) / MC;
                int nPanels = (nc + NR - 1) / NR;
                int pcF = pc, jcF = jc;
                if (parallel && nPanels >= 2 * threads) {
                    // Packing B is a full pass over a KC x NC panel (MBs for a wide B, e.g. an im2col matrix): share it.
                    forEach(threads, t -> packB(transB, b, bOff, ldb, pcF, kc, jcF, nc, nPanels * t / threads, nPanels * (t + 1) / threads));
                } else {
                    packB(transB, b, bOff, ldb, pc, kc, jc, nc, 0, nPanels);
                }
                // Enough row blocks: one task per block. Too few (skinny m): also split columns.
                int colSplits = parallel && rowBlocks < 2 * threads ? Math.min(nPanels, threads) : 1;
                if (!parallel || rowBlocks * colSplits == 1) {
                    for (int ic = 0; ic < m; ic += MC) {
                        block(transA, a, aOff, lda, c, cOff, ldc, alpha, ic, Math.min(MC, m - ic), pc, kc, jc, 0, nPanels, nc);
                    }
                } else {
                    List<ForkJoinTask<?>> tasks = new ArrayList<>(rowBlocks * colSplits);
                    for (int ic = 0; ic < m; ic += MC) {
                        int icF = ic, mc = Math.min(MC, m - ic);
                        for (int s = 0; s < colSplits; s++) {
                            int p0 = nPanels * s / colSplits, p1 = nPanels * (s + 1) / colSplits;
                            tasks.add(ForkJoinTask.adapt(() ->
                                    block(transA, a, aOff, lda, c, cOff, ldc, alpha, icF, mc, pcF, kc, jcF, p0, p1, nc)));
                        }
                    }
                    pool.submit(() -> ForkJoinTask.invokeAll(tasks)).join();
                }
            }
        }
    }

    /** Packs panels [p0, p1) of op(B)[pc:pc+kc, jc:jc+nc] as NR-wide column panels, k-major, zero-padded. */
    private void packB(boolean transB, float[] b, int bOff, int ldb, int pc, int kc, int jc, int nc, int p0, int p1) {
        float[] dst = packedB;
        for (int p = p0; p < p1; p++) {
            int j0 = jc + p * NR, w = Math.min(NR, nc - p * NR);
            int base = p * kc * NR;
            for (int kk = 0; kk < kc; kk++) {
                int o = base + kk * NR;
                if (!transB) {
                    System.arraycopy(b, bOff + (pc + kk) * ldb + j0, dst, o, w);
                } else {
                    for (int j = 0; j < w; j++) dst[o + j] = b[bOff + (j0 + j) * ldb + pc + kk];
                }
                for (int j = w; j < NR; j++) dst[o + j] = 0f;
            }
        }
    }

    /** Packs op(A)[ic:ic+mc, pc:pc+kc] as MR-tall row panels, k-major, zero-padded. */
    private static void packA(boolean transA, float[] a, int aOff, int lda, int ic, int mc, int pc, int kc, float[] dst) {
        int nPanels = (mc + MR - 1) / MR;
        for (int p = 0; p < nPanels; p++) {
            int i0 = ic + p * MR, h = Math.min(MR, mc - p * MR);
            int base = p * kc * MR;
            for (int kk = 0; kk < kc; kk++) {
                int o = base + kk * MR;
                for (int i = 0; i < h; i++) {
                    dst[o + i] = transA ? a[aOff + (pc + kk) * lda + i0 + i] : a[aOff + (i0 + i) * lda + pc + kk];
                }
                for (int i = h; i < MR; i++) dst[o + i] = 0f;
            }
        }
    }

    /** C[ic:ic+mc, panels p0..p1 of this NC block] += alpha * Ablock * Bpanel. */
    private void block(boolean transA, float[] a, int aOff, int lda, float[] c, int cOff, int ldc, float alpha,
                       int ic, int mc, int pc, int kc, int jc, int p0, int p1, int nc) {
        float[] pa = packedA.get();
        packA(transA, a, aOff, lda, ic, mc, pc, kc, pa);
        float[] tile = edgeTile.get();
        int aPanels = (mc + MR - 1) / MR;
        for (int q = p0; q < p1; q++) {
            int j0 = jc + q * NR, w = Math.min(NR, nc - q * NR);
            for (int p = 0; p < aPanels; p++) {
                int i0 = ic + p * MR, h = Math.min(MR, mc - p * MR);
                kernel(pa, p * kc * MR, packedB, q * kc * NR, kc, c, cOff + i0 * ldc + j0, ldc, alpha, h, w, tile);
            }
        }
    }

    /** The 6 x (2 vectors) micro-kernel: 12 accumulators, 2 loads + 6 broadcasts + 12 FMAs per k. */
    private static void kernel(float[] pa, int ao, float[] pb, int bo, int kc, float[] c, int co, int ldc,
                               float alpha, int h, int w, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S);
        FloatVector c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S);
        FloatVector c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S);
        FloatVector c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int kk = 0; kk < kc; kk++) {
            int bi = bo + kk * NR, ai = ao + kk * MR;
            FloatVector b0 = FloatVector.fromArray(S, pb, bi);
            FloatVector b1 = FloatVector.fromArray(S, pb, bi + L);
            FloatVector x = FloatVector.broadcast(S, pa[ai]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, pa[ai + 1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, pa[ai + 2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, pa[ai + 3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, pa[ai + 4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, pa[ai + 5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        // Spill the accumulators and add them to C in a separate method: keeping C's loads and
        // stores out of this loop's method keeps it small enough for C2 to compile whole (with
        // them inline, C2 hit NodeCountInliningCutoff on the last row's store and boxed every
        // vector: megabytes allocated per call and a 2-10x slowdown, varying from run to run).
        c00.intoArray(tile, 0); c01.intoArray(tile, L);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + L);
        addTile(tile, c, co, ldc, alpha, h, w);
    }

    /** C[co + i * ldc + j] += alpha * tile[i][j] for the valid h x w corner of the MR x NR tile. */
    private static void addTile(float[] tile, float[] c, int co, int ldc, float alpha, int h, int w) {
        if (w == NR) {
            FloatVector a = FloatVector.broadcast(S, alpha);
            for (int i = 0; i < h; i++) {
                int o = co + i * ldc;
                FloatVector.fromArray(S, tile, i * NR).fma(a, FloatVector.fromArray(S, c, o)).intoArray(c, o);
                FloatVector.fromArray(S, tile, i * NR + L).fma(a, FloatVector.fromArray(S, c, o + L)).intoArray(c, o + L);
            }
            return;
        }
        for (int i = 0; i < h; i++) {
            for (int j = 0; j < w; j++) c[co + i * ldc + j] += alpha * tile[i * NR + j];
        }
    }

    /** Runs {@code task.accept(i)} for i in [0, count), spread over this instance's pool (in order on the caller without one). */
    void forEach(int count, java.util.function.IntConsumer task) {
        if (pool == null || count <= 1) {
            for (int i = 0; i < count; i++) task.accept(i);
            return;
        }
        List<ForkJoinTask<?>> tasks = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            int iF = i;
            tasks.add(ForkJoinTask.adapt(() -> task.accept(iF)));
        }
        pool.submit(() -> ForkJoinTask.invokeAll(tasks)).join();
    }

    /** The worker count this instance was made with. */
    int threads() {
        return threads;
    }

    @Override
    public void close() {
        if (pool != null) pool.shutdown();
    }
}
