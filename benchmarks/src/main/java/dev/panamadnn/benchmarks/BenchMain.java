package dev.panamadnn.benchmarks;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;

/**
 * The driver behind scripts/bench: runs each (benchmark, shape) as its own JMH run so it can
 * print a progress line, with the GC profiler on (bytes/op), then writes results.json (JMH's
 * JSON of every run) and results.md (machine, versions, every figure with its error, GFLOP/s,
 * the ratios computed from this one run, % of peak).
 *
 * <p>usage: BenchMain --profile quick|full --out DIR --threads N [--c-results FILE]
 * [--machine FILE] [--only REGEX]
 */
public final class BenchMain {
    static final String[] SHAPES = {"16", "64", "256", "1024", "2048", "2048x64x2048", "64x2048x2048", "1024:NT"};
    /** The plain reference is O(n^3) scalar code: ~0.2 GFLOP/s, so n = 2048 would take minutes per call. */
    static final String[] REFERENCE_SHAPES = {"16", "64", "256"};
    static final String[] GEMM_IMPLS = {"ffm", "jni", "vectorApi", "ejml", "ejmlMt"};
    static final String[] OVERHEAD = {"ffmGetNumThreads", "ffmSdot1", "jniSdot1", "ffmSgemm16OffHeap",
        "ffmSgemm16Heap", "jniSgemm16Pointer", "jniSgemm16Array"};

    record Job(String benchmark, String shape) {
        String label() {
            return benchmark.substring(benchmark.lastIndexOf('.', benchmark.lastIndexOf('.') - 1) + 1)
                    + (shape == null ? "" : " " + Shape.parse(shape).label());
        }
    }

    record CRow(String shape, int reps, double bestUs, double medianUs, double meanUs, double gflopsBest, double gflopsMean) {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) opt.put(args[i], args[i + 1]);
        boolean full = "full".equals(opt.getOrDefault("--profile", "quick"));
        Path out = Path.of(opt.getOrDefault("--out", "results/manual"));
        int threads = Integer.parseInt(opt.getOrDefault("--threads", "" + Runtime.getRuntime().availableProcessors()));
        Pattern only = opt.containsKey("--only") ? Pattern.compile(opt.get("--only")) : null;
        Files.createDirectories(out);

        List<Job> jobs = new ArrayList<>();
        for (String shape : SHAPES) {
            for (String impl : GEMM_IMPLS) jobs.add(new Job(GemmBenchmark.class.getName() + "." + impl, shape));
        }
        for (String shape : REFERENCE_SHAPES) jobs.add(new Job(GemmBenchmark.class.getName() + ".reference", shape));
        for (String m : OVERHEAD) jobs.add(new Job(OverheadBenchmark.class.getName() + "." + m, null));
        if (only != null) jobs.removeIf(j -> !only.matcher(j.label()).find());

        List<RunResult> results = new ArrayList<>();
        Map<Job, RunResult> byJob = new LinkedHashMap<>();
        for (int i = 0; i < jobs.size(); i++) {
            Job job = jobs.get(i);
            System.out.printf("[%d/%d] %s%n", i + 1, jobs.size(), job.label());
            ChainedOptionsBuilder o = new OptionsBuilder()
                    .include("^" + Pattern.quote(job.benchmark()) + "$")
                    .forks(full ? 2 : 1)
                    .warmupIterations(full ? 3 : 1).warmupTime(TimeValue.seconds(full ? 2 : 1))
                    .measurementIterations(full ? 5 : 3).measurementTime(TimeValue.seconds(full ? 2 : 1))
                    .jvmArgsAppend("-Dpanamadnn.threads=" + threads)
                    .addProfiler(GCProfiler.class)
                    .verbosity(VerboseMode.SILENT);
            if (job.shape() != null) o.param("shape", job.shape());
            try {
                for (RunResult r : new Runner(o.build()).run()) {
                    results.add(r);
                    byJob.put(job, r);
                    Result<?> p = r.getPrimaryResult();
                    System.out.printf(Locale.ROOT, "       %.3f ± %.3f %s%n", p.getScore(), p.getScoreError(), p.getScoreUnit());
                }
            } catch (RunnerException e) {
                System.out.println("       FAILED: " + e.getMessage());
            }
        }
        try (PrintStream ps = new PrintStream(Files.newOutputStream(out.resolve("results.json")), true, StandardCharsets.UTF_8)) {
            ResultFormatFactory.getInstance(ResultFormatType.JSON, ps).writeOut(results);
        }
        Map<String, CRow> c = opt.containsKey("--c-results") ? readC(Path.of(opt.get("--c-results"))) : Map.of();
        String machine = opt.containsKey("--machine") ? Files.readString(Path.of(opt.get("--machine"))) : "";
        String md = Report.markdown(full, threads, machine, byJob, c);
        Files.writeString(out.resolve("results.md"), md);
        System.out.println();
        System.out.println(md);
    }

    static Map<String, CRow> readC(Path file) throws IOException {
        Map<String, CRow> rows = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file)) {
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.split("\t");
            rows.put(f[0], new CRow(f[0], Integer.parseInt(f[4]), Double.parseDouble(f[5]), Double.parseDouble(f[6]),
                    Double.parseDouble(f[7]), Double.parseDouble(f[8]), Double.parseDouble(f[9])));
        }
        return rows;
    }
}
