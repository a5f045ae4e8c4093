package dev.panamadnn.compile;

import dev.panamadnn.Tensor;
import dev.panamadnn.natives.ThreadControl;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * How a {@code split_batch} plan ({@link BatchSplit}) runs: as {@code parts} runs of a single-threaded plan
 * ({@link #part()}) for a 1/{@code parts} of the batch, side by side, part 0 on the caller's thread and the others on
 * this object's helper threads (kept while used, gone after 30 s idle). Owns the part plan and the helpers. The helpers
 * take a borrowed {@link Lane}'s reusable {@link PartTask}s from an array-backed queue and the caller parks until they
 * are done, so a warm run allocates only the memory views of its parts (it allocated ~280 bytes per run through
 * {@code submit} and its futures).
 */
final class SplitRuns {
    /** A thread never started: memory it may access is memory any thread may access (not of a confined arena). */
    private static final Thread ELSEWHERE = new Thread(() -> { });

    private final String name;
    private final CompiledModel part;
    private final int parts;
    /** The threads that run parts 1.. (part 0 runs on the caller's). */
    private final ThreadPoolExecutor helpers;
    /** Sets of tasks for parts 1.., each reused run after run; a run borrows one set (made under this object's lock when all are busy). */
    private volatile Lane[] lanes = new Lane[0];

    SplitRuns(String name, CompiledModel part, int parts) {
        this.name = name;
        this.part = part;
        this.parts = parts;
        AtomicInteger count = new AtomicInteger();
        // An array-backed queue: offering a task allocates nothing (a linked queue allocates a node per task).
        ThreadPoolExecutor pool = new ThreadPoolExecutor(parts - 1, parts - 1, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(1024), r -> {
            Thread t = new Thread(r, "panama-dnn " + name + " part " + count.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        pool.allowCoreThreadTimeOut(true);   // idle for 30 s: no thread kept for a plan not run
        this.helpers = pool;
    }

    /** {@return how many parts make a run} */
    int parts() {
        return parts;
    }

    /** {@return the single-threaded plan each part runs} */
    CompiledModel part() {
        return part;
    }

    /** Whether {@code part}'s inputs and outputs, {@code parts} of them along axis 0, are exactly {@code whole}'s. */
    static boolean tiles(CompiledModel whole, CompiledModel part, int parts) {
        long[][][] mine = {CompiledModel.sizes(whole.inputs()), CompiledModel.sizes(whole.outputs())},
                theirs = {CompiledModel.sizes(part.inputs()), CompiledModel.sizes(part.outputs())};
        for (int w = 0; w < 2; w++) {
            if (mine[w].length != theirs[w].length) return false;
            for (int i = 0; i < mine[w].length; i++) {
                long[] divided = mine[w][i].clone();
                if (divided.length == 0 || divided[0] % parts != 0) return false;
                divided[0] /= parts;
                if (!Arrays.equals(divided, theirs[w][i])) return false;
            }
        }
        return true;
    }

    /**
     * One run: part {@code k} of every (checked, plain) tensor, samples {@code k * N / parts} on, through the part plan;
     * returns when every part has finished, with the first failure (every part is waited for first: none writes the
     * caller's output after this returns).
     */
    void run(Tensor[] in, Tensor[] out) {
        // the parts run single-threaded; the caller's thread gets its OpenMP team size back afterwards (eager calls on it use it)
        int callersTeam = ThreadControl.openmpMaxThreads();
        java.util.concurrent.locks.Lock proofs = part.pool().proofs.readLock();   // every part sees the same fast variants
        proofs.lock();
        try {
            runParts(in, out);
        } finally {
            proofs.unlock();
            ThreadControl.applyToCurrentThread(callersTeam);
        }
    }

    private void runParts(Tensor[] in, Tensor[] out) {
        if (!shared(in) || !shared(out)) {   // memory of a confined arena: only this thread may touch it, so the parts take turns here
            for (int k = 0; k < parts; k++) part.runPart(in, out, k, parts);
            return;
        }
        Lane lane = borrow();
        for (PartTask t : lane.tasks) t.start(in, out);
        Throwable failure = null;
        try {
            part.runPart(in, out, 0, parts);
        } catch (RuntimeException | Error e) {
            failure = e;
        }
        boolean interrupted = false;
        for (PartTask t : lane.tasks) {
            interrupted |= t.await();   // every part, even after a failure: none may write the output after this returns
            if (failure == null) failure = t.failure;
            t.forget();
        }
        lane.busy.set(false);
        if (interrupted) Thread.currentThread().interrupt();
        if (failure instanceof RuntimeException r) throw r;
        if (failure instanceof Error e) throw e;
        if (failure != null) throw new IllegalStateException(name + " (compiled): a part of the run failed", failure);
    }

    /** A free set of tasks for parts 1.., taken for the caller; a new one only when every set is in use (concurrent callers). */
    private Lane borrow() {
        for (Lane l : lanes) if (l.busy.compareAndSet(false, true)) return l;
        synchronized (this) {
            Lane l = new Lane();
            l.busy.set(true);
            Lane[] grown = Arrays.copyOf(lanes, lanes.length + 1);
            grown[grown.length - 1] = l;
            lanes = grown;
            return l;
        }
    }

    /** The tasks of parts 1.. of one run at a time. */
    private final class Lane {
        final AtomicBoolean busy = new AtomicBoolean();
        final PartTask[] tasks = new PartTask[parts - 1];

        Lane() {
            for (int k = 1; k < parts; k++) tasks[k - 1] = new PartTask(k);
        }
    }

    /** Part {@code k} of one run, on a helper thread: reused by later runs once its lane is given back. */
    private final class PartTask implements Runnable {
        final int k;
        private Tensor[] in, out;
        private Thread waiter;
        private volatile boolean done;
        Throwable failure;

        PartTask(int k) {
            this.k = k;
        }

        void start(Tensor[] in, Tensor[] out) {
            this.in = in;
            this.out = out;
            this.waiter = Thread.currentThread();
            this.failure = null;
            this.done = false;
            try {
                helpers.execute(this);
            } catch (RejectedExecutionException full) {   // more parts queued than the queue holds: this one on the caller's thread
                run();
            }
        }

        @Override
        public void run() {
            try {
                part.runPart(in, out, k, parts);
            } catch (RuntimeException | Error e) {
                failure = e;
            } finally {
                Thread w = waiter;
                done = true;   // publishes failure
                LockSupport.unpark(w);
            }
        }

        /** Waits until this part has finished; {@return whether the caller was interrupted meanwhile} (the part is waited for anyway) */
        boolean await() {
            boolean interrupted = false;
            while (!done) {
                LockSupport.park(this);
                if (Thread.interrupted()) interrupted = true;
            }
            return interrupted;
        }

        /** Drops the finished run's tensors (the caller's memory is not kept reachable between runs). */
        void forget() {
            in = null;
            out = null;
            waiter = null;
        }
    }

    private static boolean shared(Tensor[] tensors) {
        for (Tensor t : tensors) if (!t.segment().isAccessibleBy(ELSEWHERE)) return false;
        return true;
    }

    /** Part {@code k} of {@code parts} of {@code s}. */
    static MemorySegment slice(MemorySegment s, int k, int parts) {
        long bytes = s.byteSize() / parts;
        return s.asSlice(bytes * k, bytes);
    }

    /** Part {@code k} of each tensor as a tensor of {@code shapes} (a view: no copy). */
    Tensor[] slices(Tensor[] t, int k, long[][] shapes) {
        Tensor[] out = new Tensor[t.length];
        for (int i = 0; i < t.length; i++) out[i] = Tensor.wrap(slice(t[i].segment(), k, parts), t[i].dtype(), shapes[i]);
        return out;
    }

    /** Stops the helpers and closes the part plan (the whole plan's runs have finished). */
    void close() {
        helpers.shutdown();
        part.close();
    }
}
