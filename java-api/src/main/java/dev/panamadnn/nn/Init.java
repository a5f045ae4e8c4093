package dev.panamadnn.nn;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.function.Supplier;

/**
 * Parameter initialisation shared by the layers that have weights, and {@link #skip}, for building
 * a model whose parameters a checkpoint is about to overwrite.
 */
public final class Init {
    private Init() {}

    /** Floats drawn per chunk: 64 KiB of heap, reused for the whole tensor. */
    private static final int CHUNK = 1 << 14;

    /** Set on a thread while {@link #skip} runs its builder there. */
    private static final ThreadLocal<Boolean> SKIPPING = ThreadLocal.withInitial(() -> Boolean.FALSE);

    /**
     * Runs {@code builder} (e.g. {@code () -> ResNets.resnet50(1000)}) with the random initialisation of
     * the layers it creates on this thread skipped: their weights and biases stay zero. Like PyTorch's
     * {@code torch.nn.utils.skip_init}, for a model whose every parameter is loaded next ({@link
     * dev.panamadnn.SafeTensors#load}, which refuses a file that lacks one): drawing PyTorch's
     * initialisation for 11.7 M (ResNet-18) to 25.6 M (ResNet-50) parameters takes 0.1-0.2 s of a cold
     * start, all of it overwritten by the load. Layers whose defaults are not random (batch norm's ones
     * and zeros) are built as usual, as are layers other threads create meanwhile. Nested calls are allowed.
     *
     * @param <M>     the module type
     * @param builder builds the module
     * @return what {@code builder} returned
     * @throws IllegalArgumentException if {@code builder} is null; whatever {@code builder} throws
     */
    public static <M extends Module> M skip(Supplier<M> builder) {
        if (builder == null) throw new IllegalArgumentException("Init.skip: builder must not be null");
        Boolean before = SKIPPING.get();
        SKIPPING.set(Boolean.TRUE);
        try {
            return builder.get();
        } finally {
            SKIPPING.set(before);
        }
    }

    /**
     * Fills contiguous {@code t} with U(-bound, bound) draws of {@code random}, element by element in
     * order ({@code (float) random.nextDouble(-bound, bound)}), so a seeded layer gets the same values
     * as ever. Draws into a heap chunk copied over in bulk: a ResNet builder fills 11.7-25.6 million
     * parameters, often in a cold JVM, where a store per element through the segment cost about as
     * much again as the draws. Does nothing inside {@link #skip}.
     */
    static void uniform(Tensor t, SplittableRandom random, double bound) {
        if (SKIPPING.get()) return;
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
