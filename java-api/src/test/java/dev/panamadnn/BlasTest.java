package dev.panamadnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** Blas.sgemm: native agrees with the reference, on heap and off-heap; bad arguments never reach C. */
class BlasTest {
    private static float[] random(int n, long seed) {
        var rnd = new SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        return v;
    }

    /** Tolerance 1e-5 * k: a k-term float dot product summed in another order by OpenBLAS. */
    @Test
    void heapAndOffHeapAgreeWithTheReference() {
        int m = 37, n = 23, k = 51;
        float[] a = random(m * k, 1), b = random(n * k, 2), c0 = random(m * n, 3);
        for (boolean tb : new boolean[] {false, true}) {
            float[] heap = c0.clone(), ref = c0.clone();
            Blas.sgemm(false, tb, m, n, k, 0.75f, a, b, 0.25f, heap);
            Blas.sgemmReference(false, tb, m, n, k, 0.75f, MemorySegment.ofArray(a), k, MemorySegment.ofArray(b),
                    tb ? k : n, 0.25f, MemorySegment.ofArray(ref), n);
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment c = arena.allocateFrom(ValueLayout.JAVA_FLOAT, c0);
                Blas.sgemm(false, tb, m, n, k, 0.75f, arena.allocateFrom(ValueLayout.JAVA_FLOAT, a), k,
                        arena.allocateFrom(ValueLayout.JAVA_FLOAT, b), tb ? k : n, 0.25f, c, n);
                assertArrayEquals(ref, c.toArray(ValueLayout.JAVA_FLOAT), 1e-5f * k, "off-heap, transB=" + tb);
            }
            assertArrayEquals(ref, heap, 1e-5f * k, "heap, transB=" + tb);
        }
    }

    @Test
    void badArgumentsAreRejectedBeforeTheNativeCall() {
        float[] four = new float[4];
        var seg = MemorySegment.ofArray(four);
        assertMessage(() -> Blas.sgemm(false, false, -1, 2, 2, 1f, seg, 2, seg, 2, 0f, seg, 2),
                IllegalArgumentException.class, "expected m, n, k >= 0, got m=-1 n=2 k=2");
        assertMessage(() -> Blas.sgemm(false, false, 2, 2, 2, 1f, seg, 1, seg, 2, 0f, seg, 2),
                IllegalArgumentException.class, "leading dimension of A must be >= max(1, 2), got 1");
        assertMessage(() -> Blas.sgemm(false, false, 3, 2, 2, 1f, seg, 2, seg, 2, 0f, seg, 2),
                IllegalArgumentException.class, "A (3x2, ld 2) needs 24 bytes, got a segment of 16");
        assertMessage(() -> Blas.sgemm(false, true, 2, 2, 3, 1f, MemorySegment.ofArray(new float[6]), 3, seg, 2, 0f, seg, 2),
                IllegalArgumentException.class, "leading dimension of B must be >= max(1, 3), got 2");
        assertMessage(() -> Blas.sgemm(false, false, 2, 2, 2, 1f, seg, 2, seg, 2, 0f, seg.asReadOnly(), 2),
                IllegalArgumentException.class, "C must be writable");
        assertMessage(() -> Blas.sgemm(false, false, 2, 2, 2, 1f, null, 2, seg, 2, 0f, seg, 2),
                IllegalArgumentException.class, "A must not be null");
        MemorySegment closed;
        try (Arena arena = Arena.ofConfined()) {
            closed = arena.allocate(64);
        }
        assertMessage(() -> Blas.sgemm(false, false, 2, 2, 2, 1f, seg, 2, closed, 2, 0f, seg, 2),
                IllegalStateException.class, "the arena of B is closed");
        assertArrayEquals(new float[4], four, "nothing may have been written");
    }

    @Test
    void emptyProductsDoNothing() {
        float[] c = {1, 2};
        Blas.sgemm(false, false, 1, 2, 0, 1f, new float[0], new float[0], 1f, c);
        assertArrayEquals(new float[] {1, 2}, c, "k = 0 with beta = 1 leaves C unchanged");
    }

    private static void assertMessage(Runnable r, Class<? extends RuntimeException> type, String fragment) {
        RuntimeException e = assertThrows(type, r::run);
        assertTrue(e.getMessage().contains(fragment), () -> "expected '" + fragment + "' in: " + e.getMessage());
        assertEquals(type, e.getClass());
    }
}
