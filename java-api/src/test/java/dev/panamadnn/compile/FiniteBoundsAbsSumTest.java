package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.natives.Natives;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link FiniteBounds#absSum} and {@link FiniteBounds#absSumArray}, the row sums of |weights| behind
 * {@code fast_when_finite}'s proof (OpenBLAS's F32 {@code sasum}, and a Java double sum, each scaled by {@code 1 + 2 n 2^-24}): never below the exact sum (computed here in double, and in long
 * arithmetic on integer-valued floats where F32 accumulation must round), close above it, NaN or infinite when a weight
 * is, on heap arrays and native memory, contiguous and strided (the compiler passes only heap arrays: a constant's own
 * memory may be a mapping, NativeAccess).
 */
class FiniteBoundsAbsSumTest {
    @BeforeAll
    static void natives() {
        Natives.load();
    }

    private static double exact(float[] a, int from, int n, int stride) {
        double s = 0;
        for (int i = 0; i < n; i++) s += Math.abs((double) a[from + i * stride]);
        return s;
    }

    @Test
    void anUpperBoundCloseToTheExactSum() {
        Random r = new Random(7);
        for (int n : new int[] {1, 7, 64, 4608, 100_003}) {
            float[] a = new float[n * 3 + 5];
            for (int i = 0; i < a.length; i++) a[i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(7) - 3));
            for (int stride : new int[] {1, 3}) {
                double want = exact(a, 5, n, stride);
                double heap = FiniteBounds.absSum(MemorySegment.ofArray(a), 5, n, stride);
                if (stride == 1) {
                    double java = FiniteBounds.absSumArray(a, 5, n);
                    assertTrue(java >= want && java <= want * (1 + 4.0 * n * 0x1p-24) + 1e-30, "Java " + n + ": " + java + " vs " + want);
                }
                assertTrue(heap >= want && heap <= want * (1 + 4.0 * n * 0x1p-24) + 1e-30, n + " x " + stride + ": " + heap + " vs " + want);
                try (Arena arena = Arena.ofConfined()) {   // another alignment: another order of the SIMD sums, also a bound
                    double nat = FiniteBounds.absSum(arena.allocateFrom(ValueLayout.JAVA_FLOAT, a), 5, n, stride);
                    assertTrue(nat >= want && nat <= want * (1 + 4.0 * n * 0x1p-24) + 1e-30, "native: " + nat + " vs " + want);
                }
            }
        }
    }

    /** 2^24 + 1 and many 1s: F32 accumulation drops each 1 added to 2^24, so the raw sasum is below the exact sum. */
    @Test
    void boundsTheRoundingOfF32Accumulation() {
        int n = 4097;
        float[] a = new float[n];
        a[0] = 0x1p24f;
        java.util.Arrays.fill(a, 1, n, 1f);
        double want = 0x1p24 + (n - 1);
        assertTrue(FiniteBounds.absSum(MemorySegment.ofArray(a), 0, n, 1) >= want);
        assertTrue(FiniteBounds.absSumArray(a, 0, n) >= want);
    }

    /** Mapped memory never reaches the native sum (a file truncated under it would end the process): an exception instead. */
    @Test
    void refusesMappedMemory(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        java.nio.file.Path f = dir.resolve("w.bin");
        java.nio.file.Files.write(f, new byte[64]);
        try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(f); Arena arena = Arena.ofConfined()) {
            MemorySegment mapped = ch.map(java.nio.channels.FileChannel.MapMode.READ_ONLY, 0, 64, arena);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FiniteBounds.absSum(mapped, 0, 16, 1));
            assertTrue(e.getMessage().contains("mapped memory must be copied by Java first"), e.getMessage());
        }
    }

    @Test
    void nanOrInfinityIsNotBounded() {
        float[] a = {1, -2, Float.NaN, 4};
        assertTrue(!(FiniteBounds.absSum(MemorySegment.ofArray(a), 0, 4, 1) < Double.POSITIVE_INFINITY), "NaN");
        a[2] = Float.NEGATIVE_INFINITY;
        assertEquals(Double.POSITIVE_INFINITY, FiniteBounds.absSum(MemorySegment.ofArray(a), 0, 4, 1));
        assertEquals(0, FiniteBounds.absSum(MemorySegment.ofArray(a), 0, 0, 1));
        for (int at = 0; at < 6; at++) {   // in each of the four partial sums and the tail
            float[] b = new float[6];
            java.util.Arrays.fill(b, 1f);
            b[at] = Float.NaN;
            assertTrue(!(FiniteBounds.absSumArray(b, 0, 6) < Double.POSITIVE_INFINITY), "NaN at " + at);
            b[at] = Float.NEGATIVE_INFINITY;
            assertEquals(Double.POSITIVE_INFINITY, FiniteBounds.absSumArray(b, 0, 6), "-inf at " + at);
        }
        assertEquals(0, FiniteBounds.absSumArray(a, 2, 0));
    }
}
