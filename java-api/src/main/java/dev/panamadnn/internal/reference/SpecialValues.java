package dev.panamadnn.internal.reference;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Branch-free scans of f32 data for the special values a oneDNN kernel gets wrong
 * (docs/numerics.md): the native paths run their plain-Java repair only when a scan finds some.
 * Each reads the floats' bits as ints and ORs a per-element test into bit 31, so the loop has no
 * exit and no float compare (C2 unrolls it into vector ORs); cost per float in docs/numerics.md.
 */
public final class SpecialValues {
    private SpecialValues() {}

    private static final ValueLayout.OfInt BITS = ValueLayout.JAVA_INT_UNALIGNED;

    /** Whether any of the {@code count} floats at {@code data} is NaN. */
    public static boolean anyNaN(MemorySegment data, long count) {
        int acc = 0;
        // |bits| > 0x7f800000 (a NaN) iff |bits| + 0x007fffff reaches bit 31
        for (long i = 0; i < count; i++) acc |= (data.getAtIndex(BITS, i) & 0x7fffffff) + 0x007fffff;
        return acc < 0;
    }

    /** Whether any of the {@code count} floats at {@code data} is NaN or infinite. */
    public static boolean anyNonFinite(MemorySegment data, long count) {
        int acc = 0;
        // |bits| >= 0x7f800000 (exponent all ones) iff |bits| + 0x00800000 reaches bit 31
        for (long i = 0; i < count; i++) acc |= (data.getAtIndex(BITS, i) & 0x7fffffff) + 0x00800000;
        return acc < 0;
    }

    /**
     * Whether any of the {@code count} floats at {@code data} is {@code >= threshold} (a positive
     * finite float) or a NaN with the sign bit clear.
     */
    public static boolean anyAtLeast(MemorySegment data, long count, float threshold) {
        if (!(threshold > 0) || Float.isInfinite(threshold)) {
            throw new IllegalArgumentException("SpecialValues.anyAtLeast: expected a positive finite threshold, got " + threshold);
        }
        int offset = Integer.MIN_VALUE - Float.floatToRawIntBits(threshold);
        int acc = 0;
        // a non-negative bits >= threshold's iff bits + (2^31 - threshold's) reaches bit 31; ~bits drops negatives
        for (long i = 0; i < count; i++) {
            int bits = data.getAtIndex(BITS, i);
            acc |= (bits + offset) & ~bits;
        }
        return acc < 0;
    }

    /** Whether any of the {@code count} floats at {@code data} has exactly the bits of {@code value}. */
    public static boolean anyBitwiseEqual(MemorySegment data, long count, float value) {
        int target = Float.floatToRawIntBits(value), acc = 0;
        // d == 0 iff (d - 1) & ~d reaches bit 31
        for (long i = 0; i < count; i++) {
            int d = data.getAtIndex(BITS, i) ^ target;
            acc |= (d - 1) & ~d;
        }
        return acc < 0;
    }
}
