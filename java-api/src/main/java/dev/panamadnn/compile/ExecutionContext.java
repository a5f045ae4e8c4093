package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.dnnl.Arg;
import dev.panamadnn.internal.dnnl.Engine;
import dev.panamadnn.internal.dnnl.Execution;
import dev.panamadnn.internal.dnnl.Stream;
import dev.panamadnn.internal.lifetime.ZeroPages;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What one run of a {@link CompiledModel} at a time needs: activation buffers (the plan's slots),
 * one scratchpad, one oneDNN stream, every memory object and exec-arg array, and per step the
 * action that runs it (an execution, a Winograd run around one, or a Java step). The caller's
 * input and output are re-pointed per run ({@code dnnl_memory_set_data_handle}), so a warm run
 * creates nothing. Borrowed by one call at a time ({@link #busy}).
 */
final class ExecutionContext {
    /** One step of a run. */
    interface Action {
        void run(Stream stream);
    }

    private final List<PlanStep> steps;
    private final int[] physical;
    private final AtomicLong nativeObjects, winogradFallbacks;
    private final int threads;
    final AtomicBoolean busy = new AtomicBoolean();
    final Arena arena = Arena.ofShared();
    final Stream stream;
    final Execution[] executions;
    /** Per step, what runs it: its execution, or a Winograd run around it. */
    final Action[] actions;
    /** Per caller-memory argument: the execution, its argument index, and which caller buffer (inputs, then outputs). */
    final int[] bindExec, bindArg, bindCaller;
    final List<Winograd.Run> winogradRuns = new ArrayList<>();
    private final List<LowerRecurrentSteps.Run> loopRuns = new ArrayList<>();
    /** Whether every Winograd step's weights were prepared at a run of this context (then they stay so). */
    private boolean winogradPrepared;
    /**
     * The caller's buffers of the run in progress, inputs then outputs, set by the caller before {@link #run()}
     * and held alive by the steps that touch them ({@link Execution#execute(Stream, MemorySegment, MemorySegment)}).
     */
    final MemorySegment[] caller;
    /** How many of {@link #caller} are inputs. */
    private final int callerInputs;

    /** Per caller input, the F32 elements {@link #run()} scans for the fast steps (0: none); all 0 without fast steps. */
    private final long[] checkedInputs;
    /** Per step, its {@link PlanStep.Fast} execution (null: none, or not made yet: {@link #makeFast}). */
    final Execution[] fastExecutions;
    /** Per step with a fast variant, the arguments of its executions; null for the others. */
    private final List<Arg>[] fastArgs;
    /** The scratchpad every execution of this context shares. */
    private final MemorySegment scratch;
    /** The plan's pool: the bound of its proven fast variants, and how many have been published. */
    private final ContextPool pool;
    /** {@link ContextPool#fastVersion} when this context last made the executions of published fast variants. */
    private int fastSeen = -1;
    /** The run in progress's largest input magnitude as float bits ({@link FiniteBounds#maxAbsBits}); int max: not checked. */
    private int inputBits = Integer.MAX_VALUE;
    /** Runs that took at least one fast step (a diagnostic for tests and {@link CompiledModel#fastRuns()}). */
    final AtomicLong fastRuns;

    ExecutionContext(List<PlanStep> steps, int[] physical, long[] slotBytes, long scratchpadBytes, AtomicLong nativeObjects,
                     AtomicLong winogradFallbacks, int threads, int inputs, int outputs, long[] checkedInputs, ContextPool pool) {
        this.checkedInputs = checkedInputs;
        this.pool = pool;
        this.fastRuns = pool.fastRuns;
        this.caller = new MemorySegment[inputs + outputs];
        this.callerInputs = inputs;
        java.util.Arrays.fill(caller, MemorySegment.NULL);
        this.steps = steps;
        this.physical = physical;
        this.nativeObjects = nativeObjects;
        this.winogradFallbacks = winogradFallbacks;
        this.threads = threads;
        List<Execution> made = new ArrayList<>();
        @SuppressWarnings("unchecked")
        List<Arg>[] withFast = new List[steps.size()];
        Stream s = null;
        try {
            s = Stream.create(Engine.cpu());
            nativeObjects.incrementAndGet();
            // Every slot and the scratchpad in one zeroed region (ZeroPages: pages the kernel zeroes, faulted in by the run
            // that first writes them), each at a 64-byte boundary: one mapping a context, however many slots it has (a
            // process has a bounded number of mappings, vm.max_map_count, which the JVM's own need too).
            long[] at = new long[slotBytes.length + 1];
            long total = 0;
            for (int i = 0; i < at.length; i++) {
                at[i] = total;
                total = Math.addExact(total, (i < slotBytes.length ? slotBytes[i] : scratchpadBytes) + 63 & -64L);
            }
            MemorySegment region = ZeroPages.allocate(arena, total);
            MemorySegment[] slots = new MemorySegment[slotBytes.length];
            for (int i = 0; i < slots.length; i++) slots[i] = region.asSlice(at[i], slotBytes[i]);
            MemorySegment scratch = region.asSlice(at[slotBytes.length], scratchpadBytes);
            this.scratch = scratch;
            List<int[]> binds = new ArrayList<>();   // {execution, argument, caller index}
            for (int e = 0; e < steps.size(); e++) {
                PlanStep step = steps.get(e);
                if (step.java() != null || step.loop() != null) {
                    made.add(null);
                    continue;
                }
                List<Arg> args = new ArrayList<>(step.args().size());
                for (int i = 0; i < step.args().size(); i++) {
                    PlanArg a = step.args().get(i);
                    int where = a.buffer() >= 0 ? physical[a.buffer()] : a.buffer();   // a slot, or INPUT/OUTPUT/CONSTANT
                    int k = PlanArg.callerIndex(where, inputs);
                    if (k >= 0) binds.add(new int[] {e, i, k});
                    args.add(a.toArg(where >= 0 ? slots[where] : null));
                }
                made.add(new Execution(step.primitive(), args, scratch, arena));
                nativeObjects.addAndGet(args.size() + 1);
                if (step.fast() != null) withFast[e] = args;   // its execution: made once its variant is proven (makeFast)
            }
            fastExecutions = new Execution[steps.size()];   // made once their variants are proven (makeFast)
            fastArgs = withFast;
            stream = s;
            executions = made.toArray(new Execution[0]);
            actions = new Action[executions.length];
            for (int e = 0; e < actions.length; e++) {
                Winograd.Conv w = steps.get(e).winograd();
                JavaStep js = steps.get(e).java();
                if (js != null) {
                    actions[e] = javaAction(js, slots);
                } else if (steps.get(e).loop() != null) {
                    LowerRecurrentSteps.Run run = new LowerRecurrentSteps.Run(steps.get(e).loop(), b -> slots[physical[b]], scratch, arena);
                    loopRuns.add(run);
                    nativeObjects.addAndGet(run.nativeObjects());
                    actions[e] = run;
                } else if (w == null) {
                    // The caller buffers this step touches, at most 2 (plain loops and a class, not streams and lambdas:
                    // this runs at a plan's first run, where each stream shape and lambda is linked at first use).
                    int h0 = -1, h1 = -1;
                    for (int[] x : binds) {
                        if (x[0] != e || x[2] == h0 || x[2] == h1) continue;
                        if (h0 < 0) h0 = x[2];
                        else if (h1 < 0) h1 = x[2];
                        else throw new IllegalStateException("step " + e + " touches more than 2 caller buffers");
                    }
                    actions[e] = new StepAction(e, executions[e], steps.get(e).fast(), h0, h1);
                } else {
                    PlanStep f = w.fallback();
                    List<Arg> fb = new ArrayList<>();   // x, weights, [bias,] y: never the caller's memory
                    for (PlanArg a : f.args()) fb.add(a.toArg(a.buffer() >= 0 ? slots[physical[a.buffer()]] : null));
                    Execution direct = new Execution(f.primitive(), fb, scratch, arena);
                    nativeObjects.addAndGet(fb.size() + 1);
                    Winograd.Run run;
                    try {
                        run = new Winograd.Run(w, executions[e], direct, winogradFallbacks, slots[physical[w.input()]],
                                slots[physical[w.output()]], slots[physical[steps.get(e).args().get(0).buffer()]],
                                slots[physical[steps.get(e).args().get(2).buffer()]], threads);
                    } catch (RuntimeException | Error failure) {
                        direct.close();
                        throw failure;
                    }
                    winogradRuns.add(run);
                    actions[e] = run;
                }
            }
            bindExec = new int[binds.size()];
            bindArg = new int[binds.size()];
            bindCaller = new int[binds.size()];
            for (int i = 0; i < binds.size(); i++) {
                bindExec[i] = binds.get(i)[0];
                bindArg[i] = binds.get(i)[1];
                bindCaller[i] = binds.get(i)[2];
            }
        } catch (RuntimeException | Error e) {
            winogradRuns.forEach(Winograd.Run::close);
            loopRuns.forEach(LowerRecurrentSteps.Run::close);
            for (Execution ex : made) if (ex != null) ex.close();
            if (s != null) s.close();
            arena.close();
            throw e;
        }
    }

    /**
     * One oneDNN execution on the caller's buffers {@code h0}, {@code h1} (-1: none), or, on runs whose inputs are within a
     * proven bound, its fast variant ({@link PlanStep.Fast}): that variant's execution, or nothing where the proof skips the
     * step. A variant proven while the run is under way is taken from the next run on (its execution is made then).
     */
    private final class StepAction implements Action {
        private final int step;
        private final Execution ex;
        private final PlanStep.Fast fast;
        private final int h0, h1;

        StepAction(int step, Execution ex, PlanStep.Fast fast, int h0, int h1) {
            this.step = step;
            this.ex = ex;
            this.fast = fast;
            this.h0 = h0;
            this.h1 = h1;
        }

        @Override
        public void run(Stream st) {
            Execution use = ex;
            PlanStep.Fast.Proven p = fast == null ? null : fast.proven();
            if (p != null && inputBits <= p.maxInputBits()) {   // inputBits: this run's scan (int max where it did not scan)
                if (p.primitive() == null) return;
                if (fastExecutions[step] != null) use = fastExecutions[step];
            }
            use.execute(st, h0 < 0 ? MemorySegment.NULL : caller[h0], h1 < 0 ? MemorySegment.NULL : caller[h1]);
        }
    }

    /** Makes the executions of the fast variants published since this context last looked (at the start of a run). */
    private void makeFast() {
        for (int e = 0; e < fastArgs.length; e++) {
            if (fastArgs[e] == null || fastExecutions[e] != null) continue;
            PlanStep.Fast.Proven p = steps.get(e).fast().proven();
            if (p == null || p.primitive() == null) continue;
            fastExecutions[e] = new Execution(p.primitive(), fastArgs[e], scratch, arena);
            nativeObjects.addAndGet(fastArgs[e].size() + 1);
        }
    }

    /**
     * A Java step: its kernel over exactly-sized views of its input and output slots, after the steps
     * before have finished; an input that is the caller's (an integer input, see {@link LowerIndex}) is
     * the caller's tensor of the run (read by Java, which fails cleanly if it was freed).
     */
    Action javaAction(JavaStep js, MemorySegment[] slots) {
        MemorySegment[] src = new MemorySegment[js.inputs().length], dst = new MemorySegment[js.outputs().length];
        int[] fromCaller = new int[src.length];
        for (int i = 0; i < src.length; i++) {
            int b = js.inputs()[i];
            fromCaller[i] = b >= 0 ? -1 : PlanArg.callerIndex(b, callerInputs);
            if (b >= 0) src[i] = slots[physical[b]].asSlice(0, Sizes.f32Bytes("Java step", js.inShapes()[i]));
        }
        int[] toCaller = new int[dst.length];
        for (int i = 0; i < dst.length; i++) {
            int b = js.outputs()[i];
            toCaller[i] = b >= 0 ? -1 : PlanArg.callerIndex(b, callerInputs);   // a caller's output (LowerCarried's dtype conversion)
            if (b >= 0) dst[i] = slots[physical[b]].asSlice(0, Sizes.f32Bytes("Java step", js.outShapes()[i]));
        }
        return st -> {
            st.await();   // the steps before have written the input slots
            for (int i = 0; i < src.length; i++) if (fromCaller[i] >= 0) src[i] = caller[fromCaller[i]];
            for (int i = 0; i < dst.length; i++) if (toCaller[i] >= 0) dst[i] = caller[toCaller[i]];
            try {
                js.kernel().run(src, dst);
            } finally {
                for (int i = 0; i < src.length; i++) if (fromCaller[i] >= 0) src[i] = null;   // keep no reference to the caller's memory
                for (int i = 0; i < dst.length; i++) if (toCaller[i] >= 0) dst[i] = null;
            }
        };
    }

    /** Runs the plan on the caller's buffers in {@link #caller} (set by the caller, who calls {@link #forget()} after). */
    void run() {
        int version = pool.fastVersion;
        if (version != fastSeen) {   // fast variants proven since the last run: their executions, bound below like the others
            makeFast();
            fastSeen = version;
        }
        int limit = pool.fastLimit;   // -1: no fast variant yet, no scan
        for (int i = 0; i < bindExec.length; i++) {
            executions[bindExec[i]].bind(bindArg[i], caller[bindCaller[i]]);
            if (fastExecutions[bindExec[i]] != null) fastExecutions[bindExec[i]].bind(bindArg[i], caller[bindCaller[i]]);
        }
        int bits = 0;   // the inputs' largest magnitude (NaN above infinity above every finite): which fast steps may run
        boolean checked = false;
        for (int i = 0; i < checkedInputs.length && limit >= 0; i++) {
            if (checkedInputs[i] == 0) continue;
            bits = Math.max(bits, FiniteBounds.maxAbsBits(caller[i], checkedInputs[i]));
            checked = true;
        }
        inputBits = checked ? bits : Integer.MAX_VALUE;
        if (checked && bits <= limit) fastRuns.incrementAndGet();
        if (!winogradRuns.isEmpty() && !winogradPrepared) {   // one decision per run: all Winograd steps, or all direct
            // All of this plan's weights, each: in a plan set some are other plans' (SharedConstants), prepared and
            // published by whichever plan got to them first, so one step's being ready says nothing of the others.
            boolean prepared = true;
            for (int i = 0; i < winogradRuns.size() && prepared; i++) prepared = winogradRuns.get(i).weightsReady();
            for (int i = 0; i < winogradRuns.size(); i++) winogradRuns.get(i).winograd = prepared;
            winogradPrepared = prepared;   // prepared weights stay prepared: no more checks
        }
        long[] times = stepNanos;
        stepNanos = null;   // cleared while still borrowed: the next borrower runs untimed
        if (times == null) {
            for (Action a : actions) a.run(stream);
        } else {   // profiling (StepProfiler): each step waited for and timed on its own
            for (int i = 0; i < actions.length; i++) {
                long t0 = System.nanoTime();
                actions[i].run(stream);
                stream.await();
                times[i] += System.nanoTime() - t0;
            }
        }
        stream.await();
    }

    /** Set only by {@link StepProfiler} on a context it has borrowed, for its next run: per step, the nanoseconds it took; null otherwise. */
    long[] stepNanos;

    /** Drops the caller's buffers: no reference to them is kept between runs. */
    void forget() {
        java.util.Arrays.fill(caller, MemorySegment.NULL);
    }

    void close() {
        for (Winograd.Run r : winogradRuns) r.close();
        for (LowerRecurrentSteps.Run r : loopRuns) r.close();
        for (Execution e : executions) if (e != null) e.close();
        for (Execution e : fastExecutions) if (e != null) e.close();
        stream.close();
        arena.close();
    }
}
