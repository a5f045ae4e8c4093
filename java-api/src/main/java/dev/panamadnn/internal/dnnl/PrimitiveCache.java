package dev.panamadnn.internal.dnnl;

import dev.panamadnn.internal.lifetime.Leased;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * Compiled primitives (and whatever native objects go with them) keyed by input shape, one cache
 * per layer: created once on first use, shared by every thread after that, and bounded to the
 * {@link #capacity()} most recently used shapes, so a layer fed ever new shapes (a server's
 * variable batch sizes) keeps a steady amount of native memory.
 *
 * <p><b>Use.</b> A forward holds its entry for as long as it touches the entry's native objects:
 * <pre>{@code
 * try (PrimitiveCache.Lease<Compiled> lease = cache.acquire(key, this::compile)) {
 *     Compiled c = lease.value();
 *     c.primitive().execute(...);
 * }
 * }</pre>
 *
 * <p><b>Eviction never frees under a user.</b> Each entry counts the leases out on it. Evicting
 * it (a new shape past the capacity, {@link #clear()}, {@link #close()}) takes it out of the map
 * and retires it: no new lease is granted on it (a caller that looked it up just then retries and
 * finds or compiles a fresh entry), and its native objects are closed by whoever is last, the
 * evicting thread if no lease is out, else the thread that closes the last lease. So
 * {@code clear()} may run while forwards are in flight: they finish on the old entry.
 *
 * <p><b>Cost.</b> A hit is a {@link ConcurrentHashMap#get} (no lock), one compare-and-set on the
 * entry's lease count, one atomic increment for the LRU clock, and one more on release: no
 * allocation. A miss compiles inside {@link ConcurrentHashMap#computeIfAbsent} (at most once per
 * key at a time; other keys in the same hash bin wait for it, as before the bound), then, past
 * the capacity, scans the entries for the least recently used one (O(capacity), beside a
 * primitive creation that costs milliseconds).
 *
 * <p><b>Capacity.</b> {@value #DEFAULT_CAPACITY} shapes per cache unless the system property
 * {@value #SIZE_PROPERTY} says otherwise (an integer from 1 to {@value #MAX_CAPACITY}, read once,
 * when this class is first used; an invalid value makes every layer constructor fail with an
 * {@link IllegalArgumentException} naming the property and the value).
 *
 * @param <K> the shape key (equals/hashCode by value: a record)
 * @param <V> what is compiled for it; closing it releases its native objects
 */
public final class PrimitiveCache<K, V extends AutoCloseable> implements AutoCloseable {
    /** The system property that sets the capacity of every eager primitive cache. */
    public static final String SIZE_PROPERTY = "panamadnn.primitiveCache.size";
    /** Shapes per cache when {@value #SIZE_PROPERTY} is not set. */
    public static final int DEFAULT_CAPACITY = 16;
    /** The largest capacity {@value #SIZE_PROPERTY} accepts. */
    public static final int MAX_CAPACITY = 1 << 16;

    /** The configured capacity, or a message saying why the property is invalid (read once). */
    private static final class Configured {
        static final String ERROR;
        static final int CAPACITY;

        static {
            String v = System.getProperty(SIZE_PROPERTY);
            int n = DEFAULT_CAPACITY;
            String error = null;
            if (v != null && !v.isBlank()) {
                try {
                    n = Integer.parseInt(v.strip());
                } catch (NumberFormatException e) {
                    n = 0;
                }
                if (n < 1 || n > MAX_CAPACITY) {
                    error = SIZE_PROPERTY + ": expected an integer from 1 to " + MAX_CAPACITY + " (shapes per layer), got '" + v + "'";
                    n = DEFAULT_CAPACITY;
                }
            }
            ERROR = error;
            CAPACITY = n;
        }
    }

    private final ConcurrentHashMap<K, Lease<V>> entries = new ConcurrentHashMap<>();
    private final int capacity;
    private final AtomicLong clock = new AtomicLong();
    private final AtomicLong evictions = new AtomicLong();

    /**
     * A cache holding at most {@value #SIZE_PROPERTY} shapes (default {@value #DEFAULT_CAPACITY}).
     *
     * @throws IllegalArgumentException if that property holds an invalid value
     */
    public PrimitiveCache() {
        this(configuredCapacity());
    }

    /**
     * A cache holding at most {@code capacity} shapes.
     *
     * @throws IllegalArgumentException if {@code capacity} is not in [1, {@value #MAX_CAPACITY}]
     */
    public PrimitiveCache(int capacity) {
        if (capacity < 1 || capacity > MAX_CAPACITY) {
            throw new IllegalArgumentException("PrimitiveCache: expected a capacity from 1 to " + MAX_CAPACITY + ", got " + capacity);
        }
        this.capacity = capacity;
    }

    /**
     * The capacity new caches get: {@value #SIZE_PROPERTY} as read when this class was first used,
     * else {@value #DEFAULT_CAPACITY}.
     *
     * @throws IllegalArgumentException if the property holds an invalid value
     */
    public static int configuredCapacity() {
        if (Configured.ERROR != null) throw new IllegalArgumentException(Configured.ERROR);
        return Configured.CAPACITY;
    }

    /**
     * Leases the entry for {@code key}, compiled by {@code compile} if absent (at most once per key
     * while it stays cached). Close the lease exactly once, when done with the value's native
     * objects (try-with-resources); until then the value is not closed, even if evicted.
     *
     * @throws RuntimeException whatever {@code compile} throws; nothing is cached then
     */
    public Lease<V> acquire(K key, Function<? super K, ? extends V> compile) {
        for (;;) {
            Lease<V> e = entries.get(key);
            if (e == null) {
                e = entries.computeIfAbsent(key, k -> new Lease<>(compile.apply(k), clock.incrementAndGet()));
                if (entries.size() > capacity) evictBeyondCapacity(e);
            }
            if (e.tryAcquire()) {
                e.lastUse = clock.incrementAndGet();
                return e;
            }
            // Retired between the lookup and the lease (an eviction takes an entry out of the map
            // before it retires it): look again, which finds or compiles a fresh one.
        }
    }

    /** Retires least recently used entries (never {@code keep}, the one just added) until the capacity holds. */
    private void evictBeyondCapacity(Lease<V> keep) {
        while (entries.size() > capacity) {
            Map.Entry<K, Lease<V>> oldest = null;
            for (Map.Entry<K, Lease<V>> m : entries.entrySet()) {
                if (m.getValue() != keep && (oldest == null || m.getValue().lastUse < oldest.getValue().lastUse)) oldest = m;
            }
            if (oldest == null) return;
            if (entries.remove(oldest.getKey(), oldest.getValue())) {
                evictions.incrementAndGet();
                oldest.getValue().retire();
            }
        }
    }

    /** The number of shapes cached now (at most {@link #capacity()}, give or take concurrent misses). */
    public int size() {
        return entries.size();
    }

    /** The most shapes this cache keeps. */
    public int capacity() {
        return capacity;
    }

    /** Entries evicted for capacity so far ({@link #clear()} not counted). */
    public long evictions() {
        return evictions.get();
    }

    /**
     * Forgets every entry; later calls compile afresh. Safe while forwards are running: an entry
     * still leased is closed when its last lease closes.
     */
    public void clear() {
        for (K k : entries.keySet()) {
            Lease<V> e = entries.remove(k);
            if (e != null) e.retire();
        }
    }

    /** {@link #clear()}. */
    @Override
    public void close() {
        clear();
    }

    @Override
    public String toString() {
        return "PrimitiveCache(" + entries.size() + " of " + capacity + " shapes, " + evictions.get() + " evicted)";
    }

    /**
     * One cached value and the leases out on it ({@link Leased}): the object {@link #acquire}
     * returns, shared by every concurrent user of the same key (so a lease allocates nothing).
     * Closing it gives back one lease.
     *
     * @param <V> the cached value
     */
    public static final class Lease<V extends AutoCloseable> extends Leased<V> {
        /** The cache's clock when last leased: the least recent is evicted first. */
        volatile long lastUse;

        private Lease(V value, long now) {
            super(value);
            this.lastUse = now;
        }

        @Override
        public String toString() {
            return "PrimitiveCache.Lease(" + value() + ")";
        }
    }
}
