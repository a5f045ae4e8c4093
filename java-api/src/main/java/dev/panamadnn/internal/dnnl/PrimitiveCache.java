package dev.panamadnn.internal.dnnl;

import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * Compiled primitives (and whatever native objects go with them) keyed by input shape: created
 * once on first use, shared by every thread after that, closed together. One per layer.
 *
 * @param <K> the shape key
 * @param <V> what is compiled for it; closing it releases its native objects
 */
public final class PrimitiveCache<K, V extends AutoCloseable> implements AutoCloseable {
    private final ConcurrentHashMap<K, V> entries = new ConcurrentHashMap<>();

    /** The entry for {@code key}, compiled by {@code compile} if absent (at most once per key). */
    public V get(K key, Function<? super K, ? extends V> compile) {
        return entries.computeIfAbsent(key, compile);
    }

    /** Closes and forgets every entry; later calls compile afresh. Not while forwards are running. */
    public void clear() {
        for (K k : entries.keySet()) {
            V v = entries.remove(k);
            if (v != null) closeQuietlyOrThrow(v);
        }
    }

    @Override
    public void close() {
        clear();
    }

    private static void closeQuietlyOrThrow(AutoCloseable c) {
        try {
            c.close();
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException("closing a compiled primitive failed", e);
        }
    }
}
