package dev.panamadnn.server;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.demo.Digits;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The in-process ceiling {@code scripts/loadtest} compares the server with: a model's compiled plan
 * run back to back by {@code threads} threads (each plan with {@code intraOp} threads, default 1 as
 * the server's instances) at batch {@code batch}, reporting samples per second. The model is the
 * bundled digits model, or with {@code --model DIR} a model directory as the server loads it
 * (config.json + model.onnx or model.safetensors). Inputs are zeros (compute does not depend on the
 * values). Usage: {@code InProcessCeiling [--model DIR] BATCH THREADS SECONDS [INTRA_OP]}.
 */
public final class InProcessCeiling {
    private InProcessCeiling() {}

    public static void main(String[] args) throws Exception {
        Path dir = null;
        if (args.length > 1 && args[0].equals("--model")) {
            dir = Path.of(args[1]);
            args = java.util.Arrays.copyOfRange(args, 2, args.length);
        }
        int batch = Integer.parseInt(args[0]), threads = Integer.parseInt(args[1]);
        double seconds = Double.parseDouble(args[2]);
        int intraOp = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        ModelLoader.Loaded loaded = dir != null ? load(dir, intraOp) : digits(intraOp);
        try (AutoCloseable owner = loaded.owner(); PlanSet plans = loaded.plans().warmup(batch)) {   // plans close before the weights
            List<ModelConfig.TensorSpec> specs = loaded.config().inputs();
            AtomicLong samples = new AtomicLong();
            long until = System.nanoTime() + (long) (seconds * 1e9);
            Thread[] workers = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                workers[t] = Thread.ofPlatform().start(() -> {
                    Map<String, Tensor> inputs = new LinkedHashMap<>();
                    try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofShared(); Tensor out = Tensor.zeros(plans.outputShape(batch))) {
                        for (ModelConfig.TensorSpec s : specs) inputs.put(s.name(), Tensor.allocate(arena, s.dtype(), shape(batch, s.sample())));
                        Map<String, Tensor> outputs = specs.size() == 1 ? Map.of() : Map.of(loaded.outputs().getFirst().graphName(), out);
                        while (System.nanoTime() < until) {
                            if (specs.size() == 1) plans.run(inputs.values().iterator().next(), out);
                            else plans.run(inputs, outputs);
                            samples.addAndGet(batch);
                        }
                    }
                });
            }
            for (Thread w : workers) w.join();
            System.out.printf(Locale.ROOT, "CEILING batch=%d threads=%d intra_op=%d samples_per_s=%.0f%n", batch, threads, intraOp,
                    samples.get() / seconds);
        }
    }

    private static ModelLoader.Loaded load(Path dir, int intraOp) throws java.io.IOException {
        ModelLoader.Loaded l = ModelLoader.forDirectory(dir).load(dir);
        if (l.plans() == null) {
            l.close();
            throw new IllegalArgumentException(dir + ": the ceiling runs a batched model of fixed shapes (max_batch_size >= 1, no -1 dims"
                    + " beyond the batch); size them in config.json");
        }
        if (l.config().threadsPerInstance() == intraOp) return l;
        l.close();
        throw new IllegalArgumentException(dir + ": config.json has threads_per_instance " + l.config().threadsPerInstance()
                + " but INTRA_OP is " + intraOp + " (the plans are compiled with the config's)");
    }

    private static ModelLoader.Loaded digits(int intraOp) throws java.io.IOException {
        ModelConfig config = ModelConfig.digits();
        var model = Digits.trainedModel();
        return new ModelLoader.Loaded(config, PlanSet.of(model, CompileOptions.defaults().withThreads(intraOp), config.input().sample(),
                PlanSet.DEFAULT_MAX_PLANS), model);
    }

    private static long[] shape(int batch, long[] sample) {
        long[] s = new long[sample.length + 1];
        s[0] = batch;
        System.arraycopy(sample, 0, s, 1, sample.length);
        return s;
    }
}
