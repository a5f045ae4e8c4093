package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link FiniteBounds#partSums}, the row sums behind {@code fast_when_finite}'s proof: the sums of a row's positive parts
 * and of its negative parts' magnitudes, each never below the exact sum (computed here in double, and in long arithmetic
 * on integer-valued floats), close above it, NaN or infinite when an element is, from any offset and length.
 */
class FiniteBoundsPartSumsTest {
    @Test
    void upperBoundsCloseToTheExactSums() {
        Random r = new Random(7);
        for (int n : new int[] {0, 1, 2, 7, 64, 4608, 100_003}) {
            float[] a = new float[n + 9];
            for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
            double pos = 0, neg = 0;
            for (int i = 0; i < n; i++) {
                pos += Math.max(a[5 + i], 0);
                neg += Math.max(-a[5 + i], 0);
            }
            double[] parts = new double[2];
            FiniteBounds.partSums(a, 5, n, parts);
            double slack = 1 + 4.0 * n * 0x1p-24;
            assertTrue(parts[0] >= pos && parts[0] <= pos * slack + 1e-30, n + ": positive part " + parts[0] + " vs " + pos);
            assertTrue(parts[1] >= neg && parts[1] <= neg * slack + 1e-30, n + ": negative part " + parts[1] + " vs " + neg);
        }
    }

    /** Integer-valued floats, summed exactly in long arithmetic: the bounds are at least those sums. */
    @Test
    void atLeastTheExactIntegerSums() {
        int n = 4097;
        float[] a = new float[n];
        long pos = 0, neg = 0;
        for (int i = 0; i < n; i++) {
            a[i] = i == 0 ? 0x1p24f : (i % 3 == 0 ? -1f : 1f);
            if (a[i] > 0) pos += (long) a[i];
            else neg += (long) -a[i];
        }
        double[] parts = new double[2];
        FiniteBounds.partSums(a, 0, n, parts);
        assertTrue(parts[0] >= pos && parts[1] >= neg, parts[0] + ", " + parts[1] + " vs " + pos + ", " + neg);
    }

    @Test
    void nanOrInfinityIsNotBounded() {
        for (int at = 0; at < 5; at++) {   // in each of the two partial sums and the tail
            for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
                float[] b = {1, -1, 1, -1, 1};
                b[at] = bad;
                double[] parts = new double[2];
                FiniteBounds.partSums(b, 0, 5, parts);
                assertTrue(!(parts[0] + parts[1] < Double.POSITIVE_INFINITY), bad + " at " + at + ": " + parts[0] + ", " + parts[1]);
            }
        }
        double[] parts = {-1, -1};
        FiniteBounds.partSums(new float[] {3}, 1, 0, parts);
        assertEquals(0, parts[0]);
        assertEquals(0, parts[1]);
    }
}
