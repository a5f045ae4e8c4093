package dev.panamadnn.natives;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.List;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

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

    /**
     * One reading: the cumulative microseconds some task waited for a CPU (-1 without PSI), the ticks the CPUs this
     * process may use spent busy (steal included), the ticks this process used, and how many CPUs were counted.
     */
    record Reading(long stallMicros, long busyTicks, long ownTicks, int cpus) {}

    /** libgomp's calls the governor makes, on its own thread. */
    interface Pool {
        /** Starts (or keeps) an idle OpenMP pool on the calling thread. */
        void hold();

        /** Frees the calling thread's OpenMP pool; its threads exit. */
        void release();
    }

    private static volatile WaitGovernor running;

    private final Supplier<Reading> source;
    private final IntSupplier teamThreads;
    private final Pool pool;
    private Reading last;
    private long lastNanos;
    private double pressure, freeCores = Double.NaN;
    private boolean contended;
    private volatile boolean holding;
    /** Tests: a state to hold whatever the readings say; null: follow them. */
    private volatile Boolean override;

    WaitGovernor(Supplier<Reading> source, IntSupplier teamThreads, Pool pool) {
        this.source = source;
        this.teamThreads = teamThreads;
        this.pool = pool;
    }

    /**
     * Starts the daemon thread, once per JVM, if this oneDNN runs on GNU libgomp ({@code GOMP_parallel},
     * {@code omp_pause_resource}) and the machine can be read; {@return the governor, or null (nothing started)}
     */
    static synchronized WaitGovernor start(SymbolLookup dnnl, IntSupplier teamThreads) {
        if (running != null) return running;
        Pool pool = LibgompPool.of(dnnl);
        if (pool == null || read() == null) return null;
        WaitGovernor g = new WaitGovernor(WaitGovernor::read, teamThreads, pool);
        g.sample(System.nanoTime());   // the first reading, so the first period already gives a rate
        Thread.ofPlatform().daemon().name("panama-dnn-openmp-wait").start(g);
        running = g;
        return g;
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
                    return;
                }
                holding = want;
            }
        }
    }

    /** Takes one reading at {@code nanos}; {@return whether the cores are contended now (false with no rate yet)} */
    boolean sample(long nanos) {
        Reading now = source.get();
        if (now == null) return contended;
        Reading prev = last;
        long prevNanos = lastNanos;
        last = now;
        lastNanos = nanos;
        if (prev == null || nanos <= prevNanos) return contended;
        double seconds = (nanos - prevNanos) / 1e9;
        double others = Math.max(0, (now.busyTicks() - prev.busyTicks()) - (now.ownTicks() - prev.ownTicks())) / TICKS_PER_SECOND / seconds;
        double free = Math.max(0, now.cpus() - others);
        freeCores = Double.isNaN(freeCores) ? free : 0.5 * freeCores + 0.5 * free;
        if (now.stallMicros() >= 0 && prev.stallMicros() >= 0) {
            double share = Math.min(1, Math.max(0, (now.stallMicros() - prev.stallMicros()) / (seconds * 1e6)));
            pressure = 0.5 * pressure + 0.5 * share;
        }
        int team = Math.min(teamThreads.getAsInt(), now.cpus());
        if (contended) {
            if (pressure < CALM && freeCores > team - 0.25) contended = false;
        } else if (pressure > CONTENDED || freeCores < team - 0.5) {
            contended = true;
        }
        return contended;
    }

    /** {@return the current reading of the machine, or null if /proc/stat or /proc/self/stat cannot be read} */
    static Reading read() {
        try {
            BitSet allowed = allowedCpus();
            long busy = 0;
            int cpus = 0;
            // the cpu lines come first; the rest (interrupt counts, on a large host tens of kilobytes) is not read
            List<String> lines;
            try (var in = Files.lines(Path.of("/proc/stat"), StandardCharsets.US_ASCII)) {
                lines = in.takeWhile(l -> l.startsWith("cpu")).toList();
            }
            for (String line : lines) {
                if (line.startsWith("cpu ")) continue;
                String[] f = line.trim().split("\\s+");
                int cpu = Integer.parseInt(f[0].substring(3));
                if (allowed != null && !allowed.get(cpu)) continue;
                // user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait
                for (int i = 1; i <= Math.min(8, f.length - 1); i++) if (i != 4 && i != 5) busy += Long.parseLong(f[i]);
                cpus++;
            }
            String self = Files.readString(Path.of("/proc/self/stat"), StandardCharsets.US_ASCII);
            // after the command name in parentheses: utime and stime are fields 14 and 15 of the whole line
            String[] f = self.substring(self.lastIndexOf(')') + 2).split(" ");
            long own = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            if (cpus == 0) return null;
            return new Reading(pressure(), busy, own, cpus);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    /** {@return the CPUs this process may run on ({@code Cpus_allowed_list}), or null (count every CPU) if unreadable} */
    static BitSet allowedCpus() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII)) {
                if (line.startsWith("Cpus_allowed_list:")) return cpuList(line.substring(line.indexOf(':') + 1));
            }
        } catch (IOException | RuntimeException e) {
            // count every CPU
        }
        return null;
    }

    /** {@return the CPUs of a kernel CPU list such as {@code 0-3,8,10-11}} */
    static BitSet cpuList(String list) {
        BitSet cpus = new BitSet();
        for (String part : list.strip().split(",")) {
            int dash = part.indexOf('-');
            int from = Integer.parseInt(part.substring(0, dash < 0 ? part.length() : dash).strip());
            int to = dash < 0 ? from : Integer.parseInt(part.substring(dash + 1).strip());
            cpus.set(from, to + 1);
        }
        return cpus;
    }

    /** {@return PSI's cumulative "some" stall of the CPUs in microseconds, or -1 where the kernel does not offer it} */
    static long pressure() {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/pressure/cpu"), StandardCharsets.US_ASCII);
            for (String line : lines) {
                int i = line.indexOf("total=");
                if (line.startsWith("some ") && i >= 0) return Long.parseLong(line.substring(i + 6).strip());
            }
        } catch (IOException | RuntimeException e) {
            // no PSI: the other signal decides alone
        }
        return -1;
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
