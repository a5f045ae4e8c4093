package dev.panamadnn.benchmarks;

import dev.panamadnn.benchmarks.BenchMain.Job;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;

/**
 * The sequence part of scripts/bench (issue 14): LSTM, GRU, MultiheadAttention and an encoder layer
 * ({@link SeqSpec}), our compiled plan ({@link SequenceBenchmark#compiled}) against ONNX Runtime Java on
 * the exported model ({@link OnnxRuntimeSequenceBenchmark}) in alternating rounds, the C harness
 * dnnl_seq_bench.c (the same primitives; run by BenchMain right before each round's compiled job of a
 * shape), our eager forward and the plain-Java reference; one results.md table with the ratios and
 * the load average at each job. A job's shape is {@code SPEC} or {@code SPEC|rN} (round N).
 */
final class SequenceJobs {
    private SequenceJobs() {}

    /** Hidden 512, 128 steps, batch 1 and 32; attention d = 512, 8 heads, 128 steps, batch 1 and 8. */
    static final String[] SHAPES = {"lstm:512>512@128#1", "lstm:512>512@128#32", "gru:512>512@128#1", "gru:512>512@128#32",
        "mha:512h8@128#1", "mha:512h8@128#8", "encoder:512h8f2048@128#1", "encoder:512h8f2048@128#8"};
    /** The plain reference only at batch 1 (0.3-0.7 GFLOP a call, about 1-2 s at its 0.3-0.5 GFLOP/s). */
    static boolean withReference(String spec) {
        return SeqSpec.parse(spec).batch() == 1;
    }

    /** 1/5/15-minute load average read just before each job ran ({@link #beforeJob}). */
    private static final Map<Job, String> LOAD = new LinkedHashMap<>();

    static int rounds(boolean full) {
        return ResNetJobs.roundsOverride > 0 ? ResNetJobs.roundsOverride : full ? 5 : 3;
    }

    static boolean owns(Job job) {
        return job.benchmark().startsWith(SequenceBenchmark.class.getName() + ".")
                || job.benchmark().startsWith(OnnxRuntimeSequenceBenchmark.class.getName() + ".");
    }

    static String spec(Job job) {
        int bar = job.shape().indexOf('|');
        return bar < 0 ? job.shape() : job.shape().substring(0, bar);
    }

    static String label(String shape) {
        int bar = shape.indexOf('|');
        return SeqSpec.parse(bar < 0 ? shape : shape.substring(0, bar)).label() + (bar < 0 ? "" : " round " + shape.substring(bar + 2));
    }

    /** Per shape: rounds of (compiled, ORT), alternating which goes first; then eager; then the reference (batch 1). */
    static List<Job> jobs(boolean full) {
        String ours = SequenceBenchmark.class.getName(), ort = OnnxRuntimeSequenceBenchmark.class.getName();
        List<Job> jobs = new ArrayList<>();
        for (String s : SHAPES) {
            for (int r = 1; r <= rounds(full); r++) {
                Job c = new Job(ours + ".compiled", s + "|r" + r), o = new Job(ort + ".ort", s + "|r" + r);
                jobs.add(r % 2 == 1 ? c : o);
                jobs.add(r % 2 == 1 ? o : c);
            }
            jobs.add(new Job(ours + ".eager", s));
            if (withReference(s)) jobs.add(new Job(ours + ".reference", s));
        }
        return jobs;
    }

    /** The dnnl_seq_bench spec mirroring {@code job} (our compiled plan), else null. */
    static String cSpecFor(Job job) {
        return job.benchmark().equals(SequenceBenchmark.class.getName() + ".compiled") ? spec(job) : null;
    }

    static void configure(Job job, ChainedOptionsBuilder o) {
        o.param("shape", spec(job));
    }

