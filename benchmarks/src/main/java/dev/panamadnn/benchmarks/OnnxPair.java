package dev.panamadnn.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.onnx.Onnx;
import dev.panamadnn.onnx.OnnxModel;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One model at one batch size, both runtimes in this process on the same {@code .onnx} file and the
 * same input: our import ({@code Onnx.load} -> {@code toGraph} -> {@code CompiledModel.compile} at
 * that batch, default options, the given intra-op threads; what a {@code PlanSet} builds per batch
 * size) and ONNX Runtime Java ({@code ALL_OPT}, the same intra-op threads, 1 inter-op thread,
 * sequential; input {@link OnnxTensor} made once over a direct buffer, each output closed in the call).
 * Rounds alternate which side goes first; each side runs {@code runs} back-to-back calls per round and
 * the round's figure is their median (robust to a neighbour's burst on a shared machine).
 */
final class OnnxPair implements AutoCloseable {
    /** One round: per-call medians of both sides, ms. */
    record Round(double ours, double ort) {
        double ratio() {
            return ort / ours;
        }
    }

    final String model;
    final int batch, threads;
    private final OnnxModel imported;
    private final CompiledModel plan;
    private final Tensor input, output;
    private final Map<String, Tensor> ins, outs;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final OnnxTensor ortInput;
    private final Map<String, OnnxTensor> feeds;
    private final Path file;
    /** Largest |ours - ORT| over the logits, and the largest |logit|: a sanity check that both ran the same model. */
    final double maxDiff, maxLogit;
    final double compileSeconds;

    OnnxPair(Path file, String model, int batch, int threads) throws OrtException {
        this.file = file;
        this.model = model;
        this.batch = batch;
        this.threads = threads;
        imported = Onnx.load(file);
        String inName = imported.inputs().get(0).name(), outName = imported.outputs().get(0).name();
        dev.panamadnn.graph.Shape declared = imported.inputs().get(0).shape();   // [batch, 3, 224, 224], batch symbolic
        long[] shape = new long[declared.rank()];
        shape[0] = batch;
        for (int i = 1; i < shape.length; i++) shape[i] = declared.dim(i).size();
        long t0 = System.nanoTime();
        CompileOptions options = CompileOptions.defaults().withThreads(threads);
        // -Dpanamadnn.bench.withoutRules=a,b: our plans with those rules off (an A/B of a rule across the whole job)
        for (String rule : System.getProperty("panamadnn.bench.withoutRules", "").split(",")) if (!rule.isBlank()) options = options.withoutRule(rule.strip());
        plan = CompiledModel.compile(imported.toGraph(), options, Map.of(inName, shape));
        compileSeconds = (System.nanoTime() - t0) / 1e9;
        plan.warmup();
        int n = Math.toIntExact(Arrays.stream(shape).reduce(1, Math::multiplyExact));
        float[] data = new float[n];
        SplittableRandom rnd = new SplittableRandom(20261203);
        for (int i = 0; i < n; i++) data[i] = (float) rnd.nextDouble(-1, 1);
        input = Tensor.of(data, shape);
        output = Tensor.zeros(plan.outputShape());
        ins = Map.of(inName, input);
        outs = Map.of(outName, output);

        env = OrtEnvironment.getEnvironment();
        session = env.createSession(file.toString(), options(null));
        FloatBuffer buf = ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        buf.put(data).rewind();
        ortInput = OnnxTensor.createTensor(env, buf, shape);
        feeds = Map.of(session.getInputNames().iterator().next(), ortInput);

        plan.run(ins, outs);
        float[] ours = output.toFloatArray();
        double diff = 0, max = 0;
        try (OrtSession.Result r = session.run(feeds)) {
            FloatBuffer theirs = ((OnnxTensor) r.get(0)).getFloatBuffer();
            if (theirs.remaining() != ours.length) {
                throw new IllegalStateException(model + ": ONNX Runtime gives " + theirs.remaining() + " outputs, ours " + ours.length);
            }
            for (int i = 0; i < ours.length; i++) {
                diff = Math.max(diff, Math.abs(ours[i] - theirs.get(i)));
                max = Math.max(max, Math.abs(theirs.get(i)));
            }
        }
        maxDiff = diff;
        maxLogit = max;
    }

