package dev.panamadnn.benchmarks;

import dev.panamadnn.benchmarks.BenchMain.CRow;
import dev.panamadnn.benchmarks.BenchMain.Job;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;

/**
 * The PNG charts scripts/bench writes beside results.md, from the same runs:
 * <ul>
 * <li>{@code speedup.png}: per SGEMM shape and per layer, how many times faster native is than
 *     the plain reference and than the best pure-Java implementation (the fastest of the Vector API
 *     GEMM and EJML for SGEMM; the Vector API im2col convolution for Conv2d); log scale.</li>
 * <li>{@code gemm-peak.png}: per SGEMM shape, % of the theoretical fp32 peak reached by the C
 *     harness, FFM, JNI and the Vector API GEMM.</li>
 * </ul>
 */
final class Charts {
    private Charts() {}

    static void write(Path dir, boolean full, int threads, String machine, Map<Job, RunResult> runs, Map<String, CRow> c)
            throws IOException {
        String subtitle = machineLine(machine) + " | " + threads + " intra-op threads | " + (full ? "full" : "quick")
                + " profile | " + LocalDate.now();
        BarChart speedup = speedup(full, subtitle, runs);
        if (speedup != null) speedup.write(dir.resolve("speedup.png"));
        BarChart peak = gemmPeak(subtitle, runs, c, Report.Peak.fromCpuinfo().gflops());
        if (peak != null) peak.write(dir.resolve("gemm-peak.png"));
    }

    static BarChart speedup(boolean full, String subtitle, Map<Job, RunResult> runs) {
        List<String> categories = new ArrayList<>();
        List<double[]> values = new ArrayList<>();
        for (String shape : BenchMain.SHAPES) {
            double nat = time(runs, GemmBenchmark.class.getName() + ".ffm", shape);
            double best = fastest(time(runs, GemmBenchmark.class.getName() + ".vectorApi", shape),
                    time(runs, GemmBenchmark.class.getName() + ".ejml", shape), time(runs, GemmBenchmark.class.getName() + ".ejmlMt", shape));
            add(categories, values, "SGEMM " + Shape.parse(shape).label(), nat,
                    time(runs, GemmBenchmark.class.getName() + ".reference", shape), best);
        }
        for (String shape : full ? BenchMain.LAYER_SHAPES : BenchMain.LAYER_QUICK_SHAPES) {
            double nat = time(runs, LayerBenchmark.class.getName() + ".nativeForward", shape);
            add(categories, values, LayerSpec.parse(shape).label().replace(" N=1", ""), nat,
                    time(runs, LayerBenchmark.class.getName() + ".reference", shape),
                    time(runs, VectorConvBenchmark.class.getName() + ".vectorApi", shape));
        }
        if (categories.isEmpty()) return null;
        return new BarChart("Native (OpenBLAS / oneDNN through FFM) speed-up over pure Java", subtitle,
                "times faster than pure Java", categories, List.of("vs plain-Java reference", "vs best pure Java (Vector API / EJML)"),
                values.toArray(double[][]::new), true, "x");
    }

    private static void add(List<String> categories, List<double[]> values, String label, double nat, double reference, double best) {
        if (Double.isNaN(nat) || (Double.isNaN(reference) && Double.isNaN(best))) return;
        categories.add(label);
        values.add(new double[] {reference / nat, best / nat});
    }

    static BarChart gemmPeak(String subtitle, Map<Job, RunResult> runs, Map<String, CRow> c, double peakGflops) {
        List<String> categories = new ArrayList<>();
        List<double[]> values = new ArrayList<>();
        for (String shape : BenchMain.SHAPES) {
            Shape s = Shape.parse(shape);
            CRow cr = c.get(shape);
            double[] row = {
                cr == null ? Double.NaN : percent(s, cr.meanUs(), peakGflops),
                percent(s, time(runs, GemmBenchmark.class.getName() + ".ffm", shape), peakGflops),
                percent(s, time(runs, GemmBenchmark.class.getName() + ".jni", shape), peakGflops),
                percent(s, time(runs, GemmBenchmark.class.getName() + ".vectorApi", shape), peakGflops)};
            boolean any = false;
            for (double v : row) any |= !Double.isNaN(v);
            if (!any) continue;
            categories.add(s.label());
            values.add(row);
        }
        if (categories.isEmpty() || !(peakGflops > 0)) return null;
        return new BarChart(String.format(java.util.Locale.ROOT, "SGEMM: %% of theoretical fp32 peak (%.0f GFLOP/s)", peakGflops), subtitle,
                "% of peak", categories, List.of("C harness", "FFM (ours)", "JNI (JavaCPP)", "Vector API Java"),
                values.toArray(double[][]::new), false, "%");
    }

    /** The smallest time that was measured (NaN: not run), NaN if none was. */
    static double fastest(double... times) {
        double best = Double.NaN;
        for (double t : times) if (!Double.isNaN(t) && !(t >= best)) best = t;
        return best;
    }

    private static double percent(Shape s, double micros, double peakGflops) {
        return 100 * s.flop() / micros / 1e3 / peakGflops;
    }

    /** The JMH score (µs per call for the benchmarks charted here), or NaN if the job did not run. */
    private static double time(Map<Job, RunResult> runs, String benchmark, String shape) {
        RunResult r = runs.get(new Job(benchmark, shape));
        Result<?> p = r == null ? null : r.getPrimaryResult();
        return p == null ? Double.NaN : p.getScore();
    }

    /** "CPU: Intel Xeon ..., 2 cores online, VM on KVM" from machine.txt, without the "CPU: ". */
    static String machineLine(String machine) {
        for (String line : machine.split("\n")) if (line.startsWith("CPU: ")) return line.substring(5).strip();
        return Runtime.getRuntime().availableProcessors() + " cores";
    }
}