    static void beforeJob(Job job) {
        if (!owns(job)) return;
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            LOAD.put(job, f[0] + " " + f[1] + " " + f[2]);
            System.out.println("       load average " + LOAD.get(job) + " (1/5/15 min)");
        } catch (IOException e) {
            LOAD.put(job, "?");
        }
    }

    private static double score(Map<Job, RunResult> runs, String method, Class<?> cls, String shape) {
        RunResult r = runs.get(new Job(cls.getName() + "." + method, shape));
        return r == null ? Double.NaN : r.getPrimaryResult().getScore();
    }

    private static String us(double v) {
        return Double.isNaN(v) ? "–" : Report.num(v);
    }

    private static String ratio(double v) {
        return Double.isNaN(v) ? "–" : String.format(Locale.ROOT, "%.2fx", v);
    }

    /** results.md: per shape the compiled median, C, ORT, eager, reference (µs) and the ratios with their goals. */
    static void report(StringBuilder sb, boolean full, Map<Job, RunResult> runs, Map<String, CHarness.Row> c) {
        if (runs.keySet().stream().noneMatch(SequenceJobs::owns)) return;
        sb.append("\n## Sequence models: compiled plan vs the C harness vs ONNX Runtime Java vs eager vs the plain reference (µs per call)\n\n");
        sb.append("| model | compiled, per round | C (dnnl_seq_bench), per round | **C / compiled**, per round; median (goal ≥ 0.97 where C ≥ 50 µs) | ORT, per round "
                + "| **ORT / compiled**, per round; median (goal ≥ 1.0) | eager | reference | reference / compiled | GFLOP/s | load avg (1/5/15 min) |\n");
        sb.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (String s : SHAPES) {
            int rounds = rounds(full);
            double[] ours = new double[rounds], theirs = new double[rounds], ratios = new double[rounds], cs = new double[rounds],
                    vsCs = new double[rounds];
            boolean cChecked = true, anyC = false;
            List<String> loads = new ArrayList<>();
            for (int r = 1; r <= rounds; r++) {
                String key = s + "|r" + r;
                ours[r - 1] = score(runs, "compiled", SequenceBenchmark.class, key);
                theirs[r - 1] = score(runs, "ort", OnnxRuntimeSequenceBenchmark.class, key);
                ratios[r - 1] = theirs[r - 1] / ours[r - 1];
                CHarness.Row row = c.get(key);
                cs[r - 1] = row == null ? Double.NaN : row.meanUs();
                vsCs[r - 1] = cs[r - 1] / ours[r - 1];
                anyC |= row != null;
                cChecked &= row == null || row.checked();
                String l = LOAD.get(new Job(SequenceBenchmark.class.getName() + ".compiled", key));
                if (l != null) loads.add(l.split(" ")[0]);
            }
            double eager = score(runs, "eager", SequenceBenchmark.class, s), ref = score(runs, "reference", SequenceBenchmark.class, s);
            double med = ResNetJobs.median(ours);
            if (Double.isNaN(med) && Double.isNaN(ResNetJobs.median(theirs)) && Double.isNaN(eager)) continue;
            double cUs = ResNetJobs.median(cs), vsC = ResNetJobs.median(vsCs);
            String goalC = !anyC ? "–" : cUs < Report.GOAL_MIN_US ? "n/a (C < 50 µs)"
                    : list(vsCs, true) + "; **" + ratio(vsC) + "** " + (vsC >= 0.97 ? "✔" : "✘");
            if (!cChecked) goalC = "✘ C check failed";
            double medRatio = ResNetJobs.median(ratios);
            String first = LOAD.getOrDefault(new Job(SequenceBenchmark.class.getName() + ".compiled", s + "|r1"), "?");
            sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s; **%s** %s | %s | %s | %s | %.1f | %s (1-min at each round: %s) |%n",
                    SeqSpec.parse(s).label(), list(ours), anyC ? list(cs) : "–", goalC, list(theirs), list(ratios, true), ratio(medRatio),
                    Double.isNaN(medRatio) ? "" : medRatio >= 1 ? "✔" : "✘", us(eager), us(ref), ratio(ref / med),
                    SeqSpec.parse(s).flop() / (med * 1e3), first, String.join(", ", loads)));
        }
        sb.append("\nCompiled: `CompiledModel.run(x, out)` (the plan `CompiledModel.describe()` prints), weights of the PyTorch model "
                + "scripts/goldens/export_sequence_models.py exports (both sides checked against PyTorch's output before timing). "
                + "C: dnnl_seq_bench.c, the same oneDNN primitives and descriptors, memory bound once, run right before each round's compiled "
                + "job (this VM's 2-thread teams switch between a fast and a ~1.3-1.6x slower mode over minutes, so a C figure is compared "
                + "with the compiled figure of its own round). "
                + "ORT: ONNX Runtime Java on the torch.onnx export of the same model, ALL_OPT, the same intra-op threads. Each round runs "
                + "compiled and ORT back to back (alternating which goes first), one JMH fork each; ratio > 1: ours is faster. "
                + "Eager: `forward(x)`; reference: the plain-Java path (batch 1 only). GFLOP/s from the compiled median (SeqSpec.flop).\n");
    }

    private static String list(double[] v) {
        return list(v, false);
    }

    private static String list(double[] v, boolean ratios) {
        StringBuilder sb = new StringBuilder();
        for (double x : v) {
            sb.append(sb.length() == 0 ? "" : ", ").append(Double.isNaN(x) ? "–" : ratios ? String.format(Locale.ROOT, "%.2f", x) : Report.num(x));
        }
        return sb.toString();
    }
}
