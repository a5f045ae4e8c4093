package dev.panamadnn.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.onnx.Onnx;
import dev.panamadnn.onnx.OnnxModel;
import java.io.IOException;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.Map;

/**
 * One fresh JVM of {@link MemoryMain}: loads an {@code .onnx} file with one runtime, runs it once at each of the given
 * batch sizes (as a server with those plan sizes would; ours through one {@link PlanSet}, ONNX Runtime through one
 * session), and prints one line of {@code key=value} with the process's resident set (VmRSS, MB) at the start of
 * {@code main}, after the load, after every batch size ran, and "settled": after a GC and a second (G1 gives back the heap
 * the compiles grew and no longer need); ours also the set's constants ({@link PlanSet#constantBytes()}) and the Java
 * heap in use after a GC.
 *
 * <pre>MemoryProbe ours|ours-direct|ort FILE THREADS BATCH[,BATCH...]</pre> ({@code ours-direct}: Winograd off)
 */
public final class MemoryProbe {
    private MemoryProbe() {}

    public static void main(String[] args) throws Exception {
        double start = rssMb();
        String runtime = args[0];
        Path file = Path.of(args[1]);
        int threads = Integer.parseInt(args[2]);
        int[] batches = Arrays.stream(args[3].split(",")).mapToInt(Integer::parseInt).toArray();
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "runtime=%s start=%.0f", runtime, start));
        if (runtime.equals("ours") || runtime.equals("ours-direct")) {
            try (OnnxModel model = Onnx.load(file)) {
                line.append(String.format(Locale.ROOT, " load=%.0f", rssMb()));
                String in = model.inputs().get(0).name();
                dev.panamadnn.graph.Shape declared = model.inputs().get(0).shape();
                CompileOptions options = CompileOptions.defaults().withThreads(threads).withWinograd(runtime.equals("ours"));
                try (PlanSet plans = model.compile(options)) {
                    for (int b : batches) {
                        plans.warmup(b);   // built, its Winograd weights prepared, run once on zeros
                        try (Tensor x = Tensor.zeros(shape(declared, b))) {
                            Map<String, Tensor> out = plans.run(Map.of(in, x));
                            for (Tensor y : out.values()) {
                                if (y.shape()[0] != b) throw new IllegalStateException("batch " + b + " gave " + Arrays.toString(y.shape()));
                                y.close();
                            }
                        }
                    }
                    double served = rssMb(), heap = heapAfterGcMb();
                    line.append(String.format(Locale.ROOT, " served=%.0f settled=%.0f constants=%.0f heap=%.0f", served, settledRssMb(),
                            plans.constantBytes() / 1048576.0, heap));
                }
            }
        } else if (runtime.equals("ort")) {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            try (OrtSession.SessionOptions o = OnnxPair.ortOptions(threads, null)) {
                try (OrtSession session = env.createSession(file.toString(), o)) {
                    line.append(String.format(Locale.ROOT, " load=%.0f", rssMb()));
                    String in = session.getInputNames().iterator().next();
                    long[] declared = ((ai.onnxruntime.TensorInfo) session.getInputInfo().get(in).getInfo()).getShape();
                    for (int b : batches) {
                        long[] s = declared.clone();
                        s[0] = b;
                        float[] zeros = new float[Math.toIntExact(Arrays.stream(s).reduce(1, Math::multiplyExact))];
                        try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(zeros), s); OrtSession.Result r = session.run(Map.of(in, x))) {
                            if (r.size() == 0) throw new IllegalStateException("no output");
                        }
                    }
                    double served = rssMb(), heap = heapAfterGcMb();
                    line.append(String.format(Locale.ROOT, " served=%.0f settled=%.0f heap=%.0f", served, settledRssMb(), heap));
                }
            }
        } else {
            throw new IllegalArgumentException("runtime: ours, ours-direct (Winograd off) or ort, got " + runtime);
        }
        System.out.println(line);
    }

    private static long[] shape(dev.panamadnn.graph.Shape declared, int batch) {
        long[] s = new long[declared.rank()];
        s[0] = batch;
        for (int i = 1; i < s.length; i++) s[i] = declared.dim(i).size();
        return s;
    }

    /** The process's resident set now, MB (Linux: VmRSS of /proc/self/status). */
    static double rssMb() throws IOException {
        for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (l.startsWith("VmRSS:")) return Long.parseLong(l.replaceAll("\\D+", "")) / 1024.0;
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    /** The resident set once a GC has run and the JVM has had a moment to give back the heap it no longer needs. */
    private static double settledRssMb() throws Exception {
        System.gc();
        Thread.sleep(1000);   // G1 uncommits the shrunk heap concurrently
        return rssMb();
    }

    private static double heapAfterGcMb() {
        System.gc();
        Runtime r = Runtime.getRuntime();
        return (r.totalMemory() - r.freeMemory()) / 1048576.0;
    }
}
