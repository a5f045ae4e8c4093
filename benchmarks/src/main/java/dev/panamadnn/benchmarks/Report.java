package dev.panamadnn.benchmarks;

import dev.panamadnn.benchmarks.BenchMain.CRow;
import dev.panamadnn.benchmarks.BenchMain.Job;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;

/** results.md: every figure with its JMH error, GFLOP/s, and the ratios of this one run. */
final class Report {
    private Report() {}

    static String markdown(boolean full, int threads, String machine, Map<Job, RunResult> runs, Map<String, CRow> c) {
        StringBuilder sb = new StringBuilder();
        Peak peak = Peak.fromCpuinfo();
        double measuredPeak = c.values().stream().mapToDouble(CRow::gflopsBest).max().orElse(Double.NaN);
        sb.append("# Panama DNN benchmarks (").append(full ? "full" : "quick").append(" profile)\n\n");
        sb.append("```\n").append(machine.strip()).append("\n").append(peak.describe())
          .append(String.format(Locale.ROOT, "%nmeasured peak (best C-harness SGEMM in this run): %.1f GFLOP/s%n", measuredPeak))
          .append("intra-op threads for every implementation: ").append(threads).append("\n```\n\n");
        sb.append("JMH AverageTime, mean ± 99.9% CI half-width (JMH's error), ")
          .append(full ? "2 forks x 5 x 2 s after 3 x 2 s warm-up" : "1 fork x 3 x 1 s after 1 x 1 s warm-up")
          .append(". The C harness times single calls with clock_gettime (mean over >= 5 calls in ~1 s, ")
          .append("after one warm-up; best in brackets). Ratios are throughput ratios from this run; ")
          .append("the machine is shared, so read them as orientation, not as a fixed property.\n\n");

        sb.append("## SGEMM (f32, row-major, C = op(A) op(B)); time per call in µs, GFLOP/s below\n\n");
        String[] impls = {"ffm", "jni", "vectorApi", "ejml", "ejmlMt", "reference"};
        sb.append("| shape | C harness | FFM (ours) | JNI (JavaCPP) | Vector API Java | EJML | EJML MT | plain reference |\n");
        sb.append("|---|---|---|---|---|---|---|---|\n");
        for (String shape : BenchMain.SHAPES) {
            Shape s = Shape.parse(shape);
            sb.append("| ").append(s.label()).append(" | ");
            CRow cr = c.get(shape);
            sb.append(cr == null ? "–" : String.format(Locale.ROOT, "%s (best %s)<br>%.1f GF/s",
                    num(cr.meanUs()), num(cr.bestUs()), s.flop() / cr.meanUs() / 1e3));
            for (String impl : impls) {
                Result<?> r = primary(runs, GemmBenchmark.class, impl, shape);
                sb.append(" | ").append(r == null ? "–" : String.format(Locale.ROOT, "%s ± %s<br>%.2f GF/s",
                        num(r.getScore()), num(r.getScoreError()), s.flop() / r.getScore() / 1e3));
            }
            sb.append(" |\n");
        }

        sb.append("\n## Ratios (throughput, same run) and % of peak\n\n");
        sb.append("| shape | FFM/C | FFM/JNI | native/VectorAPI | native/EJML | native/EJML MT | native/reference | FFM % of measured peak | FFM % of theoretical peak | FFM bytes/op |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|\n");
        for (String shape : BenchMain.SHAPES) {
            Shape s = Shape.parse(shape);
            Result<?> ffm = primary(runs, GemmBenchmark.class, "ffm", shape);
            CRow cr = c.get(shape);
            sb.append("| ").append(s.label());
            sb.append(" | ").append(ffm == null || cr == null ? "–" : String.format(Locale.ROOT, "%.2f", cr.meanUs() / ffm.getScore()));
            for (String other : new String[] {"jni", "vectorApi", "ejml", "ejmlMt", "reference"}) {
                Result<?> r = primary(runs, GemmBenchmark.class, other, shape);
                sb.append(" | ").append(ffm == null || r == null ? "–"
                        : String.format(Locale.ROOT, other.equals("jni") ? "%.2f" : "%.1fx", r.getScore() / ffm.getScore()));
            }
            double gf = ffm == null ? Double.NaN : s.flop() / ffm.getScore() / 1e3;
            sb.append(String.format(Locale.ROOT, " | %.0f%% | %.0f%% | %s |\n", 100 * gf / measuredPeak,
                    100 * gf / peak.gflops(), allocation(runs, GemmBenchmark.class, "ffm", shape)));
        }

        sb.append("\n## Per-call overhead (ns per call)\n\n| benchmark | ns/op | bytes/op |\n|---|---|---|\n");
        for (String m : BenchMain.OVERHEAD) {
            Result<?> r = primary(runs, OverheadBenchmark.class, m, null);
            sb.append("| ").append(m).append(" | ")
              .append(r == null ? "–" : num(r.getScore()) + " ± " + num(r.getScoreError()))
              .append(" | ").append(allocation(runs, OverheadBenchmark.class, m, null)).append(" |\n");
        }
        Result<?> f = primary(runs, OverheadBenchmark.class, "ffmSdot1", null);
        Result<?> j = primary(runs, OverheadBenchmark.class, "jniSdot1", null);
        if (f != null && j != null) {
            sb.append(String.format(Locale.ROOT, "%ncblas_sdot(n=1): FFM %.1f ns vs JNI %.1f ns per call (JNI/FFM time %.2f).%n",
                    f.getScore(), j.getScore(), j.getScore() / f.getScore()));
        }
        layers(sb, full, runs);
        ReportSections.append(sb, full, threads, runs);
        return sb.toString();
    }

