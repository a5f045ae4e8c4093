package dev.panamadnn.server;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The plans a model runs, per request shapes. A model of fixed shapes has one {@link ModelLoader.Loaded} for every request.
 * A model with variable dims ({@link ModelConfig#variable()}) has one per distinct set of request shapes, imported and
 * compiled by its {@link ModelLoader.Shapes} on the first request of those shapes and kept in a least-recently-used cache
 * of at most {@code max_shapes}; a dropped one is closed once the runs using it are done ({@link Lease}), and built again
 * when asked for again. Shapes the model cannot take are remembered with their refusal (a 400), so that a client repeating
 * them does not make the server import the model again each time. Builds happen one at a time per model, on the worker
 * that needs one; workers running other shapes go on meanwhile. Since clients choose the sizes, a shape whose runs would
 * need more native memory for activations than a budget allows (its batch-1 plan's context bytes x max_batch_size x
 * instances, against half the machine's memory, container limits included) is refused with a 400 before any run
 * allocates them, rather than left to the allocator or the kernel's OOM killer. Thread-safe.
 */
final class Variants implements AutoCloseable {
    /** A variant in use by one run; {@link #close()} once the run is done. */
    final class Lease implements AutoCloseable {
        private Entry entry;
        private final ModelLoader.Loaded loaded;

        private Lease(Entry entry, ModelLoader.Loaded loaded) {
            this.entry = entry;
            this.loaded = loaded;
        }

        /** The model at this lease's shapes. */
        ModelLoader.Loaded loaded() {
            return loaded;
        }

        @Override
        public void close() {
            if (entry != null) release(entry);
            entry = null;
        }
    }

    /** One set of shapes: the model built for them ({@code loaded}) or why it cannot be ({@code refused}). */
    private static final class Entry {
        final ModelLoader.Loaded loaded;
        final ApiException refused;
        int users;
        boolean retired;

        Entry(ModelLoader.Loaded loaded, ApiException refused) {
            this.loaded = loaded;
            this.refused = refused;
        }
    }

    /** Request shapes as a map key (by content). */
    private record Key(long[][] shapes) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key k && Arrays.deepEquals(shapes, k.shapes);
        }

        @Override
        public int hashCode() {
            return Arrays.deepHashCode(shapes);
        }

        @Override
        public String toString() {
            return Arrays.deepToString(shapes).replace(" ", "");
        }
    }

    private final String model;
    private final ModelLoader.Loaded fixed;
    /** The lease of a model of fixed shapes: its one Loaded, nothing to release (shared by every run). */
    private final Lease fixedLease;
    private final ModelLoader.Shapes factory;
    private final int max;
    private final long budget;
    private final Map<Key, Entry> cache = new LinkedHashMap<>(16, 0.75f, true);   // access order: the eldest is the least recently used
    private final Object building = new Object();
    private boolean closed;

    /** The variants of {@code loaded}: itself for a model of fixed shapes, else built by its shape factory per request shapes. */
    Variants(ModelLoader.Loaded loaded) {
        this(loaded, defaultBudget());
    }

    /** As {@link #Variants(ModelLoader.Loaded)}, with {@code budget} bytes for one shape's activations over all its concurrent runs. */
    Variants(ModelLoader.Loaded loaded, long budget) {
        this.model = loaded.config().name();
        this.fixed = loaded.shapes() == null ? loaded : null;
        this.fixedLease = fixed == null ? null : new Lease(null, fixed);
        this.factory = loaded.shapes();
        this.max = loaded.config().maxShapes();
        this.budget = budget;
    }

    /** Half the memory of the machine (or of the container) the JVM runs on. */
    static long defaultBudget() {
        var os = java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        long total = os instanceof com.sun.management.OperatingSystemMXBean m ? m.getTotalMemorySize() : 0;
        return total > 0 ? total / 2 : Long.MAX_VALUE;
    }

    /**
     * The activation bytes all concurrent runs of {@code loaded} may hold at once: its largest batch's context (the batch-1
     * plan's, scaled by max_batch_size) for each instance.
     */
    static long activationBytes(ModelLoader.Loaded loaded) {
        ModelConfig c = loaded.config();
        long perRun = loaded.plans() != null ? Math.multiplyExact(loaded.plans().contextBytes(1), (long) c.maxBatch()) : loaded.plan().contextBytes();
        return Math.multiplyExact(perRun, (long) c.instances());
    }

    /**
     * The model at {@code shapes} (a request's: input i's sample, or whole shape without a batch dim), built if no cached
     * variant has them; close the lease when the run is done.
     *
     * @throws ApiException 400 if the model cannot take these shapes (naming why), 503 once closed
     */
    Lease acquire(long[][] shapes) {
        if (fixedLease != null) return fixedLease;
        Key key = new Key(shapes);
        Entry e = cached(key);
        if (e == null) {
            synchronized (building) {
                e = cached(key);
                if (e == null) e = insert(key, build(key));
            }
        }
        if (e.refused != null) throw e.refused;
        return new Lease(e, e.loaded);
    }

    /** The cached entry for {@code key} (one more user when it holds a model), or null. */
    private synchronized Entry cached(Key key) {
        if (closed) throw new ApiException(503, "model " + model + " is unloading", "1");
        Entry e = cache.get(key);
        if (e != null && e.loaded != null) e.users++;
        return e;
    }

    private Entry build(Key key) {
        try {
            ModelLoader.Loaded built = factory.build(key.shapes());
            long need;
            try {
                need = activationBytes(built);   // compiles the batch-1 plan (the first run would); allocates no activations
            } catch (RuntimeException | OutOfMemoryError e) {
                built.close();
                throw e;
            }
            if (need > budget) {
                built.close();
                ModelConfig c = built.config();
                return new Entry(null, new ApiException(400, String.format(java.util.Locale.ROOT, "model %s: inputs of shapes %s need about %.1f MB of"
                        + " activations (%s x %d instances), more than the %.1f MB the server gives one shape (half its memory)", model, key,
                        need / 1048576.0, c.batched() ? "the batch-1 plan's x max_batch_size " + c.maxBatch() : "the plan's", c.instances(),
                        budget / 1048576.0)));
            }
            return new Entry(built, null);
        } catch (OutOfMemoryError e) {   // not remembered: memory may be there for the next try
            throw new ApiException(400, "model " + model + ": inputs of shapes " + key + " need more memory than the server has: " + e.getMessage());
        } catch (RuntimeException e) {
            return new Entry(null, new ApiException(400, "model " + model + ": cannot serve inputs of shapes " + key + ": " + e.getMessage()));
        }
    }

    /** Caches {@code e} (one user when it holds a model), dropping the least recently used entries past {@code max}. */
    private Entry insert(Key key, Entry e) {
        List<ModelLoader.Loaded> unused = new ArrayList<>();
        boolean late;
        synchronized (this) {
            late = closed;
            if (late) {
                if (e.loaded != null) unused.add(e.loaded);
            } else {
                if (e.loaded != null) e.users++;
                cache.put(key, e);
                for (Iterator<Entry> it = cache.values().iterator(); cache.size() > max && it.hasNext(); ) {
                    Entry old = it.next();
                    if (old == e) continue;
                    it.remove();
                    old.retired = true;
                    if (old.loaded != null && old.users == 0) unused.add(old.loaded);
                }
            }
        }
        unused.forEach(ModelLoader.Loaded::close);
        if (late) throw new ApiException(503, "model " + model + " is unloading", "1");
        return e;
    }

    private void release(Entry e) {
        boolean close;
        synchronized (this) {
            close = --e.users == 0 && e.retired;
        }
        if (close) e.loaded.close();
    }

    /** Shapes cached (built or refused); 0 for a model of fixed shapes. */
    synchronized int size() {
        return cache.size();
    }

    /** Compiled plans: a fixed model's batch sizes, or those of every cached variant. */
    synchronized int plansCompiled() {
        if (fixed != null) return fixed.compiledBatchSizes().length;
        return cache.values().stream().filter(e -> e.loaded != null).mapToInt(e -> e.loaded.compiledBatchSizes().length).sum();
    }

    /**
     * Native bytes the plans hold in constants: every cached variant's own, plus each constants store their plans share
     * (the weights, held once for the shapes of a model: {@link dev.panamadnn.compile.ConstantStore}) counted once.
     */
    synchronized long constantBytes() {
        if (fixed != null) return fixed.constantBytes();
        long total = 0;
        java.util.Set<dev.panamadnn.compile.ConstantStore> stores = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        for (Entry e : cache.values()) {
            if (e.loaded == null) continue;
            var plans = e.loaded.plans();
            var plan = e.loaded.plan();
            total += plans != null ? plans.constantBytes() - plans.sharedConstantBytes() : plan.constantBytes() - plan.sharedConstantBytes();
            var store = plans != null ? plans.constantStore() : plan.constantStore();
            if (store != null && stores.add(store)) total += store.bytes();
        }
        return total;
    }

    /** Closes every cached variant not in use (the rest when their runs end); later acquires get 503. A fixed model's own plans stay. */
    @Override
    public void close() {
        List<ModelLoader.Loaded> unused = new ArrayList<>();
        synchronized (this) {
            closed = true;
            for (Entry e : cache.values()) {
                e.retired = true;
                if (e.loaded != null && e.users == 0) unused.add(e.loaded);
            }
            cache.clear();
        }
        unused.forEach(ModelLoader.Loaded::close);
    }
}
