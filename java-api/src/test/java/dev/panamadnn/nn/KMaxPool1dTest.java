package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The quickselect kernel of {@link KMaxPool1d} against the sorting reference (bit for bit: both
 * copy input values), on random inputs with and without ties, signed zeros, NaN and infinities,
 * plus hand-checked examples of the order and tie rules.
 */
class KMaxPool1dTest {
    private static float[] pool(KMaxPool1d p, Backend backend, float[] row) {
        try (Tensor x = Tensor.of(row, 1, row.length); Tensor y = p.forward(x, backend)) {
            return y.toFloatArray();
        }
    }

    @Test
    void keepsTheLargestInTheirOriginalOrder() {
        try (KMaxPool1d p = new KMaxPool1d(3)) {
            for (Backend b : Backend.values()) {
                assertArrayEquals(new float[] {5, 9, 7}, pool(p, b, new float[] {1, 5, 2, 9, 3, 7}), b.name());
            }
        }
    }

    @Test
    void tiesGoToTheLowerIndex() {
        // values 3 at indices 0, 2, 4; k=2 must take indices 0 and 2. Marked by which 3 comes with which neighbour:
        float[] row = {3, 1, 3, 2, 3};
        try (KMaxPool1d p = new KMaxPool1d(2); KMaxPool1d p4 = new KMaxPool1d(4)) {
            for (Backend b : Backend.values()) {
                assertArrayEquals(new float[] {3, 3}, pool(p, b, row), b.name());
                assertArrayEquals(new float[] {3, 3, 2, 3}, pool(p4, b, row), b.name());   // 3,3,3 then 2 (index 3)
                // -0.0 equals 0.0: the earlier one wins, visible in its sign bit
                assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(pool(p, b, new float[] {-0f, -1, 0f, -2})[0]), b.name());
                assertEquals(Float.floatToRawIntBits(0f), Float.floatToRawIntBits(pool(p, b, new float[] {0f, -1, -0f, -2})[0]), b.name());
            }
        }
    }

    @Test
    void nanCountsAsLargest() {
        try (KMaxPool1d p = new KMaxPool1d(2)) {
            for (Backend b : Backend.values()) {
                float[] y = pool(p, b, new float[] {1, Float.POSITIVE_INFINITY, 2, Float.NaN, -5});
                assertEquals(Float.POSITIVE_INFINITY, y[0], b.name());
                assertTrue(Float.isNaN(y[1]), b.name() + ": " + Arrays.toString(y));
            }
        }
    }

    @ParameterizedTest(name = "levels {0} (0 = continuous)")
    @ValueSource(ints = {0, 1, 2, 3, 7})
    void nativeMatchesReferenceOnRandomInputs(int levels) {
        var rnd = new SplittableRandom(1000 + levels);
        for (int trial = 0; trial < 200; trial++) {
            int n = 1 + rnd.nextInt(3), c = 1 + rnd.nextInt(5), s = 1 + rnd.nextInt(trial < 150 ? 40 : 600);
            float[] x = new float[n * c * s];
            for (int i = 0; i < x.length; i++) {
                x[i] = levels == 0 ? (float) rnd.nextGaussian() : rnd.nextInt(levels) - levels / 2;
                if (rnd.nextInt(50) == 0) x[i] = special(rnd);
            }
            KMaxPool1d p = rnd.nextBoolean() ? new KMaxPool1d(1 + rnd.nextInt(s))
                    : KMaxPool1d.dynamic(1 + rnd.nextInt(s), 1 + rnd.nextInt(3), 3 + rnd.nextInt(2));
            boolean unbatched = n == 1 && rnd.nextBoolean();
            long[] shape = unbatched ? new long[] {c, s} : new long[] {n, c, s};
            try (p; Tensor in = Tensor.of(x, shape); Tensor yn = p.forward(in); Tensor yr = p.forwardReference(in)) {
                String what = p + " on " + in + " trial " + trial;
                assertArrayEquals(yr.shape(), yn.shape(), what);
                assertArrayEquals(bits(yr.toFloatArray()), bits(yn.toFloatArray()), what);
                assertEquals(p.k(s), yn.shape()[yn.rank() - 1], what);
            }
        }
    }

    private static float special(SplittableRandom rnd) {
        float[] s = {Float.NaN, -0f, 0f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MAX_VALUE};
        return s[rnd.nextInt(s.length)];
    }

    private static int[] bits(float[] v) {
        int[] b = new int[v.length];
        for (int i = 0; i < v.length; i++) b[i] = Float.floatToRawIntBits(v[i]);
        return b;
    }

    @Test
    void stridedInputIsRead() {
        var rnd = new SplittableRandom(7);
        float[] x = new float[2 * 3 * 12];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        try (KMaxPool1d p = KMaxPool1d.dynamic(2, 1, 2); Tensor full = Tensor.of(x, 2, 3, 12)) {
            Tensor view = full.slice(2, 1, 10);   // [2, 3, 9], not contiguous
            try (Tensor contiguous = Tensor.of(view.toFloatArray(), view.shape()); Tensor a = p.forward(view);
                 Tensor b = p.forward(contiguous); Tensor r = p.forwardReference(view)) {
                assertArrayEquals(new long[] {2, 3, 5}, a.shape());   // ceil(9/2) = 5
                assertArrayEquals(b.toFloatArray(), a.toFloatArray());
                assertArrayEquals(r.toFloatArray(), a.toFloatArray());
            }
        }
    }

    @Test
    void orderPreservingKeys() {
        float[] ascending = {Float.NEGATIVE_INFINITY, -Float.MAX_VALUE, -1, -Float.MIN_VALUE, 0f, Float.MIN_VALUE, 1, Float.MAX_VALUE,
                Float.POSITIVE_INFINITY, Float.NaN};
        for (int i = 1; i < ascending.length; i++) {
            assertTrue(KMaxKernels.key(ascending[i - 1]) < KMaxKernels.key(ascending[i]), ascending[i - 1] + " < " + ascending[i]);
        }
        assertEquals(KMaxKernels.key(0f), KMaxKernels.key(-0f));
        assertEquals(KMaxKernels.key(Float.NaN), KMaxKernels.key(Float.intBitsToFloat(0xFFC00001)));
    }
}
