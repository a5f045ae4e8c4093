package dev.panamadnn.benchmarks;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.models.ResNet;
import dev.panamadnn.models.ResNets;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
 * torchvision ResNet-18/50 on 224x224 images, eager {@code forward} vs {@link CompiledModel#run},
 * side by side in one run, 2 intra-op threads ({@code -Dpanamadnn.threads=2}), one caller.
 * Weights are the builders' own random initialisation (no Python needed); speed does not depend
 * on the values. Images/s = batch / (ms per op) * 1000.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Dpanamadnn.threads=2"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
public class ResNetBenchmark {
    @Param({"resnet18", "resnet50"})
    String model;

    @Param({"1", "16"})
    int batch;

    private ResNet net;
    private CompiledModel compiled;
    private Arena arena;
    private Tensor input, output;

    @Setup(Level.Trial)
    public void setUp() {
        net = model.equals("resnet18") ? ResNets.resnet18(1000) : ResNets.resnet50(1000);
        arena = Arena.ofShared();
        input = Tensor.allocate(arena, DataType.F32, batch, 3, 224, 224);
        MemorySegment s = input.segment();
        var rnd = new SplittableRandom(1);
        for (long i = 0; i < input.numel(); i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-1, 1));
        compiled = CompiledModel.compile(net, input.shape()).warmup();
        output = Tensor.allocate(arena, DataType.F32, compiled.outputShape());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        compiled.close();
        net.close();
        arena.close();
    }

    @Benchmark
    public float eager() {
        try (Tensor y = net.forward(input)) {
            return y.getFloat(0, 0);
        }
    }

    @Benchmark
    public Tensor compiled() {
        compiled.run(input, output);
        return output;
    }
}
