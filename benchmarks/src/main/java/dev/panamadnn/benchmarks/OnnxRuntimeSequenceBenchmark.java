package dev.panamadnn.benchmarks;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
 * The competitor of {@link SequenceBenchmark#compiled}: ONNX Runtime Java (CPU build) on the same
 * PyTorch model exported by scripts/goldens/export_sequence_models.py ({@link SequenceModels}:
 * torch.onnx, opset 17, the LSTM/GRU as ONNX LSTM/GRU nodes, attention as MatMul/Softmax/...), same
 * {@code shape} strings, input and timing. ALL_OPT, intra-op threads = {@code -Dpanamadnn.threads}
 * (as ours), 1 inter-op thread, sequential. The input tensor is made once over a direct buffer; each
 * call's outputs are closed inside the call (ORT allocates them, as our eager forward does; our
 * compiled run writes into a caller's tensor). Before timing, ORT's output for PyTorch's check input
 * must match PyTorch's within {@link SequenceModels#TOLERANCE}.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Dpanamadnn.threads=2"})
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
public class OnnxRuntimeSequenceBenchmark {
    @Param({"lstm:512>512@128#1", "mha:512h8@128#1"})
    public String shape;

    private OrtEnvironment env;
    private OrtSession session;
    private OnnxTensor input;
    private Map<String, OnnxTensor> feeds;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        SeqSpec spec = SeqSpec.parse(shape);
        Path dir = SequenceModels.directory(spec.modelName());
        Path onnx = dir.resolve(spec.modelName() + ".onnx");
        int threads = Integer.getInteger("panamadnn.threads", 2);
        env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            opts.setIntraOpNumThreads(threads);
            opts.setInterOpNumThreads(1);
            opts.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
            session = env.createSession(onnx.toString(), opts);
        }
        String inputName = session.getInputNames().iterator().next();
        float[][] io = SequenceModels.io(dir, spec.modelName());
        try (OnnxTensor x = OnnxTensor.createTensor(env, FloatBuffer.wrap(io[0]), new long[] {io[0].length / spec.in(), 1, spec.in()});
             OrtSession.Result r = session.run(Map.of(inputName, x))) {
            FloatBuffer y = ((OnnxTensor) r.get(0)).getFloatBuffer();
            float[] got = new float[y.remaining()];
            y.get(got);
            SequenceModels.check("ONNX Runtime " + spec.label(), got, io[1]);
        }
        long[] shape = spec.inputShape();
        int n = Math.toIntExact(shape[0] * shape[1] * shape[2]);
        FloatBuffer buf = ByteBuffer.allocateDirect(n * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
        var rnd = new SplittableRandom(1);
        for (int i = 0; i < n; i++) buf.put(i, (float) rnd.nextDouble(-1, 1));
        input = OnnxTensor.createTensor(env, buf, shape);
        feeds = Map.of(inputName, input);
        System.out.printf("%nONNX Runtime %s, %s, intra-op %d, inter-op 1, ALL_OPT, sequential%n", env.getVersion(), onnx, threads);
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
}
