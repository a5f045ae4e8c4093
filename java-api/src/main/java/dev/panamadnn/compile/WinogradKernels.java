package dev.panamadnn.compile;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The input and output transforms of {@link Winograd} F(4x4, 3x3), vectorised over channels
 * with the Vector API (jdk.incubator.vector). Loaded only when that module is in the boot layer
 * ({@link Winograd#available()}); nothing else in the library refers to it.
 *
 * <p>Activations are {@code nhwc}; the transformed tiles are {@code [36][tiles][channels]} (one
 * matrix per point of the 6x6 tile, as the batched matrix multiplication wants them). Each
 * 6x6 transform is separable: rows first, into a 36-vector scratch array, then columns.
 * Matrices (Lavin and Gray 2016, points 0, +-1, +-2, infinity):
 * <pre>
 *   B^T = | 4  0 -5  0  1  0 |      A^T = | 1  1  1  1  1  0 |
 *         | 0 -4 -4  1  1  0 |            | 0  1 -1  2 -2  0 |
 *         | 0  4 -4 -1  1  0 |            | 0  1  1  4  4  0 |
 *         | 0 -2 -1  2  1  0 |            | 0  1 -1  8 -8  1 |
 *         | 0  2 -1 -2  1  0 |
 *         | 0  4  0 -5  0  1 |
 * </pre>
 */
final class WinogradKernels {
    private WinogradKernels() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    /** The int species of the same width, for {@link #maxMagnitudeBits}. */
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();
    /** Floats per vector: channels must be a multiple of this. */
    static final int LANES = S.length();
    /** Floats of scratch one transform needs. */
    static final int SCRATCH = 36 * LANES + 6 * LANES;

    // No FloatVector ever crosses a method boundary or merges at a branch (a phi): each helper
    // below loads, computes and stores, so C2 keeps every vector in a register and a warm run
    // allocates nothing (CompiledAllocationTest checks it).

    private static volatile boolean warm;

    /**
     * Runs the guard's scan and both transforms on a small map (16 tiles, edge and interior, every post-op variant) until
     * C2 has compiled them, once per JVM: before that the Vector API runs interpreted or in C1,
     * boxing every vector, and a ResNet-18 run took 60-170 ms instead of 15 for its first few
     * calls after {@code warmup()}. Iterations in rounds of 250: at least 40 rounds (past C2's
     * thresholds), then until a round is no longer 10% faster than the best, at most 2 s.
     */
    static synchronized void warmUp() {
        if (warm) return;
        // 13x13: interior, edge and partial tiles; 4 channel blocks, so loop profiles look like real layers
        final int h = 13, w = 13, c = 4 * LANES, k = 4 * LANES, ht = 4, wt = 4;
        final long tiles = 16;
        // A shared arena, like a plan's buffers: with a confined one C2 specialises the segment accesses on
        // an owner-thread check a plan's first runs then fail, and deoptimises the transforms mid-run.
        try (Arena a = Arena.ofShared()) {
            MemorySegment x = a.allocate((long) h * w * c * 4, 64), y = a.allocate((long) h * w * k * 4, 64);
            MemorySegment v = a.allocate(36 * tiles * c * 4, 64), m = a.allocate(36 * tiles * k * 4, 64), bias = a.allocate(k * 4L, 64);
            float[] scratch = new float[SCRATCH];
            long best = Long.MAX_VALUE, deadline = System.nanoTime() + 2_000_000_000L;
            for (int round = 0, flat = 0; (round < 40 || flat < 3) && System.nanoTime() < deadline; round++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < 250; i++) {
                    if (maxMagnitudeBits(x, (i & 1) * LANES, (long) h * w * c) < 0) throw new AssertionError();   // keeps C2 from dropping it
                    input(x, h, w, c, ht, wt, v, tiles, 0, tiles, 0, scratch);
                    output(m, bias, (i & 1) == 0, (i & 2) == 0, h, w, k, ht, wt, y, tiles, 0, tiles, 0, scratch);
                }
                long t = System.nanoTime() - t0;
                if (t < best * 0.9) {
                    best = t;
                    flat = 0;
                } else {
                    flat++;
                }
            }
        }
        warm = true;
    }

    /** Whether {@link #warmUp()} has finished in this JVM. */
    static boolean isWarm() {
        return warm;
    }

    /**
     * The largest |value| among the floats {@code [from, to)} of {@code x} ({@code to - from} a multiple of
     * {@link #LANES}), as the bits of that absolute value: clearing the sign bit and comparing as ints
     * orders floats by magnitude, with +Inf above every finite value and every NaN above +Inf, so one
     * integer max per vector (no NaN-aware float max) finds both huge and non-finite values.
     */
    static int maxMagnitudeBits(MemorySegment x, long from, long to) {
        final long step = I.vectorByteSize(), end = to * 4;
        int max = 0;   // a scalar carries the result: a vector carried round a loop is a phi, which C2 may box
        long at = from * 4;
        for (; at + 8 * step <= end; at += 8 * step) max = Math.max(max, maxOf8(x, at, step));
        for (; at < end; at += step) max = Math.max(max, maxOf1(x, at));
        return max;
    }

    /** {@link #maxMagnitudeBits} of the 8 vectors from {@code at}: sign bits cleared, a tree of integer maxes, one lane reduction. */
    private static int maxOf8(MemorySegment x, long at, long step) {
        final int m = 0x7fffffff;
        IntVector v0 = IntVector.fromMemorySegment(I, x, at, ORDER).and(m), v1 = IntVector.fromMemorySegment(I, x, at + step, ORDER).and(m);
        IntVector v2 = IntVector.fromMemorySegment(I, x, at + 2 * step, ORDER).and(m), v3 = IntVector.fromMemorySegment(I, x, at + 3 * step, ORDER).and(m);
        IntVector v4 = IntVector.fromMemorySegment(I, x, at + 4 * step, ORDER).and(m), v5 = IntVector.fromMemorySegment(I, x, at + 5 * step, ORDER).and(m);
        IntVector v6 = IntVector.fromMemorySegment(I, x, at + 6 * step, ORDER).and(m), v7 = IntVector.fromMemorySegment(I, x, at + 7 * step, ORDER).and(m);
        return v0.max(v1).max(v2.max(v3)).max(v4.max(v5).max(v6.max(v7))).reduceLanes(VectorOperators.MAX);
    }

    /** {@link #maxMagnitudeBits} of one vector. */
    private static int maxOf1(MemorySegment x, long at) {
        return IntVector.fromMemorySegment(I, x, at, ORDER).and(0x7fffffff).reduceLanes(VectorOperators.MAX);
    }

    /**
     * Transforms the input tiles {@code [p0, p1)} of {@code x} ({@code nhwc} {@code [n, h, w, c]},
     * zero padding 1) into {@code v} ({@code [36][chunk][c]}, row {@code p - base}: the chunk starts at tile {@code base}).
     */
    static void input(MemorySegment x, int h, int w, int c, int ht, int wt, MemorySegment v, long chunk, long p0, long p1,
                      long base, float[] scratch) {
        final long rowBytes = (long) w * c * 4, pointBytes = chunk * c * 4;
        final int perImage = ht * wt;
        for (long p = p0; p < p1; p++) {
            int img = (int) (p / perImage), r = (int) (p % perImage), ty = r / wt, tx = r % wt;
            int y0 = ty * 4 - 1, x0 = tx * 4 - 1;
            boolean interior = y0 >= 0 && x0 >= 0 && y0 + 6 <= h && x0 + 6 <= w;
            long image = (long) img * h * rowBytes;
            long out = (p - base) * c * 4;
            for (int ch = 0; ch < c; ch += LANES) {
                for (int col = 0; col < 6; col++) {
                    int xx = x0 + col;
                    long at = image + (long) y0 * rowBytes + ((long) xx * c + ch) * 4;
                    if (interior) {
                        inputColumn(x, at, rowBytes, scratch, col);
                    } else {
                        edgeColumn(x, at, rowBytes, xx >= 0 && xx < w, y0, h, scratch);
                        edgeInputColumn(scratch, col);
                    }
                }
                long o = out + (long) ch * 4;
                for (int i = 0; i < 6; i++) inputRow(scratch, i, v, o + i * 6 * pointBytes, pointBytes);
            }
        }
    }

    /** An edge tile's column: its rows inside the map copied to scratch[(36 + u) L], zeros for the padding. */
    private static void edgeColumn(MemorySegment x, long at, long rowBytes, boolean inX, int y0, int h, float[] scratch) {
        for (int u = 0; u < 6; u++) {
            int dst = (36 + u) * LANES, yy = y0 + u;
            if (inX && yy >= 0 && yy < h) MemorySegment.copy(x, ValueLayout.JAVA_FLOAT_UNALIGNED, at + u * rowBytes, scratch, dst, LANES);
            else Arrays.fill(scratch, dst, dst + LANES, 0f);
        }
    }

    /** {@link #inputColumn} for an edge column that {@link #edgeColumn} put in the scratch array. */
    private static void edgeInputColumn(float[] scratch, int col) {
        final int L = LANES, s = 36 * L;
        FloatVector d0 = FloatVector.fromArray(S, scratch, s), d1 = FloatVector.fromArray(S, scratch, s + L),
                d2 = FloatVector.fromArray(S, scratch, s + 2 * L), d3 = FloatVector.fromArray(S, scratch, s + 3 * L),
                d4 = FloatVector.fromArray(S, scratch, s + 4 * L), d5 = FloatVector.fromArray(S, scratch, s + 5 * L);
        FloatVector a = d2.mul(-4f).add(d4), b = d1.mul(-4f).add(d3);
        FloatVector e = d4.sub(d2), f = d3.sub(d1).mul(2f);
        d0.mul(4f).add(d2.mul(-5f)).add(d4).intoArray(scratch, col * L);
        a.add(b).intoArray(scratch, (6 + col) * L);
        a.sub(b).intoArray(scratch, (12 + col) * L);
        e.add(f).intoArray(scratch, (18 + col) * L);
        e.sub(f).intoArray(scratch, (24 + col) * L);
        d1.mul(4f).add(d3.mul(-5f)).add(d5).intoArray(scratch, (30 + col) * L);
    }

    /** B^T d for one column (6 rows {@code rowBytes} apart from {@code at}): row i to scratch[(i * 6 + col) L]. */
    private static void inputColumn(MemorySegment x, long at, long rowBytes, float[] scratch, int col) {
        final int L = LANES;
        FloatVector d0 = FloatVector.fromMemorySegment(S, x, at, ORDER);
        FloatVector d1 = FloatVector.fromMemorySegment(S, x, at + rowBytes, ORDER);
        FloatVector d2 = FloatVector.fromMemorySegment(S, x, at + 2 * rowBytes, ORDER);
        FloatVector d3 = FloatVector.fromMemorySegment(S, x, at + 3 * rowBytes, ORDER);
        FloatVector d4 = FloatVector.fromMemorySegment(S, x, at + 4 * rowBytes, ORDER);
        FloatVector d5 = FloatVector.fromMemorySegment(S, x, at + 5 * rowBytes, ORDER);
        FloatVector a = d2.mul(-4f).add(d4), b = d1.mul(-4f).add(d3);
        FloatVector e = d4.sub(d2), f = d3.sub(d1).mul(2f);
        d0.mul(4f).add(d2.mul(-5f)).add(d4).intoArray(scratch, col * L);
        a.add(b).intoArray(scratch, (6 + col) * L);
        a.sub(b).intoArray(scratch, (12 + col) * L);
        e.add(f).intoArray(scratch, (18 + col) * L);
        e.sub(f).intoArray(scratch, (24 + col) * L);
        d1.mul(4f).add(d3.mul(-5f)).add(d5).intoArray(scratch, (30 + col) * L);
    }

    /** (B^T d) B for row i of the scratch: point (i, j) to {@code v} at {@code o + j * pointBytes}. */
    private static void inputRow(float[] scratch, int i, MemorySegment v, long o, long pointBytes) {
        final int L = LANES, s = i * 6 * L;
        FloatVector d0 = FloatVector.fromArray(S, scratch, s), d1 = FloatVector.fromArray(S, scratch, s + L),
                d2 = FloatVector.fromArray(S, scratch, s + 2 * L), d3 = FloatVector.fromArray(S, scratch, s + 3 * L),
                d4 = FloatVector.fromArray(S, scratch, s + 4 * L), d5 = FloatVector.fromArray(S, scratch, s + 5 * L);
        FloatVector a = d2.mul(-4f).add(d4), b = d1.mul(-4f).add(d3);
        FloatVector e = d4.sub(d2), f = d3.sub(d1).mul(2f);
        d0.mul(4f).add(d2.mul(-5f)).add(d4).intoMemorySegment(v, o, ORDER);
        a.add(b).intoMemorySegment(v, o + pointBytes, ORDER);
        a.sub(b).intoMemorySegment(v, o + 2 * pointBytes, ORDER);
        e.add(f).intoMemorySegment(v, o + 3 * pointBytes, ORDER);
        e.sub(f).intoMemorySegment(v, o + 4 * pointBytes, ORDER);
        d1.mul(4f).add(d3.mul(-5f)).add(d5).intoMemorySegment(v, o + 5 * pointBytes, ORDER);
    }

    /**
     * Transforms the products of tiles {@code [p0, p1)} ({@code m}, {@code [36][chunk][k]}, row
     * {@code p - base}) back into output tiles of {@code y} ({@code nhwc} {@code [n, h, w, k]}), adding
     * {@code bias}, then (if {@code sum}) the value {@code y} already holds, then (if {@code relu})
     * max(0, .), in the order of oneDNN's post-ops.
     */
    static void output(MemorySegment m, MemorySegment bias, boolean sum, boolean relu, int h, int w, int k, int ht, int wt,
                       MemorySegment y, long chunk, long p0, long p1, long base, float[] scratch) {
        final long rowBytes = (long) w * k * 4, pointBytes = chunk * k * 4;
        final int perImage = ht * wt;
        for (long p = p0; p < p1; p++) {
            int img = (int) (p / perImage), r = (int) (p % perImage), ty = r / wt, tx = r % wt;
            long in = (p - base) * k * 4;
            int y0 = ty * 4, rows = Math.min(4, h - y0);
            for (int ch = 0; ch < k; ch += LANES) {
                long o = in + (long) ch * 4;
                for (int i = 0; i < 6; i++) outputRow(m, o + i * 6 * pointBytes, pointBytes, scratch, i);
                for (int col = 0; col < 4; col++) {
                    int xx = tx * 4 + col;
                    if (xx >= w) break;
                    outputColumn(scratch, col);
                    long at = ((long) img * h + y0) * rowBytes + ((long) xx * k + ch) * 4;
                    for (int row = 0; row < rows; row++) store(scratch, row, bias, (long) ch * 4, y, at + row * rowBytes, sum, relu);
                }
            }
        }
    }

    /** m A for row i (6 points {@code pointBytes} apart from {@code o}): 4 values to scratch[(i * 4 + b) L]. */
    private static void outputRow(MemorySegment m, long o, long pointBytes, float[] scratch, int i) {
        final int L = LANES;
        FloatVector m0 = FloatVector.fromMemorySegment(S, m, o, ORDER);
        FloatVector m1 = FloatVector.fromMemorySegment(S, m, o + pointBytes, ORDER);
        FloatVector m2 = FloatVector.fromMemorySegment(S, m, o + 2 * pointBytes, ORDER);
        FloatVector m3 = FloatVector.fromMemorySegment(S, m, o + 3 * pointBytes, ORDER);
        FloatVector m4 = FloatVector.fromMemorySegment(S, m, o + 4 * pointBytes, ORDER);
        FloatVector m5 = FloatVector.fromMemorySegment(S, m, o + 5 * pointBytes, ORDER);
        FloatVector a = m1.add(m2), b = m1.sub(m2), e = m3.add(m4), f = m3.sub(m4);
        m0.add(a).add(e).intoArray(scratch, i * 4 * L);
        f.mul(2f).add(b).intoArray(scratch, (i * 4 + 1) * L);
        e.mul(4f).add(a).intoArray(scratch, (i * 4 + 2) * L);
        f.mul(8f).add(b).add(m5).intoArray(scratch, (i * 4 + 3) * L);
    }

    /** A^T (m A) for one column: output rows 0..3 to scratch[(36 + row) L]. */
    private static void outputColumn(float[] scratch, int col) {
        final int L = LANES;
        FloatVector m0 = FloatVector.fromArray(S, scratch, col * L), m1 = FloatVector.fromArray(S, scratch, (4 + col) * L),
                m2 = FloatVector.fromArray(S, scratch, (8 + col) * L), m3 = FloatVector.fromArray(S, scratch, (12 + col) * L),
                m4 = FloatVector.fromArray(S, scratch, (16 + col) * L), m5 = FloatVector.fromArray(S, scratch, (20 + col) * L);
        FloatVector a = m1.add(m2), b = m1.sub(m2), e = m3.add(m4), f = m3.sub(m4);
        m0.add(a).add(e).intoArray(scratch, 36 * L);
        f.mul(2f).add(b).intoArray(scratch, 37 * L);
        e.mul(4f).add(a).intoArray(scratch, 38 * L);
        f.mul(8f).add(b).add(m5).intoArray(scratch, 39 * L);
    }

    /** Output row {@code row} of the column in scratch, + bias (+ what y holds) (ReLU), to y at {@code at}. */
    private static void store(float[] scratch, int row, MemorySegment bias, long biasAt, MemorySegment y, long at, boolean sum,
                              boolean relu) {
        FloatVector t = FloatVector.fromArray(S, scratch, (36 + row) * LANES).add(FloatVector.fromMemorySegment(S, bias, biasAt, ORDER));
        if (sum) {
            FloatVector u = t.add(FloatVector.fromMemorySegment(S, y, at, ORDER));
            if (relu) u.max(0f).intoMemorySegment(y, at, ORDER);
            else u.intoMemorySegment(y, at, ORDER);
        } else if (relu) {
            t.max(0f).intoMemorySegment(y, at, ORDER);
        } else {
            t.intoMemorySegment(y, at, ORDER);
        }
    }
}
