package dev.panamadnn.benchmarks;

import static dev.panamadnn.benchmarks.Report.num;

import dev.panamadnn.benchmarks.BenchMain.Job;
import java.util.Locale;
import java.util.Map;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;

/**
 * The results.md sections for the oneDNN overhead, allocation, pure-Java convolution and
 * thread-scaling jobs (kept beside {@link Report} so each file stays about one family of tables).
 * A section whose jobs did not run (e.g. under --only) is left out.
 */
final class ReportSections {
    private ReportSections() {}

    private static final String DNNL = DnnlOverheadBenchmark.class.getName();
    private static final String[][] DNNL_ROWS = {
        {"eltwiseCreate", "ReLU f32[16]: create primitive descriptor + primitive, destroy"},
        {"eltwiseCreateExecute", "ReLU f32[16]: create, execute once, destroy"},
        {"eltwiseCached", "ReLU f32[16]: `Eltwise.forward` (cached primitive; memory objects, scratchpad, args per call)"},
        {"eltwiseBound", "ReLU f32[16]: bound `Execution` (what a compiled plan does per primitive) + stream wait"},
        {"eltwiseBare", "ReLU f32[16]: bare `dnnl_primitive_execute` + `dnnl_stream_wait` (generated binding, prepared args)"},
        {"convCreate", "Conv2d 3x3 16->16 8x8: create primitive descriptor + primitive, destroy"},
        {"convMiss", "Conv2d 3x3 16->16 8x8: `forward` after `weightsChanged()` (create, reorder weights, execute)"},
        {"convCached", "Conv2d 3x3 16->16 8x8: `forward`, primitive cached"},
        {"compiledRun", "tiny model (Conv2d 3->8 3x3 + ReLU + Flatten + Linear 2048->10, 16x16): `CompiledModel.run(in, out)`"},
        {"eagerForward", "tiny model: eager `Sequential.forward`"}};

    static void append(StringBuilder sb, boolean full, int threads, Map<Job, RunResult> runs) {
        dnnlOverhead(sb, runs);
        allocation(sb, runs);
        pureJavaConv(sb, full, runs);
        scaling(sb, full, threads, runs);
    }

    private static void dnnlOverhead(StringBuilder sb, Map<Job, RunResult> runs) {
        if (dnnl(runs, "eltwiseCached") == null && dnnl(runs, "compiledRun") == null) return;
        sb.append("\n## oneDNN: creating vs reusing primitives, Java-side cost per executed primitive (1 intra-op thread)\n\n");
        sb.append("| benchmark | what | ns/op | bytes/op |\n|---|---|---|---|\n");
        for (String[] row : DNNL_ROWS) {
            RunResult r = runs.get(new Job(DNNL + "." + row[0], null, 1));
            if (r == null) continue;
            Result<?> p = r.getPrimaryResult();
            sb.append("| ").append(row[0]).append(" | ").append(row[1]).append(" | ").append(num(p.getScore())).append(" ± ")
              .append(num(p.getScoreError())).append(" | ").append(bytes(r)).append(" |\n");
        }
        Result<?> bare = dnnl(runs, "eltwiseBare"), cached = dnnl(runs, "eltwiseCached"), bound = dnnl(runs, "eltwiseBound");
        Result<?> create = dnnl(runs, "eltwiseCreate");
        sb.append('\n');
        if (bare != null && cached != null && bound != null) {
            sb.append(String.format(Locale.ROOT, "Java-side cost per executed primitive (goal: under 1 µs), the time over the bare "
                    + "binding call: eager `Eltwise.forward` %+.0f ns, bound execution (compiled plan) %+.0f ns.%n",
                    cached.getScore() - bare.getScore(), bound.getScore() - bare.getScore()));
        }
        if (create != null && cached != null) {
            sb.append(String.format(Locale.ROOT, "Creating the ReLU primitive costs %.1fx a cached `Eltwise.forward`.%n",
                    create.getScore() / cached.getScore()));
        }
        Result<?> miss = dnnl(runs, "convMiss"), hit = dnnl(runs, "convCached");
        if (miss != null && hit != null) {
            sb.append(String.format(Locale.ROOT, "A Conv2d primitive-cache miss costs %.1fx a cached forward.%n",
                    miss.getScore() / hit.getScore()));
        }
    }

    /** The hot paths and their bytes per call, from JMH's GC profiler (goal: 0 on the hot path). */
    private static void allocation(StringBuilder sb, Map<Job, RunResult> runs) {
        String ov = OverheadBenchmark.class.getName() + ".";
        Object[][] rows = {
            {"`Blas.sgemm` off-heap segments, n=16", runs.get(new Job(ov + "ffmSgemm16OffHeap", null))},
            {"`Blas.sgemm(float[]...)` heap arrays, n=16", runs.get(new Job(ov + "ffmSgemm16Heap", null))},
            {"`CompiledModel.run(input, output)`, tiny model", runs.get(new Job(DNNL + ".compiledRun", null, 1))},
            {"compiled plan, per primitive (bound `Execution`)", runs.get(new Job(DNNL + ".eltwiseBound", null, 1))},
            {"eager `Sequential.forward`, tiny model", runs.get(new Job(DNNL + ".eagerForward", null, 1))},
            {"eager `Eltwise.forward`, ReLU f32[16]", runs.get(new Job(DNNL + ".eltwiseCached", null, 1))},
            {"eager `Conv2d.forward` 3x3 64->64 56x56", runs.get(new Job(LayerBenchmark.class.getName() + ".nativeForward", "conv2d:64>64:3@56"))}};
        boolean any = false;
        for (Object[] row : rows) any |= row[1] != null;
        if (!any) return;
        sb.append("\n## Allocation per call on the hot paths (JMH `-prof gc`, gc.alloc.rate.norm; goal 0)\n\n");
        sb.append("| path | bytes/op |\n|---|---|\n");
        for (Object[] row : rows) {
            if (row[1] != null) sb.append("| ").append(row[0]).append(" | ").append(bytes((RunResult) row[1])).append(" |\n");
        }
        sb.append("\nA few bytes/op on a path that allocates nothing are JMH's own bookkeeping spread over the calls.\n");
    }

