package dev.panamadnn.natives;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.function.IntSupplier;

/**
 * Moves GNU libgomp between a long spin while the cores are free and a short one while other work wants them, so a
 * multi-thread plan is fast on a quiet machine and does not collapse beside busy processes.
 *
 * <p>Why: a 2-thread plan at batch 1 runs dozens of short parallel regions a run. Where nothing else wants the cores, a
 * team mate that sleeps between them costs a wake-up each time (~48 us on a 2-vCPU VM, 15 times a ResNet-18 run), so it
 * should spin; where other work is runnable, a spinning thread waits for a team mate that sits descheduled, at every
 * primitive (ResNet-18 beside a busy loop: 45-50 ms a run spinning 300,000 times, 13 ms spinning 1,000). No fixed count
 * is right for both (docs/benchmarks.md, "libgomp's spin count", "An adaptive wait on GNU libgomp").
 *
 * <p>How, without changing libgomp: libgomp reads two spin counts once, when it loads, and at every wait uses the
 * second, "throttled" one whenever it manages more threads than the CPUs the process may use. {@link ThreadControl}
 * sets the first to {@value ThreadControl#CALM_SPIN_COUNT} and, through {@code OMP_WAIT_POLICY=active} (set for
 * libgomp's start only), the second to {@value ThreadControl#BUSY_SPIN_COUNT}. This governor's daemon thread moves
 * libgomp between them by the threads it manages: while contended, the governor's thread holds an idle OpenMP pool (one
 * {@code GOMP_parallel} of as many threads as CPUs, each running C's {@code free(NULL)}, which does nothing; the pool's
 * threads then sleep), which lifts libgomp's count above the CPUs; once calm, {@code omp_pause_resource} frees that pool
 * and the count falls back. No Java runs on those threads.
 *
 * <p>Two signals, read every {@value #PERIOD_MS} ms and smoothed: the CPU time used by everything but this process on
 * the CPUs it may use ({@code /proc/stat} less {@code /proc/self/stat}: other processes, and time the hypervisor took,
 * "steal"), which tells whether the cores a team needs are free; and, where the kernel has it, the CPU pressure
 * ({@code /proc/pressure/cpu}: the share of time some runnable task waited for a core), which also sees this process
 * oversubscribing the cores itself. Contended when the others leave the team less than its threads minus half a core,
 * or the pressure passes {@value #CONTENDED}; calm again only when they leave it within a quarter core and the pressure
 * is under {@value #CALM}. A process whose own callers already give libgomp more threads than CPUs (several Java
 * threads each with a team) is throttled by libgomp itself, whatever this governor decides.
 */
final class WaitGovernor implements Runnable {
    static final int PERIOD_MS = 100;
    /** Smoothed pressure (share of time with a task waiting for a core) above which the machine counts as contended. */
    static final double CONTENDED = 0.20;
    /** ... and below which (with the cores free) it counts as calm again. */
    static final double CALM = 0.08;
    /** Linux's USER_HZ: the unit of /proc/stat's and /proc/self/stat's CPU times on every Linux architecture we run on. */
    static final double TICKS_PER_SECOND = 100;
    private static final int OMP_PAUSE_SOFT = 1;

    /** Where readings come from: fills its argument in place; false if the machine could not be read this time. */
    interface Source {
        boolean read(ProcReadings.Reading into);
    }

    /** libgomp's calls the governor makes, on its own thread. */
    interface Pool {
        /** Starts (or keeps) an idle OpenMP pool on the calling thread. */
        void hold();

        /** Frees the calling thread's OpenMP pool; its threads exit. */
        void release();
    }

    /**
     * How long the daemon waits before it links libgomp's calls and opens /proc (tens of milliseconds of a cold JVM's
     * time): off the load and the first inference, which a cold start waits for; the long spin holds meanwhile.
     */
    static final int START_DELAY_MS = 2000;

    private static volatile WaitGovernor running;

    private Source source;                  // given (tests), or found by the daemon first (link)
    private final IntSupplier teamThreads;
    private Pool pool;
    private final SymbolLookup dnnl;        // where the daemon finds libgomp; null when source and pool were given
    private volatile boolean failed;
    private final ProcReadings.Reading now = new ProcReadings.Reading();
    private long lastStall, lastBusy, lastOwn, lastNanos;
    private boolean hasLast;
    private double pressure, freeCores = Double.NaN;
    private boolean contended;
    private volatile boolean holding;
    /** Tests: a state to hold whatever the readings say; null: follow them. */
    private volatile Boolean override;

    WaitGovernor(Source source, IntSupplier teamThreads, Pool pool) {
        this.source = source;
        this.teamThreads = teamThreads;
        this.pool = pool;
        this.dnnl = null;
    }

    private WaitGovernor(SymbolLookup dnnl, IntSupplier teamThreads) {
        this.teamThreads = teamThreads;
        this.dnnl = dnnl;
    }

    /**
     * Starts the daemon thread, once per JVM; {@return the governor} It finds libgomp's calls ({@code GOMP_parallel},
     * {@code omp_pause_resource}) and {@code /proc}'s files only after {@link #START_DELAY_MS}, and stops there
     * ({@link #failed()}) where either is missing.
     */
    static synchronized WaitGovernor start(SymbolLookup dnnl, IntSupplier teamThreads) {
        if (running != null) return running;
        WaitGovernor g = new WaitGovernor(dnnl, teamThreads);
        Thread.ofPlatform().daemon().name("panama-dnn-openmp-wait").start(g);
        running = g;
        return g;
    }

