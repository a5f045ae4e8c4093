package dev.panamadnn.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The competitor of {@link ResNetBenchmark}: ONNX Runtime Java (CPU build) on the same torchvision
 * ResNet-18/50, 224x224 images, same {@code @Param}s, warm-up, measurement and forks, so that one
 * JMH run ({@code 'ResNetBenchmark|OnnxRuntimeResNetBenchmark'}) puts both side by side.
 *
 * <p>ORT settings: {@code ALL_OPT} (its best graph optimisation level), 2 intra-op threads
 * (as {@code -Dpanamadnn.threads=2} for ours), 1 inter-op thread, sequential execution. The input
 * {@link OnnxTensor} is created once, over a direct {@link FloatBuffer}; each call's outputs are
 * closed inside the call.
 *
 * <p>The model files are the ones {@code scripts/goldens/export_resnet.py} writes ({@code M.onnx},
 * opset 13, dynamic batch): under the cache root ({@code -Dpdnn.cache.dir}, {@code $PDNN_CACHE_DIR},
 * {@code $XDG_CACHE_HOME/panama-dnn} or {@code ~/.cache/panama-dnn}, as ResNetConformanceTest) in
 * {@code resnet-<hash of the scripts>}; if that directory lacks the file, the newest
 * {@code resnet-*} directory that has it; if none has it, the script is run with Debian's
 * {@code /usr/bin/python3} (python3-torch, python3-torchvision) into the hashed directory. The
 * weights are random (fixed seed) and differ from ResNetBenchmark's builder initialisation; the
 * speed of dense convolutions does not depend on the values.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Dpanamadnn.threads=2"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
public class OnnxRuntimeResNetBenchmark {
    /** Intra-op threads: the same count as ResNetBenchmark's {@code -Dpanamadnn.threads=2}. */
    static final int THREADS = 2;

    @Param({"resnet18", "resnet50"})
    String model;

    @Param({"1", "16"})
    int batch;

    private OrtEnvironment env;
    private OrtSession session;
    private OnnxTensor input;
    private Map<String, OnnxTensor> feeds;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        Path onnx = locateModel(model);
        env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            opts.setIntraOpNumThreads(THREADS);
            opts.setInterOpNumThreads(1);
            opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            session = env.createSession(onnx.toString(), opts);
        }
        String inputName = session.getInputNames().iterator().next();
        long[] shape = {batch, 3, 224, 224};
        int n = batch * 3 * 224 * 224;
        FloatBuffer buf = ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        var rnd = new SplittableRandom(1);
        for (int i = 0; i < n; i++) buf.put(i, (float) rnd.nextDouble(-1, 1));
        input = OnnxTensor.createTensor(env, buf, shape);
        feeds = Map.of(inputName, input);
        // One run here so that a broken model or shape fails the setup with ORT's message.
        try (OrtSession.Result r = session.run(feeds)) {
            long[] out = ((OnnxTensor) r.get(0)).getInfo().getShape();
            if (out.length != 2 || out[0] != batch || out[1] != 1000) {
                throw new IllegalStateException(onnx + ": output shape " + java.util.Arrays.toString(out) + ", expected [" + batch + ", 1000]");
            }
        }
        System.out.printf("%nONNX Runtime %s, %s, intra-op %d, inter-op 1, ALL_OPT, sequential%n", env.getVersion(), onnx, THREADS);
    }

    @TearDown(Level.Trial)
    public void tearDown() throws OrtException {
        input.close();
        session.close();
    }

    @Benchmark
    public float ort() throws OrtException {
        try (OrtSession.Result r = session.run(feeds)) {
            return ((OnnxTensor) r.get(0)).getFloatBuffer().get(0);
        }
    }

    // ---- locating (or producing) scripts/goldens/export_resnet.py's ONNX files ----

    static Path locateModel(String model) throws IOException, InterruptedException {
        String file = model + ".onnx";
        Path root = cacheRoot();
        Path repo = repoRoot();
        Path script = repo == null ? null : repo.resolve("scripts/goldens/export_resnet.py");
        Path hashed = null;
        if (script != null) {
            hashed = root.resolve("resnet-" + hash(script, repo.resolve("scripts/goldens/goldens_io.py")));
            if (Files.isRegularFile(hashed.resolve(file))) return hashed.resolve(file);
        }
        if (Files.isDirectory(root)) {
            try (Stream<Path> dirs = Files.list(root)) {
                var newest = dirs.filter(d -> d.getFileName().toString().startsWith("resnet-") && Files.isRegularFile(d.resolve(file)))
                        .max(Comparator.comparing(OnnxRuntimeResNetBenchmark::mtime));
                if (newest.isPresent()) return newest.get().resolve(file);
            }
        }
        Path python = Path.of("/usr/bin/python3");
        String how = "no " + file + " in any " + root.resolve("resnet-*") + " directory, and ";
        if (script == null) {
            throw new IllegalStateException(how + "scripts/goldens/export_resnet.py was not found above " + Path.of("").toAbsolutePath()
                    + ": run the benchmark from the repository, or run the script once: /usr/bin/python3 scripts/goldens/export_resnet.py "
                    + root.resolve("resnet-manual"));
        }
        if (!Files.isExecutable(python)) {
            throw new IllegalStateException(how + "/usr/bin/python3 is missing: install Debian's python3, python3-torch and "
                    + "python3-torchvision (scripts/test does), or run " + script + " " + hashed + " elsewhere and copy the files there");
        }
        System.out.println("\n" + file + " not found under " + root + ": running " + script + " (once, about 15-60 s)");
        Process p = new ProcessBuilder(List.of(python.toString(), script.toString(), hashed.toString(), "--models", model))
                .directory(repo.toFile()).redirectErrorStream(true).start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(600, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(script + " did not finish in 600 s");
        }
        if (p.exitValue() != 0 || !Files.isRegularFile(hashed.resolve(file))) {
            throw new IllegalStateException(how + script + " failed (exit " + p.exitValue() + "; it needs Debian's python3-torch and "
                    + "python3-torchvision, which scripts/test installs). Its output:\n" + out);
        }
        return hashed.resolve(file);
    }

    private static long mtime(Path p) {
        try {
            return Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            return Long.MIN_VALUE;
        }
    }

    /** Same rule as ResNetConformanceTest. */
    static Path cacheRoot() {
        String prop = System.getProperty("pdnn.cache.dir");
        if (prop != null && !prop.isBlank()) return Path.of(prop);
        String env = System.getenv("PDNN_CACHE_DIR");
        if (env != null && !env.isBlank()) return Path.of(env);
        String xdg = System.getenv("XDG_CACHE_HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache")).resolve("panama-dnn");
    }

    /** The repository root above the working directory, or null (JMH forks keep the launcher's directory). */
    static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("scripts/goldens/export_resnet.py"))) return p;
        }
        return null;
    }

    /** Same as ResNetConformanceTest: the first 12 hex digits of SHA-256 over the scripts. */
    static String hash(Path... files) throws IOException {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (Path f : files) md.update(Files.readAllBytes(f));
            return HexFormat.of().formatHex(md.digest()).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
