package dev.panamadnn.benchmarks;

import dev.panamadnn.benchmarks.BenchMain.Job;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * The ResNet part of scripts/bench (issue "compiled inference"): {@link ResNetBenchmark} (eager,
 * compiled, each fusion off), {@link OnnxRuntimeResNetBenchmark} (the competitor, same models,
 * threads and timing) and {@link ResNetColdBenchmark} (first-call latency), and their tables in
 * results.md. A job's "shape" is its JMH parameters, {@code model=resnet18,batch=16,plan=fused}.
 */
final class ResNetJobs {
    private ResNetJobs() {}

    static final String[] MODELS = {"resnet18", "resnet50"};
    static final int[] BATCHES = {1, 16};
    /** The plan variants besides "fused", in the order of the fusion table. */
    static final String[] VARIANTS = {"no-bn-fold", "no-postops", "no-sum", "plain-layouts", "channel-blocked", "no-winograd", "unfused"};
    /**
     * The quick profile's variants: the layout ones (plain-layouts, channel-blocked; measured in
     * earlier sessions and docs/compile.md) only in the full profile, so quick stays near 10 minutes.
     */
    static final String[] QUICK_VARIANTS = {"no-bn-fold", "no-postops", "no-sum", "no-winograd", "unfused"};

    static boolean isParams(String shape) {
        return shape.contains("=");
    }

