package dev.panamadnn.benchmarks;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.GRU;
import dev.panamadnn.nn.LSTM;
import dev.panamadnn.nn.MultiheadAttention;
import dev.panamadnn.nn.RecurrentOutput;
import dev.panamadnn.nn.TransformerEncoderLayer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
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
 * Our sequence models ({@link SeqSpec}: LSTM, GRU, MultiheadAttention, TransformerEncoderLayer) three
 * ways: {@link #compiled} ({@code CompiledModel.run(x, out)}, the plan the C harness dnnl_seq_bench.c
 * mirrors, but for a batch-1 GRU run as convolution steps where it times the GRU primitive those replace,
 * and ONNX Runtime competes with), {@link #eager} ({@code forward(x)}) and {@link #reference}
 * (the plain-Java reference). One caller, intra-op threads from {@code -Dpanamadnn.threads}.
 *
 * <p>The weights are the exported PyTorch model's ({@link SequenceModels}, loaded by name), so ONNX
 * Runtime runs the same model; before timing, a plan compiled for PyTorch's check input ({@code [128,
 * 1, E]}) must match PyTorch's output within {@link SequenceModels#TOLERANCE}, else the setup fails.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Dpanamadnn.threads=2"})
@Warmup(iterations = 1, time = 1)
@Measurement(iterations = 3, time = 1)
public class SequenceBenchmark {
    @Param({"lstm:512>512@128#1", "mha:512h8@128#1"})
    public String shape;

    private SeqSpec spec;
    private Module model;
    private CompiledModel compiled;
    private Arena arena;
    private Tensor input, output;

    @Setup(Level.Trial)
    public void setUp() throws Exception {
        spec = SeqSpec.parse(shape);
        model = spec.build();
        Path dir = SequenceModels.directory(spec.modelName());
        SafeTensors.load(model, dir.resolve(spec.modelName() + ".safetensors"));
        float[][] io = SequenceModels.io(dir, spec.modelName());
        try (Arena a = Arena.ofConfined(); CompiledModel check = CompiledModel.compile(model, io[0].length / spec.in(), 1, spec.in())) {
            Tensor x = Tensor.wrap(a.allocateFrom(ValueLayout.JAVA_FLOAT, io[0]), DataType.F32, io[0].length / spec.in(), 1, spec.in());
            try (Tensor y = check.run(x)) {
                SequenceModels.check("compiled " + spec.label(), y.toFloatArray(), io[1]);
            }
        }
        compiled = CompiledModel.compile(model, spec.inputShape());
        arena = Arena.ofShared();
        input = Tensor.allocate(arena, DataType.F32, spec.inputShape());
        output = Tensor.allocate(arena, DataType.F32, spec.inputShape()[0], spec.batch(), spec.recurrent() ? spec.hidden() : spec.in());
        MemorySegment seg = input.segment();
        var rnd = new SplittableRandom(1);
        for (long i = 0; i < input.numel(); i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-1, 1));
    }

    @TearDown(Level.Trial)
    public void tearDown() throws Exception {
        compiled.close();
        model.close();
        arena.close();
    }

    @Benchmark
    public float compiled() {
        compiled.run(input, output);
        return output.segment().getAtIndex(ValueLayout.JAVA_FLOAT, 0);
    }

    @Benchmark
    public float eager() throws Exception {
        try (Tensor y = model.forward(input)) {
            return y.segment().getAtIndex(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    @Benchmark
    public float reference() throws Exception {
        return switch (model) {
            case LSTM l -> first(l.forward(input, null, null, null, Backend.REFERENCE));
            case GRU g -> first(g.forward(input, null, null, Backend.REFERENCE));
            case MultiheadAttention m -> {
                try (MultiheadAttention.Output o = m.forward(input, input, input, null, false, null, true, Backend.REFERENCE)) {
                    yield o.output().segment().getAtIndex(ValueLayout.JAVA_FLOAT, 0);
                }
            }
            case TransformerEncoderLayer e -> {
                try (Tensor y = e.forward(input, null, null, Backend.REFERENCE)) {
                    yield y.segment().getAtIndex(ValueLayout.JAVA_FLOAT, 0);
                }
            }
            default -> throw new IllegalStateException(model.toString());
        };
    }

    private static float first(RecurrentOutput r) {
        try (r) {
            return r.output().segment().getAtIndex(ValueLayout.JAVA_FLOAT, 0);
        }
    }
}
