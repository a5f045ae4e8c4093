package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;

/** Parameter initialisation shared by the layers that have weights. */
final class Init {
    private Init() {}

    /** Floats drawn per chunk: 64 KiB of heap, reused for the whole tensor. */
    private static final int CHUNK = 1 << 14;

    /**
     * Fills contiguous {@code t} with U(-bound, bound) draws of {@code random}, element by element in
     * order ({@code (float) random.nextDouble(-bound, bound)}), so a seeded layer gets the same values
     * as ever. Draws into a heap chunk copied over in bulk: a ResNet builder fills 11.7-25.6 million
     * parameters, often in a cold JVM, where a store per element through the segment cost about as
     * much again as the draws.
     */
    static void uniform(Tensor t, SplittableRandom random, double bound) {
        MemorySegment s = t.segment();
        long n = t.numel();
        float[] chunk = new float[(int) Math.min(n, CHUNK)];
        for (long at = 0; at < n; at += chunk.length) {
            int len = (int) Math.min(chunk.length, n - at);
            for (int i = 0; i < len; i++) chunk[i] = (float) random.nextDouble(-bound, bound);
            MemorySegment.copy(chunk, 0, s, ValueLayout.JAVA_FLOAT, at * Float.BYTES, len);
        }
    }
}
