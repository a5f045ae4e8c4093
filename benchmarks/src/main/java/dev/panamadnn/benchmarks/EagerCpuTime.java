package dev.panamadnn.benchmarks;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Layer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The eager-vs-C comparison by the calling thread's CPU time instead of wall time: on a VM whose
 * load average is many times its core count, a wall-clock window measures the neighbours as much
 * as the call, while the CPU time of the thread that runs the call (with one intra-op thread,
 * oneDNN and OpenBLAS run on the caller) counts only the call's own work, page faults and memory
 * stalls included. Not JMH (JMH has no per-thread CPU-time mode); scripts/bench-eager runs JMH's
 * wall-clock medians beside it.
 *
 * <p>Per shape and round, the C harness's eager call ({@link LayerBenchmark.CLayer}, in this
 * process), {@code forward(x)} and {@code forwardInto(x, out)} each run for a window of
 * {@code --window-ms} of thread CPU time, one after the other; the report gives each one's median
 * per-call CPU time over the rounds and the median of the per-round ratios C / Java.
 *
 * <p>usage: {@code EagerCpuTime --rounds N --window-ms MS SHAPE...} (or {@code --only METHOD --calls N}:
 * one method alone, for a profiler) with
 * {@code -Dpanamadnn.threads=1 -Dpanamadnn.bench.clib=PATH}.
 */
