package dev.panamadnn.server;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One batcher worker's native tensors for its runs, kept from batch to batch: the stacked inputs and the output of a
 * model of one input and one output, per shape and dtype. Before, each batch took a new shared arena for its inputs
 * and a new owned tensor for its output, and closing each is a JDK handshake with every thread of the JVM (25-40 µs
 * measured on a 2-vCPU VM with the server's thread count, twice per batch, and every other thread stopped meanwhile).
 * Each tensor has a shared arena of its own (a split plan's helper threads read the inputs), closed when it is evicted
 * (at most {@value #MAX_TENSORS} kept, least recently used first out: a model with variable dims meets many shapes) or
 * when the worker ends. Used by its worker thread only, one batch at a time; not thread-safe.
 */
final class Staging implements AutoCloseable {
    /** Tensors kept at most: a few per plan size and input, and shapes of a model with variable dims. */
    static final int MAX_TENSORS = 32;

    /** {@code slot}: input i as i, the output as -1. */
    private record Key(int slot, DataType dtype, long[] shape) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && k.slot == slot && k.dtype == dtype && Arrays.equals(k.shape, shape);
        }

        @Override
        public int hashCode() {
            return 31 * (31 * slot + dtype.hashCode()) + Arrays.hashCode(shape);
        }
    }

    private record Held(Arena arena, Tensor tensor) {}

    private final Map<Key, Held> held = new LinkedHashMap<>(16, 0.75f, true);   // access order: the eldest is the least recently used

    /** The tensor for input {@code i} of {@code shape} (contents left from its last use: the caller writes every byte). */
    Tensor input(int i, DataType dtype, long[] shape) {
        return tensor(new Key(i, dtype, shape.clone()));
    }

    /** The tensor for the one output, of {@code shape} (the run writes every element). */
    Tensor output(DataType dtype, long[] shape) {
        return tensor(new Key(-1, dtype, shape.clone()));
    }

    /** Tensors held now (for tests). */
    int size() {
        return held.size();
    }

    private Tensor tensor(Key key) {
        Held h = held.get(key);
        if (h != null) return h.tensor();
        if (held.size() >= MAX_TENSORS) {
            Iterator<Held> eldest = held.values().iterator();
            Held out = eldest.next();
            eldest.remove();
            out.arena().close();
        }
        Arena arena = Arena.ofShared();
        try {
            h = new Held(arena, Tensor.allocate(arena, key.dtype(), key.shape()));
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
        held.put(key, h);
        return h.tensor();
    }

    /** Frees every tensor; the worker calls it when it ends, after its last run. */
    @Override
    public void close() {
        for (Held h : held.values()) h.arena().close();
        held.clear();
    }
}
