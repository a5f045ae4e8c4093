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
    static final String[] VARIANTS = {"no-bn-fold", "no-postops", "no-sum", "plain-layouts", "unfused"};

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
        return p.get("model") + " b" + p.get("batch") + (p.containsKey("plan") ? " " + p.get("plan") : "");
    }

    private static String key(String model, int batch, String plan) {
        return "model=" + model + ",batch=" + batch + (plan == null ? "" : ",plan=" + plan);
    }

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
                jobs.add(new Job(rn + ".compiled", key(m, b, "fused")));
                jobs.add(new Job(ort + ".ort", key(m, b, null)));
                if (b == 1 || full) jobs.add(new Job(rn + ".eager", key(m, b, "fused")));
            }
        }
        for (String m : full ? MODELS : new String[] {"resnet18"}) {
            for (int b : full ? BATCHES : new int[] {1}) for (String v : VARIANTS) jobs.add(new Job(rn + ".compiled", key(m, b, v)));
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
        params(job.shape()).forEach((k, v) -> o.param(k, v));
        if (job.benchmark().startsWith(ResNetColdBenchmark.class.getName())) {
            o.forks(full ? 5 : 3).warmupIterations(0).measurementIterations(1);
        } else {
            // quick: 1 s iterations at batch 1 (15-150 ms a call), 2 s at batch 16 (0.25-2.5 s a call)
            int seconds = full ? 3 : params(job.shape()).get("batch").equals("1") ? 1 : 2;
            o.forks(full ? 2 : 1).warmupIterations(full ? 2 : 1).warmupTime(TimeValue.seconds(seconds))
                    .measurementIterations(full ? 5 : 3).measurementTime(TimeValue.seconds(seconds));
        }
    }

    private static Result<?> get(Map<Job, RunResult> runs, Class<?> cls, String method, String shape) {
        RunResult r = runs.get(new Job(cls.getName() + "." + method, shape));
        return r == null ? null : r.getPrimaryResult();
    }

    private static String ms(Result<?> r) {
        return r == null ? "–" : Report.num(r.getScore()) + " ± " + Report.num(r.getScoreError());
    }

    /** results.md tables: vs ONNX Runtime with GFLOP/s, the gain of each fusion, first call vs steady state. */
    static void report(StringBuilder sb, boolean full, Map<Job, RunResult> runs, double measuredPeak, double theoreticalPeak) {
        boolean any = runs.keySet().stream().anyMatch(j -> j.shape() != null && isParams(j.shape()));
        if (!any) return;
        sb.append("\n## ResNets, 224x224 (ms per batch; compiled plan vs ONNX Runtime Java vs eager)\n\n");
        sb.append("| model | batch | compiled | ONNX Runtime | eager | compiled images/s | ORT images/s | ORT time / compiled time "
                + "| compiled / eager | compiled GFLOP/s | % of measured peak | compiled bytes/op |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (String m : MODELS) {
            for (int b : BATCHES) {
                Result<?> c = get(runs, ResNetBenchmark.class, "compiled", key(m, b, "fused"));
                Result<?> o = get(runs, OnnxRuntimeResNetBenchmark.class, "ort", key(m, b, null));
                Result<?> e = get(runs, ResNetBenchmark.class, "eager", key(m, b, "fused"));
                if (c == null && o == null && e == null) continue;
                double gf = c == null ? Double.NaN : ResNetBenchmark.flops(m, b) / (c.getScore() * 1e6);
                sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |%n", m, b,
                        ms(c), ms(o), ms(e), c == null ? "–" : Report.num(b * 1000 / c.getScore()),
                        o == null ? "–" : Report.num(b * 1000 / o.getScore()),
                        c == null || o == null ? "–" : String.format(Locale.ROOT, "**%.2f**", o.getScore() / c.getScore()),
                        c == null || e == null ? "–" : String.format(Locale.ROOT, "%.1fx", e.getScore() / c.getScore()),
                        Double.isNaN(gf) ? "–" : String.format(Locale.ROOT, "%.0f", gf),
                        Double.isNaN(gf) ? "–" : String.format(Locale.ROOT, "%.0f%% (%.0f%% of theoretical)", 100 * gf / measuredPeak,
                                100 * gf / theoreticalPeak),
                        Report.allocation(runs, ResNetBenchmark.class, "compiled", key(m, b, "fused"))));
            }
        }
        sb.append("\nORT time / compiled time > 1: the compiled plan is faster. ONNX Runtime: ALL_OPT, intra-op threads = ours, "
                + "same torchvision model exported to ONNX by scripts/goldens/export_resnet.py. GFLOP/s: CompiledModel.flops() "
                + "(2 x multiply-adds of convolutions and fc) / time.\n");

        sb.append("\n## The gain of each fusion (compiled plan with one fusion switched off; ms per batch)\n\n");
        sb.append("| model | batch | fused | no-bn-fold | no-postops | no-sum | plain-layouts | unfused | unfused / fused |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|\n");
        for (String m : MODELS) {
            for (int b : BATCHES) {
                Result<?> fused = get(runs, ResNetBenchmark.class, "compiled", key(m, b, "fused"));
                boolean anyVariant = false;
                for (String v : VARIANTS) anyVariant |= get(runs, ResNetBenchmark.class, "compiled", key(m, b, v)) != null;
                if (!anyVariant) continue;
                sb.append("| ").append(m).append(" | ").append(b).append(" | ").append(ms(fused));
                for (String v : VARIANTS) {
                    Result<?> r = get(runs, ResNetBenchmark.class, "compiled", key(m, b, v));
                    sb.append(" | ").append(r == null ? "–" : ms(r) + (fused == null ? ""
                            : String.format(Locale.ROOT, " (%.2fx)", r.getScore() / fused.getScore())));
                }
                Result<?> u = get(runs, ResNetBenchmark.class, "compiled", key(m, b, "unfused"));
                sb.append(" | ").append(u == null || fused == null ? "–" : String.format(Locale.ROOT, "%.2fx", u.getScore() / fused.getScore()))
                  .append(" |\n");
            }
        }
        sb.append("\n(N.NNx): that variant's time / the fused plan's time, i.e. how much slower the plan gets without that fusion.\n");

        boolean cold = runs.keySet().stream().anyMatch(j -> j.benchmark().startsWith(ResNetColdBenchmark.class.getName()));
        if (cold) {
            sb.append("\n## First call vs steady state (batch 1; single-shot in fresh JVMs, ms)\n\n");
            sb.append("| model | compile + warmup() | first run without warmup() | first run after warmup() | steady state (compiled, above) |\n");
            sb.append("|---|---|---|---|---|\n");
            for (String m : MODELS) {
                Result<?> cw = get(runs, ResNetColdBenchmark.class, "compileAndWarmup", key(m, 1, null));
                Result<?> fr = get(runs, ResNetColdBenchmark.class, "firstRunWithoutWarmup", key(m, 1, null));
                Result<?> fa = get(runs, ResNetColdBenchmark.class, "firstRunAfterWarmup", key(m, 1, null));
                if (cw == null && fr == null && fa == null) continue;
                sb.append("| ").append(m).append(" | ").append(ms(cw)).append(" | ").append(ms(fr)).append(" | ").append(ms(fa))
                  .append(" | ").append(ms(get(runs, ResNetBenchmark.class, "compiled", key(m, 1, "fused")))).append(" |\n");
            }
            sb.append("\nEach first-call figure is the mean over ").append(full ? 5 : 3)
              .append(" fresh JVMs (one call each; ± is JMH's error over those forks).\n");
        }
    }
}