    static Map<String, String> params(String shape) {
        Map<String, String> p = new LinkedHashMap<>();
        for (String kv : shape.split(",")) {
            int eq = kv.indexOf('=');
            if (eq <= 0) throw new IllegalArgumentException("ResNetJobs: expected key=value pairs, got '" + shape + "'");
            p.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        return p;
    }

    static String label(String shape) {
        Map<String, String> p = params(shape);
        return p.get("model") + " b" + p.get("batch") + (p.containsKey("plan") ? " " + p.get("plan") : "")
                + (p.containsKey("round") ? " round " + p.get("round") : "") + (p.containsKey("ref") ? " (beside " + p.get("ref") + ")" : "");
    }

    private static String key(String model, int batch, String plan) {
        return "model=" + model + ",batch=" + batch + (plan == null ? "" : ",plan=" + plan);
    }

    private static String key(String model, int batch, String plan, int round) {
        return key(model, batch, plan) + ",round=" + round;
    }

    /**
     * Rounds of the compiled-vs-ONNX-Runtime pairs. This VM's speed drifts by up to 40% within
     * minutes (other tenants), more than the difference being measured, so each pair runs
     * {@code rounds} times, back to back and in alternating order, and the table reports each
     * round's ratio and their median rather than one ratio of two runs minutes apart.
     */
    static int rounds(boolean full) {
        return roundsOverride > 0 ? roundsOverride : full ? 5 : 2;
    }

    /** scripts/bench --rounds N (BenchMain sets it before building the job list); 0: the profile's count. */
    static int roundsOverride;

    /**
     * Quick (about 3 minutes): compiled and ONNX Runtime for both models at batch 1 and 16, eager at
     * batch 1, every fusion off for ResNet-18 at batch 1, cold start of ResNet-18. Full adds eager
     * at batch 16, the fusion variants at batch 16 and for ResNet-50, and the cold start of ResNet-50.
     */
    static List<Job> jobs(boolean full) {
        String rn = ResNetBenchmark.class.getName(), ort = OnnxRuntimeResNetBenchmark.class.getName();
        List<Job> jobs = new ArrayList<>();
        for (String m : MODELS) {
            for (int b : BATCHES) {
                for (int r = 1; r <= rounds(full); r++) {
                    Job ours = new Job(rn + ".compiled", key(m, b, "fused", r)), theirs = new Job(ort + ".ort", key(m, b, null, r));
                    jobs.add(r % 2 == 1 ? ours : theirs);
                    jobs.add(r % 2 == 1 ? theirs : ours);
                }
                if (b == 1 || full) jobs.add(new Job(rn + ".eager", key(m, b, "fused")));
            }
        }
        for (String m : full ? MODELS : new String[] {"resnet18"}) {
            for (int b : full ? BATCHES : new int[] {1}) {
                for (String v : full ? VARIANTS : QUICK_VARIANTS) {   // each right after a fused run of its own, so the ratio is of neighbours
                    jobs.add(new Job(rn + ".compiled", key(m, b, "fused") + ",ref=" + v));
                    jobs.add(new Job(rn + ".compiled", key(m, b, v)));
                }
            }
        }
        for (String m : full ? MODELS : new String[] {"resnet18"}) {
            for (String bench : new String[] {"compileAndWarmup", "firstRunWithoutWarmup", "firstRunAfterWarmup"}) {
                jobs.add(new Job(ResNetColdBenchmark.class.getName() + "." + bench, key(m, 1, null)));
            }
        }
        return jobs;
    }

    /** JMH parameters and timing of a ResNet job: a call takes 15 ms to 2 s, so iterations are longer than the GEMM jobs'. */
    static void configure(Job job, boolean full, ChainedOptionsBuilder o) {
        params(job.shape()).forEach((k, v) -> {
            if (!k.equals("round") && !k.equals("ref")) o.param(k, v);   // round, ref: ours, not JMH parameters
        });
        if (job.benchmark().startsWith(ResNetColdBenchmark.class.getName())) {
            o.forks(full ? 5 : 3).warmupIterations(0).measurementIterations(1);
        } else {
            // quick: 1 s iterations at batch 1 (15-150 ms a call), 2 s at batch 16 (0.25-2.5 s a call)
            int seconds = full ? 3 : params(job.shape()).get("batch").equals("1") ? 1 : 2;
            o.forks(full ? 2 : 1).warmupIterations(full ? 2 : 1).warmupTime(TimeValue.seconds(seconds))
                    .measurementIterations(full ? 5 : 3).measurementTime(TimeValue.seconds(seconds));
        }
    }

    private static String ms(Result<?> r) {
        return r == null ? "–" : Report.num(r.getScore()) + " ± " + Report.num(r.getScoreError());
    }

    /** The scores of every round of one side of a pair ({@code plan} null: ONNX Runtime). */
    private static double[] rounds(Map<Job, RunResult> runs, String model, int batch, String plan, boolean full) {
        Class<?> cls = plan == null ? OnnxRuntimeResNetBenchmark.class : ResNetBenchmark.class;
        String method = plan == null ? "ort" : "compiled";
        List<Double> out = new ArrayList<>();
        for (int r = 1; r <= rounds(full); r++) {
            Result<?> x = Report.primary(runs, cls, method, key(model, batch, plan, r));
            out.add(x == null ? Double.NaN : x.getScore());
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** The median of the non-NaN values, NaN if none. */
    static double median(double[] v) {
        double[] s = java.util.Arrays.stream(v).filter(x -> !Double.isNaN(x)).sorted().toArray();
        if (s.length == 0) return Double.NaN;
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /** The fused compiled plan's time for (model, batch): the median over the rounds. */
    private static double compiledMedian(Map<Job, RunResult> runs, String model, int batch, boolean full) {
        return median(rounds(runs, model, batch, "fused", full));
    }

    private static String list(double[] v) {
        StringBuilder sb = new StringBuilder();
        for (double x : v) sb.append(sb.length() == 0 ? "" : ", ").append(Double.isNaN(x) ? "–" : Report.num(x));
        return sb.toString();
    }

    /** results.md tables: vs ONNX Runtime with GFLOP/s, the gain of each fusion, first call vs steady state. */
    static void report(StringBuilder sb, boolean full, Map<Job, RunResult> runs, double measuredPeak, double theoreticalPeak) {
        boolean any = runs.keySet().stream().anyMatch(j -> j.shape() != null && isParams(j.shape()));
        if (!any) return;
        sb.append("\n## ResNets, 224x224: compiled plan vs ONNX Runtime Java vs eager (ms per batch)\n\n");
        sb.append("| model | batch | compiled, per round | ONNX Runtime, per round | ORT time / compiled time, per round | **median ratio** "
                + "| compiled images/s | ORT images/s | eager | compiled / eager | compiled GFLOP/s | % of measured peak |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (String m : MODELS) {
            for (int b : BATCHES) {
                double[] c = rounds(runs, m, b, "fused", full), o = rounds(runs, m, b, null, full);
                Result<?> e = Report.primary(runs, ResNetBenchmark.class, "eager", key(m, b, "fused"));
                double cm = median(c), om = median(o);
                if (Double.isNaN(cm) && Double.isNaN(om) && e == null) continue;
                double[] ratio = new double[c.length];
                for (int r = 0; r < c.length; r++) ratio[r] = o[r] / c[r];
                double gf = Double.isNaN(cm) ? Double.NaN : ResNetBenchmark.flops(m, b) / (cm * 1e6);
                StringBuilder ratios = new StringBuilder();
                for (double x : ratio) ratios.append(ratios.length() == 0 ? "" : ", ").append(Double.isNaN(x) ? "–" : String.format(Locale.ROOT, "%.2f", x));
                sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | **%s** | %s | %s | %s | %s | %s | %s |%n", m, b,
                        list(c), list(o), ratios, Double.isNaN(median(ratio)) ? "–" : String.format(Locale.ROOT, "%.2f", median(ratio)),
                        Double.isNaN(cm) ? "–" : Report.num(b * 1000 / cm), Double.isNaN(om) ? "–" : Report.num(b * 1000 / om),
                        ms(e), e == null || Double.isNaN(cm) ? "–" : String.format(Locale.ROOT, "%.1fx", e.getScore() / cm),
                        Double.isNaN(gf) ? "–" : String.format(Locale.ROOT, "%.0f", gf),
                        Double.isNaN(gf) ? "–" : String.format(Locale.ROOT, "%.0f%% (%.0f%% of theoretical)", 100 * gf / measuredPeak,
                                100 * gf / theoreticalPeak)));
            }
        }
        sb.append("\nEach round runs the compiled plan and ONNX Runtime back to back (alternating which goes first), one JMH fork each; "
                + "ratio > 1: the compiled plan is faster in that round. Images/s and GFLOP/s from the median time over the rounds. "
                + "ONNX Runtime: ALL_OPT, intra-op threads = ours, the same torchvision model exported to ONNX by "
                + "scripts/goldens/export_resnet.py. GFLOP/s: CompiledModel.flops() (2 x multiply-adds of convolutions and fc) / time. "
                + "Heap bytes per run of the compiled plan: 0 (CompiledAllocationTest, the thread's allocation counter); JMH's GC "
                + "profiler shows ~1-20 KB/op here only because its per-iteration bookkeeping is divided by a few dozen ops.\n");

        sb.append("\n## The gain of each fusion and of the layout (compiled plan with one fusion switched off, or another activation layout, vs the default plan run just before it; ms per batch)\n\n");
        sb.append("| model | batch | no-bn-fold | no-postops | no-sum | plain-layouts | channel-blocked | no-winograd | unfused |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|\n");
        for (String m : MODELS) {
            for (int b : BATCHES) {
                boolean anyVariant = false;
                for (String v : VARIANTS) anyVariant |= Report.primary(runs, ResNetBenchmark.class, "compiled", key(m, b, v)) != null;
                if (!anyVariant) continue;
                sb.append("| ").append(m).append(" | ").append(b);
                for (String v : VARIANTS) {
                    Result<?> r = Report.primary(runs, ResNetBenchmark.class, "compiled", key(m, b, v));
                    Result<?> f = Report.primary(runs, ResNetBenchmark.class, "compiled", key(m, b, "fused") + ",ref=" + v);
                    sb.append(" | ").append(r == null ? "–" : ms(r) + (f == null ? ""
                            : String.format(Locale.ROOT, " vs fused %s<br>**%.2fx**", ms(f), r.getScore() / f.getScore())));
                }
                sb.append(" |\n");
            }
        }
        sb.append("\n**N.NNx**: that variant's time / the time of the fused plan (channels-last) measured just before it (its own JMH fork), "
                + "i.e. how much slower the plan gets without that fusion, with plain / channel-blocked activations, or with direct instead "
                + "of Winograd 3x3 convolutions; below 1.05x is "
                + "within this machine's run-to-run noise.\n");

        boolean cold = runs.keySet().stream().anyMatch(j -> j.benchmark().startsWith(ResNetColdBenchmark.class.getName()));
        if (cold) {
            sb.append("\n## First call vs steady state (batch 1; single-shot in fresh JVMs, ms)\n\n");
            sb.append("| model | compile + warmup() | first run without warmup() | first run after warmup() | steady state (compiled, above) |\n");
            sb.append("|---|---|---|---|---|\n");
            for (String m : MODELS) {
                Result<?> cw = Report.primary(runs, ResNetColdBenchmark.class, "compileAndWarmup", key(m, 1, null));
                Result<?> fr = Report.primary(runs, ResNetColdBenchmark.class, "firstRunWithoutWarmup", key(m, 1, null));
                Result<?> fa = Report.primary(runs, ResNetColdBenchmark.class, "firstRunAfterWarmup", key(m, 1, null));
                if (cw == null && fr == null && fa == null) continue;
                sb.append("| ").append(m).append(" | ").append(ms(cw)).append(" | ").append(ms(fr)).append(" | ").append(ms(fa))
                  .append(" | ").append(Report.num(compiledMedian(runs, m, 1, full))).append(" (median of the rounds) |\n");
            }
            sb.append("\nEach first-call figure is the mean over ").append(full ? 5 : 3)
              .append(" fresh JVMs (one call each; ± is JMH's error over those forks).\n");
        }
    }
}
