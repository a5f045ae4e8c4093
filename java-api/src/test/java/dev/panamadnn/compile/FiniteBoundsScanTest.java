package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The per-run scan of a plan's inputs ({@link FiniteBounds#maxAbsBits}) that decides whether the proven fast steps may run:
 * the largest magnitude's bits, infinity and NaN above every finite value, wherever in the segment (chunk boundaries,
 * the tail), on native and heap segments at addresses that are not 4-byte aligned. The expected value is computed
 * one element at a time with {@link Float#floatToRawIntBits} and {@link Math#abs(float)}.
 */
class FiniteBoundsScanTest {
    private static int reference(float[] v) {
        int m = 0;
        for (float x : v) m = Math.max(m, Float.floatToRawIntBits(Math.abs(x)));
        return m;
    }

    private static int scan(float[] v, boolean heap, int offset) {
        if (heap) {
            byte[] bytes = new byte[4 * v.length + offset];
            MemorySegment s = MemorySegment.ofArray(bytes).asSlice(offset, 4L * v.length);
            for (int i = 0; i < v.length; i++) s.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4L * i, v[i]);
            return FiniteBounds.maxAbsBits(s, v.length);
        }
        try (Arena a = Arena.ofConfined()) {
            MemorySegment s = a.allocate(4L * v.length + offset, 64).asSlice(offset, 4L * v.length);
            for (int i = 0; i < v.length; i++) s.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4L * i, v[i]);
            return FiniteBounds.maxAbsBits(s, v.length);
        }
    }

    @Test
    void findsTheLargestMagnitudeInfinityAndNaNAnywhere() {
        SplittableRandom r = new SplittableRandom(57);
        int chunk = FiniteBounds.CHUNK;
        int[] lengths = {0, 1, 7, chunk - 1, chunk, chunk + 1, 3 * chunk + 5, 100_003};
        float[] specials = {-1e30f, 3.3e38f, Float.NEGATIVE_INFINITY, Float.POSITIVE_INFINITY, Float.NaN,
                Float.intBitsToFloat(0xffc00001), -0.0f, Float.MIN_VALUE};
        int cases = 0;
        for (int n : lengths) {
            float[] v = new float[n];
            for (int i = 0; i < n; i++) v[i] = (float) r.nextDouble(-2, 2);
            for (boolean heap : new boolean[] {false, true}) {
                for (int offset : new int[] {0, 1, 3}) {
                    assertEquals(reference(v), scan(v, heap, offset), "n=" + n + " heap=" + heap + " offset=" + offset);
                    cases++;
                    if (n == 0) continue;
                    for (float special : specials) {
                        for (int at : new int[] {0, n - 1, n / 2, Math.min(n - 1, chunk), Math.min(n - 1, chunk - 1)}) {
                            float[] w = v.clone();
                            w[at] = special;
                            assertEquals(reference(w), scan(w, heap, offset), "n=" + n + " " + special + " at " + at + " heap=" + heap
                                    + " offset=" + offset);
                            cases++;
                        }
                    }
                }
            }
        }
        assertEquals(6 + 7 * 6 * (1 + 8 * 5), cases);
    }

    @Test
    void nanIsAboveInfinityIsAboveEveryFinite() {
        int nan = scan(new float[] {1f, Float.NaN, Float.POSITIVE_INFINITY}, false, 0);
        int inf = scan(new float[] {1f, Float.NEGATIVE_INFINITY, Float.MAX_VALUE}, false, 0);
        int max = scan(new float[] {-Float.MAX_VALUE, 1f}, false, 0);
        assertEquals(true, nan > inf, "NaN's bits above infinity's");
        assertEquals(0x7f800000, inf);
        assertEquals(Float.floatToRawIntBits(Float.MAX_VALUE), max);
        assertEquals(0, scan(new float[] {-0.0f, 0.0f}, true, 1));
    }
}
