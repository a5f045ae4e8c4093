package dev.panamadnn.internal.lifetime;

import java.lang.foreign.Arena;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The memory a tensor owns (a shared arena of its own) and its release.
 *
 * <p>Why a release is deferred: closing a shared arena is a JDK handshake with every Java
 * thread (so that none is inside an access to the memory), which costs the closing thread
 * 60-100 µs on a quiet 2-vCPU VM (JMH {@code OverheadBenchmark.allocSharedZeroed}: most of it
 * waiting for the VM thread and the woken threads, not computing) against 0.1 µs for the
 * allocation itself: more than a small layer's whole call, and about 4% of a 2 ms convolution.
 * {@link #release()} therefore marks the memory released at once (every tensor over it answers
 * {@code isAlive() == false} and refuses further use with an {@link IllegalStateException}) and
 * hands the arena to one background thread that closes it; the caller does not wait.
 *
 * <p>What stays as before: memory is never freed under a native call (the closer waits for
 * calls holding the arena, as {@link NativeAccess#closeWaiting} does); a raw
 * {@code MemorySegment} taken from the tensor before its release stays readable until the
 * closer has closed the arena (microseconds later; then every access is the JDK's
 * {@code IllegalStateException}), never freed memory. What bounds the lag: at most
 * {@link #MAX_PENDING_BYTES} bytes wait for the closer; past that the releasing thread closes
 * its arena itself (the old, synchronous path), and an allocation that runs out of direct
 * memory first waits for the pending releases ({@link #awaitPendingReleases}) and tries once more.
 * {@code -Dpanamadnn.tensor.syncClose=true} makes every release synchronous.
 */
public final class OwnedMemory {
    /** Bytes waiting for the closer at most (64 MiB); a release beyond it closes on the caller's thread. */
    public static final long MAX_PENDING_BYTES = 64L << 20;
    /** Releases waiting for the closer at most; a release beyond it closes on the caller's thread. */
    public static final int MAX_PENDING = 1024;
    private static final boolean SYNC = Boolean.getBoolean("panamadnn.tensor.syncClose");

    private static final ConcurrentLinkedQueue<OwnedMemory> QUEUE = new ConcurrentLinkedQueue<>();
    private static final AtomicLong PENDING_BYTES = new AtomicLong();
    private static final AtomicInteger PENDING = new AtomicInteger();
    private static final AtomicInteger CLOSER_STATE = new AtomicInteger();   // 0 none, 1 starting, 2 running, 3 could not start
    private static volatile Thread closer;

    private final Arena arena;
    private final long bytes;
    private final AtomicBoolean released = new AtomicBoolean();

    /**
     * @param arena the shared arena holding the memory (closed by {@link #release()})
     * @param bytes how much it holds (for the bound on pending releases)
     */
    public OwnedMemory(Arena arena, long bytes) {
        this.arena = arena;
        this.bytes = bytes;
    }

    /** {@return whether {@link #release()} was called (the memory may not be freed yet)} */
    public boolean isReleased() {
        return released.get();
    }

    /** Marks the memory released and has it freed; a second call does nothing. */
    public void release() {
        if (!released.compareAndSet(false, true)) return;
        if (SYNC || !reserve(bytes)) {
            NativeAccess.closeWaiting(arena);
            return;
        }
        QUEUE.add(this);
        LockSupport.unpark(closer);
    }

    /**
     * Waits until every release handed to the closer so far has freed its memory (for an
     * allocation that ran out of direct memory). Returns at once when nothing is pending.
     */
    public static void awaitPendingReleases() {
        for (int attempt = 0; PENDING.get() > 0; attempt++) {
            LockSupport.unpark(closer);
            InFlightCalls.pause(attempt);
        }
    }

    /** {@return the number of releases not yet freed (for tests)} */
    public static int pendingReleases() {
        return PENDING.get();
    }

    /** Counts a release in for the closer, or says it must close on the caller's thread (bounds reached, no closer). */
    private static boolean reserve(long bytes) {
        if (PENDING.incrementAndGet() > MAX_PENDING) {
            PENDING.decrementAndGet();
            return false;
        }
        if (PENDING_BYTES.addAndGet(bytes) > MAX_PENDING_BYTES || !startCloser()) {
            PENDING_BYTES.addAndGet(-bytes);
            PENDING.decrementAndGet();
            return false;
        }
        return true;
    }

    private static boolean startCloser() {
        if (closer != null) return true;
        if (CLOSER_STATE.compareAndSet(0, 1)) {
            try {
                Thread t = Thread.ofPlatform().daemon().name("panama-dnn-tensor-closer").unstarted(OwnedMemory::closeLoop);
                t.setContextClassLoader(null);   // pins no application's class loader
                t.start();
                closer = t;
                CLOSER_STATE.set(2);
            } catch (RuntimeException | Error e) {
                CLOSER_STATE.set(3);   // e.g. no threads left: every release closes on its own thread from now on
                return false;
            }
        }
        for (int attempt = 0; closer == null; attempt++) {
            if (CLOSER_STATE.get() == 3) return false;
            InFlightCalls.pause(attempt);
        }
        return true;
    }

    private static void closeLoop() {
        while (true) {
            OwnedMemory m = QUEUE.poll();
            if (m == null) {
                LockSupport.park();
                continue;
            }
            try {
                NativeAccess.closeWaiting(m.arena);
            } catch (Throwable t) {
                // Closing a shared arena fails only while a call holds it, which closeWaiting waits out.
            } finally {
                PENDING_BYTES.addAndGet(-m.bytes);
                PENDING.decrementAndGet();
            }
        }
    }
}
