package dev.panamadnn.internal.dnnl;

import dev.panamadnn.internal.Sizes;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Scratchpads for eager {@link Primitive#execute} calls, reused instead of allocated per call: a
 * convolution's scratchpad is often megabytes, and allocating (mmap + page faults + zero fill)
 * and freeing it around every call cost up to a third of a small convolution's time. Buffers
 * come in power-of-two size classes; each call borrows one buffer of at least the size it needs
 * and gives it back, so concurrent calls never share one. Each class keeps at most
 * {@link #KEPT_PER_CLASS} idle buffers (the peak concurrency of eager calls on a machine is about
 * the core count); a buffer beyond that is dropped and, coming from {@link Arena#ofAuto()}, freed
 * by the garbage collector, so the pool cannot grow without bound or leak. When an allocation fails for want of
 * memory, every idle buffer is dropped ({@link #dropIdle}) before the allocation is tried again.
 */
final class Scratchpads {
    static final int KEPT_PER_CLASS = Math.max(4, 2 * Runtime.getRuntime().availableProcessors());
    private static final int CLASSES = 64;
    @SuppressWarnings("unchecked")
    private static final ConcurrentLinkedQueue<MemorySegment>[] FREE = new ConcurrentLinkedQueue[CLASSES];
    private static final AtomicInteger[] IDLE = new AtomicInteger[CLASSES];
    private static final AtomicInteger CREATED = new AtomicInteger();

    static {
        for (int i = 0; i < CLASSES; i++) {
            FREE[i] = new ConcurrentLinkedQueue<>();
            IDLE[i] = new AtomicInteger();
        }
        Sizes.registerIdleCache(Scratchpads::dropIdle);
    }

    /**
     * Drops every idle buffer (the automatic arena frees them once the collector finds them unreachable): what
     * {@link Sizes#allocate} does when an allocation fails, so buffers kept after one huge call (say, a 64 MiB
     * scratchpad per thread) never stand in the way of a tensor.
     *
     * @return whether any was dropped
     */
    static boolean dropIdle() {
        boolean any = false;
        for (int k = 0; k < CLASSES; k++) {
            while (FREE[k].poll() != null) {
                IDLE[k].decrementAndGet();
                any = true;
            }
        }
        return any;
    }

    private Scratchpads() {}

    /** The size class of {@code bytes}: buffers of class k hold 2^k bytes (at least 64). */
    static int sizeClass(long bytes) {
        long b = Math.max(64, bytes);
        return 64 - Long.numberOfLeadingZeros(b - 1);
    }

    /** A buffer of at least {@code bytes} (64-byte aligned) for one call; give it back with {@link #giveBack}. */
    static MemorySegment borrow(long bytes) {
        int k = sizeClass(bytes);
        MemorySegment s = FREE[k].poll();
        if (s != null) {
            IDLE[k].decrementAndGet();
            return s;
        }
        CREATED.incrementAndGet();
        return Sizes.allocate(Arena.ofAuto(), 1L << k, "oneDNN scratchpad", "a primitive's scratchpad (" + bytes + " bytes needed)");
    }

    /** Returns a buffer from {@link #borrow}; kept for the next call unless its class already keeps enough. */
    static void giveBack(MemorySegment s) {
        int k = sizeClass(s.byteSize());
        if (IDLE[k].incrementAndGet() <= KEPT_PER_CLASS) {
            FREE[k].offer(s);
        } else {
            IDLE[k].decrementAndGet();   // dropped: the automatic arena frees it once unreachable
        }
    }

    /** Buffers allocated so far (a diagnostic for tests: stays flat while calls reuse them). */
    static int created() {
        return CREATED.get();
    }
}
