package dev.panamadnn.benchmarks;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
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
 * the ratios computed from this one run, % of peak, oneDNN overhead, bytes/op, thread scaling) and
 * two PNG charts ({@link Charts}).
 *
 * <p>With {@code --c-layer-harness BINARY} (the compiled dnnl_layer_bench.c) it runs the C twin of
 * each layer / oneDNN job ({@link CHarness#specFor}) right before that job, into c-layers.tsv.
 * Every fork records which libdnnl.so.3 it mapped ({@link LoadedLibraries}) into libraries.tsv.
 *
 * <p>usage: BenchMain --profile quick|full --out DIR --threads N [--c-results FILE]
 * [--c-layer-harness BINARY] [--c-seq-harness BINARY] [--machine FILE] [--only REGEX] [--rounds N]
 */
public final class BenchMain {
    static final String[] SHAPES = {"16", "64", "256", "1024", "2048", "2048x64x2048", "64x2048x2048", "1024:NT"};
    /** The plain reference is O(n^3) scalar code: ~0.2 GFLOP/s, so n = 2048 would take minutes per call. */
    static final String[] REFERENCE_SHAPES = {"16", "64", "256"};
    static final String[] GEMM_IMPLS = {"ffm", "jni", "vectorApi", "ejml", "ejmlMt"};
    static final String[] OVERHEAD = {"ffmGetNumThreads", "ffmSdot1", "ffmSdot1Auto", "ffmSdot1Critical", "jniSdot1", "ffmSgemm16OffHeap",
        "ffmSgemm16Heap", "jniSgemm16Pointer", "jniSgemm16Array", "ffmDnnlRelu16", "jniDnnlRelu16"};
    /** Every distinct Conv2d shape of torchvision's ResNet-50 (v1.5: the stride sits on the 3x3), batch 1. */
    static final String[] RESNET50_CONVS = {
        "conv2d:3>64:7/2@224",
        "conv2d:64>64:1@56", "conv2d:64>64:3@56", "conv2d:64>256:1@56", "conv2d:256>64:1@56",
        "conv2d:256>128:1@56", "conv2d:128>128:3/2@56", "conv2d:128>512:1@28", "conv2d:256>512:1/2@56",
        "conv2d:512>128:1@28", "conv2d:128>128:3@28",
        "conv2d:512>256:1@28", "conv2d:256>256:3/2@28", "conv2d:256>1024:1@14", "conv2d:512>1024:1/2@28",
        "conv2d:1024>256:1@14", "conv2d:256>256:3@14",
        "conv2d:1024>512:1@14", "conv2d:512>512:3/2@14", "conv2d:512>2048:1@7", "conv2d:1024>2048:1/2@14",
        "conv2d:2048>512:1@7", "conv2d:512>512:3@7"};
    /**
     * {@link LayerBenchmark} shapes ({@link LayerSpec}) for --full: the ResNet-50 convolutions at
     * batch 1, Linear at batch 1 and 64, Conv1d plain/causal/dilated, ConvTranspose2d, max and
     * average pooling, one BasicBlock, then the ResNet-50 convolutions again at batch 16.
     */
    static final String[] LAYER_SHAPES = Stream.of(Arrays.stream(RESNET50_CONVS), Stream.of(
            "linear:512>512#1", "linear:512>512#64", "linear:2048>1000#1", "linear:2048>1000#64",
            "conv1d:64>64:3@4096", "conv1d:64>64:3c@4096", "conv1d:64>64:3d4@4096",
            "convT2d:64>32:4/2@28",
            "maxpool2d:64:3/2@112", "avgpool2d:256:2/2@56",
            "basicblock:64@56"), Arrays.stream(RESNET50_CONVS).map(c -> c + "#16"))
            .flatMap(x -> x).toArray(String[]::new);
    /** --quick: 3 shapes, native and reference each (6 jobs, about a minute). */
    static final String[] LAYER_QUICK_SHAPES = {"conv2d:64>64:3@56", "linear:2048>1000#64", "conv1d:64>64:3c@4096"};
    /**
     * Shapes whose plain-Java reference call takes about 2 s or less on the 2-core dev VM (the
     * reference runs at 0.2-0.6 GFLOP/s; measured once, see docs/benchmarks.md): every batch-1
     * shape above (the largest, the BasicBlock at 0.46 GFLOP, ~1.8 s; the ResNet-50 convs
     * 0.1-0.24 GFLOP, <= ~1 s), none at batch 16 (16x that).
     */
    static final String[] LAYER_REFERENCE_SHAPES = Arrays.stream(LAYER_SHAPES).filter(s -> !s.endsWith("#16")).toArray(String[]::new);
    /** {@link DnnlBindingBenchmark} (FFM vs JNI, one conv primitive bound once): --quick and --full. */
    static final String[] DNNL_BINDING_QUICK_SHAPES = {"conv2d:64>64:3@56"};
    static final String[] DNNL_BINDING_SHAPES = {"conv2d:64>64:3@56", "conv2d:128>128:3@28#16", "conv2d:1024>256:1@14#16"};

    /** {@link DnnlOverheadBenchmark} methods: --quick runs these, --full every one in {@link #DNNL_OVERHEAD}. */
    static final String[] DNNL_OVERHEAD_QUICK = {"eltwiseCreate", "eltwiseCached", "eltwiseBound", "eltwiseBare",
        "compiledRun", "eagerForward"};
    static final String[] DNNL_OVERHEAD = {"eltwiseCreate", "eltwiseCreateExecute", "eltwiseCached", "eltwiseBound",
        "eltwiseBare", "convCreate", "convMiss", "convCached", "compiledRun", "eagerForward"};
    /** Thread scaling: (benchmark, shape) pairs run at each of {@link #SCALING_THREADS}; --full adds {@link #SCALING_FULL}. */
    static final String[][] SCALING_QUICK = {
        {GemmBenchmark.class.getName() + ".ffm", "1024"},
        {LayerBenchmark.class.getName() + ".nativeForward", "conv2d:64>64:3@56"}};
    static final String[][] SCALING_FULL = {
        {GemmBenchmark.class.getName() + ".ffm", "2048"},
        {GemmBenchmark.class.getName() + ".vectorApi", "1024"},
        {VectorConvBenchmark.class.getName() + ".vectorApi", "conv2d:64>64:3@56"}};
    static final int[] SCALING_THREADS = {1, 2};

    /**
     * One JMH run: a benchmark method, its shape (or null), and the intra-op thread count when it
     * is not the run's own --threads (0).
     */
    record Job(String benchmark, String shape, int threads) {
        Job(String benchmark, String shape) {
            this(benchmark, shape, 0);
        }

        String label() {
            return benchmark.substring(benchmark.lastIndexOf('.', benchmark.lastIndexOf('.') - 1) + 1)
                    + (shape == null ? "" : " " + (SequenceJobs.owns(this) ? SequenceJobs.label(shape) : ResNetJobs.isParams(shape) ? ResNetJobs.label(shape)
                            : layerShaped() ? LayerSpec.parse(shape).label() : Shape.parse(shape).label()))
                    + (threads == 0 ? "" : " threads=" + threads);
        }

        /** Whether {@code shape} is a {@link LayerSpec} (else a GEMM {@link Shape} or ResNet parameters). */
        boolean layerShaped() {
            return benchmark.startsWith(LayerBenchmark.class.getName() + ".") || benchmark.startsWith(DnnlBindingBenchmark.class.getName() + ".")
                    || benchmark.startsWith(VectorConvBenchmark.class.getName() + ".");
        }
    }

    /** The conv2d shapes of a layer list (the ones {@link VectorConvBenchmark} takes). */
    static List<String> conv2dShapes(boolean full) {
        return Arrays.stream(full ? LAYER_SHAPES : LAYER_QUICK_SHAPES).filter(s -> s.startsWith("conv2d:")).toList();
    }

    record CRow(String shape, int reps, double bestUs, double medianUs, double meanUs, double gflopsBest, double gflopsMean) {}

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) opt.put(args[i], args[i + 1]);
        boolean full = "full".equals(opt.getOrDefault("--profile", "quick"));
        Path out = Path.of(opt.getOrDefault("--out", "results/manual"));
        int threads = Integer.parseInt(opt.getOrDefault("--threads", "" + Runtime.getRuntime().availableProcessors()));
        Pattern only = opt.containsKey("--only") ? Pattern.compile(opt.get("--only")) : null;
        if (opt.containsKey("--rounds")) ResNetJobs.roundsOverride = Integer.parseInt(opt.get("--rounds"));
        Files.createDirectories(out);

        List<Job> jobs = new ArrayList<>();
        for (String shape : SHAPES) {
            for (String impl : GEMM_IMPLS) {
                // --quick skips EJML at n = 2048: one call takes 2.5-5 s there, ~30 s of the quick budget.
                if (!full && impl.startsWith("ejml") && shape.equals("2048")) continue;
                jobs.add(new Job(GemmBenchmark.class.getName() + "." + impl, shape));
            }
        }
        for (String shape : REFERENCE_SHAPES) jobs.add(new Job(GemmBenchmark.class.getName() + ".reference", shape));
        for (String m : OVERHEAD) jobs.add(new Job(OverheadBenchmark.class.getName() + "." + m, null));
        List<String> withReference = List.of(LAYER_REFERENCE_SHAPES);
        for (String shape : full ? LAYER_SHAPES : LAYER_QUICK_SHAPES) {
            jobs.add(new Job(LayerBenchmark.class.getName() + ".nativeForward", shape));
            if (withReference.contains(shape)) jobs.add(new Job(LayerBenchmark.class.getName() + ".reference", shape));
        }
        for (String shape : full ? DNNL_BINDING_SHAPES : DNNL_BINDING_QUICK_SHAPES) {
            for (String m : new String[] {"ffm", "jni"}) jobs.add(new Job(DnnlBindingBenchmark.class.getName() + "." + m, shape));
        }
        for (String shape : conv2dShapes(full)) jobs.add(new Job(VectorConvBenchmark.class.getName() + ".vectorApi", shape));
        // One intra-op thread: the per-call cost, not an OpenMP team's wake-up on a shared machine.
        for (String m : full ? DNNL_OVERHEAD : DNNL_OVERHEAD_QUICK) jobs.add(new Job(DnnlOverheadBenchmark.class.getName() + "." + m, null, 1));
        for (String[] pair : scaling(full)) {
            for (int t : SCALING_THREADS) {
                // The run's own thread count is already measured by the job above when there is one.
                if (t != threads || !jobs.contains(new Job(pair[0], pair[1]))) jobs.add(new Job(pair[0], pair[1], t));
            }
        }
        jobs.addAll(ResNetJobs.jobs(full));
        jobs.addAll(SequenceJobs.jobs(full));
        if (only != null) jobs.removeIf(j -> !only.matcher(j.label()).find());
        Path libraries = out.resolve("libraries.tsv").toAbsolutePath();
        Files.deleteIfExists(libraries);
        Path cLayersFile = out.resolve("c-layers.tsv");
        Files.deleteIfExists(cLayersFile);
        CHarness harness = opt.containsKey("--c-layer-harness")
                ? new CHarness(Path.of(opt.get("--c-layer-harness")), threads, full, cLayersFile) : null;
        // dnnl_seq_bench.c, the twin of the sequence jobs' compiled plans (SequenceJobs.cSpecFor), into c-seq.tsv
        CHarness seqHarness = opt.containsKey("--c-seq-harness")
                ? new CHarness(Path.of(opt.get("--c-seq-harness")), threads, full, out.resolve("c-seq.tsv")) : null;
        Map<String, CHarness.Row> cLayers = new LinkedHashMap<>();
        if (harness != null) System.out.printf("C harness (dnnl_layer_bench): %d specs, each right before its JMH job%n", CHarness.specsFor(jobs).size());

        List<RunResult> results = new ArrayList<>();
        Map<Job, RunResult> byJob = new LinkedHashMap<>();
        for (int i = 0; i < jobs.size(); i++) {
            Job job = jobs.get(i);
            System.out.printf("[%d/%d] %s%n", i + 1, jobs.size(), job.label());
            System.out.flush();   // the progress line must show at once also when stdout is a file or a pipe
            String spec = SequenceJobs.owns(job) ? SequenceJobs.cSpecFor(job) : CHarness.specFor(job);
            CHarness twin = SequenceJobs.owns(job) ? seqHarness : harness;
            // A sequence model's twin runs before each round's compiled job (keyed SPEC|rN), so that C and compiled of a
            // round share the VM's mode of the moment, as the alternating ORT rounds do; a layer's twin runs once.
            String cKey = SequenceJobs.owns(job) ? job.shape() : spec;
            if (twin != null && spec != null && !cLayers.containsKey(cKey)) {
                try {
                    CHarness.Row row = twin.run(spec);
                    cLayers.put(cKey, row);
                    System.out.printf(Locale.ROOT, "       C harness %s: %.3f us/op (best iteration %.3f), %s%n", spec, row.meanUs(),
                            row.bestUs(), row.kernel());
                } catch (IOException e) {
                    cLayers.put(cKey, null);
                    System.out.println("       C harness FAILED: " + e.getMessage());
                }
            }
            ChainedOptionsBuilder o = new OptionsBuilder()
                    .include("^" + Pattern.quote(job.benchmark()) + "$")
                    .forks(full ? 2 : 1)
                    .warmupIterations(full ? 3 : 1).warmupTime(TimeValue.seconds(full ? 2 : 1))
                    .measurementIterations(full ? 5 : 3).measurementTime(TimeValue.seconds(full ? 2 : 1))
                    .jvmArgsAppend("-Dpanamadnn.threads=" + (job.threads() > 0 ? job.threads() : threads),
                            "-D" + LoadedLibraries.PROPERTY + "=" + libraries)
                    .addProfiler(GCProfiler.class)
                    .verbosity(VerboseMode.SILENT);
            SequenceJobs.beforeJob(job);
            if (SequenceJobs.owns(job)) SequenceJobs.configure(job, o);
            else if (job.shape() != null && ResNetJobs.isParams(job.shape())) ResNetJobs.configure(job, full, o);
            else if (job.shape() != null) o.param("shape", job.shape());
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
        cLayers.values().removeIf(java.util.Objects::isNull);
        String md = Report.markdown(full, threads, machine, byJob, c, cLayers, LoadedLibraries.read(libraries));
        Files.writeString(out.resolve("results.md"), md);
        try {
            Charts.write(out, full, threads, machine, byJob, c);
        } catch (IOException | RuntimeException e) {
            System.out.println("charts not written: " + e);
        }
        System.out.println();
        System.out.println(md);
    }

    static List<String[]> scaling(boolean full) {
        List<String[]> pairs = new ArrayList<>(List.of(SCALING_QUICK));
        if (full) pairs.addAll(List.of(SCALING_FULL));
        return pairs;
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