    /** The daemon's first act: libgomp's calls and /proc; {@return false where either is missing} */
    private boolean link() {
        Pool p = LibgompPool.of(dnnl);
        if (p == null) return false;
        ProcReadings proc;
        try {
            proc = ProcReadings.open();
        } catch (java.io.IOException | RuntimeException e) {
            return false;   // no /proc: nothing to decide from
        }
        if (!proc.read(now)) {
            proc.close();
            return false;
        }
        pool = p;
        source = proc::read;
        return true;
    }

    /** {@return whether the daemon stopped: libgomp's calls or /proc were missing, or a pool call failed} */
    boolean failed() {
        return failed;
    }

    /** {@return the running governor, or null} */
    static WaitGovernor running() {
        return running;
    }

    /** {@return whether libgomp is held on its short spin now} */
    boolean holding() {
        return holding;
    }

    /** Tests: hold the short spin ({@code true}), the long one ({@code false}), or follow the readings ({@code null}). */
    void override(Boolean state) {
        override = state;
    }

    @Override
    public void run() {
        if (dnnl != null) {
            try {
                Thread.sleep(START_DELAY_MS);
            } catch (InterruptedException e) {
                return;
            }
            if (!link()) {
                failed = true;
                return;
            }
        }
        sample(System.nanoTime());   // the first reading, so the first period already gives a rate
        while (true) {
            try {
                Thread.sleep(PERIOD_MS);
            } catch (InterruptedException e) {
                return;
            }
            boolean want = sample(System.nanoTime());
            Boolean forced = override;
            if (forced != null) want = forced;
            if (want != holding) {
                try {
                    if (want) pool.hold();
                    else pool.release();
                } catch (RuntimeException e) {
                    System.getLogger(Natives.LOGGER).log(System.Logger.Level.WARNING,
                            "Panama DNN: the adaptive OpenMP wait stopped; libgomp keeps its current spin", e);
                    failed = true;
                    return;
                }
                holding = want;
            }
        }
    }

    /** Takes one reading at {@code nanos}; {@return whether the cores are contended now (false with no rate yet)} */
    boolean sample(long nanos) {
        if (!source.read(now)) return contended;
        boolean rate = hasLast && nanos > lastNanos;
        long stall = now.stallMicros - lastStall, busy = now.busyTicks - lastBusy, own = now.ownTicks - lastOwn;
        double seconds = (nanos - lastNanos) / 1e9;
        boolean psi = hasLast && now.stallMicros >= 0 && lastStall >= 0;
        lastStall = now.stallMicros;
        lastBusy = now.busyTicks;
        lastOwn = now.ownTicks;
        lastNanos = nanos;
        hasLast = true;
        if (!rate) return contended;
        double others = Math.max(0, busy - own) / TICKS_PER_SECOND / seconds;
        double free = Math.max(0, now.cpus - others);
        freeCores = Double.isNaN(freeCores) ? free : 0.5 * freeCores + 0.5 * free;
        if (psi) {
            double share = Math.min(1, Math.max(0, stall / (seconds * 1e6)));
            pressure = 0.5 * pressure + 0.5 * share;
        }
        int team = Math.min(teamThreads.getAsInt(), now.cpus);
        if (contended) {
            if (pressure < CALM && freeCores > team - 0.25) contended = false;
        } else if (pressure > CONTENDED || freeCores < team - 0.5) {
            contended = true;
        }
        return contended;
    }

    /** The idle pool through libgomp's own entry points. */
    private record LibgompPool(MethodHandle parallel, MethodHandle pause, int device, int procs, MemorySegment noop) implements Pool {
        static LibgompPool of(SymbolLookup dnnl) {
            var p = dnnl.find("GOMP_parallel");
            var pause = dnnl.find("omp_pause_resource");
            var device = dnnl.find("omp_get_initial_device");
            var procs = dnnl.find("omp_get_num_procs");
            Linker linker = Linker.nativeLinker();
            var free = linker.defaultLookup().find("free");
            if (p.isEmpty() || pause.isEmpty() || device.isEmpty() || procs.isEmpty() || free.isEmpty()) return null;
            try {
                int dev = (int) linker.downcallHandle(device.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact();
                int n = (int) linker.downcallHandle(procs.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT)).invokeExact();
                if (n < 2) return null;   // no team to throttle
                return new LibgompPool(
                        linker.downcallHandle(p.get(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                                ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)),
                        linker.downcallHandle(pause.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT)),
                        dev, n, free.get());
            } catch (Throwable t) {
                return null;
            }
        }

        @Override
        public void hold() {
            try {
                // procs threads: this one and procs - 1 new ones, which stay in the pool, asleep, until release()
                parallel.invokeExact(noop, MemorySegment.NULL, procs, 0);
            } catch (Throwable t) {
                throw new IllegalStateException("GOMP_parallel", t);
            }
        }

        @Override
        public void release() {
            try {
                int rc = (int) pause.invokeExact(OMP_PAUSE_SOFT, device);
                if (rc != 0) throw new IllegalStateException("omp_pause_resource returned " + rc);
            } catch (RuntimeException e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException("omp_pause_resource", t);
            }
        }
    }
}
