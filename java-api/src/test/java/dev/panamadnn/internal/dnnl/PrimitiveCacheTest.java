package dev.panamadnn.internal.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The bounded primitive cache on stand-in values that record whether they were closed (the
 * native side is in PrimitiveCacheRaceTest): capacity, LRU order, deferred close of an entry
 * still leased, no caching of a failed compile, and a concurrent stress in which no value is ever
 * used after it was closed.
 */
class PrimitiveCacheTest {
    /** A cached value that knows whether it was closed, and fails if closed twice. */
    static final class Value implements AutoCloseable {
        final long key;
        final AtomicBoolean closed = new AtomicBoolean();

        Value(long key) {
            this.key = key;
        }

        @Override
        public void close() {
            if (!closed.compareAndSet(false, true)) throw new AssertionError("value " + key + " closed twice");
        }
    }

    private final List<Value> made = new ArrayList<>();

    private synchronized Value make(Long key) {
        Value v = new Value(key);
        made.add(v);
        return v;
    }

    private Value use(PrimitiveCache<Long, Value> cache, long key) {
        try (PrimitiveCache.Lease<Value> lease = cache.acquire(key, this::make)) {
            assertFalse(lease.value().closed.get(), "a leased value must be open");
            return lease.value();
        }
    }

    @Test
    void capacityIsRespectedAndEvictedValuesAreClosed() {
        PrimitiveCache<Long, Value> cache = new PrimitiveCache<>(3);
        for (long k = 0; k < 10; k++) use(cache, k);
        assertEquals(3, cache.size());
        assertEquals(7, cache.evictions());
        assertEquals(10, made.size());
        for (Value v : made) assertEquals(v.key < 7, v.closed.get(), "value " + v.key + " closed?");
        cache.close();
        for (Value v : made) assertTrue(v.closed.get(), "value " + v.key + " closed by close()");
        assertEquals(0, cache.size());
    }

    @Test
    void aHitCompilesNothingAndTheLeastRecentlyUsedGoes() {
        PrimitiveCache<Long, Value> cache = new PrimitiveCache<>(2);
        Value one = use(cache, 1L);
        use(cache, 2L);
        assertSame(one, use(cache, 1L), "a hit returns the cached value");
        use(cache, 3L);   // 2 is the least recently used now
        assertEquals(3, made.size());
        assertSame(one, use(cache, 1L));
        assertTrue(made.get(1).closed.get(), "key 2 evicted");
        assertFalse(one.closed.get());
        cache.close();
    }

    @Test
    void anEntryEvictedWhileLeasedIsClosedByItsLastLease() {
        PrimitiveCache<Long, Value> cache = new PrimitiveCache<>(1);
        PrimitiveCache.Lease<Value> first = cache.acquire(1L, this::make), second = cache.acquire(1L, this::make);
        assertSame(first, second, "one shared entry per key");
        Value held = first.value();
        use(cache, 2L);   // evicts key 1 while two leases are out
        assertEquals(1, cache.evictions());
        assertTrue(first.isRetired());
        assertFalse(held.closed.get(), "evicted while leased: not closed yet");
        first.close();
        assertFalse(held.closed.get(), "one lease is still out");
        second.close();
        assertTrue(held.closed.get(), "the last lease out closes it");
        assertNotSame(held, use(cache, 1L), "a retired entry is never handed out again: key 1 compiles afresh");
        cache.close();
    }

    @Test
    void clearWhileLeasedDefersTheClose() {
        PrimitiveCache<Long, Value> cache = new PrimitiveCache<>(4);
        PrimitiveCache.Lease<Value> lease = cache.acquire(5L, this::make);
        use(cache, 6L);
        cache.clear();
        assertEquals(0, cache.size());
        assertTrue(made.get(1).closed.get(), "not leased: closed at once");
        assertFalse(lease.value().closed.get(), "leased: still open");
        lease.close();
        assertTrue(lease.value().closed.get());
        assertThrows(IllegalStateException.class, lease::close, "giving a lease back twice is refused");
    }

    @Test
    void aFailedCompileIsNotCached() {
        PrimitiveCache<Long, Value> cache = new PrimitiveCache<>(4);
        AtomicInteger attempts = new AtomicInteger();
        var e = assertThrows(IllegalArgumentException.class, () -> cache.acquire(9L, k -> {
            attempts.incrementAndGet();
            throw new IllegalArgumentException("no primitive for " + k);
        }));
        assertEquals("no primitive for 9", e.getMessage());
        assertEquals(0, cache.size());
        use(cache, 9L);
        assertEquals(1, made.size(), "the next call compiles");
        assertEquals(1, attempts.get());
        cache.close();
    }

    @Test
    void capacityBounds() {
        assertThrows(IllegalArgumentException.class, () -> new PrimitiveCache<Long, Value>(0));
        assertThrows(IllegalArgumentException.class, () -> new PrimitiveCache<Long, Value>(PrimitiveCache.MAX_CAPACITY + 1));
        // this JVM runs without the property: the default
        assertEquals(PrimitiveCache.DEFAULT_CAPACITY, new PrimitiveCache<Long, Value>().capacity());
    }

    /**
     * 8 threads lease random keys of 6 from a cache of 2 (evictions all the time) and hold each lease
     * for a moment: no thread ever sees its value closed, every value is closed exactly once (Value
     * fails on a second close), and every value not cached at the end is closed.
     */
    @Test
    void concurrentLeasesNeverSeeAClosedValue() throws Exception {
        PrimitiveCache<Long, Value> cache = new PrimitiveCache<>(2);
        AtomicReference<Throwable> failure = new AtomicReference<>();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            long seed = 100 + t;
            Runnable body = () -> {
                SplittableRandom r = new SplittableRandom(seed);
                try {
                    start.await();
                    for (int i = 0; i < 20_000; i++) {
                        try (PrimitiveCache.Lease<Value> lease = cache.acquire((long) r.nextInt(6), this::make)) {
                            if (lease.value().closed.get()) throw new AssertionError("leased a closed value " + lease.value().key);
                            if (r.nextInt(8) == 0) Thread.yield();
                            if (lease.value().closed.get()) throw new AssertionError("value " + lease.value().key + " closed under a lease");
                        }
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            };
            threads.add(t % 2 == 0 ? Thread.ofPlatform().start(body) : Thread.ofVirtual().start(body));
        }
        start.countDown();
        for (Thread t : threads) t.join();
        if (failure.get() != null) throw new AssertionError("a thread failed", failure.get());
        assertTrue(cache.size() <= 2, "size " + cache.size());
        long open = made.stream().filter(v -> !v.closed.get()).count();
        assertEquals(cache.size(), open, "only the cached values are open");
        assertTrue(cache.evictions() > 0);
        cache.close();
        assertTrue(made.stream().allMatch(v -> v.closed.get()));
        System.out.println("concurrent leases: " + made.size() + " values compiled, " + cache.evictions() + " evicted");
    }
}
