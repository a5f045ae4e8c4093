package dev.panamadnn.bindings;

import static dev.panamadnn.bindings.cblas.cblas_h.CblasColMajor;
import static dev.panamadnn.bindings.cblas.cblas_h.CblasNoTrans;
import static dev.panamadnn.bindings.cblas.cblas_h.CblasRowMajor;
import static dev.panamadnn.bindings.cblas.cblas_h.CblasTrans;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panamadnn.bindings.cblas.cblas_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

/**
 * cblas_sgemm through the generated bindings, on off-heap memory and on heap arrays (critical
 * downcall), against a plain-Java reference: C = alpha * op(A) * op(B) + beta * C.
 *
 * <p>Tolerance: each element is a k-term float dot product; OpenBLAS blocks and vectorises the
 * sum in another order than the reference (which accumulates in double), so the difference is
 * bounded by about k * 2^-24 * sum|a*b|. We allow 1e-5 * (sum|alpha*a*b| + |beta*c|) + 1e-6.
 */
class SgemmTest {

    record Case(boolean rowMajor, boolean transA, boolean transB, int m, int n, int k, int pad) {
        @Override
        public String toString() {
            return (rowMajor ? "row" : "col") + (transA ? " A^T" : " A") + (transB ? " B^T" : " B")
                    + " m=" + m + " n=" + n + " k=" + k + " ld+" + pad;
        }
    }

    static Stream<Case> cases() {
        int[][] shapes = {{1, 1, 1}, {3, 5, 7}, {17, 13, 9}, {64, 64, 64}, {33, 1, 65}, {1, 40, 30}, {130, 70, 90}};
        List<Case> all = new ArrayList<>();
        for (int[] s : shapes)
            for (boolean row : new boolean[] {true, false})
                for (boolean ta : new boolean[] {false, true})
                    for (boolean tb : new boolean[] {false, true})
                        all.add(new Case(row, ta, tb, s[0], s[1], s[2], (s[0] + s[2]) % 4));
        return all.stream();
    }

    /** A stored matrix: rows x cols in the given major order with leading dimension ld. */
    record Stored(float[] data, int rows, int cols, int ld, boolean rowMajor) {
        float get(int r, int c) {
            return rowMajor ? data[r * ld + c] : data[c * ld + r];
        }
    }

    static Stored random(SplittableRandom rnd, int rows, int cols, int pad, boolean rowMajor) {
        int ld = (rowMajor ? cols : rows) + pad;
        float[] d = new float[Math.max(1, (rowMajor ? rows : cols) * ld)];
        for (int i = 0; i < d.length; i++) d[i] = (float) (rnd.nextDouble() * 2 - 1);
        return new Stored(d, rows, cols, ld, rowMajor);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void offHeapMatchesReference(Case c) {
        run(c, false);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void heapArraysThroughCriticalDowncallMatchReference(Case c) {
        run(c, true);
    }

    private static void run(Case c, boolean heap) {
        var rnd = new SplittableRandom(c.hashCode());
        // op(A) is m x k, op(B) is k x n; A and B are stored as their untransposed shapes.
        Stored a = c.transA ? random(rnd, c.k, c.m, c.pad, c.rowMajor) : random(rnd, c.m, c.k, c.pad, c.rowMajor);
        Stored b = c.transB ? random(rnd, c.n, c.k, c.pad, c.rowMajor) : random(rnd, c.k, c.n, c.pad, c.rowMajor);
        Stored cm = random(rnd, c.m, c.n, c.pad, c.rowMajor);
        float alpha = 1.5f, beta = -0.5f;
        float[] result = cm.data.clone();
        int order = c.rowMajor ? CblasRowMajor() : CblasColMajor();
        int ta = c.transA ? CblasTrans() : CblasNoTrans();
        int tb = c.transB ? CblasTrans() : CblasNoTrans();
        if (heap) {
            cblas_h.cblas_sgemm$critical(order, ta, tb, c.m, c.n, c.k, alpha, MemorySegment.ofArray(a.data), a.ld,
                    MemorySegment.ofArray(b.data), b.ld, beta, MemorySegment.ofArray(result), cm.ld);
        } else {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment sa = arena.allocateFrom(ValueLayout.JAVA_FLOAT, a.data);
                MemorySegment sb = arena.allocateFrom(ValueLayout.JAVA_FLOAT, b.data);
                MemorySegment sc = arena.allocateFrom(ValueLayout.JAVA_FLOAT, result);
                cblas_h.cblas_sgemm(order, ta, tb, c.m, c.n, c.k, alpha, sa, a.ld, sb, b.ld, beta, sc, cm.ld);
                result = sc.toArray(ValueLayout.JAVA_FLOAT);
            }
        }
        var out = new Stored(result, c.m, c.n, cm.ld, c.rowMajor);
        for (int i = 0; i < c.m; i++) {
            for (int j = 0; j < c.n; j++) {
                double sum = 0, mag = 0;
                for (int p = 0; p < c.k; p++) {
                    double x = c.transA ? a.get(p, i) : a.get(i, p);
                    double y = c.transB ? b.get(j, p) : b.get(p, j);
                    sum += x * y;
                    mag += Math.abs(alpha * x * y);
                }
                double expected = alpha * sum + beta * cm.get(i, j);
                double tol = 1e-5 * (mag + Math.abs(beta * cm.get(i, j))) + 1e-6;
                if (Math.abs(out.get(i, j) - expected) > tol) {
                    fail(c + (heap ? " heap" : " off-heap") + ": C[" + i + "][" + j + "] = " + out.get(i, j)
                            + ", reference " + expected + ", tolerance " + tol);
                }
            }
        }
        // Padding between rows/columns (beyond the logical n or m) must be untouched.
        for (int major = 0; major < (c.rowMajor ? c.m : c.n); major++) {
            for (int minor = c.rowMajor ? c.n : c.m; minor < cm.ld; minor++) {
                int idx = major * cm.ld + minor;
                if (result[idx] != cm.data[idx]) fail(c + ": padding element " + idx + " was written");
            }
        }
    }

    @Test
    void aHeapSegmentIsRefusedByTheNonCriticalDowncall() {
        float[] x = new float[4];
        var e = assertThrows(IllegalArgumentException.class, () -> cblas_h.cblas_sgemm(CblasRowMajor(), CblasNoTrans(),
                CblasNoTrans(), 2, 2, 2, 1f, MemorySegment.ofArray(x), 2, MemorySegment.ofArray(x), 2, 0f,
                MemorySegment.ofArray(x), 2));
        if (!e.getMessage().toLowerCase().contains("heap")) fail("unexpected message: " + e.getMessage());
    }
}