public final class EagerCpuTime {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final java.lang.invoke.MethodHandle KERNEL = java.lang.foreign.Linker.nativeLinker().downcallHandle(
            java.lang.foreign.SymbolLookup.libraryLookup(java.nio.file.Path.of(System.getProperty("panamadnn.bench.clib")), Arena.global())
                    .find("pdnn_layer_kernel").orElseThrow(),
            java.lang.foreign.FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS));

    private EagerCpuTime() {
    }

    @FunctionalInterface
    interface Call {
        void run() throws Throwable;
    }

    public static void main(String[] args) throws Throwable {
        int rounds = 9;
        String only = null;
        long onlyCalls = 0;
        double windowMs = 200;
        List<String> shapes = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--window-ms" -> windowMs = Double.parseDouble(args[++i]);
                case "--only" -> only = args[++i];
                case "--calls" -> onlyCalls = Long.parseLong(args[++i]);
                default -> shapes.add(args[i]);
            }
        }
        if (Integer.getInteger("panamadnn.threads", 0) != 1) {
            throw new IllegalStateException("run with -Dpanamadnn.threads=1: thread CPU time covers the call only when it runs on the caller");
        }
        MethodHandle mxcsr = java.lang.foreign.Linker.nativeLinker().downcallHandle(
                java.lang.foreign.SymbolLookup.libraryLookup(java.nio.file.Path.of(System.getProperty("panamadnn.bench.clib")), Arena.global())
                        .find("pdnn_mxcsr").orElseThrow(), java.lang.foreign.FunctionDescriptor.of(ValueLayout.JAVA_INT));
        System.out.printf("# MXCSR of this JVM thread: 0x%04X (0x1F80: default, no FTZ/DAZ)%n", (int) mxcsr.invokeExact());
        System.out.println("# shape\tmethod\tmedian_cpu_us\tper-round cpu_us\tC/Java per round\tmedian C/Java");
        for (String shape : shapes) run(shape, rounds, (long) (windowMs * 1e6), only, onlyCalls);
    }

    private static void run(String shape, int rounds, long windowNs, String only, long onlyCalls) throws Throwable {
        LayerSpec s = LayerSpec.parse(shape);
        try (Layer layer = s.build(); Arena arena = Arena.ofShared()) {
            Tensor input = Tensor.allocate(arena, DataType.F32, s.inputShape());
            MemorySegment seg = input.segment();
            var rnd = new SplittableRandom(1);
            for (long i = 0; i < input.numel(); i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-1, 1));
            Tensor out = Tensor.allocate(arena, DataType.F32, layer.outputShape(s.inputShape()));
            MemorySegment c;
            try (Arena tmp = Arena.ofConfined()) {
                c = (MemorySegment) LayerBenchmark.CLayer.OPEN.invokeExact(tmp.allocateFrom(shape), 1);
            }
            if (c.equals(MemorySegment.NULL)) throw new IllegalStateException("pdnn_layer_open(" + shape + ") failed");
            layer.forward(input).close();                               // creates the primitive, so its kernel can be named
            String ours = switch (layer) {
                case dev.panamadnn.nn.ConvNd conv -> conv.implementation(s.inputShape());
                case dev.panamadnn.nn.Linear lin -> lin.autoBackend(s.batch()) == dev.panamadnn.nn.Backend.OPENBLAS
                        ? "cblas_sgemm" : lin.onednnImplementation(s.batch());
                default -> "-";
            };
            System.out.println("# " + shape + ": C kernel " + ((MemorySegment) KERNEL.invokeExact(c)).reinterpret(256).getString(0)
                    + ", ours " + ours);
            try {
                String[] names = {"cHarness", "nativeForward", "nativeForwardInto"};
                Call[] calls = {
                    () -> { LayerBenchmark.CLayer.CALL.invokeExact(c); },   // a statement: the call site is (MemorySegment)void
                    () -> layer.forward(input).close(),
                    () -> layer.forwardInto(input, out),
                };
                if (only != null) {
                    // One method alone, for a profiler attached to this process (perf record -e cpu-clock):
                    // a warm-up window, then exactly onlyCalls calls, so two runs with N and 2N calls
                    // differ by N calls' worth of whatever the profiler counts.
                    int m = Arrays.asList(names).indexOf(only);
                    if (m < 0) throw new IllegalArgumentException("--only: one of " + Arrays.toString(names) + ", got " + only);
                    window(calls[m], windowNs, 1);
                    long t0 = THREADS.getCurrentThreadCpuTime(), f0 = minorFaults();
                    for (long i = 0; i < onlyCalls; i++) calls[m].run();
                    System.out.printf(Locale.ROOT, "%s\t%s\t%d calls\t%.2f cpu_us/call\t%.3f faults/call%n", shape, only, onlyCalls,
                            (THREADS.getCurrentThreadCpuTime() - t0) / 1e3 / onlyCalls, (minorFaults() - f0) / (double) onlyCalls);
                    return;
                }
                // Warm-up (JIT, primitive creation, pools), which also sizes the batch of calls between two
                // clock reads (a read is a syscall of ~0.5 µs: it must not count against a 2-µs call).
                int[] batch = new int[calls.length];
                for (int m = 0; m < calls.length; m++) {
                    double us = window(calls[m], windowNs, 1);
                    batch[m] = (int) Math.max(1, Math.min(10_000, windowNs / 1e3 / us / 50));
                }
                double[][] perCall = new double[calls.length][rounds];
                long[] faults = new long[calls.length], callCount = new long[calls.length];
                for (int r = 0; r < rounds; r++) {
                    for (int m = 0; m < calls.length; m++) {
                        long f0 = minorFaults();
                        perCall[m][r] = window(calls[m], windowNs, batch[m]);
                        faults[m] += minorFaults() - f0;
                        callCount[m] += Math.round(windowNs / 1e3 / perCall[m][r]);
                    }
                }
                for (int m = 0; m < calls.length; m++) {
                    System.out.printf(Locale.ROOT, "# %s %s: %.2f minor page faults per call (this thread)%n", shape, names[m],
                            faults[m] / (double) Math.max(1, callCount[m]));
                }
                for (int m = 0; m < calls.length; m++) {
                    double[] ratio = new double[rounds];
                    for (int r = 0; r < rounds; r++) ratio[r] = perCall[0][r] / perCall[m][r];
                    System.out.printf(Locale.ROOT, "%s\t%s\t%.2f\t%s\t%s\t%s%n", shape, names[m], median(perCall[m]), list(perCall[m]),
                            m == 0 ? "-" : list(ratio), m == 0 ? "-" : String.format(Locale.ROOT, "%.3f", median(ratio)));
                }
            } finally {
                LayerBenchmark.CLayer.CLOSE.invokeExact(c);
            }
        }
    }

    /** Calls in batches until the thread has spent {@code windowNs} of CPU time (at least 3 calls); returns CPU µs per call. */
    private static double window(Call call, long windowNs, int batch) throws Throwable {
        long start = THREADS.getCurrentThreadCpuTime(), now;
        long n = 0;
        do {
            for (int i = 0; i < batch; i++) call.run();
            n += batch;
            now = THREADS.getCurrentThreadCpuTime();
        } while (now - start < windowNs || n < 3);
        return (now - start) / 1e3 / n;
    }

    /** This thread's minor page faults so far (field 10 of /proc/thread-self/stat; -1 where there is none). */
    private static long minorFaults() {
        try {
            String stat = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/thread-self/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");   // fields from 3 (state) on
            return Long.parseLong(f[10 - 3]);
        } catch (java.io.IOException | RuntimeException e) {
            return -1;
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String list(double[] v) {
        StringBuilder b = new StringBuilder();
        for (double x : v) b.append(b.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, x < 10 ? "%.3f" : "%.1f", x));
        return b.toString();
    }
}
