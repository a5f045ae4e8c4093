package dev.panamadnn.natives;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;

/**
 * Chooses how long the threads of Intel's OpenMP runtime spin before they sleep ({@code kmp_set_blocktime}) from
 * whether the cores are theirs: spin while nothing else wants them, sleep almost at once while something does.
 *
 * <p>Why: a 2-thread plan at batch 1 runs dozens of short parallel regions a run. Where nothing else wants the cores,
 * a team mate that sleeps between them costs a wake-up each time (~48 us on a 2-vCPU VM, 15 times a ResNet-18 run), so
 * it should spin; where other work is runnable, a spinning (and yielding) team mate loses the cores to it for whole
 * scheduler slices (ResNet-18 with two busy loops beside it: 136 ms a run spinning 1 ms, 13 ms spinning 20 us). No
 * fixed setting is right for both (docs/benchmarks.md, "Intel's OpenMP runtime").
 *
 * <p>Two signals, read every {@value #PERIOD_MS} ms by one daemon thread and smoothed: the CPU time used by everything
 * but this process ({@code /proc/stat} less {@code /proc/self/stat}: other processes, and time the hypervisor took,
 * "steal"), which tells whether the cores the team needs are free even while this process is idle; and, where the
 * kernel has it, the CPU pressure ({@code /proc/pressure/cpu}: the share of time some runnable task waited for a core),
 * which also sees this process oversubscribing the cores itself. Contended when the others leave less than the team's
 * threads minus half a core free, or the pressure passes {@value #CONTENDED}; calm again only when they leave the team
 * within a quarter core and the pressure is under {@value #CALM}. The block time is published in {@link ThreadControl};
 * each thread that runs oneDNN applies it to its own team before its next execution.
 */
final class WaitGovernor implements Runnable {
    static final int PERIOD_MS = 100;
    /** Smoothed pressure (share of time with a task waiting for a core) above which the machine counts as contended. */
    static final double CONTENDED = 0.20;
    /** ... and below which (with the cores free) it counts as calm again. */
    static final double CALM = 0.08;
    /** Linux's USER_HZ: the unit of /proc/stat's and /proc/self/stat's CPU times on every Linux architecture we run on. */
    static final double TICKS_PER_SECOND = 100;

    /**
     * One reading: the cumulative microseconds some task waited for a CPU (-1 without PSI), the ticks every CPU spent busy
     * (steal included) and those this process used, and the CPUs counted.
     */
    record Reading(long stallMicros, long busyTicks, long ownTicks, int cpus) {}

    private final Supplier<Reading> source;
    private final int teamThreads, spinMicros, contendedMicros;
    private Reading last;
    private long lastNanos;
    private double pressure, freeCores = Double.NaN;
    private boolean contended;

    WaitGovernor(Supplier<Reading> source, int teamThreads, int spinMicros, int contendedMicros) {
        this.source = source;
        this.teamThreads = teamThreads;
        this.spinMicros = spinMicros;
        this.contendedMicros = contendedMicros;
    }

    /** {@return the current reading of the machine, or null if /proc/stat or /proc/self/stat cannot be read} */
    static Reading read() {
        try {
            long busy = -1;
            int cpus = 0;
            for (String line : Files.readAllLines(Path.of("/proc/stat"), StandardCharsets.US_ASCII)) {
                if (line.startsWith("cpu ")) {
                    String[] f = line.trim().split("\\s+");
                    // user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait
                    busy = 0;
                    for (int i = 1; i <= Math.min(8, f.length - 1); i++) if (i != 4 && i != 5) busy += Long.parseLong(f[i]);
                } else if (line.startsWith("cpu")) {
                    cpus++;
                }
            }
            String self = Files.readString(Path.of("/proc/self/stat"), StandardCharsets.US_ASCII);
            // after the command name in parentheses: state is field 3, utime 14 and stime 15 of the whole line
            String[] f = self.substring(self.lastIndexOf(')') + 2).split(" ");
            long own = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            if (busy < 0 || cpus == 0) return null;
            return new Reading(pressure(), busy, own, cpus);
        } catch (IOException | RuntimeException e) {
            return null;
        }
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

    /** Starts the daemon thread for a team of {@code teamThreads}; {@return false (nothing started) if the machine cannot be read} */
    static boolean start(int teamThreads, int spinMicros, int contendedMicros) {
        if (read() == null) return false;
        WaitGovernor g = new WaitGovernor(WaitGovernor::read, teamThreads, spinMicros, contendedMicros);
        g.sample(System.nanoTime());   // the first reading, so the first period already gives a rate
        Thread.ofPlatform().daemon().name("panama-dnn-openmp-wait").start(g);
        return true;
    }

    @Override
    public void run() {
        while (true) {
            try {
                Thread.sleep(PERIOD_MS);
            } catch (InterruptedException e) {
                return;
            }
            int micros = sample(System.nanoTime());
            if (micros >= 0) ThreadControl.publishBlocktime(micros);
        }
    }

    /**
     * Takes one reading at {@code nanos}; {@return the block time to use now, in microseconds, or -1 with no rate yet
     * (the first reading) or none at all (the machine became unreadable)}
     */
    int sample(long nanos) {
        Reading now = source.get();
        if (now == null) return -1;
        Reading prev = last;
        long prevNanos = lastNanos;
        last = now;
        lastNanos = nanos;
        if (prev == null || nanos <= prevNanos) return -1;
        double seconds = (nanos - prevNanos) / 1e9;
        double others = Math.max(0, (now.busyTicks() - prev.busyTicks()) - (now.ownTicks() - prev.ownTicks())) / TICKS_PER_SECOND / seconds;
        double free = Math.max(0, now.cpus() - others);
        freeCores = Double.isNaN(freeCores) ? free : 0.5 * freeCores + 0.5 * free;
        if (now.stallMicros() >= 0 && prev.stallMicros() >= 0) {
            double share = Math.min(1, Math.max(0, (now.stallMicros() - prev.stallMicros()) / (seconds * 1e6)));
            pressure = 0.5 * pressure + 0.5 * share;
        }
        if (contended) {
            if (pressure < CALM && freeCores > teamThreads - 0.25) contended = false;
        } else if (pressure > CONTENDED || freeCores < teamThreads - 0.5) {
            contended = true;
        }
        return contended ? contendedMicros : spinMicros;
    }

    boolean contended() {
        return contended;
    }
}
