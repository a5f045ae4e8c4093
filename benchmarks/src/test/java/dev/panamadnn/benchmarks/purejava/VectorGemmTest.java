package dev.panamadnn.benchmarks.purejava;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Blas;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** VectorGemm against the plain-Java oracle Blas.sgemmReference, on edge-heavy shapes. */
class VectorGemmTest {
    @ParameterizedTest(name = "m={0} n={1} k={2} tA={3} tB={4} alpha={5} beta={6} threads={7}")
    @CsvSource({
        "1, 1, 1, false, false, 1, 0, 1",
        "6, 32, 256, false, false, 1, 0, 1",
        "7, 33, 257, false, false, 1, 0, 2",
        "16, 16, 16, false, false, 1, 0, 2",
        "100, 70, 300, true, false, 0.5, 0, 2",
        "65, 129, 31, false, true, 1, 0.25, 2",
        "97, 50, 513, true, true, 2, -1, 2",
        "64, 300, 260, false, false, 1, 0, 2",
        "200, 5, 600, false, true, 1, 0, 3",
        "5, 4200, 20, false, false, 1, 1, 2",
    })
    void matchesTheReference(int m, int n, int k, boolean tA, boolean tB, float alpha, float beta, int threads) {
        var rnd = new SplittableRandom(m * 31L + n * 7L + k);
        float[] a = random(rnd, m * k), b = random(rnd, k * n), c = random(rnd, m * n);
        float[] expected = c.clone();
        Blas.sgemmReference(tA, tB, m, n, k, alpha, MemorySegment.ofArray(a), tA ? m : k,
                MemorySegment.ofArray(b), tB ? k : n, beta, MemorySegment.ofArray(expected), n);
        try (var gemm = new VectorGemm(threads)) {
            gemm.sgemm(tA, tB, m, n, k, alpha, a, tA ? m : k, b, tB ? k : n, beta, c, n);
        }
        double worst = 0;
        for (int i = 0; i < c.length; i++) {
            double tol = 1e-5 * k + 1e-6;
            worst = Math.max(worst, Math.abs(c[i] - expected[i]) / (tol * (1 + Math.abs(expected[i]))));
        }
        assertTrue(worst <= 1, "VectorGemm differs from the reference beyond tolerance (worst/tol = " + worst + ")");
    }

    private static float[] random(SplittableRandom rnd, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = (float) (rnd.nextDouble() * 2 - 1);
        return x;
    }
}
