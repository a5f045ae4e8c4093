package dev.panamadnn.spark;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The models loaded in this JVM (an executor's, or the driver's in local mode), one per
 * {@link ModelSpec#key()}: loaded by the first task that needs it, shared by every later task,
 * closed by a shutdown hook when the JVM exits. A load that fails is not remembered: the next task
 * (Spark's retry) tries again.
 */
final class ExecutorModels {
    private static final ConcurrentHashMap<String, LoadedModel> MODELS = new ConcurrentHashMap<>();
    private static final AtomicLong LOADS = new AtomicLong();

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "panama-dnn-spark-close-models"));
    }

    private ExecutorModels() {}

    /** The loaded model for {@code spec}, loading it now if this JVM has not (other threads asking meanwhile wait for it). */
    static LoadedModel get(ModelSpec spec) {
        LoadedModel m = MODELS.get(spec.key());
        if (m != null) return m;
        return MODELS.computeIfAbsent(spec.key(), k -> {
            LOADS.incrementAndGet();
            return LoadedModel.load(spec);
        });
    }

    /** How many loads this JVM has started (a test's check that tasks share one). */
    static long loads() {
        return LOADS.get();
    }

    /** How many models this JVM holds now. */
    static int loaded() {
        return MODELS.size();
    }

    /** Closes and forgets every model (each waits for its runs in flight); the next task loads again. */
    static void closeAll() {
        List<Throwable> failures = new ArrayList<>();
        for (String key : List.copyOf(MODELS.keySet())) {
            LoadedModel m = MODELS.remove(key);
            if (m == null) continue;
            try {
                m.close();
            } catch (RuntimeException e) {
                failures.add(e);
            }
        }
        if (!failures.isEmpty()) {
            IllegalStateException e = new IllegalStateException("PanamaModel: " + failures.size() + " model(s) failed to close");
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }
}
