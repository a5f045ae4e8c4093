package dev.panamadnn.compile;

import dev.panamadnn.graph.Value;
import dev.panamadnn.internal.lifetime.NativeAccess;
import dev.panamadnn.natives.ThreadControl;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The execution contexts of one {@link CompiledModel} and how a run uses one: the plan's buffers
 * assigned to context slots (by liveness), a pool that grows to the peak number of concurrent
 * runs, and the run itself on the caller's buffers bound in a borrowed context. Thread-safe;
 * {@link #close()} only once no run is in flight (the model's lease on its calls ensures it).
 */
final class ContextPool {
    private final String name;
    private final List<PlanStep> steps;
    private final List<Value> inputs, outputs;
    private final int[] physical;          // logical buffer -> context slot, or OUTPUT/UNUSED
    private final long[] slotBytes;
    private final long scratchpadBytes;
    private final int threads;             // intra-op threads every run uses, or 0: OpenMP's default
    final AtomicLong nativeObjects = new AtomicLong(), winogradFallbacks = new AtomicLong(), fastRuns = new AtomicLong();
    private volatile ExecutionContext[] contexts = new ExecutionContext[0];
    private boolean closed;

    ContextPool(String name, Compiler c, List<PlanStep> steps, int threads) {
        this.name = name;
        this.steps = steps;
        this.inputs = List.copyOf(c.inputs);
        this.outputs = List.copyOf(c.outputs);
        this.threads = threads;
        BufferAssignment.Assignment a = BufferAssignment.assign(c.buffers, c.outputAlias);
        physical = new int[c.buffers.size()];
        for (int b = 0; b < physical.length; b++) {
            physical[b] = b == c.outputAlias ? PlanArg.OUTPUT : a.slotOf()[b] < 0 ? PlanArg.UNUSED : a.slotOf()[b];
        }
        slotBytes = a.slotBytes();
        long scratch = 1;
        int limit = -1;
        boolean anyFast = false;   // a plan with fast steps scans its inputs each run
        for (PlanStep s : steps) {
            anyFast |= s.fast() != null;
            if (s.loop() != null) scratch = Math.max(scratch, s.loop().scratchpadBytes());
            if (s.primitive() == null) continue;
            scratch = Math.max(scratch, s.primitive().scratchpadBytes());
            if (s.winograd() != null) scratch = Math.max(scratch, s.winograd().fallback().primitive().scratchpadBytes());
            PlanStep.Fast.Proven proven = s.fast() == null ? null : s.fast().proven();   // proven at compile (else null until published)
            if (proven == null) continue;
            limit = Math.max(limit, proven.maxInputBits());
            if (proven.primitive() != null) scratch = Math.max(scratch, proven.primitive().scratchpadBytes());
        }
        scratchpadBytes = scratch;
        fastLimit = limit;
        // Per input, its F32 element count, which a plan with fast steps scans each run (0: not scanned, as an integer input).
        checkedInputs = new long[inputs.size()];
        for (int i = 0; i < checkedInputs.length && anyFast; i++) {
            dev.panamadnn.graph.Value v = inputs.get(i);
            if (v.dtype() == dev.panamadnn.DataType.F32) checkedInputs[i] = LowerIndex.prod(v.shape().sizes(), 0, v.shape().rank());
        }
    }

    private final long[] checkedInputs;

    /**
     * The largest bound of the steps' proven fast variants (-1: none yet; a run scans its inputs only when there is one),
     * and how many proofs were published ({@link DeferredProof}): a context makes the executions of new ones at the start of
     * its next run.
     */
    volatile int fastLimit, fastVersion;

    /**
     * Held (read) by a plan run as parts side by side ({@link SplitRuns}) for the whole run, and (write) by
     * {@link #publish}: the parts of one run see the same fast variants.
     */
    final java.util.concurrent.locks.ReentrantReadWriteLock proofs = new java.util.concurrent.locks.ReentrantReadWriteLock();

    /** Publishes what a {@link DeferredProof} proved, all at once: a run made before takes none of them, one after all. */
    void publish(List<PlanStep.Fast> fasts, List<PlanStep.Fast.Proven> proven) {
        if (fasts.isEmpty()) return;
        proofs.writeLock().lock();
        try {
            int limit = fastLimit;
            for (int i = 0; i < fasts.size(); i++) {
                fasts.get(i).publish(proven.get(i));
                limit = Math.max(limit, proven.get(i).maxInputBits());
            }
            fastLimit = limit;
            fastVersion++;
        } finally {
            proofs.writeLock().unlock();
        }
    }

    /** {@return the scratchpad bytes every context has: the most any step's primitive asked for at compile} */
    long scratchpadBytes() {
        return scratchpadBytes;
    }

    /** A context of its own for this call (created if all are busy); give it back through {@link #execute}. */
    ExecutionContext borrow() {
        for (ExecutionContext c : contexts) if (c.busy.compareAndSet(false, true)) return c;
        synchronized (this) {
            if (closed) throw new IllegalStateException(name + " (compiled) is closed");
            ExecutionContext c = new ExecutionContext(steps, physical, slotBytes, scratchpadBytes, nativeObjects, winogradFallbacks, threads,
                    inputs.size(), outputs.size(), checkedInputs, this);
            c.busy.set(true);
            ExecutionContext[] grown = Arrays.copyOf(contexts, contexts.length + 1);
            grown[grown.length - 1] = c;
            contexts = grown;
            return c;
        }
    }

    /** Runs borrowed context {@code c} on the caller's buffers set in it, forgets them and gives the context back. */
    void execute(ExecutionContext c) {
        boolean interruptedBefore = Thread.currentThread().isInterrupted();
        try {
            if (threads > 0) ThreadControl.applyToCurrentThread(threads);
            else ThreadControl.applyToCurrentThread();
            c.run();
        } catch (IllegalStateException e) {
            for (int i = 0; i < c.caller.length; i++) {
                if (!c.caller[i].scope().isAlive()) {
                    String which = i < inputs.size() ? "input '" + inputs.get(i).name() + "'" : "output '" + outputs.get(i - inputs.size()).name() + "'";
                    throw new IllegalStateException(name + " (compiled): the " + which + " tensor's memory was freed during the run; "
                            + "the output is incomplete", e);
                }
            }
            throw e;
        } finally {
            // The run's Java reads of the caller's memory (the inputs' magnitude scan) may be aborted by another thread
            // closing it; the JDK can leave this thread's interrupt flag set then (seen in the race suite's
            // plan-input-close), which is not the caller's interrupt: cleared, unless it was set before the run.
            for (MemorySegment s : c.caller) {
                if (!s.scope().isAlive()) {
                    NativeAccess.clearStrayInterrupt(interruptedBefore);
                    break;
                }
            }
            c.forget();
            c.busy.set(false);
        }
    }

    int count() {
        return contexts.length;
    }

    /** Bytes of activation buffers plus scratchpad one context holds. */
    long contextBytes() {
        long sum = scratchpadBytes;
        for (long b : slotBytes) sum += b;
        return sum;
    }

    /** Closes every context (no run may be in flight). */
    synchronized void close() {
        closed = true;
        for (ExecutionContext c : contexts) c.close();
        contexts = new ExecutionContext[0];
    }
}
