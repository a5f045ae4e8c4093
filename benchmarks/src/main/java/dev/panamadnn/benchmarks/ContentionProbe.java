package dev.panamadnn.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.panamadnn.NativeRuntime;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.onnx.Onnx;
import dev.panamadnn.onnx.OnnxModel;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One cell of {@code scripts/bench --contention}: in this JVM, one ONNX model (the {@code --onnx} job's files,
 * 128x128) at one batch size, run by ours with Winograd, ours without ({@code withWinograd(false)}: "direct") and ONNX
 * Runtime Java, each with {@code THREADS} intra-op threads, in rotating blocks of {@code SECONDS} seconds; prints per
 * runtime the median over the blocks of each block's median call, and every block's median. The caller starts the
 * busy loops and picks the natives ({@code PANAMADNN_NATIVES_DIR}); the first line names the oneDNN and its runtime.
 *
 * <p>usage: ContentionProbe MODEL BATCH ROUNDS SECONDS THREADS
 */
public final class ContentionProbe {
    private ContentionProbe() {}

    public static void main(String[] args) throws Exception {
        if (args.length != 5) throw new IllegalArgumentException("usage: ContentionProbe MODEL BATCH ROUNDS SECONDS THREADS");
        String model = args[0];
        long batch = Long.parseLong(args[1]);
        int rounds = Integer.parseInt(args[2]), threads = Integer.parseInt(args[4]);
        double seconds = Double.parseDouble(args[3]);
        Path file = OnnxBenchMain.locateModels().resolve(model + ".opset13.onnx");
        NativeRuntime rt = NativeRuntime.describe();
        System.out.println("# oneDNN " + rt.onednnVersion() + " on " + rt.cpuRuntime() + ", ISA " + rt.cpuIsa() + "; " + model + " b" + batch
                + ", " + threads + " intra-op threads, " + rounds + " rounds of " + seconds + " s blocks");
        long[] shape = {batch, 3, 128, 128};
        float[] x = new float[Math.toIntExact(batch * 3 * 128 * 128)];
        SplittableRandom random = new SplittableRandom(1);
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextDouble(-1, 1);
        try (OnnxModel m = Onnx.load(file); OrtEnvironment env = OrtEnvironment.getEnvironment();
             OrtSession.SessionOptions so = OnnxPair.ortOptions(threads, null)) {
            String in = m.inputs().get(0).name(), on = m.outputs().get(0).name();
            CompileOptions options = CompileOptions.defaults().withThreads(threads);
            try (CompiledModel winograd = CompiledModel.compile(m.toGraph(), options, Map.of(in, shape)).warmup();
                 CompiledModel direct = CompiledModel.compile(m.toGraph(), options.withWinograd(false), Map.of(in, shape)).warmup();
                 OrtSession ort = env.createSession(file.toString(), so);
                 OnnxTensor ortIn = OnnxTensor.createTensor(env, FloatBuffer.wrap(x), shape);
                 Tensor input = Tensor.of(x, shape); Tensor out1 = Tensor.zeros(winograd.outputShape());
                 Tensor out2 = Tensor.zeros(direct.outputShape())) {
                Map<String, Tensor> ins = Map.of(in, input), o1 = Map.of(on, out1), o2 = Map.of(on, out2);
                Runnable[] runs = {() -> winograd.run(ins, o1), () -> direct.run(ins, o2), () -> {
                    try (OrtSession.Result r = ort.run(Map.of(in, ortIn))) {
                        r.get(0);
                    } catch (ai.onnxruntime.OrtException e) {
                        throw new IllegalStateException(e);
                    }
                }};
                String[] names = {"ours", "ours-direct", "onnxruntime"};
                List<List<Double>> blocks = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
                for (int w = 0; w < 5; w++) for (Runnable r : runs) r.run();
                for (int round = 0; round < rounds; round++) {
                    for (int i = 0; i < runs.length; i++) {
                        int k = (i + round) % runs.length;   // rotate which goes first
                        List<Double> times = new ArrayList<>();
                        long end = System.nanoTime() + (long) (seconds * 1e9);
                        while (System.nanoTime() < end || times.isEmpty()) {
                            long t0 = System.nanoTime();
                            runs[k].run();
                            times.add((System.nanoTime() - t0) / 1e6);
                        }
                        blocks.get(k).add(median(times));
                    }
                }
                for (int k = 0; k < runs.length; k++) {
                    List<Double> b = blocks.get(k);
                    System.out.printf(Locale.ROOT, "%s\t%s\tb%d\t%.2f\t%.2f\t%s%n", names[k], model, batch, median(b), Collections.max(b),
                            b.stream().map(v -> String.format(Locale.ROOT, "%.2f", v)).toList());
                }
            }
        }
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        return sorted.get(sorted.size() / 2);
    }
}
