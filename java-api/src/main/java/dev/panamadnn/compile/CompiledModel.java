package dev.panamadnn.compile;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.internal.lifetime.InFlightCalls;
import dev.panamadnn.natives.ThreadControl;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A model compiled for one input shape: "compile once, run many times".
 *
 * <p><b>What compiling does</b> (the package overview, {@link dev.panamadnn.compile}, says more): the model is lowered
 * to a {@link Graph} ({@link Graph#lower}: every module emits its nodes) and compiled as {@link #compile(Graph,
 * CompileOptions, long...)} compiles any graph: the symbolic dims are bound to the input shape, the rewrite rules run
 * ({@link CompileOptions#RULES}; {@link #rulesFired()}), each node is lowered, and every oneDNN primitive is created
 * up front. Anything else is an {@link UnsupportedOperationException} naming the node (module path) and op.
 * {@link CompileOptions} switches each fusion off (for measuring its gain) and sets the plan's intra-op threads;
 * {@link #flops()} gives the work of one run for GFLOP/s figures.
 *
 * <p><b>Running.</b> {@link #run(Tensor, Tensor)} takes a contiguous off-heap F32 input of exactly
 * {@link #inputShape()} and writes the plain row-major result into an output of exactly
 * {@link #outputShape()}; another shape, dtype or layout is an {@link IllegalArgumentException}
 * naming expected and actual (no silent re-plan). Input and output must not overlap. Once warm
 * it creates nothing: each call borrows an <i>execution context</i> (activation buffers reused
 * between layers by liveness, one scratchpad, one oneDNN stream, every memory object and
 * exec-arg array, the input/output memory objects re-pointed with {@code
 * dnnl_memory_set_data_handle}) and gives it back. {@link #run(Tensor)} is a convenience that
 * allocates a new output tensor per call (the caller closes it).
 *
 * <p><b>Threads.</b> Safe from any number of threads at once, platform or virtual: primitives
 * use a user scratchpad and are shared; contexts are pooled, so the pool grows to the peak
 * number of concurrent calls (not one per thread ever seen) and each context serves one call at
 * a time. Each call runs on the calling thread and fans out to {@link #threads()} intra-op
 * threads (OpenMP): {@link CompileOptions#threads()}, else the {@link ThreadControl} count
 * ({@code -Dpanamadnn.threads} / {@code ThreadControl.setThreads}) at compile time. The count is
 * fixed when the plan is compiled, because oneDNN sizes each primitive's work split then; to
 * change it, compile another plan. Winograd transforms run on the same OpenMP team (through
 * {@link dev.panamadnn.natives.OpenMpTeam}), so a plan never uses more threads than {@link #threads()}.
 * Keep concurrent callers x intra-op threads at or below the
 * cores. {@link #warmup()} creates one context and
 * runs it once. A plan of {@code T >= 2} threads (a count set in its options or through {@link ThreadControl}) for a small graph that computes every sample alone may instead
 * run as {@code T} single-threaded runs of a plan for {@code N / T} samples side by side, one on the calling thread and
 * the others on the plan's own helper threads ({@code split_batch}, {@link #rulesFired()}; the same outputs, no
 * OpenMP team waiting at every primitive); tensors of a confined arena, which only the calling thread may touch, take
 * the parts one after the other on it.
 *
 * <p><b>Lifetimes.</b> {@link #close()} may race with running calls: it stops new runs (they fail
 * with an {@link IllegalStateException}) and waits for those in flight before freeing anything.
 * Each step that reads the caller's input or writes its output holds that memory until oneDNN
 * returns, so closing either tensor meanwhile waits for the step (a run that then finds its
 * input or output freed fails with an {@link IllegalStateException}, its output incomplete). A
 * read-only output is refused; an input or output in a memory-mapped file is copied by Java
 * around the run (native code never touches a mapping, whose file another process could
 * truncate). See docs/safety.md.
 */
public final class CompiledModel implements AutoCloseable {
    private final String name;
    private final long[] inputShape, outputShape;   // input 0's and output 0's
    private final List<dev.panamadnn.graph.Value> inputs, outputs;
    private final long[][] inputShapes, outputShapes;   // of inputs and outputs, in order
    private final Compiler compiled;
    private final List<PlanStep> steps;
    private final CompileOptions options;
    private final int threads;             // intra-op threads every run uses, or 0: OpenMP's default
    private final ContextPool pool;
    private final InFlightCalls calls = new InFlightCalls();
    private final List<String> rulesFired;
    /** The Winograd steps' weights, prepared after compile (until then those steps run their direct convolution). */
    private final List<Winograd.Weights> winograd;
    private final AtomicBoolean winogradScheduled = new AtomicBoolean();
    /** {@code split_batch} ({@link BatchSplit}): the runs of a single-threaded plan for a part of the batch that make this plan's; else null. */
    private final SplitRuns split;
    /** {@code fast_when_finite}'s proof, left for after the first run ({@link DeferredProof}), or null. */
    private final DeferredProof proof;

    CompiledModel(String name, Compiler c, int threads) {
        this.name = name;
        this.options = c.options;
        this.threads = threads;
        this.inputs = List.copyOf(c.inputs);
        this.outputs = List.copyOf(c.outputs);
        this.inputShapes = sizes(inputs);
        this.outputShapes = sizes(outputs);
        this.inputShape = inputShapes.length > 0 ? inputShapes[0] : new long[0];   // a graph of constants only has none
        this.outputShape = outputShapes[0];
        this.compiled = c;
        this.steps = List.copyOf(c.steps);
        this.pool = new ContextPool(name, c, steps, threads);
        rulesFired = List.copyOf(c.fired);
        List<Winograd.Weights> w = new java.util.ArrayList<>();
        for (PlanStep s : steps) if (s.winograd() != null) w.add(s.winograd().weights());
        winograd = List.copyOf(w);
        this.split = null;
        this.proof = c.proof;
    }

    /** Each value's fixed sizes (loops, not streams of lambdas: each lambda costs a cold JVM a spun class at its first use). */
    static long[][] sizes(List<dev.panamadnn.graph.Value> values) {
        long[][] s = new long[values.size()][];
        for (int i = 0; i < s.length; i++) s[i] = values.get(i).shape().sizes();
        return s;
    }

    /** A plan that runs as {@code parts} runs of {@code part} side by side, on {@code parts} threads ({@link BatchSplit}). */
    CompiledModel(Graph bound, CompileOptions options, CompiledModel part, int parts, int threads) {
        this.name = bound.name();
        this.options = options;
        this.threads = threads;
        this.inputs = List.copyOf(bound.inputs());
        List<dev.panamadnn.graph.Value> outs = new java.util.ArrayList<>();
        for (String o : bound.outputs()) outs.add(bound.value(o));
        this.outputs = List.copyOf(outs);
        this.inputShapes = sizes(inputs);
        this.outputShapes = sizes(outputs);
        this.inputShape = inputShapes[0];
        this.outputShape = outputShapes[0];
        this.compiled = part.compiled;
        this.steps = part.steps;
        this.pool = part.pool;
        long n = inputShape[0];
        List<String> fired = new java.util.ArrayList<>(part.rulesFired);
        fired.add(BatchSplit.NAME + ": " + n + " samples as " + parts + " single-threaded runs of " + n / parts + " side by side");
        this.rulesFired = List.copyOf(fired);
        this.winograd = List.of();   // the part prepares its own
        this.split = new SplitRuns(name, part, parts);
        this.proof = null;   // the part's, run by its runs
    }

    /**
     * Compiles {@code model} for inputs of exactly {@code inputShape} (e.g. {@code [N, 3, 224,
     * 224]}). Reads the parameters now: later writes to them do not reach the plan.
     *
     * @param model the model; its parameters are copied, so it may be closed afterwards
     * @param inputShape the input shape the plan is built for, e.g. {@code [N, C, H, W]}
     * @throws IllegalArgumentException      if the shape does not fit the model (the message names the layer)
     * @throws UnsupportedOperationException if the model contains a layer the compiler does not support
     * @return the plan, owned by the caller (close it)
     */
    public static CompiledModel compile(Module model, long... inputShape) {
        return compile(model, CompileOptions.defaults(), inputShape);
    }

    /**
     * Compiles {@code model} for inputs of exactly {@code inputShape} with the given fusions and
     * intra-op thread count (see {@link CompileOptions}). Does not wait for the JIT: until the
     * Winograd transforms are compiled (once per JVM; about a second) and the plan's Winograd weights
     * transformed, both on a background thread that the plan's first run starts, those steps run
     * their direct convolution, whose results differ from Winograd's by rounding (about 1e-5
     * relative); {@link #warmup()} does it on the caller's thread.
     *
     * @param model the model; its parameters are copied, so it may be closed afterwards
     * @param options how to compile ({@link CompileOptions#defaults()} for the fastest plan)
     * @param inputShape the input shape the plan is built for, e.g. {@code [N, C, H, W]}
     * @throws IllegalArgumentException      if the shape does not fit the model (the message names the layer)
     * @throws UnsupportedOperationException if the model contains a layer the compiler does not support
     * @return the plan, owned by the caller (close it)
     */
    public static CompiledModel compile(Module model, CompileOptions options, long... inputShape) {
        return compile(model, options, null, inputShape);
    }

    /** {@link #compile(Module, CompileOptions, long...)}, sharing large constants through {@code shared} (a plan set's) if not null. */
    static CompiledModel compile(Module model, CompileOptions options, SharedConstants shared, long... inputShape) {
        return Compilation.of(model, options, shared, inputShape);
    }

    /**
     * Compiles {@code graph} for its one input of {@code inputShape} (symbolic dims such as the
     * batch are bound by it) with the given options. The graph's initializers are read now and
     * copied into the plan (folded, reordered): the plan does not need them afterwards.
     *
     * @param graph the graph (its initializers are copied)
     * @param options how to compile ({@link CompileOptions#defaults()} for the fastest plan)
     * @param inputShape the input shape the plan is built for, e.g. {@code [N, C, H, W]}
     * @throws IllegalArgumentException      if the shape does not fit the graph's input (naming it), or the graph has several inputs
     * @throws UnsupportedOperationException if the graph has an op the compiler does not lower (naming the node)
     * @throws IllegalStateException         if an initializer's memory-mapped file (an imported model's) was truncated
     * @return the plan, owned by the caller (close it)
     */
    public static CompiledModel compile(Graph graph, CompileOptions options, long... inputShape) {
        return Compilation.of(graph, options, null, inputShape);
    }

    /**
     * Compiles {@code graph} for inputs of the given shapes, by input name (every graph input,
     * no other; symbolic dims such as the batch are bound by them): a plan of several inputs and
     * outputs, run by {@link #run(Map)}. As {@link #compile(Graph, CompileOptions, long...)} otherwise.
     *
     * @param graph the graph (its initializers are copied)
     * @param options how to compile ({@link CompileOptions#defaults()} for the fastest plan)
     * @param inputShapes the shape of every graph input, by name
     * @throws IllegalArgumentException      if a name is missing or unknown, or a shape does not fit its input (naming it)
     * @throws UnsupportedOperationException if the graph has an op the compiler does not lower (naming the node)
     * @throws IllegalStateException         if an initializer's memory-mapped file (an imported model's) was truncated
     * @return the plan, owned by the caller (close it)
     */
    public static CompiledModel compile(Graph graph, CompileOptions options, Map<String, long[]> inputShapes) {
        return compile(graph, options, inputShapes, (SharedConstants) null);
    }

    /**
     * As {@link #compile(Graph, CompileOptions, Map)}, holding its large constants in {@code store}, which other plans and
     * plan sets may share (see {@link ConstantStore}): a model compiled at several fixed shapes (a sequence-first model's
     * lengths, served without a batch dim) then holds its weights about once.
     *
     * @param graph       the graph
     * @param options     how to compile
     * @param inputShapes every input's concrete shape, by name
     * @param store       the store to hold the constants in
     * @return the plan, owned by the caller (close it)
     * @throws IllegalArgumentException as {@link #compile(Graph, CompileOptions, Map)}, or if {@code store} is null
     */
    public static CompiledModel compile(Graph graph, CompileOptions options, Map<String, long[]> inputShapes, ConstantStore store) {
        if (store == null) throw new IllegalArgumentException("CompiledModel: a constant store is required (new ConstantStore()), got null");
        return compile(graph, options, inputShapes, store.shared);
    }

    /** {@link #compile(Graph, CompileOptions, Map)}, sharing large constants through {@code shared} (a plan set's) if not null. */
    static CompiledModel compile(Graph graph, CompileOptions options, Map<String, long[]> inputShapes, SharedConstants shared) {
        return Compilation.of(graph, options, inputShapes, shared);
    }

    /** {@return the shape of input 0 (the only one, for a model); empty for a plan of a graph without inputs, which computes from constants} */
    public long[] inputShape() {
        return inputShape.clone();
    }

    /** {@return the shape of output 0 (the only one, for a model)} */
    public long[] outputShape() {
        return outputShape.clone();
    }

    /** {@return the inputs, in the graph's order: names, dtypes, concrete shapes (a non-F32 input only feeds shape computations)} */
    public List<dev.panamadnn.graph.Value> inputs() {
        return inputs;
    }

    /** {@return the outputs, in the graph's order: names, dtypes (F32), concrete shapes} */
    public List<dev.panamadnn.graph.Value> outputs() {
        return outputs;
    }

    /** {@return the options this plan was compiled with} */
    public CompileOptions options() {
        return options;
    }

    /**
     * Intra-op threads each run uses: {@link CompileOptions#threads()}, else the {@link ThreadControl}
     * count when compiled; 0 if neither was set (OpenMP's default, every core). Fixed for the
     * plan's life: for another count compile another plan.
     *
     * @return the thread count, or 0 for OpenMP's default
     */
    public int threads() {
        return threads;
    }

    /**
     * Floating-point operations of one run: 2 x the multiply-adds of every convolution and inner
     * product (pooling, element-wise work and reorders not counted), e.g. about 3.6e9 per image
     * for ResNet-18 at 224 x 224. Divide by a run's seconds for GFLOP/s.
     *
     * @return floating-point operations per run (multiply and add counted as two)
     */
    public long flops() {
        return split == null ? compiled.flops : compiled.flops * split.parts();
    }

    /** {@return one line per primitive, in execution order, with its fusions and oneDNN implementation} */
    public List<String> steps() {
        List<String> d = new java.util.ArrayList<>(steps.size());   // read now: a deferred proof adds fast variants' bounds
        for (PlanStep s : steps) d.add(s.describe());
        return List.copyOf(d);
    }

    /**
     * Where each rewrite rule fired, in order ({@code rule: what into where}), e.g. {@code fold_batch_norm: bn1 into conv1}.
     *
     * @return the rules that fired, in order
     */
    public List<String> rulesFired() {
        DeferredProof p = split != null ? split.part().proof : proof;
        List<String> proven = p == null ? List.of() : p.fired();   // a deferred proof's reports, once it is done
        if (proven.isEmpty()) return rulesFired;
        List<String> all = new java.util.ArrayList<>(rulesFired);
        all.addAll(proven);
        return List.copyOf(all);
    }

    /** {@return the rules that fired and the steps, one per line: what a plan does, for logs and reviews} */
    public String describe() {
        StringBuilder sb = new StringBuilder(toString()).append('\n');
        List<String> fired = rulesFired();
        sb.append("rules fired (").append(fired.size()).append("):\n");
        for (String r : fired) sb.append("  ").append(r).append('\n');
        sb.append("steps (").append(steps.size()).append("):\n");
        for (int i = 0; i < steps.size(); i++) sb.append(String.format("  %3d  %s%n", i, steps.get(i).describe()));
        return sb.toString();
    }

    /**
     * Number of steps in the plan, one oneDNN primitive each (created at compile time; a step's proven fast variant,
     * made after the first run, is not counted).
     *
     * @return the number of oneDNN primitives
     */
    public int primitiveCount() {
        return steps.size();
    }

    /**
     * Execution contexts created so far (grows to the peak number of concurrent calls).
     *
     * @return the number of execution contexts created so far
     */
    public int contextCount() {
        return pool.count();
    }

    /**
     * Native objects (oneDNN memory objects, streams) the execution contexts have created so far:
     * a diagnostic that stays constant once every concurrent caller has been served once.
     *
     * @return the count of native objects created so far
     */
    public long nativeObjectsCreated() {
        return pool.nativeObjects.get();
    }

    /**
     * How many times a Winograd step ran its direct convolution instead, since the plan was compiled:
     * the guard sends a step there when its input holds a NaN, an infinity or a value beyond 1024 in
     * magnitude (see docs/compile.md). Stays 0 for ordinary inputs; a count that keeps growing means
     * the model's activations are that large, and {@link CompileOptions#withWinograd} off loses nothing.
     *
     * @return the count of Winograd steps that ran their direct convolution instead
     */
    public long winogradFallbacks() {
        return pool.winogradFallbacks.get();
    }

    /**
     * Runs so far that took the fast form of at least one step: an activation that keeps PyTorch's NaN at a
     * price (ReLU, ReLU6) run as oneDNN's own, NaN-dropping one where the {@code fast_when_finite} rule proved
     * that no NaN can reach it, because the run's inputs were finite and small enough (see {@link #describe()}).
     * Results are the same either way. The proof runs after the plan's first run on a thread of its own (or in
     * {@link #warmup()}): runs before it is done take no fast form.
     *
     * @return the number of such runs
     */
    public long fastRuns() {
        return pool.fastRuns.get();
    }

    /**
     * Bytes of activation buffers plus scratchpad one execution context holds.
     *
     * @return bytes per execution context
     */
    public long contextBytes() {
        return pool.contextBytes();
    }

    /**
     * {@return the bytes of native memory this plan's constants take: weights in the layouts its primitives read,
     * Winograd's transformed weights, biases and constant operands} A plan of a {@link PlanSet} shares its large
     * constants with the set's other plans where they are the same bytes; they are counted here in full (the set's
     * {@link PlanSet#constantBytes()} counts each once).
     */
    public long constantBytes() {
        return compiled.constants.bytes();
    }

    /** {@return the store this plan holds its shared constants in: a plan set's, or one given when compiling; null for a plan compiled alone} */
    public ConstantStore constantStore() {
        SharedConstants s = compiled.constants.store();
        return s == null ? null : s.handle;
    }

    /** {@return the part of {@link #constantBytes()} in blocks of a shared {@link ConstantStore} (a plan set's, or one given)} */
    public long sharedConstantBytes() {
        return compiled.constants.sharedBytes();
    }

    /**
     * Creates an execution context (if none exists) and runs it once on zeros, so the first real
     * call is not the slow one; with Winograd steps, first waits until their transforms are
     * JIT-compiled (once per JVM, about a second), so that every later run takes the Winograd path
     * and gives the same result for the same input; and first proves the steps whose activation
     * may run in oneDNN's cheaper form on finite inputs ({@code fast_when_finite}, which a plan
     * otherwise does on a background thread after its first run), reading the model's weights.
     *
     * @return this plan
     */
    public CompiledModel warmup() {
        checkOpen();
        if (split != null) split.part().warmup();
        if (!winograd.isEmpty()) Winograd.prepare(winograd, calls, this, false);
        if (proof != null) proof.runNow(calls, this, pool);
        try (Arena a = Arena.ofConfined()) {
            Map<String, Tensor> in = new java.util.HashMap<>(), out = new java.util.HashMap<>();
            for (dev.panamadnn.graph.Value v : inputs) in.put(v.name(), Tensor.allocate(a, v.dtype(), v.shape().sizes()));
            for (dev.panamadnn.graph.Value v : outputs) out.put(v.name(), Tensor.allocate(a, v.dtype(), v.shape().sizes()));
            run(in, out);
        }
        return this;
    }

    /**
     * Runs a plan of one input and one output on {@code input} and returns a new output tensor the
     * caller owns (allocates it per call). @throws IllegalArgumentException as {@link #run(Tensor, Tensor)}
     *
     * @param input a tensor of the compiled input shape (not closed)
     * @return a new tensor of the output shape, owned by the caller (close it)
     */
    public Tensor run(Tensor input) {
        checkOpen();
        single();
        PlanIO.check(name, "input", input, inputs.get(0), inputShape);
        Tensor out = PlanIO.newOutputs(outputs, new Tensor[1]).values().iterator().next();   // of the output's dtype (an ArgMax's: I64)
        try {
            run(input, out);
            return out;
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /**
     * Runs a plan of one input and one output: reads {@code input} ({@link #inputShape()}, F32,
     * contiguous, off-heap) and writes {@code output} ({@link #outputShape()}, same requirements,
     * writable). Creates nothing once warm (a memory-mapped input or output costs a copy each way).
     * Safe to call concurrently with {@link #close()} and with closing either tensor on another thread.
     *
     * @param input a tensor of the compiled input shape (not closed)
     * @param output where to write, a tensor of the output shape
     * @throws IllegalArgumentException if the plan has several inputs or outputs ({@link #run(Map, Map)}),
     *                                  a tensor has another shape, dtype or layout, they overlap, or
     *                                  the output is read-only
     * @throws IllegalStateException    if this model is closed, a tensor's memory was freed (before or
     *                                  during the run), or a mapped tensor's file was truncated
     */
    public void run(Tensor input, Tensor output) {
        calls.enter(this);
        try {
            single();
            PlanIO.check(name, "input", input, inputs.get(0), inputShape);
            PlanIO.check(name, "output", output, outputs.get(0), outputShape);
            MemorySegment in = input.segment(), out = output.segment();
            if (in.address() < out.address() + out.byteSize() && out.address() < in.address() + in.byteSize()) {
                throw new IllegalArgumentException(name + " (compiled): input and output must not overlap");
            }
            if (in.isMapped() || out.isMapped()) {
                PlanIO.runMapped(name, new Tensor[] {input}, new Tensor[] {output}, this::runPlain);
                return;
            }
            if (split != null) {
                split.run(new Tensor[] {input}, new Tensor[] {output});
                return;
            }
            ExecutionContext c = pool.borrow();
            c.caller[0] = in;
            c.caller[1] = out;
            pool.execute(c);
            scheduleBackground();
        } finally {
            calls.exit();
        }
    }

    /**
     * Runs the plan on {@code inputs} (by name: every input of {@link #inputs()}, no other) and
     * returns new output tensors the caller owns, by name in {@link #outputs()} order.
     *
     * @param inputs every graph input by name
     * @throws IllegalArgumentException as {@link #run(Map, Map)}
     * @throws IllegalStateException    as {@link #run(Map, Map)}
     * @return every output by name, new tensors owned by the caller (close them)
     */
    public Map<String, Tensor> run(Map<String, Tensor> inputs) {
        checkOpen();
        PlanIO.byName(name, "input", inputs, this.inputs, inputShapes, new Tensor[this.inputs.size()]);
        Map<String, Tensor> out = PlanIO.newOutputs(outputs, new Tensor[outputs.size()]);
        try {
            run(inputs, out);
            return out;
        } catch (RuntimeException | Error e) {
            out.values().forEach(Tensor::close);
            throw e;
        }
    }

    /**
     * Runs the plan: reads every input of {@link #inputs()} from {@code inputs} and writes every
     * output of {@link #outputs()} into {@code outputs} (both by name; each tensor of its value's
     * dtype and shape, contiguous, off-heap; outputs writable and overlapping no other tensor).
     * Everything is checked before any native call. Thread-safety and lifetimes as {@link #run(Tensor, Tensor)}.
     *
     * @param inputs every graph input by name
     * @param outputs a tensor of the right shape for every graph output, by name
     * @throws IllegalArgumentException if a name is unknown or missing, or a tensor has another dtype,
     *                                  shape or layout, is read-only (an output), or overlaps another
     * @throws IllegalStateException    if this model is closed, a tensor's memory was freed (before or
     *                                  during the run), or a mapped tensor's file was truncated
     */
    public void run(Map<String, Tensor> inputs, Map<String, Tensor> outputs) {
        calls.enter(this);
        try {
            Tensor[] in = PlanIO.byName(name, "input", inputs, this.inputs, inputShapes, new Tensor[this.inputs.size()]);
            Tensor[] out = PlanIO.byName(name, "output", outputs, this.outputs, outputShapes, new Tensor[this.outputs.size()]);
            PlanIO.checkOverlap(name, in, out, this.inputs, this.outputs);
            if (PlanIO.anyMapped(in, out)) PlanIO.runMapped(name, in, out, this::runPlain);
            else runPlain(in, out);
        } finally {
            calls.exit();
        }
    }

    /**
     * Per-step times, for profiling: runs the plan {@code runs} times on {@code inputs} and {@code outputs}
     * (checked as {@link #run(Map, Map)}; not memory-mapped) with each step waited for before the next,
     * and returns each step's median in milliseconds, in {@link #steps()} order. The waits add a little
     * to each step; time whole runs with {@link #run(Map, Map)}.
     *
     * @param inputs every graph input by name
     * @param outputs a tensor of the right shape for every graph output, by name
     * @param runs how many runs to take the median over (at least 1)
     * @return per step, its median time in ms
     */
    public double[] profileSteps(Map<String, Tensor> inputs, Map<String, Tensor> outputs, int runs) {
        calls.enter(this);
        try {
            Tensor[] in = PlanIO.byName(name, "input", inputs, this.inputs, inputShapes, new Tensor[this.inputs.size()]);
            Tensor[] out = PlanIO.byName(name, "output", outputs, this.outputs, outputShapes, new Tensor[this.outputs.size()]);
            PlanIO.checkOverlap(name, in, out, this.inputs, this.outputs);
            if (PlanIO.anyMapped(in, out)) throw new IllegalArgumentException(name + " (compiled): profileSteps takes tensors in plain memory, not mapped");
            scheduleBackground();
            if (split != null) {
                CompiledModel part = split.part();
                return StepProfiler.medians(pool, steps.size(), split.slices(in, 0, part.inputShapes), split.slices(out, 0, part.outputShapes), runs);
            }
            return StepProfiler.medians(pool, steps.size(), in, out, runs);
        } finally {
            calls.exit();
        }
    }

    /** {@return the pool of execution contexts (a split plan's part's, for its runs)} */
    ContextPool pool() {
        return pool;
    }

    /**
     * After a plan's first run: prepares its Winograd weights and proves its fast variants ({@link DeferredProof}), each on a
     * background thread (so they delay neither compile nor that run).
     */
    private void scheduleBackground() {
        if (!winograd.isEmpty() && !winogradScheduled.get() && winogradScheduled.compareAndSet(false, true)) {
            Winograd.prepare(winograd, calls, this, true);
        }
        if (proof != null) proof.start(calls, this, pool);
    }

    /** A run on checked tensors in plain (not mapped) memory. */
    private void runPlain(Tensor[] in, Tensor[] out) {
        if (split != null) {
            split.run(in, out);
            return;
        }
        ExecutionContext c = pool.borrow();
        for (int i = 0; i < in.length; i++) c.caller[i] = in[i].segment();
        for (int i = 0; i < out.length; i++) c.caller[in.length + i] = out[i].segment();
        pool.execute(c);
        scheduleBackground();
    }

    /** Runs this plan on part {@code k} of {@code parts} of each (checked, plain) tensor: the slice of its samples {@code k * N / parts} on. */
    void runPart(Tensor[] in, Tensor[] out, int k, int parts) {
        calls.enter(this);
        try {
            ExecutionContext c = pool.borrow();
            for (int i = 0; i < in.length; i++) c.caller[i] = SplitRuns.slice(in[i].segment(), k, parts);
            for (int i = 0; i < out.length; i++) c.caller[in.length + i] = SplitRuns.slice(out[i].segment(), k, parts);
            pool.execute(c);
            scheduleBackground();
        } finally {
            calls.exit();
        }
    }

    private void single() {
        if (inputs.size() != 1 || outputs.size() != 1) {
            throw new IllegalArgumentException(name + " (compiled): the plan has inputs " + PlanIO.names(inputs) + " and outputs "
                    + PlanIO.names(outputs) + "; run it with run(Map) or run(Map, Map)");
        }
    }

    private void checkOpen() {
        if (calls.isClosed()) throw new IllegalStateException(this + " is closed");
    }

    /**
     * Frees the primitives, weights and every execution context; idempotent. Safe while other
     * threads run the plan: new runs fail at once with an {@link IllegalStateException}, and this
     * waits for the runs in flight to finish before freeing anything.
     */
    @Override
    public void close() {
        if (!calls.close()) return;
        synchronized (this) {
            if (split != null) {
                split.close();
                return;
            }
            pool.close();
            compiled.closeAll();
        }
    }

    @Override
    public String toString() {
        return "CompiledModel(" + name + ", input " + Arrays.toString(inputShape) + " -> " + Arrays.toString(outputShape) + ", "
                + steps.size() + " primitives" + (split == null ? "" : ", run as " + split.parts() + " single-threaded runs of " + inputShape[0] / split.parts()
                + " samples side by side") + ")";
    }
}
