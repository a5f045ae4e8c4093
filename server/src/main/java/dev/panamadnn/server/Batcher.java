package dev.panamadnn.server;

import dev.panamadnn.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * A model's dynamic batcher: a bounded queue of requests and {@code instances} worker threads.
 * A worker takes the oldest request, then gathers more until the batch holds {@code maxBatch}
 * rows, reaches a preferred size with nothing more waiting, the first request has waited
 * {@code maxQueueDelay}, or (adaptive delay, the default) the queue is empty and no request for the model is on its way
 * in ({@link #arriving()}: received by the HTTP layer, not yet queued), when waiting could only add latency: a request
 * at low load runs at once, while under load the requests being received join the batch; it runs the smallest warmed plan that fits (padding with zero rows) and
 * hands each caller its own rows of each served output (as little-endian bytes of its datatype). A model of several inputs gets each input's rows stacked
 * separately, in the same request order. Requests past their deadline, abandoned by their caller or
 * whose client has disconnected are dropped before compute. A model without a batch dim ({@code max_batch_size} 0) runs
 * each request alone on its one plan, its inputs and outputs whole. A model with variable dims ({@link ModelConfig#variable()})
 * batches only requests of equal input shapes: a worker gathering a batch takes the oldest queued request of its shapes
 * ({@link JobQueue#pollMatching}), leaving the others queued for the other workers, and runs each batch on the plans
 * {@link Variants} has for its shapes (built on the first request of those shapes). Thread-safe.
 */
final class Batcher {
    /**
     * One request: {@code rows} samples of each input (in the model's order), row-major; its caller
     * waits on {@code result}; {@code connected} says whether its client is still there.
     */
    record Job(byte[][] data, int rows, long[][] shapes, long enqueuedNanos, long deadlineNanos, BooleanSupplier connected,
               CompletableFuture<Result> result) {}

    /** A request's answer: its rows of each served output (little-endian bytes of its datatype), and those outputs (names, datatypes, sample shapes). */
    record Result(byte[][] data, List<ModelLoader.Output> outputs) {}

    /** The status a request dropped because its client went away is counted with (nginx's "client closed request"; never sent). */
    static final int CLIENT_CLOSED = 499;

    private final ModelConfig config;
    private final Variants variants;
    private final boolean variable;
    private final int[] planSizes;
    private final ServerMetrics metrics;
    private final JobQueue queue;
    private final Thread[] workers;
    private final Object admission = new Object();
    /** Requests received for this model and not yet queued (or refused): what an adaptive delay waits for. */
    private final java.util.concurrent.atomic.AtomicInteger arriving = new java.util.concurrent.atomic.AtomicInteger();
    /** How long an adaptive wait sleeps before it looks at {@link #arriving} again. */
    private static final long ADAPTIVE_SLICE_NANOS = 100_000;
    private volatile boolean accepting = true;
    /** Test seam: while true, workers take nothing from the queue (tests fill it deterministically). */
    private volatile boolean paused;

    Batcher(ModelConfig config, Variants variants, ServerMetrics metrics) {
        this.config = config;
        this.variants = variants;
        this.variable = config.variable();
        this.planSizes = config.planSizes();
        this.metrics = metrics;
        this.queue = new JobQueue(config.maxQueueSize());
        this.workers = new Thread[config.instances()];
        for (int i = 0; i < workers.length; i++) {
            workers[i] = Thread.ofPlatform().name("pdnn-" + config.name() + "-" + i).daemon().start(this::work);
        }
    }

    /**
     * Queues a validated request of input shapes {@code shapes} (each input's sample, or whole shape without a batch dim);
     * its future completes with the caller's rows of each served output, or with an {@link ApiException} (504 past its
     * deadline; 400 when a model with variable dims cannot take those shapes).
     *
     * @throws ApiException 503 with Retry-After when the queue is full or the model is unloading
     */
    CompletableFuture<Result> submit(byte[][] data, int rows, long[][] shapes, long deadlineNanos, BooleanSupplier connected) {
        Job job = new Job(data, rows, shapes, System.nanoTime(), deadlineNanos, connected, new CompletableFuture<>());
        synchronized (admission) {   // so that no job slips in after drain() closed the door
            if (!accepting) throw new ApiException(503, "model " + config.name() + " is unloading", "1");
            if (!queue.offer(job)) {
                throw new ApiException(503, "model " + config.name() + ": queue full (" + config.maxQueueSize() + " requests waiting)", "1");
            }
        }
        return job.result();
    }

    /** The count of requests on their way in: incremented when one is received, decremented once it is queued or refused. */
    java.util.concurrent.atomic.AtomicInteger arriving() {
        return arriving;
    }

    /** Requests waiting. */
    int queueDepth() {
        return queue.size();
    }

    /** Test seam: queued requests whose client has disconnected (not yet dropped). */
    long disconnectedWaiting() {
        return queue.count(j -> !j.connected().getAsBoolean());
    }

    /** Whether {@link #drain} has closed the door. */
    boolean isDraining() {
        return !accepting;
    }

    /** Holds ({@code true}) or releases the workers; for tests of queueing, deadlines and shutdown. */
    void pause(boolean on) {
        paused = on;
    }

    /** Stops admitting, lets the workers finish every queued request, then returns. */
    void drain() throws InterruptedException {
        synchronized (admission) {
            accepting = false;
        }
        for (Thread w : workers) w.join();
    }

    private void work() {
        try (Staging staging = new Staging()) {
            work(staging);
        }
    }

    private void work(Staging staging) {
        while (true) {
            Job first;
            try {
                while (paused && accepting) Thread.sleep(1);
                first = queue.poll(50, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (first == null) {
                if (!accepting && queue.isEmpty()) return;
                continue;
            }
            List<Job> batch = new ArrayList<>();
            batch.add(first);
            int rows = first.rows();
            Job lead = first;
            java.util.function.Predicate<Job> joins = j -> sameShapes(j, lead);
            long until = first.enqueuedNanos() + config.maxQueueDelayMicros() * 1000;
            while (rows < config.maxBatch()) {
                if (Arrays.binarySearch(config.preferredBatchSizes(), rows) >= 0 && !queue.hasMatching(joins)) break;
                // adaptive: with nothing queued that could join and nothing on its way in, no request could join: run now
                if (config.adaptiveDelay() && arriving.get() == 0 && !queue.hasMatching(joins)) break;
                long wait = until - System.nanoTime();
                boolean slice = config.adaptiveDelay() && wait > ADAPTIVE_SLICE_NANOS;
                Job next;
                try {
                    next = queue.pollMatching(joins, config.maxBatch() - rows, wait > 0 ? (slice ? ADAPTIVE_SLICE_NANOS : wait) : 0);
                } catch (InterruptedException e) {
                    next = null;
                    slice = false;   // run what it holds
                }
                if (next == null && slice) continue;   // look at what is arriving again
                if (next == null || next == JobQueue.NO_ROOM) break;   // no room: it leads the next batch
                batch.add(next);
                rows += next.rows();
            }
            try {
                run(batch, staging);
            } catch (RuntimeException | Error e) {   // never lose a worker, never leave a caller waiting
                System.getLogger(Batcher.class.getName()).log(System.Logger.Level.ERROR, "model " + config.name() + ": batch failed", e);
                for (Job j : batch) j.result().completeExceptionally(new ApiException(500, "model " + config.name() + ": inference failed"));
            }
        }
    }

    /** Whether two requests can share a batch: always for a model of fixed shapes, else when their input shapes are equal. */
    private boolean sameShapes(Job a, Job b) {
        return !variable || Arrays.deepEquals(a.shapes(), b.shapes());
    }

    private void run(List<Job> batch, Staging staging) {
        long now = System.nanoTime();
        List<Job> live = new ArrayList<>(batch.size());
        int rows = 0;
        for (Job j : batch) {
            metrics.queued(config.name(), now - j.enqueuedNanos());
            if (j.result().isDone()) continue;   // abandoned: the caller timed out
            if (now - j.deadlineNanos() > 0) {
                j.result().completeExceptionally(new ApiException(504, "deadline exceeded while queued for model " + config.name()));
                continue;
            }
            if (!j.connected().getAsBoolean()) {   // nobody to answer: do not spend compute on it
                metrics.disconnected(config.name());
                j.result().completeExceptionally(new ApiException(CLIENT_CLOSED, "client disconnected before compute"));
                continue;
            }
            live.add(j);
            rows += j.rows();
        }
        if (live.isEmpty()) return;
        Variants.Lease lease;
        try {
            lease = variants.acquire(live.getFirst().shapes());   // a variable model imports and compiles new shapes here
        } catch (ApiException refused) {
            for (Job j : live) j.result().completeExceptionally(refused);
            return;
        }
        try (lease) {
            run(live, rows, lease.loaded(), staging);
        }
    }

    private void run(List<Job> live, int rows, ModelLoader.Loaded plans, Staging staging) {
        int planRows = planSize(rows);
        List<ModelConfig.TensorSpec> specs = config.inputs();
        List<ModelLoader.Output> outputs = plans.outputs();
        Map<String, Tensor> inputs = new LinkedHashMap<>();
        long start = System.nanoTime();
        byte[][] out;
        // the stacked inputs and the output in this worker's tensors, kept for its next batches (shared: a split plan
        // (split_batch) runs its halves on helper threads, whose Java steps read them)
        staging.nextBatch();
        try {
            for (int i = 0; i < specs.size(); i++) inputs.put(specs.get(i).name(), stack(live, i, planRows, staging));
            out = runPlans(plans, inputs, planRows, staging);
        } catch (IllegalArgumentException e) {
            // A plan refuses a value only the run sees (a token id past an embedding's rows, an index out of range): the
            // requests it came from get a 400 with that reason; in a batch each request runs alone, so that one client's
            // bad values do not fail the others' requests batched with it
            if (live.size() > 1) {
                for (Job j : live) run(List.of(j), j.rows(), plans, staging);
            } else {
                live.getFirst().result().completeExceptionally(new ApiException(400, "model " + config.name() + ": " + e.getMessage()));
            }
            return;
        } catch (RuntimeException e) {
            System.getLogger(Batcher.class.getName()).log(System.Logger.Level.ERROR, "model " + config.name() + ": run failed", e);
            for (Job j : live) j.result().completeExceptionally(new ApiException(500, "model " + config.name() + ": inference failed"));
            return;
        }
        metrics.batch(config.name(), rows, planRows, System.nanoTime() - start);
        int at = 0;   // rows handed out so far
        for (Job j : live) {
            byte[][] mine = new byte[out.length][];
            for (int k = 0; k < out.length; k++) {
                int perRow = Math.toIntExact(outputs.get(k).sampleBytes());
                mine[k] = Arrays.copyOfRange(out[k], at * perRow, (at + j.rows()) * perRow);
            }
            j.result().complete(new Result(mine, outputs));
            at += j.rows();
        }
    }

    /** Input {@code i} of every job (little-endian bytes of its datatype), stacked row after row, zero rows up to {@code planRows}. */
    private Tensor stack(List<Job> live, int i, int planRows, Staging staging) {
        ModelConfig.TensorSpec spec = config.inputs().get(i);
        Tensor in = staging.input(i, spec.dtype(), config.requestShape(live.getFirst().shapes()[i], planRows));
        java.lang.foreign.MemorySegment seg = in.segment();
        long at = 0;
        for (Job j : live) {
            java.lang.foreign.MemorySegment.copy(j.data()[i], 0, seg, java.lang.foreign.ValueLayout.JAVA_BYTE, at, j.data()[i].length);
            at += j.data()[i].length;
        }
        seg.asSlice(at).fill((byte) 0);   // the padding rows (the tensor holds an earlier batch's rows)
        return in;
    }

    /**
     * The served outputs of a run, each as little-endian bytes of its datatype, run into this worker's kept tensors
     * ({@code rows}: the plan's batch): one input and one FP32 output, the plan set's single-tensor run; else by name,
     * a tensor for every output the plan has (served or not).
     */
    private static byte[][] runPlans(ModelLoader.Loaded plans, Map<String, Tensor> inputs, int rows, Staging staging) {
        List<ModelLoader.Output> outputs = plans.outputs();
        if (inputs.size() == 1 && outputs.size() == 1 && outputs.getFirst().sole() && outputs.getFirst().datatype().equals("FP32")) {
            Tensor input = inputs.values().iterator().next();
            Tensor output = staging.output(0, dev.panamadnn.DataType.F32, plans.outputShape(input));
            plans.run(input, output);
            return new byte[][] {output.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)};
        }
        List<dev.panamadnn.graph.Value> made = plans.outputValues(rows);
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (int k = 0; k < made.size(); k++) {
            dev.panamadnn.graph.Value v = made.get(k);
            all.put(v.name(), staging.output(k, v.dtype(), v.shape().sizes()));
        }
        plans.run(inputs, all);
        byte[][] out = new byte[outputs.size()][];
        for (int k = 0; k < out.length; k++) {
            String key = outputs.get(k).graphName();
            Tensor t = key == null ? all.values().iterator().next() : all.get(key);
            out[k] = t.segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
        }
        return out;
    }

    private int planSize(int rows) {
        for (int p : planSizes) if (p >= rows) return p;
        throw new IllegalStateException("batch of " + rows + " rows exceeds max_batch_size " + config.maxBatch());
    }
}
