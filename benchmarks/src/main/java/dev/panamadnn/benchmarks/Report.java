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

    /** The layer goal of issue 5: our layer at least this fraction of the C harness's throughput... */
    static final double GOAL_RATIO = 0.97;
    /** ...on every shape whose C-harness call takes at least this long (µs). */
    static final double GOAL_MIN_US = 50;

    static String markdown(boolean full, int threads, String machine, Map<Job, RunResult> runs, Map<String, CRow> c,
                           Map<String, CHarness.Row> cLayers, Map<String, String> libraries) {
        StringBuilder sb = new StringBuilder();
        Peak peak = Peak.fromCpuinfo();
        double measuredPeak = c.values().stream().mapToDouble(CRow::gflopsBest).max().orElse(Double.NaN);
        sb.append("# Panama DNN benchmarks (").append(full ? "full" : "quick").append(" profile)\n\n");
        sb.append("```\n").append(machine.strip()).append("\n").append(peak.describe())
          .append(String.format(Locale.ROOT, "%nmeasured peak (best C-harness SGEMM in this run): %.1f GFLOP/s%n", measuredPeak))
          .append("intra-op threads for every implementation: ").append(threads).append("\n");
        libraries.forEach((who, where) -> sb.append(who.replace("\t", " forks mapped ")).append(": ").append(where).append("\n"));
        sb.append(sameBuild(libraries)).append("```\n\n");
        sb.append("JMH AverageTime, mean ± 99.9% CI half-width (JMH's error), ")
          .append(full ? "2 forks x 5 x 2 s after 3 x 2 s warm-up" : "1 fork x 3 x 1 s after 1 x 1 s warm-up")
          .append(". The SGEMM C harness times single calls with clock_gettime (mean over >= 5 calls in ~1 s, ")
          .append("after one warm-up; best in brackets); the oneDNN C harness (layers, FFM vs JNI) runs right before each ")
          .append("job it mirrors, with JMH's iteration scheme (mean of the iteration means; best iteration in brackets). ")
          .append("Ratios are throughput ratios from this run; ")
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
        Result<?> fa = primary(runs, OverheadBenchmark.class, "ffmSdot1Auto", null);
        Result<?> fc = primary(runs, OverheadBenchmark.class, "ffmSdot1Critical", null);
        Result<?> j = primary(runs, OverheadBenchmark.class, "jniSdot1", null);
        if (f != null && j != null) {
            sb.append(String.format(Locale.ROOT, "%ncblas_sdot(n=1) per call: JNI %.1f ns; FFM on shared-arena segments %.1f ns "
                    + "(FFM/JNI time %.2f)", j.getScore(), f.getScore(), f.getScore() / j.getScore()));
            if (fa != null) sb.append(String.format(Locale.ROOT, ", on automatic-arena segments %.1f ns (%.2f)", fa.getScore(),
                    fa.getScore() / j.getScore()));
            if (fc != null) sb.append(String.format(Locale.ROOT, ", critical downcall %.1f ns (%.2f)", fc.getScore(),
                    fc.getScore() / j.getScore()));
            sb.append(". A shared arena's segment costs an atomic acquire/release of the arena per argument per call.\n");
        }
        layers(sb, full, runs, cLayers);
        binding(sb, full, runs, cLayers);
        ReportSections.append(sb, full, threads, runs);
        ResNetJobs.report(sb, full, runs, Double.isNaN(measuredPeak) ? peak.gflops() : measuredPeak, peak.gflops());
        SequenceJobs.report(sb, full, runs, cLayers);
        return sb.toString();
    }

    /** Whether the FFM and the JNI forks mapped byte-identical libdnnl.so.3 files (same sha256). */
    static String sameBuild(Map<String, String> libraries) {
        java.util.Set<String> hashes = new java.util.TreeSet<>();
        for (var e : libraries.entrySet()) {
            if (e.getKey().endsWith("\tlibdnnl.so.3")) hashes.add(e.getValue().replaceAll(".*\\(sha256 ([0-9a-f]+)\\)$", "$1"));
        }
        if (hashes.isEmpty()) return "";
        return hashes.size() == 1 ? "libdnnl.so.3: one build (same sha256) in every fork that recorded it\n"
                : "libdnnl.so.3: DIFFERENT builds across forks (" + hashes.size() + " sha256 values)\n";
    }

    /** LayerBenchmark: native vs plain reference per shape, GFLOP/s for conv/linear, the ratio. */
    private static void layers(StringBuilder sb, boolean full, Map<Job, RunResult> runs, Map<String, CHarness.Row> cLayers) {
        String[] shapes = full ? BenchMain.LAYER_SHAPES : BenchMain.LAYER_QUICK_SHAPES;
        boolean any = false;
        for (String shape : shapes) any |= primary(runs, LayerBenchmark.class, "nativeForward", shape) != null;
        if (!any) return;
        sb.append("\n## Layers: native (`forward(x)`) vs the C harness vs the plain-Java reference (`forward(x, Backend.REFERENCE)`); µs per call, GFLOP/s below\n\n");
        sb.append("| layer | native (Java) | C harness (same primitive) | Java/C | goal: Java/C >= ").append(GOAL_RATIO)
          .append(" where C >= ").append((int) GOAL_MIN_US).append(" µs | reference | native/reference | native bytes/op |\n");
        sb.append("|---|---|---|---|---|---|---|---|\n");
        int met = 0, missed = 0;
        for (String shape : shapes) {
            Result<?> nat = primary(runs, LayerBenchmark.class, "nativeForward", shape);
            Result<?> ref = primary(runs, LayerBenchmark.class, "reference", shape);
            if (nat == null && ref == null) continue;
            LayerSpec spec = LayerSpec.parse(shape);
            double flop;
            try (var layer = spec.build()) {
                flop = spec.flop(layer.outputShape(spec.inputShape()));
            }
            CHarness.Row cr = cLayers.get(shape);
            String goal = nat == null ? "–" : goal(nat.getScore(), cr);
            if (goal.startsWith("✔")) met++;
            if (goal.startsWith("✘")) missed++;
            sb.append("| ").append(spec.label()).append(" | ").append(layerCell(nat, flop)).append(" | ").append(cCell(cr, flop))
              .append(" | ").append(nat == null || cr == null ? "–" : String.format(Locale.ROOT, "%.2f", cr.meanUs() / nat.getScore()))
              .append(" | ").append(goal).append(" | ").append(layerCell(ref, flop))
              .append(" | ").append(nat == null || ref == null ? "–" : String.format(Locale.ROOT, "%.1fx", ref.getScore() / nat.getScore()))
              .append(" | ").append(allocation(runs, LayerBenchmark.class, "nativeForward", shape)).append(" |\n");
        }
        sb.append("\nFLOPs: convolution 2·N·Cout·Hout·Wout·Cin/groups·kH·kW, transposed convolution 2·N·Cin·Hin·Win·Cout·kH·kW, "
                + "Linear 2·N·in·out, BasicBlock its two 3x3 convolutions; none for pooling. The reference runs only on the shapes in "
                + "BenchMain.LAYER_REFERENCE_SHAPES (about 2 s per call or less); \"–\" elsewhere.\n");
        sb.append(String.format(Locale.ROOT, "%nJava/C: C-harness time / Java time (throughput ratio, 1 = parity). The C harness (benchmarks/src/main/c/"
                + "dnnl_layer_bench.c) runs the same oneDNN primitive (or, for a small Linear, the same cblas_sgemm) from the same library "
                + "with the same per-call work as `forward` (output allocated and zeroed and memory objects made per call, a scratchpad reused across calls), right "
                + "before the Java job; its mean is over the same iteration scheme as JMH. Goal %s where the C call takes >= %s µs: "
                + "met on %d shapes, missed on %d.%n", GOAL_RATIO, (int) GOAL_MIN_US, met, missed));
    }

    /**
     * The goal cell for a layer taking {@code javaUs} where the C harness takes {@code c}: "✔" if
     * Java/C >= {@link #GOAL_RATIO}, "✘" if below, "n/a (C < 50 µs)" on shapes under {@link #GOAL_MIN_US},
     * "–" without a C figure, "✘ C check failed" if the harness's spot check failed.
     */
    static String goal(double javaUs, CHarness.Row c) {
        if (c == null || Double.isNaN(javaUs)) return "–";
        if (!c.checked()) return "✘ C check failed";
        if (c.meanUs() < GOAL_MIN_US) return String.format(Locale.ROOT, "n/a (C < %.0f µs)", GOAL_MIN_US);
        return c.meanUs() / javaUs >= GOAL_RATIO ? "✔" : "✘";
    }

    private static String cCell(CHarness.Row c, double flop) {
        if (c == null) return "–";
        String t = num(c.meanUs()) + " (best " + num(c.bestUs()) + ")";
        if (!Double.isNaN(flop)) t += String.format(Locale.ROOT, "<br>%.2f GF/s", flop / c.meanUs() / 1e3);
        return t + "<br>`" + c.kernel() + "`" + (c.checked() ? "" : " CHECK FAILED");
    }

    /** DnnlBindingBenchmark and the oneDNN ReLU overhead pair: FFM vs JNI vs C on one primitive bound once. */
    private static void binding(StringBuilder sb, boolean full, Map<Job, RunResult> runs, Map<String, CHarness.Row> cLayers) {
        Result<?> fr = primary(runs, OverheadBenchmark.class, "ffmDnnlRelu16", null);
        Result<?> jr = primary(runs, OverheadBenchmark.class, "jniDnnlRelu16", null);
        String[] shapes = full ? BenchMain.DNNL_BINDING_SHAPES : BenchMain.DNNL_BINDING_QUICK_SHAPES;
        boolean any = fr != null || jr != null;
        for (String shape : shapes) {
            any |= primary(runs, DnnlBindingBenchmark.class, "ffm", shape) != null || primary(runs, DnnlBindingBenchmark.class, "jni", shape) != null;
        }
        if (!any) return;
        sb.append("\n## oneDNN through FFM (ours) vs JNI (JavaCPP dnnl preset) vs C: one primitive, memory objects bound once; µs per call\n\n");
        sb.append("| op | C harness | FFM (ours) | JNI (JavaCPP) | FFM/JNI | FFM/C | kernel (C harness) |\n|---|---|---|---|---|---|---|\n");
        // OverheadBenchmark reports ns; everything here is µs.
        bindingRow(sb, "ReLU, 16 floats (per-call overhead)", cLayers.get("relu:" + OverheadBenchmark.N), scaled(fr, 1e-3), scaled(jr, 1e-3));
        for (String shape : shapes) {
            bindingRow(sb, LayerSpec.parse(shape).label(), cLayers.get("bare:" + shape),
                    scaled(primary(runs, DnnlBindingBenchmark.class, "ffm", shape), 1), scaled(primary(runs, DnnlBindingBenchmark.class, "jni", shape), 1));
        }
        sb.append("\nEach call is dnnl_primitive_execute + dnnl_stream_wait, status-checked, nothing allocated; FFM/JNI and FFM/C are "
                + "throughput ratios (> 1: FFM faster). JNI loads JavaCPP's own copy of libdnnl.so.3 from the same carrier jar "
                + "(see the mapped files above); the dnnl preset needs the OpenCL preset's classes (3.0-1.5.13) but no GPU is used.\n");
    }

    /** A JMH score and error converted to µs; null if absent. */
    private static double[] scaled(Result<?> r, double toUs) {
        return r == null ? null : new double[] {r.getScore() * toUs, r.getScoreError() * toUs};
    }

    private static void bindingRow(StringBuilder sb, String op, CHarness.Row c, double[] ffm, double[] jni) {
        sb.append("| ").append(op).append(" | ").append(c == null ? "–" : num(c.meanUs()) + " (best " + num(c.bestUs()) + ")")
          .append(" | ").append(ffm == null ? "–" : num(ffm[0]) + " ± " + num(ffm[1]))
          .append(" | ").append(jni == null ? "–" : num(jni[0]) + " ± " + num(jni[1]))
          .append(" | ").append(ratio(jni == null ? Double.NaN : jni[0], ffm == null ? Double.NaN : ffm[0]))
          .append(" | ").append(ratio(c == null ? Double.NaN : c.meanUs(), ffm == null ? Double.NaN : ffm[0]))
          .append(" | ").append(c == null ? "–" : "`" + c.kernel() + "`").append(" |\n");
    }

    /** {@code otherTime / ourTime} with two decimals (a throughput ratio), "–" if either is missing. */
    static String ratio(double otherTime, double ourTime) {
        return Double.isNaN(otherTime) || Double.isNaN(ourTime) ? "–" : String.format(Locale.ROOT, "%.2f", otherTime / ourTime);
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