    /** Conv2d: native layer vs the Vector API im2col + GEMM vs the plain reference. */
    private static void pureJavaConv(StringBuilder sb, boolean full, Map<Job, RunResult> runs) {
        String vector = VectorConvBenchmark.class.getName() + ".vectorApi", layer = LayerBenchmark.class.getName();
        boolean any = false;
        for (String shape : BenchMain.conv2dShapes(full)) any |= runs.containsKey(new Job(vector, shape));
        if (!any) return;
        sb.append("\n## Conv2d: native vs the best pure Java (Vector API im2col + GEMM) vs the plain reference; µs per call\n\n");
        sb.append("| layer | native | Vector API Java | plain reference | native/VectorAPI | native/reference |\n|---|---|---|---|---|---|\n");
        for (String shape : BenchMain.conv2dShapes(full)) {
            Result<?> nat = primary(runs.get(new Job(layer + ".nativeForward", shape)));
            Result<?> vec = primary(runs.get(new Job(vector, shape)));
            Result<?> ref = primary(runs.get(new Job(layer + ".reference", shape)));
            if (vec == null) continue;
            LayerSpec spec = LayerSpec.parse(shape);
            double flop;
            try (var l = spec.build()) {
                flop = spec.flop(l.outputShape(spec.inputShape()));
            }
            sb.append("| ").append(spec.label()).append(" | ").append(cell(nat, flop)).append(" | ").append(cell(vec, flop))
              .append(" | ").append(cell(ref, flop)).append(" | ").append(ratio(vec, nat)).append(" | ").append(ratio(ref, nat)).append(" |\n");
        }
        sb.append("\nGoal (issue 5): native at least 4x the best pure-Java implementation and at least 50x the plain reference.\n");
    }

    private static void scaling(StringBuilder sb, boolean full, int threads, Map<Job, RunResult> runs) {
        StringBuilder rows = new StringBuilder();
        for (String[] pair : BenchMain.scaling(full)) {
            Result<?> one = primary(at(runs, pair, 1, threads)), two = primary(at(runs, pair, 2, threads));
            if (one == null && two == null) continue;
            Job j = new Job(pair[0], pair[1]);
            rows.append("| ").append(j.label()).append(" | ").append(one == null ? "–" : num(one.getScore()) + " ± " + num(one.getScoreError()))
                .append(" | ").append(two == null ? "–" : num(two.getScore()) + " ± " + num(two.getScoreError()));
            if (one != null && two != null) {
                double speedup = one.getScore() / two.getScore();
                rows.append(String.format(Locale.ROOT, " | %.2fx | %.0f%% |%n", speedup, 100 * speedup / 2));
            } else {
                rows.append(" | – | – |\n");
            }
        }
        if (rows.isEmpty()) return;
        sb.append("\n## Thread scaling (intra-op threads 1 -> 2, `-Dpanamadnn.threads`); µs per call\n\n");
        sb.append("| benchmark | 1 thread | 2 threads | speedup | efficiency (speedup / 2) |\n|---|---|---|---|---|\n").append(rows);
        sb.append("\nEach point is its own JMH fork, run minutes apart; on a shared or 2-vCPU machine the second thread competes with "
                + "everything else. An efficiency above 100% is not super-linear scaling but a disturbed one-thread run.\n");
    }

    /** The run of {@code pair} at {@code t} threads: its own job, or the main job when {@code t} is the run's thread count. */
    static RunResult at(Map<Job, RunResult> runs, String[] pair, int t, int threads) {
        RunResult r = runs.get(new Job(pair[0], pair[1], t));
        return r == null && t == threads ? runs.get(new Job(pair[0], pair[1])) : r;
    }

    private static Result<?> dnnl(Map<Job, RunResult> runs, String method) {
        return primary(runs.get(new Job(DNNL + "." + method, null, 1)));
    }

    private static Result<?> primary(RunResult r) {
        return r == null ? null : r.getPrimaryResult();
    }

    private static String bytes(RunResult r) {
        Result<?> a = r.getSecondaryResults().get("gc.alloc.rate.norm");
        return a == null ? "–" : String.format(Locale.ROOT, "%.1f", a.getScore());
    }

    private static String cell(Result<?> r, double flop) {
        if (r == null) return "–";
        return num(r.getScore()) + " ± " + num(r.getScoreError()) + String.format(Locale.ROOT, "<br>%.1f GF/s", flop / r.getScore() / 1e3);
    }

    private static String ratio(Result<?> slower, Result<?> nat) {
        return slower == null || nat == null ? "–" : String.format(Locale.ROOT, "%.1fx", slower.getScore() / nat.getScore());
    }
}