    /** LayerBenchmark: native vs plain reference per shape, GFLOP/s for conv/linear, the ratio. */
    private static void layers(StringBuilder sb, boolean full, Map<Job, RunResult> runs) {
        String[] shapes = full ? BenchMain.LAYER_SHAPES : BenchMain.LAYER_QUICK_SHAPES;
        boolean any = false;
        for (String shape : shapes) any |= primary(runs, LayerBenchmark.class, "nativeForward", shape) != null;
        if (!any) return;
        sb.append("\n## Layers: native (`forward(x)`) vs plain-Java reference (`forward(x, Backend.REFERENCE)`); µs per call, GFLOP/s below\n\n");
        sb.append("| layer | native | reference | native/reference | native bytes/op |\n|---|---|---|---|---|\n");
        for (String shape : shapes) {
            Result<?> nat = primary(runs, LayerBenchmark.class, "nativeForward", shape);
            Result<?> ref = primary(runs, LayerBenchmark.class, "reference", shape);
            if (nat == null && ref == null) continue;
            LayerSpec spec = LayerSpec.parse(shape);
            double flop;
            try (var layer = spec.build()) {
                flop = spec.flop(layer.outputShape(spec.inputShape()));
            }
            sb.append("| ").append(spec.label()).append(" | ").append(layerCell(nat, flop)).append(" | ").append(layerCell(ref, flop))
              .append(" | ").append(nat == null || ref == null ? "–" : String.format(Locale.ROOT, "%.1fx", ref.getScore() / nat.getScore()))
              .append(" | ").append(allocation(runs, LayerBenchmark.class, "nativeForward", shape)).append(" |\n");
        }
        sb.append("\nFLOPs: convolution 2·N·Cout·Hout·Wout·Cin/groups·kH·kW, transposed convolution 2·N·Cin·Hin·Win·Cout·kH·kW, "
                + "Linear 2·N·in·out, BasicBlock its two 3x3 convolutions; none for pooling. The reference runs only on the shapes in "
                + "BenchMain.LAYER_REFERENCE_SHAPES (about 2 s per call or less); \"–\" elsewhere.\n");
    }

    private static String layerCell(Result<?> r, double flop) {
        if (r == null) return "–";
        String t = num(r.getScore()) + " ± " + num(r.getScoreError());
        return Double.isNaN(flop) ? t : t + String.format(Locale.ROOT, "<br>%.2f GF/s", flop / r.getScore() / 1e3);
    }

    static Result<?> primary(Map<Job, RunResult> runs, Class<?> cls, String method, String shape) {
        RunResult r = runs.get(new Job(cls.getName() + "." + method, shape));
        return r == null ? null : r.getPrimaryResult();
    }

    static String allocation(Map<Job, RunResult> runs, Class<?> cls, String method, String shape) {
        RunResult r = runs.get(new Job(cls.getName() + "." + method, shape));
        if (r == null) return "–";
        Result<?> a = r.getSecondaryResults().get("gc.alloc.rate.norm");
        return a == null ? "–" : String.format(Locale.ROOT, "%.2f", a.getScore());
    }

    static String num(double x) {
        if (Double.isNaN(x)) return "NaN";
        double ax = Math.abs(x);
        return String.format(Locale.ROOT, ax >= 100 ? "%.0f" : ax >= 10 ? "%.1f" : ax >= 1 ? "%.2f" : "%.3f", x);
    }

    /** Theoretical FMA peak from /proc/cpuinfo: cores x FLOP/cycle x nominal GHz. */
    record Peak(int cores, double ghz, int flopPerCycle, String isa) {
        double gflops() {
            return cores * ghz * flopPerCycle;
        }

        String describe() {
            return String.format(Locale.ROOT, "theoretical fp32 peak: %d cores x %d FLOP/cycle (%s, assuming 2 FMA units per core)"
                    + " x %.2f GHz (cpu MHz in /proc/cpuinfo, no turbo) = %.1f GFLOP/s", cores, flopPerCycle, isa, ghz, gflops());
        }

        static Peak fromCpuinfo() {
            int cores = Runtime.getRuntime().availableProcessors();
            double mhz = Double.NaN;
            String flags = "";
            try {
                for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                    if (line.startsWith("cpu MHz") && Double.isNaN(mhz)) mhz = Double.parseDouble(line.split(":")[1].strip());
                    if (line.startsWith("flags") && flags.isEmpty()) flags = " " + line.split(":")[1] + " ";
                }
            } catch (IOException | RuntimeException e) {
                // leave NaN: the report then says so
            }
            if (flags.contains(" avx512f ")) return new Peak(cores, mhz / 1000, 64, "AVX-512: 16 lanes x 2 (FMA) x 2 units");
            if (flags.contains(" avx2 ") && flags.contains(" fma ")) return new Peak(cores, mhz / 1000, 32, "AVX2+FMA: 8 lanes x 2 x 2 units");
            return new Peak(cores, mhz / 1000, 8, "SSE: 4 lanes x 2 (mul+add), no FMA");
        }
    }
}
