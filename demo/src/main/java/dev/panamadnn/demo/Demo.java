package dev.panamadnn.demo;

import dev.panamadnn.Blas;
import dev.panamadnn.Eltwise;
import dev.panamadnn.NativeRuntime;
import java.io.PrintStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * What {@code scripts/demo} runs: loads the natives and says what was loaded and from where,
 * then runs one real SGEMM (OpenBLAS) and one real oneDNN primitive, checks each against the
 * plain-Java reference and prints results and timings. Timings are best-of-N wall clock for
 * orientation only; the measured comparisons are the JMH benchmarks.
 */
public final class Demo {
    private final PrintStream out;

    public Demo(PrintStream out) {
        this.out = out;
    }

    /** {@code [--image PATH] [--out DIR]}: the image to filter (default: the bundled photo) and where PNGs go. */
    public static void main(String[] args) throws java.io.IOException {
        java.nio.file.Path image = null, outDir = java.nio.file.Path.of("demo-output");
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--image" -> image = java.nio.file.Path.of(value(args, ++i, "--image"));
                case "--out" -> outDir = java.nio.file.Path.of(value(args, ++i, "--out"));
                default -> {
                    System.err.println("demo: unknown argument " + args[i] + " (expected --image PATH, --out DIR)");
                    System.exit(2);
                }
            }
        }
        var demo = new Demo(System.out);
        int failures;
        try {
            failures = demo.run() + demo.runLayers(image, outDir) + Digits.run(System.out) + Sequences.run(System.out) + OnnxDigits.run(System.out);
        } catch (dev.panamadnn.natives.NativeLoadException e) {
            System.err.println(e.getMessage());   // it lists every place tried: no stack trace needed
            System.exit(1);
            return;
        }
        if (failures > 0) {
            System.err.println("demo: " + failures + " check(s) failed");
            System.exit(1);
        }
    }

    private static String value(String[] args, int i, String option) {
        if (i >= args.length) {
            System.err.println("demo: " + option + " needs a value");
            System.exit(2);
        }
        return args[i];
    }

    /**
     * The layers part: image filters as Conv2d (PNGs into {@code outDir}), a native-vs-reference
     * table, and two dice as a Conv1d. Returns the number of failed checks.
     */
    public int runLayers(java.nio.file.Path image, java.nio.file.Path outDir) throws java.io.IOException {
        int failures = ImageFilters.run(out, image, outDir);
        out.println(" PNGs written to " + outDir.toAbsolutePath());
        out.println();
        failures += LayerTimings.run(out);
        failures += Dice.run(out);
        return failures;
    }

    /** Runs the foundation part; returns the number of failed correctness checks (0 when all agree). */
    public int run() {
        NativeRuntime rt = NativeRuntime.describe();
        out.println("== Native libraries");
        out.print(rt.libraries());
        out.println();
        out.println("OpenBLAS : " + rt.openblasConfig());
        out.println("           core " + rt.openblasCore() + ", " + rt.openblasThreads() + " thread(s)");
        out.println("oneDNN   : " + rt.onednnVersion() + " (" + rt.onednnHash() + "), CPU ISA " + rt.cpuIsa()
                + ", " + (rt.cpuRuntime().equals("OpenMP") ? rt.openmpThreads() + " OpenMP thread(s)"
                        : rt.cpuRuntime() + " runtime over " + rt.openmpThreads() + " core(s)"));
        out.println();
        int failures = 0;
        failures += sgemm();
        failures += eltwise();
        return failures;
    }

    private int sgemm() {
        out.println("== SGEMM (OpenBLAS cblas_sgemm, row-major, C = A*B)");
        int failures = 0;
        try (Arena arena = Arena.ofConfined()) {
            var rnd = new SplittableRandom(42);
            // Correctness at n = 256 against the plain-Java triple loop.
            int n = 256;
            MemorySegment a = random(arena, rnd, n * n), b = random(arena, rnd, n * n);
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT, (long) n * n);
            MemorySegment ref = arena.allocate(ValueLayout.JAVA_FLOAT, (long) n * n);
            double nativeMs = Timing.bestMs(5, () -> Blas.sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n));
            double refMs = Timing.bestMs(1, () -> Blas.sgemmReference(false, false, n, n, n, 1f, a, n, b, n, 0f, ref, n));
            double err = maxRelativeError(c, ref, n * n);
            boolean ok = err < 1e-4;
            failures += ok ? 0 : 1;
            out.printf(Locale.ROOT, "n=%-5d native %9.3f ms  reference %9.1f ms  speed-up %6.0fx  max rel. error %.1e %s%n",
                    n, nativeMs, refMs, refMs / nativeMs, err, ok ? "(ok)" : "(MISMATCH)");
            for (int size : new int[] {512, 1024, 2048}) {
                MemorySegment x = random(arena, rnd, size * size), y = random(arena, rnd, size * size);
                MemorySegment z = arena.allocate(ValueLayout.JAVA_FLOAT, (long) size * size);
                double ms = Timing.bestMs(size >= 2048 ? 3 : 5, () -> Blas.sgemm(false, false, size, size, size, 1f, x, size, y, size, 0f, z, size));
                out.printf(Locale.ROOT, "n=%-5d native %9.3f ms  %7.1f GFLOP/s%n", size, ms, 2.0 * size * size * size / (ms * 1e6));
            }
        }
        out.println();
        return failures;
    }

    private int eltwise() {
        out.println("== oneDNN eltwise primitive (GELU, exact erf) on 1M floats");
        int count = 1 << 20;
        try (Arena arena = Arena.ofConfined(); Eltwise gelu = new Eltwise(Eltwise.Kind.GELU_ERF)) {
            MemorySegment x = random(arena, new SplittableRandom(7), count);
            MemorySegment y = arena.allocate(ValueLayout.JAVA_FLOAT, count);
            MemorySegment ref = arena.allocate(ValueLayout.JAVA_FLOAT, count);
            double nativeMs = Timing.bestMs(5, () -> gelu.forward(x, y));
            double refMs = Timing.bestMs(3, () -> Eltwise.reference(Eltwise.Kind.GELU_ERF, 0f, x, ref));
            double err = maxAbsoluteError(y, ref, count);
            boolean ok = err < 1e-5;
            out.printf(Locale.ROOT, "native %8.3f ms  reference %8.3f ms  speed-up %5.1fx  max abs. error %.1e %s%n",
                    nativeMs, refMs, refMs / nativeMs, err, ok ? "(ok)" : "(MISMATCH)");
            out.println("implementation: " + gelu.implementation(count));
            out.println();
            return ok ? 0 : 1;
        }
    }

    private static MemorySegment random(Arena arena, SplittableRandom rnd, int count) {
        MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, count);
        for (int i = 0; i < count; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (rnd.nextDouble() * 2 - 1));
        return s;
    }

    private static double maxRelativeError(MemorySegment got, MemorySegment want, int count) {
        double worst = 0, scale = 0;
        for (int i = 0; i < count; i++) scale = Math.max(scale, Math.abs(want.getAtIndex(ValueLayout.JAVA_FLOAT, i)));
        for (int i = 0; i < count; i++) {
            worst = Math.max(worst, Math.abs(got.getAtIndex(ValueLayout.JAVA_FLOAT, i) - want.getAtIndex(ValueLayout.JAVA_FLOAT, i)));
        }
        return worst / Math.max(scale, Float.MIN_NORMAL);
    }

    private static double maxAbsoluteError(MemorySegment got, MemorySegment want, int count) {
        double worst = 0;
        for (int i = 0; i < count; i++) {
            worst = Math.max(worst, Math.abs(got.getAtIndex(ValueLayout.JAVA_FLOAT, i) - want.getAtIndex(ValueLayout.JAVA_FLOAT, i)));
        }
        return worst;
    }
}
