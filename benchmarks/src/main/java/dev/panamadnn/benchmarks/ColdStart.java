package dev.panamadnn.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.panamadnn.DataType;
import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.models.ResNet;
import dev.panamadnn.models.ResNets;
import dev.panamadnn.natives.Natives;
import dev.panamadnn.nn.Init;
import dev.panamadnn.onnx.Onnx;
import dev.panamadnn.onnx.OnnxModel;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * One cold start, in a JVM of its own: the time from {@code main} to the first logits of a
 * ResNet, split into phases, for ours or ONNX Runtime. {@link ColdStartMain} launches one of
 * these per runtime, model, batch and repetition and puts the results side by side.
 *
 * <ul>
 *   <li>ours: no {@code init} (reported as 0: building the first layer starts {@link Natives#load()} on a thread of its own,
 *       {@link Natives#loadInBackground()}, as in any program), {@code build} (the ResNet's
 *       modules and parameter tensors, inside {@link Init#skip}: allocated, not randomly initialised, as the
 *       checkpoint overwrites them), {@code weights}
 *       ({@link SafeTensors#load}: map the file, check the state_dict, copy every tensor),
 *       {@code compile} ({@link CompiledModel#compile} with the default options), {@code first}
 *       (the first {@code run}, no {@code warmup()});</li>
 *   <li>ours-aot: as ours (the launcher starts its JVM from an AOT cache, {@link ColdStartMain});</li>
 *   <li>ours-onnx (and ours-onnx-aot, from an AOT cache): {@code weights} ({@link Onnx#load} of the {@code .onnx} file ONNX Runtime reads,
 *       which starts loading the natives on a thread of its own, as in a program that imports a model: no {@code init} or
 *       {@code build}, reported as 0), {@code compile} (its graph, default options; waits for the natives if still loading), {@code first};</li>
 *   <li>ORT: {@code init} ({@link OrtEnvironment#getEnvironment()}: extracting and loading its
 *       native library), {@code session} (session creation from the {@code .onnx} file:
 *       parse, graph optimisation at {@code ALL_OPT}, kernel and weight preparation),
 *       {@code first} (the first {@code run}).</li>
 * </ul>
 * Both then time a {@code second} run (an indication of how far the first run is from steady
 * state; not part of the cold start). {@code total}: {@code main} entry to the first result;
 * {@code jvm}: JVM start (as {@link java.lang.management.RuntimeMXBean#getUptime()} counts it) to
 * the first result; {@code resultEpochUs}: the wall clock at the first result, from which the
 * launcher computes process launch to first result. The management classes are touched only
 * after the first result, so they cost the measurement nothing.
 *
 * <p>Prints one line, {@code COLD key=value ...}; {@code checksum} (sum of the logits) lets the
 * launcher check that both runtimes computed the same model. The input is the same fixed pattern
 * for both.
 *
 * <p>usage: ColdStart ours|ort MODEL BATCH DIR (DIR holds MODEL.safetensors and MODEL.onnx, as
 * scripts/goldens/export_resnet.py writes them); intra-op threads: {@code -Dpanamadnn.threads}
 * for ours, the same count for ORT ({@link OnnxRuntimeResNetBenchmark}'s settings).
 */
public final class ColdStart {
    private ColdStart() {}

    public static void main(String[] args) throws Exception {
        long t0 = System.nanoTime();
        if (args.length != 4) {
            System.err.println("usage: ColdStart ours|ours-direct|ours-aot|ours-onnx|ours-onnx-aot|ort|ort-aot MODEL BATCH DIR");
            System.exit(2);
        }
        String runtime = args[0], model = args[1];
        int batch = Integer.parseInt(args[2]);
        Path dir = Path.of(args[3]);
        Map<String, Double> ms = new LinkedHashMap<>();
        Runs result;   // the first result's time, the process CPU then, the threads' CPU, the logits' sum
        switch (runtime) {
            case "ours", "ours-direct", "ours-aot" -> {
                // as a program runs: no Natives.load() first; building the first layer starts it on a thread of its own
                long t = System.nanoTime();
                ms.put("init", 0.0);
                try (ResNet net = Init.skip(() -> build(model))) {   // every parameter is loaded next: no random init
                    t = lap(ms, "build", t);
                    SafeTensors.load(net, dir.resolve(model + ".safetensors"));
                    t = lap(ms, "weights", t);
                    CompileOptions options = runtime.equals("ours") ? CompileOptions.defaults() : CompileOptions.defaults().withWinograd(false);
                    try (Arena arena = Arena.ofConfined(); CompiledModel plan = CompiledModel.compile(net, options, batch, 3, 224, 224)) {
                        lap(ms, "compile", t);
                        Tensor in = input(arena, batch), out = Tensor.allocate(arena, DataType.F32, batch, 1000);
                        result = runs(ms, new Runnable() {   // not a lambda: no bootstrap before the first run
                            @Override
                            public void run() {
                                plan.run(in, out);
                            }
                        }, out);
                    }
                }
            }
            case "ours-onnx", "ours-onnx-aot" -> {
                // as a program using the import runs: no Natives.load() first; Onnx.load starts it on a thread of its own
                long t = System.nanoTime();
                ms.put("init", 0.0);
                ms.put("build", 0.0);
                OnnxModel imported = Onnx.load(dir.resolve(model + ".onnx"));
                t = lap(ms, "weights", t);
                String inName = imported.inputs().get(0).name(), outName = imported.outputs().get(0).name();
                try (Arena arena = Arena.ofConfined();
                     CompiledModel plan = CompiledModel.compile(imported.toGraph(), CompileOptions.defaults(), Map.of(inName, new long[] {batch, 3, 224, 224}))) {
                    lap(ms, "compile", t);
                    Tensor in = input(arena, batch), out = Tensor.allocate(arena, DataType.F32, batch, 1000);
                    Map<String, Tensor> ins = Map.of(inName, in), outs = Map.of(outName, out);
                    result = runs(ms, new Runnable() {
                        @Override
                        public void run() {
                            plan.run(ins, outs);
                        }
                    }, out);
                }
            }
            case "ort", "ort-aot" -> {
                long t = System.nanoTime();
                OrtEnvironment env = OrtEnvironment.getEnvironment();
                t = lap(ms, "init", t);
                OrtSession session;
                try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
                    opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
                    opts.setIntraOpNumThreads(Integer.getInteger("panamadnn.threads", OnnxRuntimeResNetBenchmark.THREADS));
                    opts.setInterOpNumThreads(1);
                    opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
                    session = env.createSession(dir.resolve(model + ".onnx").toString(), opts);
                }
                t = lap(ms, "session", t);
                float[] x = input(batch);
                FloatBuffer buf = ByteBuffer.allocateDirect(x.length * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
                buf.put(x).rewind();
                try (OnnxTensor in = OnnxTensor.createTensor(env, buf, new long[] {batch, 3, 224, 224})) {
                    var feeds = Map.of(session.getInputNames().iterator().next(), in);
                    t = System.nanoTime();
                    float[][] logits;
                    try (OrtSession.Result r = session.run(feeds)) {
                        logits = (float[][]) r.get(0).getValue();
                    }
                    long firstResult = System.nanoTime();
                    double cpu = cpuMillis();
                    String threads = threadCpu();
                    lap(ms, "first", t);
                    double s = 0;
                    for (float[] row : logits) s += sum(row);
                    result = new Runs(firstResult, cpu, threads, s);
                    t = System.nanoTime();
                    try (OrtSession.Result r = session.run(feeds)) {
                        r.get(0);
                    }
                    lap(ms, "second", t);
                }
                session.close();
            }
            default -> throw new IllegalArgumentException("ColdStart: runtime must be ours, ours-direct, ours-aot, ours-onnx, ours-onnx-aot, ort or ort-aot, got " + runtime);
        }
        long firstResult = result.firstResult();
        long resultEpochUs = micros(Instant.now()) - (System.nanoTime() - firstResult) / 1000;
        double total = (firstResult - t0) / 1e6;
        long uptimeNow = ManagementFactory.getRuntimeMXBean().getUptime();
        double jvm = uptimeNow - (System.nanoTime() - firstResult) / 1e6;
        StringBuilder sb = new StringBuilder("COLD runtime=" + runtime + " model=" + model + " batch=" + batch);
        ms.forEach((k, v) -> sb.append(String.format(Locale.ROOT, " %s=%.1f", k, v)));
        sb.append(String.format(Locale.ROOT, " total=%.1f jvm=%.1f cpu=%.0f resultEpochUs=%d checksum=%.6g", total, jvm, result.cpu(), resultEpochUs,
                result.checksum()));
        System.out.println(sb);
        if (result.threadCpu() != null) System.out.println("THREADS runtime=" + runtime + " " + result.threadCpu());
    }

    private static ResNet build(String model) {
        return switch (model) {
            case "resnet18" -> ResNets.resnet18(1000);
            case "resnet34" -> ResNets.resnet34(1000);
            case "resnet50" -> ResNets.resnet50(1000);
            default -> throw new IllegalArgumentException("ColdStart: unknown model " + model);
        };
    }

    /** What {@link #runs} measured: the first result's time (nanoTime) and process CPU, the threads' CPU, the logits' sum. */
    private record Runs(long firstResult, double cpu, String threadCpu, double checksum) {}

    /** Times a compiled plan's first {@code run} ("first") and second ("second") into {@code ms}; {@code out} holds its logits. */
    private static Runs runs(Map<String, Double> ms, Runnable run, Tensor out) {
        long t = System.nanoTime();
        run.run();
        long firstResult = System.nanoTime();
        double cpu = cpuMillis();
        String threads = threadCpu();
        lap(ms, "first", t);
        double checksum = sum(out.toFloatArray());
        t = System.nanoTime();
        run.run();
        lap(ms, "second", t);
        return new Runs(firstResult, cpu, threads, checksum);
    }

    /** {@link #input(int)} in a tensor of {@code arena}, [batch, 3, 224, 224]. */
    private static Tensor input(Arena arena, int batch) {
        Tensor in = Tensor.allocate(arena, DataType.F32, batch, 3, 224, 224);
        MemorySegment.copy(input(batch), 0, in.segment(), ValueLayout.JAVA_FLOAT, 0, (int) in.numel());
        return in;
    }

    /** The same input for both runtimes: a fixed pattern in [-1, 1), cheap to make in a cold JVM. */
    static float[] input(int batch) {
        float[] x = new float[batch * 3 * 224 * 224];
        for (int i = 0; i < x.length; i++) x[i] = (int) ((i * 7919L) % 2000) / 1000f - 1f;
        return x;
    }

    private static long lap(Map<String, Double> ms, String phase, long since) {
        long now = System.nanoTime();
        ms.put(phase, (now - since) / 1e6);
        return now;
    }

    private static double sum(float[] v) {
        double s = 0;
        for (float f : v) s += f;
        return s;
    }

    /**
     * CPU time of the whole process so far (every thread: JIT, GC, OpenMP), ms: read at the first result, it is
     * the work of the cold start, which a busy machine stretches in wall time but hardly changes.
     */
    private static double cpuMillis() {
        return ProcessHandle.current().info().totalCpuDuration().map(d -> d.toNanos() / 1e6).orElse(Double.NaN);
    }

    /**
     * With {@code -Dcoldstart.threads=true}: CPU ms per thread name at the first result (Linux
     * {@code /proc/self/task/<id>/stat}; threads of one name summed: the OpenMP workers share the
     * main thread's), e.g. to see how much of {@code cpu} is the JIT's. Else null, at no cost.
     */
    private static String threadCpu() {
        if (!Boolean.getBoolean("coldstart.threads")) return null;
        Map<String, Double> byName = new java.util.TreeMap<>();
        double tick = 10;   // ms per clock tick (USER_HZ 100 on Linux)
        try (var tasks = java.nio.file.Files.list(Path.of("/proc/self/task"))) {
            for (Path task : tasks.toList()) {
                String stat = java.nio.file.Files.readString(task.resolve("stat"));
                int open = stat.indexOf('('), close = stat.lastIndexOf(')');
                String[] f = stat.substring(close + 2).split(" ");
                double cpu = (Long.parseLong(f[11]) + Long.parseLong(f[12])) * tick;   // utime, stime
                byName.merge(stat.substring(open + 1, close).replace(' ', '_'), cpu, Double::sum);
            }
        } catch (java.io.IOException | RuntimeException e) {
            return "unavailable=" + e;
        }
        StringBuilder sb = new StringBuilder();
        byName.forEach((k, v) -> {
            if (v > 0) sb.append(' ').append(k).append('=').append(Math.round(v));
        });
        return sb.toString().strip();
    }

    private static long micros(Instant i) {
        return i.getEpochSecond() * 1_000_000L + i.getNano() / 1000;
    }
}
