package dev.panamadnn.server;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One batcher worker's native tensors for its runs, kept from batch to batch: the stacked inputs and the plan's
 * outputs, per slot, shape and dtype. Before, each batch took a new shared arena for its inputs
 * and new owned tensors for its outputs, and closing each is a JDK handshake with every thread of the JVM (25-40 µs
 * measured on a 2-vCPU VM with the server's thread count, twice per batch, and every other thread stopped meanwhile).
 * Each tensor has a shared arena of its own (a split plan's helper threads read the inputs), closed when it is evicted
 * or when the worker ends: at most {@value #MAX_TENSORS} tensors and {@value #MAX_BYTES} bytes are kept (a model with
 * variable dims meets many shapes, a large one's batches are large), least recently used first out, never one the
 * current batch ({@link #nextBatch()}) uses. Used by its worker thread only, one batch at a time; not thread-safe.
 */
final class Staging implements AutoCloseable {
    /** Tensors kept at most: a few per plan size and input, and shapes of a model with variable dims. */
    static final int MAX_TENSORS = 32;
    /** Bytes kept at most (beyond it only while the current batch needs them). */
    static final long MAX_BYTES = 64L << 20;

    /** {@code slot}: input i as i, output k as -1 - k. */
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

    private static final class Held {
        final Arena arena;
        final Tensor tensor;
        final long bytes;
        long batch;   // the last batch that used it

        Held(Arena arena, Tensor tensor, long bytes) {
            this.arena = arena;
            this.tensor = tensor;
            this.bytes = bytes;
        }
    }

    private final Map<Key, Held> held = new LinkedHashMap<>(16, 0.75f, true);   // access order: the eldest is the least recently used
    private long bytes, batch;

    /** Starts a batch: the tensors it takes are not evicted while it runs. */
    void nextBatch() {
        batch++;
    }

    /** The tensor for input {@code i} of {@code shape} (contents left from its last use: the caller writes every byte). */
    Tensor input(int i, DataType dtype, long[] shape) {
        return tensor(new Key(i, dtype, shape.clone()));
    }

    /** The tensor for output {@code k} (in the plan's order), of {@code shape} (the run writes every element). */
    Tensor output(int k, DataType dtype, long[] shape) {
        return tensor(new Key(-1 - k, dtype, shape.clone()));
    }

    /** Tensors held now (for tests). */
    int size() {
        return held.size();
    }

    /** Bytes held now (for tests). */
    long bytes() {
        return bytes;
    }

    private Tensor tensor(Key key) {
        Held h = held.get(key);
        if (h == null) {
            Arena arena = Arena.ofShared();
            try {
                Tensor t = Tensor.allocate(arena, key.dtype(), key.shape());
                h = new Held(arena, t, t.segment().byteSize());
            } catch (RuntimeException | Error e) {
                arena.close();
                throw e;
            }
            held.put(key, h);
            bytes += h.bytes;
        }
        h.batch = batch;
        for (Iterator<Held> it = held.values().iterator(); it.hasNext() && (held.size() > MAX_TENSORS || bytes > MAX_BYTES); ) {
            Held old = it.next();   // least recently used first
            if (old.batch == batch) continue;   // this batch's: kept until it has run
            it.remove();
            bytes -= old.bytes;
            old.arena.close();
        }
        return h.tensor;
    }

    /** Frees every tensor; the worker calls it when it ends, after its last run. */
    @Override
    public void close() {
        for (Held h : held.values()) h.arena.close();
        held.clear();
        bytes = 0;
    }
}
