package dev.panamadnn.spark;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.models.ResNet;
import dev.panamadnn.models.ResNets;
import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.api.java.function.MapFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * The job {@code scripts/spark-cluster} submits, and its in-process baseline. Rows are synthetic and
 * deterministic (row {@code id}'s values come from a generator seeded by the id), so any run, on
 * any cluster, scores the same inputs.
 * <pre>
 * spark:     ScoringJob spark --model FILE [--arch A] [--shape 3,224,224] --rows N --partitions P
 *                             [--batch B] [--reps R] [--out DIR] [--alternate T]
 *                             [--alternate-jvm true]
 *                             (--alternate T: each timed run follows the same rows in-process in the driver JVM
 *                             on T threads, the executors idle; prints each pair's ratio; --alternate-jvm true: and
 *                             before that in a fresh JVM of its own)
 * inprocess: ScoringJob inprocess --model FILE [--arch A] [--shape ...] --rows N --threads T [--batch B] [--reps R]
 * compare:   ScoringJob compare --model FILE [--arch A] [--shape ...] --rows N [--partitions P] [--batch B] [--reps R]
 *                               (local[1]: in-process and Spark alternately in one JVM on one plan)
 * verify:    ScoringJob verify DIR_A DIR_B      (local: every id once in both, outputs equal)
 * resnet18:  ScoringJob resnet18 FILE           (writes a ResNet-18 with seeded random weights)
 * </pre>
 * Timings print as {@code rows/s} lines: the best and median of the repetitions, scoring the cached
 * input into Spark's no-op sink (what is timed is scoring, not generating the rows).
 */
public final class ScoringJob {
    private ScoringJob() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) throw new IllegalArgumentException("usage: ScoringJob spark|inprocess|compare|verify|resnet18 ...");
        switch (args[0]) {
            case "spark" -> spark(options(Arrays.copyOfRange(args, 1, args.length)));
            case "inprocess" -> inProcess(options(Arrays.copyOfRange(args, 1, args.length)));
            case "compare" -> compare(options(Arrays.copyOfRange(args, 1, args.length)));
            case "verify" -> verify(args[1], args[2]);
            case "resnet18" -> writeResNet18(Path.of(args[1]));
            default -> throw new IllegalArgumentException("ScoringJob: unknown mode " + args[0]);
        }
    }

    static Map<String, String> options(String[] a) {
        Map<String, String> o = new HashMap<>();
        for (int i = 0; i + 1 < a.length; i += 2) {
            if (!a[i].startsWith("--")) throw new IllegalArgumentException("ScoringJob: expected --option value, got " + a[i]);
            o.put(a[i].substring(2), a[i + 1]);
        }
        return o;
    }

    static PanamaModel model(Map<String, String> o) {
        PanamaModel m = new PanamaModel().setModelPath(o.get("model")).setOutputCol("output").setPredictionCol("prediction")
                .setBatchSize(Integer.parseInt(o.getOrDefault("batch", "32")));
        if (o.containsKey("arch")) m.setArchitecture(o.get("arch"));
        if (o.containsKey("shape")) m.setInputShape(Arrays.stream(o.get("shape").split(",")).mapToInt(Integer::parseInt).toArray());
        return m;
    }

    /** Row {@code id}'s input: {@code size} values in [0, 1) from a generator seeded by the id. */
    static float[] row(long id, int size) {
        SplittableRandom r = new SplittableRandom(0x5EED_0000L + id);
        float[] v = new float[size];
        for (int i = 0; i < size; i++) v[i] = (float) r.nextDouble();
        return v;
    }

    static void spark(Map<String, String> o) throws Exception {
        SparkSession spark = SparkSession.builder().appName("panama-dnn scoring").getOrCreate();
        PanamaModel model = model(o);
        long rows = Long.parseLong(o.get("rows"));
        int partitions = Integer.parseInt(o.get("partitions")), reps = Integer.parseInt(o.getOrDefault("reps", "3"));
        Dataset<Row> input = input(spark, model, rows, partitions);
        if (o.containsKey("out")) {
            System.out.println("scoring started: writing " + o.get("out"));
            long t0 = System.nanoTime();
            model.transform(input).select("id", "output", "prediction").write().mode("overwrite").parquet(o.get("out"));
            report("spark+parquet", rows, List.of(System.nanoTime() - t0));
        } else {
            List<Long> times = new ArrayList<>(), ours = new ArrayList<>();
            model.transform(input).write().format("noop").mode("overwrite").save();   // loads and warms every executor's plan
            // --alternate T: the in-process baseline in this driver JVM (T callers on the driver's own plan set, the
            // executors idle), alternating with the Spark runs, so each pair sees the same state of a noisy machine
            // and with --alternate-jvm true also in a fresh JVM of its own per repetition (ScoringJob inprocess), so the
            // driver JVM's own state is ruled out as the difference
            int alternate = Integer.parseInt(o.getOrDefault("alternate", "0"));
            boolean childJvm = alternate > 0 && Boolean.parseBoolean(o.getOrDefault("alternate-jvm", "false"));
            LoadedModel loaded = alternate > 0 ? ExecutorModels.get(model.spec()) : null;
            float[][] data = alternate > 0 ? rows(Math.toIntExact(rows), loaded.sampleSize) : null;
            if (alternate > 0) scoreInProcess(loaded, model.spec().batchSize(), data, alternate);   // warms every caller's path
            List<Long> fresh = new ArrayList<>();
            for (int i = 0; i < reps; i++) {
                if (childJvm) fresh.add(inProcessChild(o, rows, alternate));
                if (alternate > 0) ours.add(scoreInProcess(loaded, model.spec().batchSize(), data, alternate));
                long t0 = System.nanoTime();
                model.transform(input).write().format("noop").mode("overwrite").save();
                times.add(System.nanoTime() - t0);
            }
            report("spark", rows, times);
            if (alternate > 0) {
                report("inprocess, driver JVM, " + alternate + " thread(s), alternating", rows, ours);
                ratios("spark/inprocess (driver JVM, alternating, same cluster)", ours, times);
            }
            if (childJvm) {
                report("inprocess, a fresh JVM per run, " + alternate + " thread(s), alternating", rows, fresh);
                ratios("spark/inprocess (fresh JVMs, alternating, same cluster)", fresh, times);
            }
            // Spark's own floor on this path: the same cached rows through an identity over internal rows (copied, as
            // the scorer buffers them) into the same sink, with no model: what any per-row work costs here.
            Dataset<Row> df = input.toDF();
            org.apache.spark.sql.classic.SparkSession session = (org.apache.spark.sql.classic.SparkSession) df.sparkSession();
            List<Long> floor = new ArrayList<>();
            for (int i = 0; i <= reps; i++) {
                long t0 = System.nanoTime();
                session.internalCreateDataFrame(df.queryExecution().toRdd().toJavaRDD()
                        .map(r -> r.copy()).rdd(), df.schema(), false).write().format("noop").mode("overwrite").save();
                if (i > 0) floor.add(System.nanoTime() - t0);
            }
            report("spark identity, no model", rows, floor);
        }
        spark.stop();
    }

    /** The synthetic rows, generated on the executors and cached there (the timings score, they do not generate). */
    private static Dataset<Row> input(SparkSession spark, PanamaModel model, long rows, int partitions) {
        int size = Math.toIntExact(ModelSize.of(model));
        StructType schema = new StructType().add("id", DataTypes.LongType, false)
                .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false);
        MapFunction<Long, Row> make = id -> RowFactory.create(id, row(id, size));
        Dataset<Row> input = spark.range(0, rows, 1, partitions).as(Encoders.LONG()).map(make, Encoders.row(schema));
        input.persist(StorageLevel.MEMORY_ONLY());
        System.out.printf(Locale.ROOT, "input: %d rows of %d values in %d partitions (cached: %d)%n", rows, size, partitions, input.count());
        return input;
    }

    /** The same rows through one plan set in this JVM, {@code threads} callers (one-thread plans), batch by batch. */
    static void inProcess(Map<String, String> o) throws Exception {
        PanamaModel model = model(o);
        ModelSpec spec = model.spec();
        int rows = Integer.parseInt(o.get("rows")), threads = Integer.parseInt(o.get("threads"));
        int reps = Integer.parseInt(o.getOrDefault("reps", "3"));
        LoadedModel loaded = LoadedModel.load(spec);
        float[][] data = rows(rows, loaded.sampleSize);
        List<Long> times = new ArrayList<>();
        try {
            for (int rep = 0; rep <= reps; rep++) {   // rep 0 warms every caller's path
                long t = scoreInProcess(loaded, spec.batchSize(), data, threads);
                if (rep > 0) times.add(t);
            }
        } finally {
            loaded.close();
        }
        report("inprocess", rows, times);
        if (Boolean.parseBoolean(o.getOrDefault("nanos", "false"))) for (long t : times) System.out.println("nanos " + t);
    }

    /**
     * One timed pass of {@code ScoringJob inprocess} (after its warm-up pass) in a child JVM started like the script's
     * own baseline ({@code -Xmx4g}, native access, the Vector API, this JVM's class path); nanoseconds.
     */
    private static long inProcessChild(Map<String, String> o, long rows, int threads) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(ProcessHandle.current().info().command().orElse("java"),
                "--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Xmx4g",
                "-cp", System.getProperty("java.class.path"), ScoringJob.class.getName(), "inprocess",
                "--rows", Long.toString(rows), "--threads", Integer.toString(threads), "--reps", "1", "--nanos", "true"));
        for (String k : List.of("model", "arch", "shape", "batch")) {
            if (o.containsKey(k)) cmd.addAll(List.of("--" + k, o.get(k)));
        }
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        if (p.waitFor() != 0) throw new IllegalStateException("ScoringJob inprocess failed:\n" + out);
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^nanos (\\d+)$").matcher(out);
        if (!m.find()) throw new IllegalStateException("ScoringJob inprocess printed no timing:\n" + out);
        return Long.parseLong(m.group(1));
    }

    private static float[][] rows(int rows, int size) {
        float[][] data = new float[rows][];
        for (int i = 0; i < rows; i++) data[i] = row(i, size);
        return data;
    }

    /** One pass of {@code data} through {@code loaded}'s plan by {@code threads} callers; nanoseconds. */
    private static long scoreInProcess(LoadedModel loaded, int b, float[][] data, int threads) throws InterruptedException {
        int rows = data.length, size = loaded.sampleSize;
        AtomicInteger next = new AtomicInteger();
        List<Thread> workers = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            workers.add(Thread.ofPlatform().start(() -> {
                try (BatchRunner runner = new BatchRunner(loaded)) {
                    for (int from; (from = next.getAndAdd(b)) < rows; ) {
                        int n = Math.min(b, rows - from);
                        for (int k = 0; k < n; k++) System.arraycopy(data[from + k], 0, runner.staging(), k * size, size);
                        runner.run(n);
                    }
                }
            }));
        }
        for (Thread w : workers) w.join();
        return System.nanoTime() - t0;
    }

    /**
     * The Spark layer's own cost without the JVM-to-JVM variance of separate runs: one JVM, a {@code local[1]}
     * session, the same plan (the executor's plan set is this JVM's), alternately scoring the rows in-process on
     * one thread and through the Transformer on Spark's one task thread into the no-op sink; prints each pair's
     * ratio (Spark / in-process throughput) and their median.
     */
    static void compare(Map<String, String> o) throws Exception {
        SparkSession spark = SparkSession.builder().master("local[1]").appName("panama-dnn compare").config("spark.ui.enabled", "false")
                .getOrCreate();
        PanamaModel model = model(o);
        int rows = Integer.parseInt(o.get("rows")), partitions = Integer.parseInt(o.getOrDefault("partitions", "8"));
        int reps = Integer.parseInt(o.getOrDefault("reps", "5"));
        Dataset<Row> input = input(spark, model, rows, partitions);
        model.transform(input).write().format("noop").mode("overwrite").save();   // loads, compiles and warms the plan
        LoadedModel loaded = ExecutorModels.get(model.spec());                     // the same plan set
        float[][] data = rows(rows, loaded.sampleSize);
        scoreInProcess(loaded, model.spec().batchSize(), data, 1);
        List<Long> ours = new ArrayList<>(), sparks = new ArrayList<>();
        for (int i = 0; i < reps; i++) {
            ours.add(scoreInProcess(loaded, model.spec().batchSize(), data, 1));
            long t0 = System.nanoTime();
            model.transform(input).write().format("noop").mode("overwrite").save();
            sparks.add(System.nanoTime() - t0);
        }
        report("compare inprocess", rows, ours);
        report("compare spark local[1]", rows, sparks);
        ratios("spark/inprocess (same JVM, same plan, alternating)", ours, sparks);
        PanamaModel.closeLoadedModels();
        spark.stop();
    }

    /** Each pair's throughput ratio (the {@code b} run's rows/s over the {@code a} run's, i.e. a's time over b's) and their median. */
    static void ratios(String what, List<Long> a, List<Long> b) {
        double[] ratio = new double[a.size()];
        for (int i = 0; i < ratio.length; i++) ratio[i] = (double) a.get(i) / b.get(i);
        double[] sorted = ratio.clone();
        Arrays.sort(sorted);
        System.out.printf(Locale.ROOT, "ratio %s: %s, median %.2f%n", what,
                Arrays.toString(Arrays.stream(ratio).map(r -> Math.round(r * 100) / 100.0).toArray()), sorted[ratio.length / 2]);
    }

    static void report(String what, long rows, List<Long> nanos) {
        long[] t = nanos.stream().mapToLong(Long::longValue).sorted().toArray();
        double best = rows / (t[0] / 1e9), median = rows / (t[t.length / 2] / 1e9);
        System.out.printf(Locale.ROOT, "rows/s %s: best %.1f median %.1f (%d rows, %d runs, times s %s)%n", what, best, median, rows, t.length,
                Arrays.toString(Arrays.stream(t).mapToDouble(x -> Math.round(x / 1e7) / 100.0).toArray()));
    }

    /** Compares two output directories: the same ids, each once, with equal outputs. Exits non-zero on a difference. */
    static void verify(String a, String b) {
        SparkSession spark = SparkSession.builder().master("local[1]").appName("panama-dnn verify").config("spark.ui.enabled", "false").getOrCreate();
        Dataset<Row> x = spark.read().parquet(a), y = spark.read().parquet(b);
        long nx = x.count(), ny = y.count(), ids = x.select("id").distinct().count(), idsY = y.select("id").distinct().count();
        long differing = x.alias("x").join(y.alias("y"), "id").where("x.output <> y.output OR x.prediction <> y.prediction").count();
        long joined = x.join(y, "id").count();
        System.out.printf(Locale.ROOT, "verify: %s has %d rows (%d distinct ids), %s has %d rows (%d distinct ids); %d joined, %d differing%n",
                a, nx, ids, b, ny, idsY, joined, differing);
        spark.stop();
        if (nx != ids || ny != idsY || nx != ny || joined != nx || differing != 0) {
            System.out.println("verify: FAILED");
            System.exit(1);
        }
        System.out.println("verify: ok (every row scored once, outputs equal)");
    }

    /** A torchvision-shaped ResNet-18 (1000 classes) with seeded random weights: for throughput only, it classifies nothing. */
    static void writeResNet18(Path file) throws IOException {
        SplittableRandom r = new SplittableRandom(18);
        try (ResNet net = ResNets.resnet18(1000)) {
            Map<String, Tensor> params = net.parameters();
            for (Map.Entry<String, Tensor> e : params.entrySet()) {
                if (e.getValue().dtype() != dev.panamadnn.DataType.F32) continue;
                MemorySegment s = e.getValue().segment();
                long n = s.byteSize() / 4;
                boolean var = e.getKey().endsWith("running_var") || (e.getKey().contains("bn") && e.getKey().endsWith("weight"));
                for (long i = 0; i < n; i++) {
                    float v = var ? 1f : (float) (r.nextGaussian() * 0.05);
                    s.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
                }
            }
            Files.createDirectories(file.toAbsolutePath().getParent());
            SafeTensors.save(file, params, Map.of("note", "ResNet-18 with seeded random weights (throughput only)"));
        }
        System.out.println("wrote " + file);
    }
}

/** One sample's element count for a transformer's model (loads it in this JVM once to ask, for ONNX). */
final class ModelSize {
    private ModelSize() {}

    static long of(PanamaModel model) {
        return ExecutorModels.get(model.spec()).sampleSize;
    }
}
