package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.dnnl.Engine;
import dev.panamadnn.internal.dnnl.Execution;
import dev.panamadnn.internal.dnnl.Stream;
import dev.panamadnn.internal.lifetime.InFlightCalls;
import dev.panamadnn.internal.lifetime.NativeAccess;
import dev.panamadnn.natives.ThreadControl;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A model compiled for one input shape: "compile once, run many times".
 *
 * <p><b>What compiling does.</b> {@link #compile(Module, CompileOptions, long...)} lowers the
 * model to a {@link Graph} ({@link Graph#lower}: every module emits its nodes) and compiles that,
 * as {@link #compile(Graph, CompileOptions, long...)} does for any graph: the symbolic dims are
 * bound to the input shape, the rewrite rules run ({@link CompileOptions#RULES}; {@link
 * #rulesFired()}), then each node is lowered and every oneDNN primitive is created up front:
 * <ul>
 *   <li>a batch norm after a convolution (or a Linear) is folded into its weights and bias (on
 *       copies, in double; the model is never modified);</li>
 *   <li>the bias is part of the convolution, and a following activation is an eltwise post-op;</li>
 *   <li>a residual add after a convolution is a {@code sum} post-op that writes into the buffer
 *       already holding the other operand (the identity / downsample output), followed by the
 *       activation post-op;</li>
 *   <li>weights are reordered once, here, into the layout each convolution picks ({@code any});
 *       activations stay in one layout between layers ({@link CompileOptions.Layout}: {@code nhwc}
 *       by default, for oneDNN's brgemm kernels), with reorders only where a layout changes (the
 *       3-channel stem, which reads the plain {@code nchw} input directly and writes channel-blocked,
 *       into the next convolution; the activation into plain for {@code Flatten}/{@code Linear};
 *       and into the plain output if the last layer does not write it directly);</li>
 *   <li>3x3, stride-1, padding-1 convolutions with enough output tiles run as Winograd F(4x4, 3x3):
 *       transformed weights, one oneDNN batched matmul, and Vector API input/output transforms with
 *       the bias, residual sum and ReLU fused ({@link CompileOptions#winograd()}; needs {@code
 *       --add-modules jdk.incubator.vector}, else every convolution is direct);</li>
 *   <li>ops whose eager layer does more than one primitive (softmax and layer norm with their NaN
 *       repairs, transposed convolutions, adaptive max pooling, a conv's reflect padding...) and
 *       layers without a graph op run as Java steps inside the plan (docs/compile.md).</li>
 * </ul>
 * Anything else is an {@link UnsupportedOperationException} naming the node (module path) and op.
 * {@link CompileOptions} switches each fusion off (for measuring its gain) and sets the plan's
 * intra-op threads; {@link #flops()} gives the work of one run for GFLOP/s figures.
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
 * runs it once.
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
    private final long[] inputShape, outputShape;
    private final Compiler compiled;
    private final List<Compiler.Step> steps;
    private final int[] physical;          // logical buffer -> context slot, or INPUT/OUTPUT/UNUSED
    private final long[] slotBytes;
    private final long scratchpadBytes;
    private final CompileOptions options;
    private final int threads;             // intra-op threads every run uses, or 0: OpenMP's default
    private final AtomicLong nativeObjects = new AtomicLong();
    private final AtomicLong winogradFallbacks = new AtomicLong();
    private volatile ExecutionContext[] contexts = new ExecutionContext[0];
    private final InFlightCalls calls = new InFlightCalls();
    private final List<String> rulesFired;
    /** The Winograd steps' weights, prepared after compile (until then those steps run their direct convolution). */
    private final List<Winograd.Weights> winograd;
    private final AtomicBoolean winogradScheduled = new AtomicBoolean();

    private CompiledModel(String name, long[] inputShape, Compiler c, int threads) {
        this.name = name;
        this.options = c.options;
        this.threads = threads;
        this.inputShape = inputShape;
        this.outputShape = c.outputShape;
        this.compiled = c;
        this.steps = List.copyOf(c.steps);
        BufferAssignment.Assignment a = BufferAssignment.assign(c.buffers, c.outputAlias);
        physical = new int[c.buffers.size()];
        for (int b = 0; b < physical.length; b++) {
            physical[b] = b == c.outputAlias ? Compiler.OUTPUT : a.slotOf()[b] < 0 ? Compiler.UNUSED : a.slotOf()[b];
        }
        slotBytes = a.slotBytes();
        rulesFired = List.copyOf(c.fired);
        winograd = steps.stream().filter(s -> s.winograd() != null).map(s -> s.winograd().weights()).toList();
        long scratch = 1;
        for (Compiler.Step s : steps) {
            if (s.primitive() == null) continue;
            scratch = Math.max(scratch, s.primitive().scratchpadBytes());
            if (s.winograd() != null) scratch = Math.max(scratch, s.winograd().fallback().primitive().scratchpadBytes());
        }
        scratchpadBytes = scratch;
    }

    /**
     * Compiles {@code model} for inputs of exactly {@code inputShape} (e.g. {@code [N, 3, 224,
     * 224]}). Reads the parameters now: later writes to them do not reach the plan.
     *
     * @throws IllegalArgumentException      if the shape does not fit the model (the message names the layer)
     * @throws UnsupportedOperationException if the model contains a layer the compiler does not support
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
     * @throws IllegalArgumentException      if the shape does not fit the model (the message names the layer)
     * @throws UnsupportedOperationException if the model contains a layer the compiler does not support
     */
    public static CompiledModel compile(Module model, CompileOptions options, long... inputShape) {
        if (options == null) throw new IllegalArgumentException("CompiledModel.compile: options must not be null (CompileOptions.defaults())");
        if (model == null) throw new IllegalArgumentException("CompiledModel.compile: model must not be null");
        checkShape(inputShape);
        return compile(Graph.lower(model, Shape.of(inputShape)), options, inputShape);
    }

    /**
     * Compiles {@code graph} (one input, one output; symbolic dims such as the batch are bound by
     * {@code inputShape}) with the given options. The graph's initializers are read now and copied
     * into the plan (folded, reordered): the plan does not need them afterwards.
     *
     * @throws IllegalArgumentException      if the shape does not fit the graph's input (naming it)
     * @throws UnsupportedOperationException if the graph has an op the compiler does not lower (naming the node)
     */
    public static CompiledModel compile(Graph graph, CompileOptions options, long... inputShape) {
        if (options == null) throw new IllegalArgumentException("CompiledModel.compile: options must not be null (CompileOptions.defaults())");
        if (graph == null) throw new IllegalArgumentException("CompiledModel.compile: graph must not be null");
        checkShape(inputShape);
        int threads = options.threads() > 0 ? options.threads() : ThreadControl.threads();
        Compiler c = new Compiler(options, threads);
        try {
            // oneDNN sizes a primitive's work split by the creating thread's OpenMP team size.
            if (threads > 0) ThreadControl.applyToCurrentThread(threads);
            c.compile(graph, inputShape.clone());
            return new CompiledModel(graph.name(), inputShape.clone(), c, threads);
        } catch (RuntimeException | Error e) {
            c.closeAll();
            throw e;
        }
    }

    private static void checkShape(long[] inputShape) {
        if (inputShape == null || inputShape.length == 0) {
            throw new IllegalArgumentException("CompiledModel.compile: expected an input shape, got none");
        }
        for (long d : inputShape) {
            if (d <= 0) throw new IllegalArgumentException("CompiledModel.compile: expected sizes > 0, got " + Arrays.toString(inputShape));
        }
        Sizes.f32Bytes("CompiledModel.compile: input", inputShape);   // layers check the buffers they derive
    }

    public long[] inputShape() {
        return inputShape.clone();
    }

    public long[] outputShape() {
        return outputShape.clone();
    }

    /** The options this plan was compiled with. */
    public CompileOptions options() {
        return options;
    }

    /**
     * Intra-op threads each run uses: {@link CompileOptions#threads()}, else the {@link ThreadControl}
     * count when compiled; 0 if neither was set (OpenMP's default, every core). Fixed for the
     * plan's life: for another count compile another plan.
     */
    public int threads() {
        return threads;
    }

    /**
     * Floating-point operations of one run: 2 x the multiply-adds of every convolution and inner
     * product (pooling, element-wise work and reorders not counted), e.g. about 3.6e9 per image
     * for ResNet-18 at 224 x 224. Divide by a run's seconds for GFLOP/s.
     */
    public long flops() {
        return compiled.flops;
    }

    /** One line per primitive, in execution order, with its fusions and oneDNN implementation. */
    public List<String> steps() {
        return steps.stream().map(Compiler.Step::description).toList();
    }

    /** Where each rewrite rule fired, in order ({@code rule: what into where}), e.g. {@code fold_batch_norm: bn1 into conv1}. */
    public List<String> rulesFired() {
        return rulesFired;
    }

    /** The rules that fired and the steps, one per line: what a plan does, for logs and reviews. */
    public String describe() {
        StringBuilder sb = new StringBuilder(toString()).append('\n');
        sb.append("rules fired (").append(rulesFired.size()).append("):\n");
        for (String r : rulesFired) sb.append("  ").append(r).append('\n');
        sb.append("steps (").append(steps.size()).append("):\n");
        for (int i = 0; i < steps.size(); i++) sb.append(String.format("  %3d  %s%n", i, steps.get(i).description()));
        return sb.toString();
    }

    /** Number of oneDNN primitives in the plan (all created at compile time). */
    public int primitiveCount() {
        return steps.size();
    }

    /** Execution contexts created so far (grows to the peak number of concurrent calls). */
    public int contextCount() {
        return contexts.length;
    }

    /**
     * Native objects (oneDNN memory objects, streams) the execution contexts have created so far:
     * a diagnostic that stays constant once every concurrent caller has been served once.
     */
    public long nativeObjectsCreated() {
        return nativeObjects.get();
    }

    /**
     * How many times a Winograd step ran its direct convolution instead, since the plan was compiled:
     * the guard sends a step there when its input holds a NaN, an infinity or a value beyond 1024 in
     * magnitude (see docs/compile.md). Stays 0 for ordinary inputs; a count that keeps growing means
     * the model's activations are that large, and {@link CompileOptions#withWinograd} off loses nothing.
     */
    public long winogradFallbacks() {
        return winogradFallbacks.get();
    }

    /** Bytes of activation buffers plus scratchpad one execution context holds. */
    public long contextBytes() {
        long sum = scratchpadBytes;
        for (long b : slotBytes) sum += b;
        return sum;
    }

    /**
     * Creates an execution context (if none exists) and runs it once on zeros, so the first real
     * call is not the slow one; with Winograd steps, first waits until their transforms are
     * JIT-compiled (once per JVM, about a second), so that every later run takes the Winograd path
     * and gives the same result for the same input.
     */
    public CompiledModel warmup() {
        checkOpen();
        if (!winograd.isEmpty()) Winograd.prepare(winograd, calls, this, false);
        try (Arena a = Arena.ofConfined()) {
            Tensor in = Tensor.allocate(a, DataType.F32, inputShape), out = Tensor.allocate(a, DataType.F32, outputShape);
            run(in, out);
        }
        return this;
    }

    /** Runs the plan on {@code input} and returns a new output tensor the caller owns (allocates it per call). */
    public Tensor run(Tensor input) {
        checkOpen();
        check("input", input, inputShape);
        Tensor out = Tensor.zeros(outputShape);
        try {
            run(input, out);
            return out;
        } catch (RuntimeException | Error e) {
            out.close();
            throw e;
        }
    }

    /**
     * Runs the plan: reads {@code input} ({@link #inputShape()}, F32, contiguous, off-heap) and writes
     * {@code output} ({@link #outputShape()}, same requirements, writable). Creates nothing once warm
     * (a memory-mapped input or output costs a copy each way). Safe to call concurrently with
     * {@link #close()} and with closing either tensor on another thread.
     *
     * @throws IllegalArgumentException if a tensor has another shape, dtype or layout, they overlap,
     *                                  or the output is read-only
     * @throws IllegalStateException    if this model is closed, a tensor's memory was freed (before or
     *                                  during the run), or a mapped tensor's file was truncated
     */
    public void run(Tensor input, Tensor output) {
        calls.enter(this);
        try {
            check("input", input, inputShape);
            check("output", output, outputShape);
            MemorySegment in = input.segment(), out = output.segment();
            if (out.isReadOnly()) {
                throw new IllegalArgumentException(name + " (compiled): expected a writable output, got " + output + " over read-only memory");
            }
            long a = in.address(), b = out.address();
            if (a < b + out.byteSize() && b < a + in.byteSize()) {
                throw new IllegalArgumentException(name + " (compiled): input and output must not overlap");
            }
            if (in.isMapped() || out.isMapped()) {
                runMapped(in, out);
                return;
            }
            ExecutionContext c = borrow();
            try {
                if (threads > 0) ThreadControl.applyToCurrentThread(threads);
                else ThreadControl.applyToCurrentThread();
                c.run(in, out);
                if (!winograd.isEmpty() && !winogradScheduled.get() && winogradScheduled.compareAndSet(false, true)) {
                    Winograd.prepare(winograd, calls, this, true);   // after the first run, so that it does not delay that run
                }
            } catch (IllegalStateException e) {
                if (!in.scope().isAlive() || !out.scope().isAlive()) {
                    throw new IllegalStateException(name + " (compiled): the " + (in.scope().isAlive() ? "output" : "input")
                            + " tensor's memory was freed during the run; the output is incomplete", e);
                }
                throw e;
            } finally {
                c.busy.set(false);
            }
        } finally {
            calls.exit();
        }
    }

    /**
     * A run whose input or output lies in a memory-mapped file: native code never touches mapped
     * memory (another process truncating the file would kill the JVM with SIGBUS there), so the
     * mapped side is copied by Java, which turns a truncated mapping into an exception.
     */
    private void runMapped(MemorySegment in, MemorySegment out) {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment x = in.isMapped() ? NativeAccess.copyOfMapped(in, tmp, name + " (compiled) input") : in;
            MemorySegment y = out.isMapped() ? tmp.allocate(out.byteSize(), 64) : out;
            run(Tensor.wrap(x, DataType.F32, inputShape), Tensor.wrap(y, DataType.F32, outputShape));
            if (y != out) NativeAccess.copyToMapped(y, out, name + " (compiled) output");
        }
    }

    private void check(String what, Tensor t, long[] expected) {
        if (t == null) throw new IllegalArgumentException(name + " (compiled): " + what + " must not be null");
        if (!t.isAlive()) throw new IllegalStateException(name + " (compiled): the " + what + " tensor's memory was freed");
        if (t.dtype() != DataType.F32) {
            throw new IllegalArgumentException(name + " (compiled for " + Arrays.toString(inputShape) + "): expected an F32 " + what
                    + ", got " + t.dtype());
        }
        boolean same = t.rank() == expected.length;
        for (int i = 0; same && i < expected.length; i++) same = t.dim(i) == expected[i];
        if (!same) {
            throw new IllegalArgumentException(name + " (compiled): expected " + what + " shape " + Arrays.toString(expected)
                    + ", got " + Arrays.toString(t.shape()) + " (compile another plan for another shape)");
        }
        if (!t.isContiguous() || !t.segment().isNative()) {
            throw new IllegalArgumentException(name + " (compiled): expected a contiguous off-heap (plain row-major) " + what
                    + ", got " + t);
        }
    }

    private void checkOpen() {
        if (calls.isClosed()) throw new IllegalStateException(this + " is closed");
    }

    private ExecutionContext borrow() {
        for (ExecutionContext c : contexts) if (c.busy.compareAndSet(false, true)) return c;
        synchronized (this) {
            checkOpen();
            ExecutionContext c = new ExecutionContext(steps, physical, slotBytes, scratchpadBytes, nativeObjects, winogradFallbacks, threads);
            c.busy.set(true);
            ExecutionContext[] grown = Arrays.copyOf(contexts, contexts.length + 1);
            grown[grown.length - 1] = c;
            contexts = grown;
            return c;
        }
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
            for (ExecutionContext c : contexts) c.close();
            contexts = new ExecutionContext[0];
            compiled.closeAll();
        }
    }

    @Override
    public String toString() {
        return "CompiledModel(" + name + ", input " + Arrays.toString(inputShape) + " -> " + Arrays.toString(outputShape) + ", "
                + steps.size() + " primitives)";
    }
}
