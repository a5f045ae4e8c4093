package dev.panamadnn.internal.reference;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.MemorySegment;
import java.util.function.IntPredicate;
import org.junit.jupiter.api.Test;

/**
 * The branch-free scans against their plain definitions: every interesting bit pattern (both
 * NaN signs, both infinities, zeros, subnormals, the float extremes, a threshold and its
 * neighbours) alone at every position of arrays of 1 to 40 ordinary floats (so vectorised loop
 * bodies and tails both see it), and arrays without one.
 */
class SpecialValuesTest {
    private static final float THRESHOLD = 0x1p126f;
    private static final int[] PATTERNS = {
            0x7fc00000, 0xffc00000, 0x7f800001, 0xff800001, 0x7fffffff, 0xffffffff,   // NaNs
            0x7f800000, 0xff800000,                                                   // +-inf
            0x00000000, 0x80000000, 0x00000001, 0x80000001,                           // +-0, +-MIN_VALUE
            0x7f7fffff, 0xff7fffff, 0x3f800000, 0xbf800000,                           // +-MAX_VALUE, +-1
            Float.floatToRawIntBits(THRESHOLD), Float.floatToRawIntBits(THRESHOLD) - 1, Float.floatToRawIntBits(THRESHOLD) + 1,
            Float.floatToRawIntBits(-THRESHOLD)};

    private interface Scan {
        boolean any(MemorySegment data, long count);
    }

    private static void check(String name, Scan scan, IntPredicate definition) {
        for (int n = 1; n <= 40; n++) {
            float[] plain = new float[n];
            for (int i = 0; i < n; i++) plain[i] = (i % 7) - 3.5f;
            assertEquals(false, scan.any(MemorySegment.ofArray(plain), n), name + " on " + n + " ordinary floats");
            for (int bits : PATTERNS) {
                for (int at = 0; at < n; at++) {
                    float[] x = plain.clone();
                    x[at] = Float.intBitsToFloat(bits);
                    assertEquals(definition.test(bits), scan.any(MemorySegment.ofArray(x), n),
                            name + ": bits 0x" + Integer.toHexString(bits) + " (" + x[at] + ") at " + at + " of " + n);
                }
            }
        }
    }

    @Test
    void anyNaN() {
        check("anyNaN", SpecialValues::anyNaN, b -> Float.isNaN(Float.intBitsToFloat(b)));
    }

    @Test
    void anyNonFinite() {
        check("anyNonFinite", SpecialValues::anyNonFinite, b -> !Float.isFinite(Float.intBitsToFloat(b)));
    }

    @Test
    void anyAtLeast() {
        check("anyAtLeast", (d, n) -> SpecialValues.anyAtLeast(d, n, THRESHOLD),
                b -> Float.intBitsToFloat(b) >= THRESHOLD || Float.isNaN(Float.intBitsToFloat(b)) && b > 0);
    }

    @Test
    void anyBitwiseEqual() {
        check("anyBitwiseEqual", (d, n) -> SpecialValues.anyBitwiseEqual(d, n, -Float.MAX_VALUE), b -> b == 0xff7fffff);
    }

    @Test
    void countLimitsTheScan() {
        float[] x = {1, 2, Float.NaN};
        assertEquals(false, SpecialValues.anyNaN(MemorySegment.ofArray(x), 2), "a NaN past count must not be seen");
    }
}
