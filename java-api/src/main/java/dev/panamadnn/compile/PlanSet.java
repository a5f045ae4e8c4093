package dev.panamadnn.compile;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.lifetime.InFlightCalls;
import dev.panamadnn.internal.lifetime.Leased;
import dev.panamadnn.nn.Layer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A model compiled for any batch size: one {@link CompiledModel} per batch size, built on first
 * use (or ahead, by {@link #warmup(int...)}), and kept in a bounded least-recently-used set of
 * {@link #maxPlans()} plans ({@value #DEFAULT_MAX_PLANS} by default).
 * <pre>{@code
 * try (PlanSet plans = PlanSet.of(model, CompileOptions.defaults(), 3, 224, 224).warmup(1, 8, 16)) {
 *     plans.run(batchOf5, output5);   // builds the plan for [5, 3, 224, 224] now, then reuses it
 *     plans.run(batchOf8, output8);   // the plan warmup built
 * }
 * }</pre>
 *
 * <p><b>Plans.</b> Each is exactly what {@link CompiledModel#compile(Module, CompileOptions, long...)}
 * builds for {@code [N, sampleShape...]}: the same primitives, the same results bit for bit, and
 * each {@link #run(Tensor, Tensor) run} has that plan's costs (0 heap bytes once warm; picking the
 * plan is a scan of at most {@code maxPlans} ints and two atomic updates, no allocation). The
 * model is read when a plan is built, so it must stay open, with its parameters unchanged, for as
 * long as new batch sizes may come; the plan set does not close it.
 *
 * <p><b>Building once.</b> Any number of threads asking for the same new batch size at once
 * build its plan once: one compiles (no lock held meanwhile, so other sizes build in parallel
 * and cached sizes keep running), the others wait for it. If the compile fails, every one of them
 * gets the failure (its type kept: {@link IllegalArgumentException} for a shape the model does not
 * take, {@link UnsupportedOperationException} for a layer the compiler does not support, else
 * {@link IllegalStateException}; the compiler's exception is the cause) and nothing is cached: the
 * next call tries again.
 *
 * <p><b>Eviction.</b> Building a plan past {@code maxPlans} evicts the least recently used one. An
 * evicted plan is closed as soon as no run uses it: each run holds a lease on its plan, so a run
 * that picked a plan just before its eviction finishes normally on it (it never sees the plan
 * closed), and the last such run closes it. A batch size that comes back is compiled again
 * ({@link #plansBuilt()}, {@link #evictions()}); size {@code maxPlans} to the batch sizes served.
 *
 * <p><b>Threads and lifetimes.</b> Safe from any number of threads, platform or virtual, as
 * {@link CompiledModel} is. {@link #close()} may race with runs: new calls fail with an
 * {@link IllegalStateException} naming this plan set, and it waits for the calls in flight
 * (including a plan being built) before closing every plan.
 */
public final class PlanSet implements AutoCloseable {
    /** Plans kept when no other bound is given. */
    public static final int DEFAULT_MAX_PLANS = 8;
    /** The most plans a set may keep: a lookup scans them all, and each holds its weights. */
    public static final int MAX_PLANS = 1024;

    /** How a plan is built for one input shape: {@link CompiledModel#compile}, or a test's stand-in. */
    @FunctionalInterface
    interface Builder {
        CompiledModel build(long[] inputShape);
    }

    /** A cached plan and the runs holding it; closed by the last one out once evicted. */
    private static final class Plan extends Leased<CompiledModel> {
        final int batch;
        volatile long lastUse;

        Plan(int batch, CompiledModel plan, long now) {
            super(plan);
            this.batch = batch;
            this.lastUse = now;
        }

        @Override
        public String toString() {
            return "plan for batch " + batch;
        }
    }

    private final String name;
    private final long[] sampleShape;
    private final CompileOptions options;
    private final int maxPlans;
    private final Builder builder;
    private final InFlightCalls calls = new InFlightCalls();
    private final Object lock = new Object();
    /** The cached plans, replaced (copy on write) under {@link #lock}, read by runs without it. */
    private volatile Plan[] plans = new Plan[0];
    /** Batch sizes being built, and the future their waiters wait on; under {@link #lock}. */
    private final Map<Integer, CompletableFuture<Plan>> building = new HashMap<>();
    private final AtomicLong clock = new AtomicLong(), built = new AtomicLong(), evictions = new AtomicLong();
    /** The output shape of one sample, once known (from the model's shape rule or the first plan). */
    private volatile long[] outputSample;
    /** Called with each run's plan after its lease is taken, before it runs: lets a test hold a run in flight. */
    volatile Consumer<CompiledModel> onLeased;

    PlanSet(Module model, CompileOptions options, long[] sampleShape, int maxPlans, Builder builder) {
        this(model == null ? null : model.getClass().getSimpleName(), model instanceof Layer l ? l : null, options, sampleShape, maxPlans,
                builder);
    }

    private PlanSet(String modelName, Layer layer, CompileOptions options, long[] sampleShape, int maxPlans, Builder builder) {
        if (modelName == null) throw new IllegalArgumentException("PlanSet: model must not be null");
        if (options == null) throw new IllegalArgumentException("PlanSet: options must not be null (CompileOptions.defaults())");
        if (sampleShape == null || sampleShape.length == 0) {
            throw new IllegalArgumentException("PlanSet: expected the shape of one sample (e.g. [3, 224, 224]), got none");
        }
        if (maxPlans < 1 || maxPlans > MAX_PLANS) {
            throw new IllegalArgumentException("PlanSet: expected maxPlans from 1 to " + MAX_PLANS + ", got " + maxPlans);
        }
        this.name = modelName;
        this.sampleShape = sampleShape.clone();
        Sizes.numel("PlanSet(" + name + "): sample", this.sampleShape);
        this.options = options;
        this.maxPlans = maxPlans;
        this.builder = builder;
        if (layer != null) {   // a shape the model does not take fails here, naming the layer
            long[] out = layer.outputShape(inputShape(2));
            if (out.length == 0 || out[0] != 2) throw notBatchPreserving(inputShape(2), out);
            outputSample = sampleOf(out);
        }
    }

    /**
     * A plan set for {@code model} on inputs {@code [N, sampleShape...]} for any batch {@code N >= 1},
     * keeping up to {@value #DEFAULT_MAX_PLANS} plans. Builds nothing yet.
     *
     * @throws IllegalArgumentException if an argument is null, the sample shape is empty or has a
     *                                  size < 1, or (for a layer, which states its output shape) the
     *                                  model does not take it (the message names the layer)
     */
    public static PlanSet of(Module model, CompileOptions options, long... sampleShape) {
        return of(model, options, sampleShape, DEFAULT_MAX_PLANS);
    }

    /**
     * {@link #of(Module, CompileOptions, long...)} keeping up to {@code maxPlans} plans.
     *
     * @throws IllegalArgumentException as that does, or if {@code maxPlans} is not in [1, {@value #MAX_PLANS}]
     */
    public static PlanSet of(Module model, CompileOptions options, long[] sampleShape, int maxPlans) {
        return new PlanSet(model, options, sampleShape, maxPlans, shape -> CompiledModel.compile(model, options, shape));
    }

    /**
     * A plan set for {@code graph}, whose one input is {@code [N, sample...]} with a symbolic batch
     * {@code N} (e.g. {@code Shape.batched("N", 3, 224, 224)}; an imported model's graph), keeping up to
     * {@code maxPlans} plans. The graph's initializers must stay alive while new sizes may be built.
     *
     * @throws IllegalArgumentException if the graph has more than one input, or its input's first
     *                                  dim is not a plain symbol or another dim is not fixed
     */
    public static PlanSet of(dev.panamadnn.graph.Graph graph, CompileOptions options, int maxPlans) {
        if (graph == null) throw new IllegalArgumentException("PlanSet: graph must not be null");
        if (graph.inputs().size() != 1) {
            throw new IllegalArgumentException("PlanSet: expected a graph with one input, got " + graph.inputs());
        }
        dev.panamadnn.graph.Shape in = graph.inputs().get(0).shape();
        boolean batched = in.rank() >= 1 && !in.dim(0).isFixed() && in.dim(0).factor() == 1;
        for (int i = 1; i < in.rank(); i++) batched &= in.dim(i).isFixed();
        if (!batched) {
            throw new IllegalArgumentException("PlanSet: expected the graph's input to be [N, fixed sizes...] with a symbolic batch N, got "
                    + graph.inputs().get(0));
        }
        long[] sample = new long[in.rank() - 1];
        for (int i = 0; i < sample.length; i++) sample[i] = in.dim(i + 1).size();
        return new PlanSet(graph.name(), null, options, sample, maxPlans, shape -> CompiledModel.compile(graph, options, shape));
    }

    /**
     * Builds (if not cached) and warms up ({@link CompiledModel#warmup()}) the plan of each batch
     * size, so the first requests of those sizes pay neither. Returns this.
     *
     * @throws IllegalArgumentException if a size is < 1 or too large, or there are more distinct sizes
     *                                  than {@link #maxPlans()} (the first would be evicted by the last)
     * @throws IllegalStateException    if this plan set is closed
     */
    public PlanSet warmup(int... batches) {
        if (batches == null || batches.length == 0) throw new IllegalArgumentException(this + ": warmup expects batch sizes, got none");
        long distinct = Arrays.stream(batches).distinct().count();
        if (distinct > maxPlans) {
            throw new IllegalArgumentException(this + ": warmup of " + distinct + " batch sizes " + Arrays.toString(batches)
                    + " would evict some of them again; keep at most maxPlans = " + maxPlans);
        }
        for (int b : batches) checkBatch(b);
        calls.enter(this);
        try {
            for (int b : batches) {
                try (Plan p = lease(b)) {
                    p.value().warmup();
                }
            }
        } finally {
            calls.exit();
        }
        return this;
    }

    /**
     * Runs the plan for {@code input}'s batch size (its first dimension; built now if not cached) and
     * returns a new output tensor the caller owns (allocated per call: use {@link #run(Tensor, Tensor)}
     * on a hot path).
     *
     * @throws IllegalArgumentException if the input is not {@code [N, sampleShape...]} (checked before any
     *                                  native call), or as {@link CompiledModel#run(Tensor)}, or building the plan failed so
     * @throws IllegalStateException    if this plan set is closed, or as {@link CompiledModel#run(Tensor)}
     */
    public Tensor run(Tensor input) {
        calls.enter(this);
        try {
            int batch = batchOf(input);
            try (Plan p = lease(batch)) {
                hold(p);
                return p.value().run(input);
            }
        } finally {
            calls.exit();
        }
    }

    /**
     * Runs the plan for {@code input}'s batch size (built now if not cached), writing {@code output},
     * whose shape must be that plan's {@link #outputShape(long) output shape}. A cached size allocates
     * nothing on the heap once its plan is warm.
     *
     * @throws IllegalArgumentException if the input is not {@code [N, sampleShape...]} or the output not
     *                                  {@code [N, ...]} for the same N (checked before any native call), or
     *                                  as {@link CompiledModel#run(Tensor, Tensor)}, or building the plan failed so
     * @throws IllegalStateException    if this plan set is closed, or as {@link CompiledModel#run(Tensor, Tensor)}
     */
    public void run(Tensor input, Tensor output) {
        calls.enter(this);
        try {
            int batch = batchOf(input);
            checkOutput(output, batch);
            try (Plan p = lease(batch)) {
                hold(p);
                p.value().run(input, output);
            }
        } finally {
            calls.exit();
        }
    }

    /**
     * The output shape for batch {@code batch}, {@code [batch, ...]}. Known without compiling for a
     * {@link Layer} model (its shape rule); for another model, from the first plan built (this builds
     * the plan for {@code batch} if there is none yet).
     *
     * @throws IllegalArgumentException if {@code batch} is < 1 or too large
     * @throws IllegalStateException    if this plan set is closed
     */
    public long[] outputShape(long batch) {
        int b = checkBatch(batch);
        long[] sample = outputSample;
        if (sample == null) {
            calls.enter(this);
            try {
                lease(b).close();   // building the first plan sets outputSample
                sample = outputSample;
            } finally {
                calls.exit();
            }
        }
        long[] shape = new long[sample.length + 1];
        shape[0] = batch;
        System.arraycopy(sample, 0, shape, 1, sample.length);
        return shape;
    }

    /** The shape of one sample: inputs are {@code [N, sampleShape...]}. */
    public long[] sampleShape() {
        return sampleShape.clone();
    }

    /** The options every plan is compiled with. */
    public CompileOptions options() {
        return options;
    }

    /** The most plans kept at once. */
    public int maxPlans() {
        return maxPlans;
    }

    /** The batch sizes with a plan now, ascending (a snapshot). */
    public int[] cachedBatchSizes() {
        Plan[] now = plans;
        int[] sizes = new int[now.length];
        for (int i = 0; i < now.length; i++) sizes[i] = now[i].batch;
        Arrays.sort(sizes);
        return sizes;
    }

    /** Plans compiled so far (a batch size evicted and asked for again counts again; failed compiles do not). */
    public long plansBuilt() {
        return built.get();
    }

    /** Plans evicted so far to stay within {@link #maxPlans()} ({@link #close()} not counted). */
    public long evictions() {
        return evictions.get();
    }

    /** One line for the set, then one per cached plan: batch, shapes, primitives, execution contexts. */
    public String describe() {
        StringBuilder s = new StringBuilder(toString()).append(": ").append(built.get()).append(" built, ")
                .append(evictions.get()).append(" evicted");
        Plan[] now = plans.clone();
        Arrays.sort(now, (a, b) -> Integer.compare(a.batch, b.batch));
        for (Plan p : now) {
            CompiledModel m = p.value();
            s.append("\n  batch ").append(p.batch).append(": ").append(Arrays.toString(m.inputShape())).append(" -> ")
                    .append(Arrays.toString(m.outputShape())).append(", ").append(m.primitiveCount()).append(" primitives, ")
                    .append(m.contextCount()).append(" contexts");
        }
        return s.toString();
    }

    /**
     * Closes every plan; idempotent. Safe while other threads run: new calls fail at once with an
     * {@link IllegalStateException}, and this waits for the calls in flight (and a plan being built)
     * to finish first.
     */
    @Override
    public void close() {
        if (!calls.close()) return;
        Plan[] all;
        synchronized (lock) {
            all = plans;
            plans = new Plan[0];
        }
        RuntimeException failure = null;
        for (Plan p : all) {
            try {
                p.retire();
            } catch (RuntimeException e) {
                if (failure == null) failure = e;
                else failure.addSuppressed(e);
            }
        }
        if (failure != null) throw failure;
    }

    /** E.g. {@code PlanSet(Sequential, input [N, 3, 32, 32], 2 of 8 plans)}. */
    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("PlanSet(").append(name).append(", input [N");
        for (long d : sampleShape) s.append(", ").append(d);
        return s.append("], ").append(plans.length).append(" of ").append(maxPlans).append(" plans)").toString();
    }

    /** Leases the plan for {@code batch}, building it if there is none: allocation-free when cached. */
    private Plan lease(int batch) {
        for (;;) {
            Plan[] now = plans;
            for (Plan p : now) {
                if (p.batch == batch) {
                    if (leased(p)) return p;
                    break;   // evicted between the lookup and the lease (it leaves the array before it is retired)
                }
            }
            Plan p = buildOrWait(batch);
            if (p != null) return p;
            // Evicted again before this caller could lease it (more new sizes than maxPlans at once): look again.
        }
    }

    private boolean leased(Plan p) {
        if (!p.tryAcquire()) return false;
        p.lastUse = clock.incrementAndGet();
        return true;
    }

    /**
     * The plan for {@code batch}, leased for the caller: built by this thread (leased before anyone
     * else can see it, so an eviction cannot take it first) or by the thread already building it;
     * null if it was evicted before this caller could lease it.
     */
    private Plan buildOrWait(int batch) {
        CompletableFuture<Plan> pending;
        boolean mine = false;
        synchronized (lock) {
            for (Plan p : plans) if (p.batch == batch) return leased(p) ? p : null;
            pending = building.get(batch);
            if (pending == null) {
                pending = new CompletableFuture<>();
                building.put(batch, pending);
                mine = true;
            }
        }
        if (!mine) {
            Plan p;
            try {
                p = pending.join();
            } catch (CompletionException e) {
                throw failed(batch, e.getCause());
            }
            return leased(p) ? p : null;
        }
        Plan plan;
        try {
            CompiledModel m = builder.build(inputShape(batch));
            checkPlan(m, batch);
            plan = new Plan(batch, m, clock.incrementAndGet());
            plan.tryAcquire();   // this caller's lease, taken before the plan is published
        } catch (RuntimeException | Error e) {
            synchronized (lock) {
                building.remove(batch);
            }
            pending.completeExceptionally(e);
            if (e instanceof Error error) throw error;
            throw failed(batch, e);
        }
        List<Plan> evicted = new ArrayList<>();
        synchronized (lock) {
            List<Plan> kept = new ArrayList<>(Arrays.asList(plans));
            kept.add(plan);
            while (kept.size() > maxPlans) {
                Plan oldest = null;
                for (Plan p : kept) if (p != plan && (oldest == null || p.lastUse < oldest.lastUse)) oldest = p;
                kept.remove(oldest);
                evicted.add(oldest);
            }
            plans = kept.toArray(new Plan[0]);
            building.remove(batch);
            built.incrementAndGet();
        }
        pending.complete(plan);
        evictions.addAndGet(evicted.size());
        try {
            for (Plan p : evicted) p.retire();   // closes now, or when the last run on it returns
        } catch (RuntimeException | Error e) {
            plan.close();   // this caller's lease: it will not run
            throw e;
        }
        return plan;
    }

    /** A built plan must keep the batch: output {@code [N, ...]}; the first one tells the output sample shape. */
    private void checkPlan(CompiledModel m, int batch) {
        long[] out = m.outputShape();
        if (out.length == 0 || out[0] != batch) {
            m.close();
            throw notBatchPreserving(inputShape(batch), out);
        }
        if (outputSample == null) outputSample = sampleOf(out);
    }

    private IllegalArgumentException notBatchPreserving(long[] in, long[] out) {
        return new IllegalArgumentException("PlanSet(" + name + "): the model maps input " + Arrays.toString(in) + " to "
                + Arrays.toString(out) + ", not to [" + in[0] + ", ...]: a plan set needs a model that keeps the batch dimension");
    }

    /** A compile failure as every caller waiting for it sees it: the compiler's exception as the cause, its kind kept. */
    private RuntimeException failed(int batch, Throwable cause) {
        String message = this + ": building the plan for input " + Arrays.toString(inputShape(batch)) + " failed: " + cause.getMessage();
        if (cause instanceof IllegalArgumentException) return new IllegalArgumentException(message, cause);
        if (cause instanceof UnsupportedOperationException) return new UnsupportedOperationException(message, cause);
        return new IllegalStateException(message, cause);
    }

    private void hold(Plan p) {
        Consumer<CompiledModel> hook = onLeased;
        if (hook != null) hook.accept(p.value());
    }

    /** The batch size of {@code input}, after checking that it is {@code [N, sampleShape...]}: no native call before this. */
    private int batchOf(Tensor input) {
        if (input == null) throw new IllegalArgumentException(this + ": input must not be null");
        boolean fits = input.rank() == sampleShape.length + 1;   // rank() and dim(): shape() would copy
        for (int i = 0; fits && i < sampleShape.length; i++) fits = input.dim(i + 1) == sampleShape[i];
        if (!fits) {
            throw new IllegalArgumentException(this + ": expected input shape " + expected(sampleShape) + " (any batch N >= 1), got "
                    + Arrays.toString(input.shape()));
        }
        return batchInRange(input.dim(0));   // the tensor exists, so [N, sample...] is a size that can exist
    }

    private void checkOutput(Tensor output, int batch) {
        if (output == null) throw new IllegalArgumentException(this + ": output must not be null");
        long[] sample = outputSample;
        if (sample == null) return;   // not known before the first plan: that plan checks it
        boolean fits = output.rank() == sample.length + 1 && output.dim(0) == batch;
        for (int i = 0; fits && i < sample.length; i++) fits = output.dim(i + 1) == sample[i];
        if (!fits) {
            throw new IllegalArgumentException(this + ": expected output shape " + expected(sample).replace("[N", "[" + batch)
                    + " for an input of batch " + batch + ", got " + Arrays.toString(output.shape()));
        }
    }

    /** A batch size asked for by number: in range, and {@code [N, sample...]} a size that can exist. */
    private int checkBatch(long batch) {
        int b = batchInRange(batch);
        Sizes.numel(this + ": input", inputShape(b));
        return b;
    }

    /** Refuses a batch size < 1 or past oneDNN's dimension limit; allocation-free when it fits. */
    private int batchInRange(long batch) {
        if (batch < 1 || batch > Sizes.MAX_DNNL_DIM) {
            throw new IllegalArgumentException(this + ": expected a batch size from 1 to " + Sizes.MAX_DNNL_DIM + " (2^31 - 1), got " + batch);
        }
        return (int) batch;
    }

    private long[] inputShape(long batch) {
        long[] shape = new long[sampleShape.length + 1];
        shape[0] = batch;
        System.arraycopy(sampleShape, 0, shape, 1, sampleShape.length);
        return shape;
    }

    private static long[] sampleOf(long[] out) {
        return Arrays.copyOfRange(out, 1, out.length);
    }

    private static String expected(long[] sample) {
        StringBuilder s = new StringBuilder("[N");
        for (long d : sample) s.append(", ").append(d);
        return s.append(']').toString();
    }
}
