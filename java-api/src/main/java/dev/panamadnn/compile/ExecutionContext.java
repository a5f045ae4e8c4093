package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.dnnl.Arg;
import dev.panamadnn.internal.dnnl.Engine;
import dev.panamadnn.internal.dnnl.Execution;
import dev.panamadnn.internal.dnnl.Stream;
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

    private final List<Compiler.Step> steps;
    private final int[] physical;
    private final AtomicLong nativeObjects, winogradFallbacks;
    private final int threads;
    final AtomicBoolean busy = new AtomicBoolean();
    final Arena arena = Arena.ofShared();
    final Stream stream;
    final Execution[] executions;
    /** Per step, what runs it: its execution, or a Winograd run around it. */
    final Action[] actions;
    final int[] inputExec, inputArg, outputExec, outputArg;
    final List<Winograd.Run> winogradRuns = new ArrayList<>();
    /** The caller's buffers of the run in progress, held alive by the steps that touch them ({@link Execution#execute(Stream, MemorySegment, MemorySegment)}). */
    MemorySegment in = MemorySegment.NULL, out = MemorySegment.NULL;

    ExecutionContext(List<Compiler.Step> steps, int[] physical, long[] slotBytes, long scratchpadBytes, AtomicLong nativeObjects,
                     AtomicLong winogradFallbacks, int threads) {
        this.steps = steps;
        this.physical = physical;
        this.nativeObjects = nativeObjects;
        this.winogradFallbacks = winogradFallbacks;
        this.threads = threads;
        List<Execution> made = new ArrayList<>();
        Stream s = null;
        try {
            s = Stream.create(Engine.cpu());
            nativeObjects.incrementAndGet();
            MemorySegment[] slots = new MemorySegment[slotBytes.length];
            for (int i = 0; i < slots.length; i++) slots[i] = arena.allocate(slotBytes[i], 64);
            MemorySegment scratch = arena.allocate(scratchpadBytes, 64);
            List<int[]> ins = new ArrayList<>(), outs = new ArrayList<>();
            for (int e = 0; e < steps.size(); e++) {
                Compiler.Step step = steps.get(e);
                if (step.java() != null) {
                    made.add(null);
                    continue;
                }
                List<Arg> args = new ArrayList<>(step.args().size());
                for (int i = 0; i < step.args().size(); i++) {
                    Compiler.PlanArg a = step.args().get(i);
                    int where = a.buffer() >= 0 ? physical[a.buffer()] : a.buffer();   // a slot, or INPUT/OUTPUT/CONSTANT
                    if (where == Compiler.INPUT) ins.add(new int[] {e, i});
                    else if (where == Compiler.OUTPUT) outs.add(new int[] {e, i});
                    args.add(a.toArg(where >= 0 ? slots[where] : null));
                }
                made.add(new Execution(step.primitive(), args, scratch, arena));
                nativeObjects.addAndGet(args.size() + 1);
            }
            stream = s;
            executions = made.toArray(new Execution[0]);
            actions = new Action[executions.length];
            for (int e = 0; e < actions.length; e++) {
                Winograd.Conv w = steps.get(e).winograd();
                Compiler.JavaStep js = steps.get(e).java();
                if (js != null) {
                    actions[e] = javaAction(js, slots[physical[js.input()]], slots[physical[js.output()]]);
                } else if (w == null) {
                    Execution ex = executions[e];
                    final int step = e;
                    boolean readsInput = ins.stream().anyMatch(x -> x[0] == step), writesOutput = outs.stream().anyMatch(x -> x[0] == step);
                    actions[e] = st -> ex.execute(st, readsInput ? in : MemorySegment.NULL, writesOutput ? out : MemorySegment.NULL);
                } else {
                    Compiler.Step f = w.fallback();
                    List<Arg> fb = new ArrayList<>();   // x, weights, [bias,] y: never the caller's memory
                    for (Compiler.PlanArg a : f.args()) fb.add(a.toArg(a.buffer() >= 0 ? slots[physical[a.buffer()]] : null));
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
                    actions[e] = run::run;
                }
            }
            inputExec = ins.stream().mapToInt(x -> x[0]).toArray();
            inputArg = ins.stream().mapToInt(x -> x[1]).toArray();
            outputExec = outs.stream().mapToInt(x -> x[0]).toArray();
            outputArg = outs.stream().mapToInt(x -> x[1]).toArray();
        } catch (RuntimeException | Error e) {
            winogradRuns.forEach(Winograd.Run::close);
            for (Execution ex : made) if (ex != null) ex.close();
            if (s != null) s.close();
            arena.close();
            throw e;
        }
    }

    /** A Java step: its kernel over exactly-sized views of its input and output slots, after the steps before have finished. */
    Action javaAction(Compiler.JavaStep js, MemorySegment inSlot, MemorySegment outSlot) {
        MemorySegment src = inSlot.asSlice(0, Sizes.f32Bytes("Java step", js.inShape()));
        MemorySegment dst = outSlot.asSlice(0, Sizes.f32Bytes("Java step", js.outShape()));
        return st -> {
            st.await();   // the steps before have written the input slot
            js.kernel().run(src, dst);
        };
    }

    void run(MemorySegment input, MemorySegment output) {
        in = input;
        out = output;
        try {
            for (int i = 0; i < inputExec.length; i++) executions[inputExec[i]].bind(inputArg[i], in);
            for (int i = 0; i < outputExec.length; i++) executions[outputExec[i]].bind(outputArg[i], out);
            if (!winogradRuns.isEmpty()) {   // one decision per run: all Winograd steps, or (not yet prepared) all direct
                boolean prepared = winogradRuns.get(0).weightsReady();
                for (int i = 0; i < winogradRuns.size(); i++) winogradRuns.get(i).winograd = prepared;
            }
            for (Action a : actions) a.run(stream);
            stream.await();
        } finally {
            in = MemorySegment.NULL;   // keep no reference to the caller's memory between runs
            out = MemorySegment.NULL;
        }
    }

    void close() {
        for (Winograd.Run r : winogradRuns) r.close();
        for (Execution e : executions) if (e != null) e.close();
        stream.close();
        arena.close();
    }
}
