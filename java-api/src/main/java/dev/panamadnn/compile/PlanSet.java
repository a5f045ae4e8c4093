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
 * plan is a scan of at most {@code maxPlans} ints and two atomic updates, no allocation). The plans
 * hold each large constant that is the same bytes at their batch sizes once ({@link #constantBytes()}:
 * a model's weights, not once per plan). The model is read when a plan is built, so it must stay open, with its parameters unchanged, for as
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
    /** The most plans a set may keep: a lookup scans them all, and each holds its activation buffers. */
    public static final int MAX_PLANS = 1024;

    /** How a plan is built for one input shape: {@link CompiledModel#compile}, or a test's stand-in. */
    @FunctionalInterface
    interface Builder {
        CompiledModel build(long[] inputShape);
    }

    private final String name;
    private final long[] sampleShape;
    private final CompileOptions options;
    private final int maxPlans;
    private final InFlightCalls calls = new InFlightCalls();
    private final PlanCache cache;
    /** The constants the plans share (each large block once), or null for a test's stand-in builder. */
    private final SharedConstants shared;
    /** A graph's inputs (several may share the batch N), or null for a module's one input. */
    private final BatchedInputs batched;
    /** The output shape of one sample, once known (from the model's shape rule or the first plan). */
    private volatile long[] outputSample;
    /** Called with each run's plan after its lease is taken, before it runs: lets a test hold a run in flight. */
    volatile Consumer<CompiledModel> onLeased;

    PlanSet(Module model, CompileOptions options, long[] sampleShape, int maxPlans, Builder builder) {
        this(model, options, sampleShape, maxPlans, builder, null);
    }

    private PlanSet(Module model, CompileOptions options, long[] sampleShape, int maxPlans, Builder builder, SharedConstants shared) {
        this(model == null ? null : model.getClass().getSimpleName(), model instanceof Layer l ? l : null, options, sampleShape, maxPlans,
                builder, null, shared);
    }

    private PlanSet(String modelName, Layer layer, CompileOptions options, long[] sampleShape, int maxPlans, Builder builder,
                    BatchedInputs batched, SharedConstants shared) {
        this.batched = batched;
        this.shared = shared;
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
        this.cache = new PlanCache(maxPlans, batch -> {
            CompiledModel m = builder.build(inputShape(batch));
            checkPlan(m, batch);
            return m;
        }, this::failed);
        if (layer != null) {   // a shape the model does not take fails here, naming the layer
            long[] out = layer.outputShape(inputShape(2));
            if (out.length == 0 || out[0] != 2) throw notBatchPreserving(inputShape(2), out);
            outputSample = BatchedInputs.sampleOf(out);
        }
    }

    /**
     * A plan set for {@code model} on inputs {@code [N, sampleShape...]} for any batch {@code N >= 1},
     * keeping up to {@value #DEFAULT_MAX_PLANS} plans. Builds nothing yet.
     *
     * @param model the model; its parameters are copied, so it may be closed afterwards
     * @param options how to compile
     * @param sampleShape one input shape; its first dimension is the batch and may differ per call
     * @throws IllegalArgumentException if an argument is null, the sample shape is empty or has a
     *                                  size {@code < 1}, or (for a layer, which states its output shape) the
     *                                  model does not take it (the message names the layer)
     * @return the plan set, owned by the caller (close it)
     */
    public static PlanSet of(Module model, CompileOptions options, long... sampleShape) {
        return of(model, options, sampleShape, DEFAULT_MAX_PLANS);
    }

    /**
     * {@link #of(Module, CompileOptions, long...)} keeping up to {@code maxPlans} plans.
     *
     * @param model the model; its parameters are copied, so it may be closed afterwards
     * @param options how to compile
     * @param sampleShape one input shape; its first dimension is the batch and may differ per call
     * @param maxPlans how many plans (batch sizes) to keep before evicting the least recently used
     * @throws IllegalArgumentException as that does, or if {@code maxPlans} is not in [1, {@value #MAX_PLANS}]
     * @return the plan set, owned by the caller (close it)
     */
    public static PlanSet of(Module model, CompileOptions options, long[] sampleShape, int maxPlans) {
        SharedConstants shared = new SharedConstants();
        return new PlanSet(model, options, sampleShape, maxPlans, shape -> CompiledModel.compile(model, options, shared, shape), shared);
    }

    /**
     * A plan set for {@code graph}, whose one input is {@code [N, sample...]} with a symbolic batch
     * {@code N} (e.g. {@code Shape.batched("N", 3, 224, 224)}; an imported model's graph), keeping up to
     * {@code maxPlans} plans. The graph's initializers must stay alive while new sizes may be built.
     *
     * <p>The graph may have several inputs, each {@code [N, fixed sizes...]} with the same batch
     * symbol, and several outputs: run it with {@link #run(Map)} or {@link #run(Map, Map)}.
     *
     * @param graph a graph whose inputs are {@code [N, fixed sizes...]} with one batch symbol
     * @param options how to compile
     * @param maxPlans how many plans (batch sizes) to keep before evicting the least recently used
     * @throws IllegalArgumentException if an input's first dim is not a plain symbol (the same for
     *                                  all inputs) or another dim is not fixed
     * @return the plan set, owned by the caller (close it)
     */
    public static PlanSet of(dev.panamadnn.graph.Graph graph, CompileOptions options, int maxPlans) {
        if (graph == null) throw new IllegalArgumentException("PlanSet: graph must not be null");
        BatchedInputs inputs = BatchedInputs.of(graph);
        SharedConstants shared = new SharedConstants();
        return new PlanSet(graph.name(), null, options, inputs.firstSample(), maxPlans,
                shape -> CompiledModel.compile(graph, options, inputs.shapes(shape[0]), shared), inputs, shared);
    }

    /**
     * As {@link #of(dev.panamadnn.graph.Graph, CompileOptions, int)}, holding its constants in {@code store}: a block of
     * constant bytes (a weight in the layout a primitive reads) that a plan of this set and a plan of another set or a
     * {@link CompiledModel} using the same store both have is held once. For plan sets of one model at other sizes of a
     * dim beyond the batch (an import of a text model at each sequence length), whose weights are the same bytes at
     * every length: a server keeping many lengths holds the weights about once, not once per length. Sharing never
     * changes a result (see {@link ConstantStore}); the sets may close in any order.
     *
     * @param graph    as {@link #of(dev.panamadnn.graph.Graph, CompileOptions, int)}
     * @param options  how to compile
     * @param maxPlans how many plans (batch sizes) to keep
     * @param store    the store to hold the constants in
     * @throws IllegalArgumentException as {@link #of(dev.panamadnn.graph.Graph, CompileOptions, int)}, or if {@code store} is null
     * @return the plan set, owned by the caller (close it)
     */
    public static PlanSet of(dev.panamadnn.graph.Graph graph, CompileOptions options, int maxPlans, ConstantStore store) {
        if (graph == null) throw new IllegalArgumentException("PlanSet: graph must not be null");
        if (store == null) throw new IllegalArgumentException("PlanSet: a constant store is required (new ConstantStore()), got null");
        BatchedInputs inputs = BatchedInputs.of(graph);
        SharedConstants shared = store.shared;
        return new PlanSet(graph.name(), null, options, inputs.firstSample(), maxPlans,
                shape -> CompiledModel.compile(graph, options, inputs.shapes(shape[0]), shared), inputs, shared);
    }

    /** {@return the store this set's plans hold their shared constants in} (null for a test's stand-in builder) */
    public ConstantStore constantStore() {
        return shared == null ? null : shared.handle;
    }

    /**
     * Builds (if not cached) and warms up ({@link CompiledModel#warmup()}) the plan of each batch
     * size, so the first requests of those sizes pay neither. Returns this.
     *
     * @param batches the batch sizes to compile now
     * @throws IllegalArgumentException if a size is {@code < 1} or too large, or there are more distinct sizes
     *                                  than {@link #maxPlans()} (the first would be evicted by the last)
     * @throws IllegalStateException    if this plan set is closed
     * @return this plan set
     */
    public PlanSet warmup(int... batches) {
        if (batches == null || batches.length == 0) throw new IllegalArgumentException(this + ": warmup expects batch sizes, got none");
        long distinct = Arrays.stream(batches).distinct().count();
        if (distinct > maxPlans) {
            throw new IllegalArgumentException(this + ": warmup of " + distinct + " batch sizes " + Arrays.toString(batches)
                    + " would evict some of them again; keep at most maxPlans = " + maxPlans);
        }
        for (int b : batches) BatchedInputs.checkBatch(this, sampleShape, b);
        calls.enter(this);
        try {
            for (int b : batches) {
                try (PlanCache.Plan p = cache.lease(b)) {
                    p.value().warmup();
                }
            }
        } finally {
            calls.exit();
        }
        return this;
    }

    /**
     * Bytes of activation buffers plus scratchpad one execution context of the plan for {@code batch} holds (as {@link
     * CompiledModel#contextBytes()}; each concurrent run holds one): what a run at that size needs beyond the constants.
     * Builds the plan if it is not cached; allocates no context.
     *
     * @param batch the batch size
     * @throws IllegalArgumentException if {@code batch} is {@code < 1} or too large, or building the plan failed so
     * @throws IllegalStateException    if this plan set is closed
     * @return bytes per execution context of that plan
     */
    public long contextBytes(int batch) {
        BatchedInputs.checkBatch(this, sampleShape, batch);
        calls.enter(this);
        try {
            try (PlanCache.Plan p = cache.lease(batch)) {
                return p.value().contextBytes();
            }
        } finally {
            calls.exit();
        }
    }

    /**
     * Runs the plan for {@code input}'s batch size (its first dimension; built now if not cached) and
     * returns a new output tensor the caller owns (allocated per call: use {@link #run(Tensor, Tensor)}
     * on a hot path).
     *
     * @param input the input, {@code [N, ...]} for any batch N
     * @throws IllegalArgumentException if the input is not {@code [N, sampleShape...]} (checked before any
     *                                  native call), or as {@link CompiledModel#run(Tensor)}, or building the plan failed so
     * @throws IllegalStateException    if this plan set is closed, or as {@link CompiledModel#run(Tensor)}
     * @return a new tensor owned by the caller (close it)
     */
    public Tensor run(Tensor input) {
        calls.enter(this);
        try {
            int batch = BatchedInputs.batchOf(this, sampleShape, input);
            try (PlanCache.Plan p = cache.lease(batch)) {
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
     * @param input the input, {@code [N, ...]} for any batch N
     * @param output where to write, a tensor of {@link #outputShape(long)}
     * @throws IllegalArgumentException if the input is not {@code [N, sampleShape...]} or the output not
     *                                  {@code [N, ...]} for the same N (checked before any native call), or
     *                                  as {@link CompiledModel#run(Tensor, Tensor)}, or building the plan failed so
     * @throws IllegalStateException    if this plan set is closed, or as {@link CompiledModel#run(Tensor, Tensor)}
     */
    public void run(Tensor input, Tensor output) {
        calls.enter(this);
        try {
            int batch = BatchedInputs.batchOf(this, sampleShape, input);
            BatchedInputs.checkOutput(this, outputSample, output, batch);
            try (PlanCache.Plan p = cache.lease(batch)) {
                hold(p);
                p.value().run(input, output);
            }
        } finally {
            calls.exit();
        }
    }

    /**
     * Runs the plan for the inputs' batch size (built now if not cached) on {@code inputs}, by
     * name, and returns new output tensors the caller owns, by name (as {@link CompiledModel#run(Map)}).
     *
     * @param inputs every graph input by name
     * @throws IllegalArgumentException if an input is missing or not {@code [N, sample...]}, the inputs
     *                                  disagree on N (naming both), or as {@link CompiledModel#run(Map)}
     * @throws IllegalStateException    if this plan set is closed, or as {@link CompiledModel#run(Map)}
     * @return every output by name, new tensors owned by the caller (close them)
     */
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
        calls.enter(this);
        try {
            try (PlanCache.Plan p = cache.lease(batchOf(inputs))) {
                hold(p);
                return p.value().run(inputs);
            }
        } finally {
            calls.exit();
        }
    }

    /**
     * Runs the plan for the inputs' batch size (built now if not cached), reading {@code inputs} and
     * writing {@code outputs}, by name (as {@link CompiledModel#run(Map, Map)}: every tensor checked
     * before any native call).
     *
     * @param inputs every graph input by name
     * @param outputs a tensor of the right shape for every graph output, by name
     * @throws IllegalArgumentException as {@link #run(Map)}, or as {@link CompiledModel#run(Map, Map)}
     * @throws IllegalStateException    if this plan set is closed, or as {@link CompiledModel#run(Map, Map)}
     */
    public void run(Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
        calls.enter(this);
        try {
            try (PlanCache.Plan p = cache.lease(batchOf(inputs))) {
                hold(p);
                p.value().run(inputs, outputs);
            }
        } finally {
            calls.exit();
        }
    }

    private int batchOf(Map<String, Tensor> inputs) {
        if (batched == null) {   // a module's plan set: its one input is named "input"
            if (inputs == null || inputs.size() != 1 || !inputs.containsKey("input")) {
                throw new IllegalArgumentException(this + ": expected the one input named 'input', got " + (inputs == null ? null : inputs.keySet()));
            }
            return BatchedInputs.batchOf(this, sampleShape, inputs.get("input"));
        }
        return batchInRange(batched.batchOf(toString(), inputs));
    }

    /**
     * The output shape for batch {@code batch}, {@code [batch, ...]}. Known without compiling for a
     * {@link Layer} model (its shape rule); for another model, from the first plan built (this builds
     * the plan for {@code batch} if there is none yet).
     *
     * @param batch the batch size
     * @throws IllegalArgumentException if {@code batch} is {@code < 1} or too large
     * @throws IllegalStateException    if this plan set is closed
     * @return the output shape for that batch size
     */
    public long[] outputShape(long batch) {
        int b = BatchedInputs.checkBatch(this, sampleShape, batch);
        long[] sample = outputSample;
        if (sample == null) {
            calls.enter(this);
            try {
                cache.lease(b).close();   // building the first plan sets outputSample
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

    /**
     * The outputs of the plan for batch {@code batch}, in the graph's order, with their dtypes and concrete shapes (built
     * now if not cached): what {@link #run(Map, Map)} needs a tensor of for each, e.g. to allocate them once and run
     * every batch of that size into them.
     *
     * @param batch the batch size
     * @throws IllegalArgumentException if {@code batch} is {@code < 1} or too large, or the plan cannot be built
     * @throws IllegalStateException    if this plan set is closed
     * @return the outputs (names, dtypes, shapes)
     */
    public List<dev.panamadnn.graph.Value> outputs(long batch) {
        int b = BatchedInputs.checkBatch(this, sampleShape, batch);
        calls.enter(this);
        try (PlanCache.Plan p = cache.lease(b)) {
            return p.value().outputs();
        } finally {
            calls.exit();
        }
    }

    /** {@return the shape of one sample: inputs are {@code [N, sampleShape...]}} */
    public long[] sampleShape() {
        return sampleShape.clone();
    }

    /** {@return the options every plan is compiled with} */
    public CompileOptions options() {
        return options;
    }

    /** {@return the most plans kept at once} */
    public int maxPlans() {
        return maxPlans;
    }

    /** {@return the batch sizes with a plan now, ascending (a snapshot)} */
    public int[] cachedBatchSizes() {
        PlanCache.Plan[] now = cache.snapshot();
        int[] sizes = new int[now.length];
        for (int i = 0; i < now.length; i++) sizes[i] = now[i].batch;
        Arrays.sort(sizes);
        return sizes;
    }

    /**
     * Plans compiled so far (a batch size evicted and asked for again counts again; failed compiles do not).
     *
     * @return the number of plans compiled so far
     */
    public long plansBuilt() {
        return cache.built();
    }

    /**
     * Plans evicted so far to stay within {@link #maxPlans()} ({@link #close()} not counted).
     *
     * @return the number of plans evicted so far
     */
    public long evictions() {
        return cache.evictions();
    }

    /** {@return one line for the set, then one per cached plan: batch, shapes, primitives, execution contexts} */
    public String describe() {
        StringBuilder s = new StringBuilder(toString()).append(": ").append(cache.built()).append(" built, ")
                .append(cache.evictions()).append(" evicted, constants ").append(String.format(java.util.Locale.ROOT, "%.1f MB", constantBytes() / 1048576.0));
        PlanCache.Plan[] now = cache.snapshot();
        Arrays.sort(now, (a, b) -> Integer.compare(a.batch, b.batch));
        for (PlanCache.Plan p : now) {
            CompiledModel m = p.value();
            s.append("\n  batch ").append(p.batch).append(": ").append(Arrays.toString(m.inputShape())).append(" -> ")
                    .append(Arrays.toString(m.outputShape())).append(", ").append(m.primitiveCount()).append(" primitives, ")
                    .append(m.contextCount()).append(" contexts");
        }
        return s.toString();
    }

    /**
     * {@return the bytes of native memory the constants of the plans kept now take}: weights in the layouts their
     * primitives read, Winograd's transformed weights, biases. The plans share each large block that is the same bytes
     * at their batch sizes (a weight every size's primitive reads in the same layout), so this counts it once, where the
     * plans' own {@link CompiledModel#constantBytes()} count it each; 0 once the set is closed.
     */
    public long constantBytes() {
        if (shared == null) return 0;
        long own = 0;
        for (PlanCache.Plan p : cache.snapshot()) own += p.value().constantBytes() - p.value().sharedConstantBytes();
        return own + shared.bytes();
    }

    /**
     * {@return the bytes of the constants store this set's {@link #constantBytes()} includes} ({@link #constantStore()}'s,
     * which other sets or plans may share: their memory together is each one's {@code constantBytes() -
     * sharedConstantBytes()} plus each distinct store's bytes once; {@link #constantBytes(java.util.Collection)})
     */
    public long sharedConstantBytes() {
        return shared == null ? 0 : shared.bytes();
    }

    /**
     * {@return the bytes of native memory the constants of {@code sets} take together}: each set's own (its {@link
     * #constantBytes()} less its store's) plus each distinct constants store once, whether the sets share one ({@link
     * #of(dev.panamadnn.graph.Graph, CompileOptions, int, ConstantStore)}) or each has its own.
     *
     * @param sets plan sets, open or closed
     */
    public static long constantBytes(java.util.Collection<PlanSet> sets) {
        java.util.Set<SharedConstants> stores = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        long total = 0;
        for (PlanSet p : sets) {
            total += p.constantBytes() - p.sharedConstantBytes();
            if (p.shared != null && stores.add(p.shared)) total += p.shared.bytes();
        }
        return total;
    }

    /** {@return the blocks the plans share now (0 once every plan is closed: nothing is kept past its last user)} */
    int sharedBlocks() {
        return shared == null ? 0 : shared.blocks();
    }

    /**
     * Closes every plan; idempotent. Safe while other threads run: new calls fail at once with an
     * {@link IllegalStateException}, and this waits for the calls in flight (and a plan being built)
     * to finish first.
     */
    @Override
    public void close() {
        if (!calls.close()) return;
        PlanCache.Plan[] all = cache.removeAll();
        RuntimeException failure = null;
        for (PlanCache.Plan p : all) {
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
        return s.append("], ").append(cache.size()).append(" of ").append(maxPlans).append(" plans)").toString();
    }

    /** A built plan must keep the batch: output {@code [N, ...]}; the first one tells the output sample shape. */
    private void checkPlan(CompiledModel m, int batch) {
        long[] out = m.outputShape();
        if (out.length == 0 || out[0] != batch) {
            m.close();
            throw notBatchPreserving(inputShape(batch), out);
        }
        if (outputSample == null) outputSample = BatchedInputs.sampleOf(out);
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

    private void hold(PlanCache.Plan p) {
        Consumer<CompiledModel> hook = onLeased;
        if (hook != null) hook.accept(p.value());
    }

    private long[] inputShape(long batch) {
        return BatchedInputs.withBatch(batch, sampleShape);
    }

    private int batchInRange(long batch) {
        return BatchedInputs.batchInRange(this, batch);
    }
}
