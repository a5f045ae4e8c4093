package dev.panamadnn.server;

import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;

/**
 * A loaded model: its configuration, its warmed plans and its batcher. Built only once every plan
 * size is compiled and warmed (so a model in the registry is ready); {@link #close()} drains the
 * batcher (every queued request is answered) before it closes the plans, then the weights.
 */
final class ServedModel implements AutoCloseable {
    private final ModelConfig config;
    private final ModelLoader.Loaded loaded;
    private final Variants variants;
    private final Batcher batcher;

    private ServedModel(ModelConfig config, ModelLoader.Loaded loaded, ServerMetrics metrics) {
        this.config = config;
        this.loaded = loaded;
        this.variants = new Variants(loaded);
        this.batcher = new Batcher(config, variants, metrics);
    }

    /** Compiles and warms every plan size of {@code loaded}, then starts serving; closes {@code loaded} if that fails. */
    static ServedModel start(ModelConfig config, ModelLoader.Loaded loaded, ServerMetrics metrics) {
        try {
            loaded.warmup();
        } catch (RuntimeException e) {
            loaded.close();
            throw e;
        } catch (OutOfMemoryError e) {
            // the memory its plans need at the configured sizes (e.g. a whole shape of 10^12 elements in config.json): refused
            // as that model's problem (a 400 at load), not left to end the server
            loaded.close();
            throw new IllegalArgumentException(config.name() + ": its plans cannot be allocated at the configured sizes: " + e.getMessage(), e);
        }
        ServedModel m = new ServedModel(config, loaded, metrics);
        try {
            m.warmShapes();
            return m;
        } catch (RuntimeException e) {
            m.close();
            throw e;
        }
    }

    /**
     * Builds and warms the shapes config.json's {@code warm_shapes} gives (a model with variable dims), so that their first
     * requests pay no import or compile and readiness includes them.
     *
     * @throws IllegalArgumentException naming the shape the model cannot take
     */
    private void warmShapes() {
        for (int k = 0; k < config.warmShapes().size(); k++) {
            long[][] shapes = config.warmShapes().get(k);
            try {
                checkShapes(shapes);
                try (Variants.Lease lease = variants.acquire(shapes)) {
                    lease.loaded().warmup();
                }
            } catch (ApiException e) {
                throw new IllegalArgumentException(config.name() + ": warm_shapes[" + k + "]: " + e.getMessage(), e);
            } catch (OutOfMemoryError e) {
                throw new IllegalArgumentException(config.name() + ": warm_shapes[" + k + "]: its plans cannot be allocated: " + e.getMessage(), e);
            }
        }
    }

    ModelConfig config() {
        return config;
    }

    /**
     * The served outputs, in the configuration's order (with variable dims, their samples' {@link ModelConfig#VARIABLE}
     * dims are sized per request: {@link Batcher.Result#outputs()} has them).
     */
    java.util.List<ModelLoader.Output> outputs() {
        return loaded.outputs();
    }

    /** The batch sizes with a compiled plan ({@code [1]} for a model without a batch dim; none for one with variable dims). */
    int[] compiledBatchSizes() {
        return loaded.compiledBatchSizes();
    }

    /** Compiled plans: one per batch size, of every cached shape for a model with variable dims. */
    int plansCompiled() {
        return variants.plansCompiled();
    }

    /** Shapes cached for a model with variable dims (0 for one of fixed shapes). */
    int shapesCached() {
        return variants.size();
    }

    /** Native bytes the plans hold in constants. */
    long constantBytes() {
        return variants.constantBytes();
    }

    /**
     * Marks a request for this model as on its way in (received, being read and checked) until the returned handle is
     * closed, once it is queued or refused: an adaptive batcher waits for such requests ({@link Batcher#arriving()}).
     */
    Arrival arrive() {
        batcher.arriving().incrementAndGet();
        return new Arrival(batcher.arriving());
    }

    /** A request on its way in; {@link #close()} (idempotent) once it is queued or refused. */
    static final class Arrival implements AutoCloseable {
        private java.util.concurrent.atomic.AtomicInteger count;

        private Arrival(java.util.concurrent.atomic.AtomicInteger count) {
            this.count = count;
        }

        @Override
        public void close() {
            if (count != null) count.decrementAndGet();
            count = null;
        }
    }

    /** Requests waiting in the batcher's queue. */
    int queueDepth() {
        return batcher.queueDepth();
    }

    /** Whether this instance was unloaded or replaced and is finishing its queue. */
    boolean isDraining() {
        return batcher.isDraining();
    }

    /** Test seam: see {@link Batcher#disconnectedWaiting}. */
    long disconnectedWaiting() {
        return batcher.disconnectedWaiting();
    }

    /** Test seam: see {@link Batcher#pause}. */
    void pause(boolean on) {
        batcher.pause(on);
    }

    /**
     * Queues a validated request of {@code rows} samples of each input (little-endian bytes of its datatype), of input
     * shapes {@code shapes}; see {@link Batcher#submit}.
     */
    CompletableFuture<Batcher.Result> submit(byte[][] data, int rows, long[][] shapes, long deadlineNanos, BooleanSupplier connected) {
        return batcher.submit(data, rows, shapes, deadlineNanos, connected);
    }

    /** Queues a validated request; see {@link #submit(byte[][], int, long[][], long, BooleanSupplier)}. */
    CompletableFuture<Batcher.Result> submit(InferRequest request, long deadlineNanos, BooleanSupplier connected) {
        return submit(request.data(), request.rows(), request.shapes(), deadlineNanos, connected);
    }

    /** Checks a request's shapes against each other (a model with variable dims); see {@link ModelLoader.Shapes#check}. */
    void checkShapes(long[][] shapes) {
        if (loaded.shapes() != null) loaded.shapes().check(shapes);
    }

    /** Drains the queue (every accepted request answered), then closes the plans (every shape's) and the weights. */
    @Override
    public void close() {
        try {
            batcher.drain();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        variants.close();
        loaded.close();
    }
}
