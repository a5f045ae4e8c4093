package dev.panamadnn.internal.lifetime;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The calls in flight on one closeable object (a layer, a compiled plan), so that {@link #close()}
 * never frees native objects under a running call: every call is bracketed by {@link #enter} and
 * {@link #exit}; {@code close()} marks the object closed (no new call enters) and then waits until
 * the calls already inside have left. Lock-free and allocation-free: one {@link AtomicLong} whose
 * sign bit says "closed" and whose other bits count the calls inside (two uncontended atomic
 * adds per call).
 */
public final class InFlightCalls {
    private static final long CLOSED = Long.MIN_VALUE;
    private final AtomicLong state = new AtomicLong();

    /**
     * Registers a call.
     *
     * @throws IllegalStateException naming {@code what} if the object is closed (or closing)
     */
    public void enter(Object what) {
        if (state.getAndIncrement() < 0) {
            state.getAndDecrement();
            throw new IllegalStateException(what + " is closed");
        }
    }

    /** Ends a call registered by {@link #enter}. */
    public void exit() {
        state.getAndDecrement();
    }

    /** Whether {@link #close()} has been called. */
    public boolean isClosed() {
        return state.get() < 0;
    }

    /**
     * Marks closed and waits for the calls in flight to leave. Returns true to exactly one caller
     * (which then frees the object's native resources); later or concurrent callers get false at
     * once. A call that tries to enter after this started fails.
     */
    public boolean close() {
        long s;
        do {
            s = state.get();
            if (s < 0) return false;
        } while (!state.compareAndSet(s, s | CLOSED));
        for (int attempt = 0; state.get() != CLOSED; attempt++) pause(attempt);
        return true;
    }

    /**
     * One step of a bounded back-off for a thread waiting on native calls to finish: spins first
     * (calls of microseconds), then yields, then parks for up to a millisecond per step (calls of
     * seconds), so a waiting closer costs nothing measurable.
     */
    public static void pause(int attempt) {
        if (attempt < 64) Thread.onSpinWait();
        else if (attempt < 128) Thread.yield();
        else java.util.concurrent.locks.LockSupport.parkNanos(Math.min(1_000_000L, 10_000L * (attempt - 127)));
    }
}