    private OrtSession.SessionOptions options(Path profilePrefix) throws OrtException {
        return ortOptions(threads, profilePrefix);
    }

    /**
     * The ONNX Runtime settings every comparison here uses: ALL_OPT, {@code threads} intra-op threads, one inter-op
     * thread, sequential execution; profiling into {@code profilePrefix} if not null. The caller closes them.
     */
    static OrtSession.SessionOptions ortOptions(int threads, Path profilePrefix) throws OrtException {
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        o.setIntraOpNumThreads(threads);
        o.setInterOpNumThreads(1);
        o.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        if (profilePrefix != null) o.enableProfiling(profilePrefix.toString());
        return o;
    }

    /** One call of ours, ms. */
    double oursOnce() {
        long t0 = System.nanoTime();
        plan.run(ins, outs);
        return (System.nanoTime() - t0) / 1e6;
    }

    /** One call of ONNX Runtime's, ms. */
    double ortOnce() throws OrtException {
        long t0 = System.nanoTime();
        try (OrtSession.Result r = session.run(feeds)) {
            r.get(0);
        }
        return (System.nanoTime() - t0) / 1e6;
    }

    /** How many calls per side and round take about {@code seconds}, from a few timed calls of each (at least 3, at most 500). */
    int callsFor(double seconds) throws OrtException {
        double t = Double.MAX_VALUE;
        for (int i = 0; i < 3; i++) t = Math.min(t, Math.max(oursOnce(), ortOnce()));
        return (int) Math.max(3, Math.min(500, Math.round(seconds * 1e3 / t)));
    }

    /** One round of {@code calls} calls per side, ours first if {@code oursFirst}. */
    Round round(int calls, boolean oursFirst) throws OrtException {
        double ours, ort;
        if (oursFirst) {
            ours = median(calls, true);
            ort = median(calls, false);
        } else {
            ort = median(calls, false);
            ours = median(calls, true);
        }
        return new Round(ours, ort);
    }

    private double median(int calls, boolean ours) throws OrtException {
        double[] t = new double[calls];
        for (int i = 0; i < calls; i++) t[i] = ours ? oursOnce() : ortOnce();
        return OnnxBenchMain.median(t);
    }

    /** Per-op times of both: ours from {@code profileSteps}, ORT's from a profiling session of its own, {@code runs} runs each. */
    Map<String, double[]> opTimes(int runs, Path dir) throws Exception {
        double[] steps = plan.profileSteps(ins, outs, runs);
        Map<String, Double> ours = OnnxOpTimes.ours(plan.steps(), steps);
        Path prefix = dir.resolve("ort-profile-" + model + "-b" + batch);
        Path profile;
        try (OrtSession.SessionOptions o = options(prefix); OrtSession s = env.createSession(file.toString(), o)) {
            Map<String, OnnxTensor> f = Map.of(s.getInputNames().iterator().next(), ortInput);
            try (OrtSession.Result r = s.run(f)) {
                r.get(0);   // the first run (arena growth, first touches): OnnxOpTimes.ort skips its events
            }
            for (int i = 0; i < runs; i++) {
                try (OrtSession.Result r = s.run(f)) {
                    r.get(0);
                }
            }
            profile = Path.of(s.endProfiling());
        }
        Map<String, Double> ort = OnnxOpTimes.ort(profile);
        return OnnxOpTimes.sideBySide(ours, ort);
    }

    /** Our plan's steps with their median ms (profileSteps), the slowest first, for the report's detail. */
    List<String> slowestSteps(int runs, int top) {
        double[] ms = plan.profileSteps(ins, outs, runs);
        List<String> steps = plan.steps();
        Integer[] order = new Integer[ms.length];
        for (int i = 0; i < order.length; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(ms[b], ms[a]));
        return Arrays.stream(order).limit(top).map(i -> String.format("%.3f ms  %s", ms[i], steps.get(i))).toList();
    }

    String describe() {
        return plan.describe();
    }

    @Override
    public void close() throws OrtException {
        ortInput.close();
        session.close();
        input.close();
        output.close();
        plan.close();
        imported.close();
    }

    static boolean exists(Path p) {
        return Files.isRegularFile(p);
    }
}
