package dev.panamadnn.internal.lifetime;

import java.util.concurrent.atomic.AtomicInteger;

/**
 * A cached native object shared by concurrent users, which a cache may drop at any moment without
 * freeing it under one of them: users take a lease ({@link #tryAcquire}) and give it back
 * ({@link #close}); the cache {@link #retire}s the entry when it evicts it, after which no new
 * lease is granted, and the value is closed exactly once, by whoever is last: the retiring thread
 * if no lease is out, else the thread that gives back the last lease. (Unlike {@link InFlightCalls},
 * nobody waits: the cache that evicts carries on, and the value lives as long as its users.)
 *
 * <p>Lock-free and allocation-free: one {@link AtomicInteger} whose sign bit says "retired" and
 * whose other bits count the leases out; a lease costs two compare-and-sets (take, give back).
 *
 * @param <V> the cached value; closing it releases its native objects
 */
public class Leased<V extends AutoCloseable> implements AutoCloseable {
    private static final int RETIRED = Integer.MIN_VALUE;
    private final V value;
    private final AtomicInteger state = new AtomicInteger();

    /**
     * An entry for {@code value}, with no lease out; the entry owns it from here (closes it once retired).
     *
     * @throws IllegalArgumentException if {@code value} is null
     */
    protected Leased(V value) {
        if (value == null) throw new IllegalArgumentException("Leased: value must not be null");
        this.value = value;
    }

    /** The value; valid while the caller holds a lease (or owns the cache that retires it). */
    public final V value() {
        return value;
    }

    /** Takes a lease: true unless the entry is retired (then the caller looks it up again). */
    public final boolean tryAcquire() {
        for (;;) {
            int s = state.get();
            if (s < 0) return false;
            if (state.compareAndSet(s, s + 1)) return true;
        }
    }

    /**
     * Gives back one lease taken by {@link #tryAcquire} (exactly once per lease: try-with-resources);
     * the last one out of a retired entry closes the value, on this thread.
     *
     * @throws IllegalStateException if no lease is out (a lease given back twice), or closing the value failed
     */
    @Override
    public final void close() {
        for (;;) {
            int s = state.get();
            if ((s & Integer.MAX_VALUE) == 0) throw new IllegalStateException(this + ": a lease was given back more often than taken");
            if (state.compareAndSet(s, s - 1)) {
                if (s - 1 == RETIRED) free();
                return;
            }
        }
    }

    /**
     * Grants no more leases; closes the value now if none is out, else leaves that to the last
     * {@link #close()}. Returns true to the one call that retired it; later calls do nothing.
     *
     * @throws IllegalStateException if closing the value (now) failed
     */
    public final boolean retire() {
        for (;;) {
            int s = state.get();
            if (s < 0) return false;
            if (state.compareAndSet(s, s | RETIRED)) {
                if (s == 0) free();
                return true;
            }
        }
    }

    /** Whether {@link #retire} was called (the value is closed, or will be when its last lease is given back). */
    public final boolean isRetired() {
        return state.get() < 0;
    }

    /** Leases out now (a diagnostic: it may change at once). */
    public final int leases() {
        return state.get() & Integer.MAX_VALUE;
    }

    private void free() {
        try {
            value.close();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("closing " + value + " failed", e);
        }
    }
}
