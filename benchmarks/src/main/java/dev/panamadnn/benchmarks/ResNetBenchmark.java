package dev.panamadnn.benchmarks;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
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
 * on the values. Images/s = batch / (ms per op) * 1000; GFLOP/s = {@link #flops} / time.
 *
 * <p>{@code plan} picks the {@link CompileOptions} of {@link #compiled}: {@code fused} (the
 * default, every fusion, channels-last activations), one fusion off ({@code no-bn-fold},
 * {@code no-postops}, {@code no-sum}), another activation layout ({@code plain-layouts},
 * {@code channel-blocked}), direct instead of Winograd 3x3 convolutions ({@code no-winograd}) or
 * {@code unfused} (all off), so the gain of each fusion and layout is a ratio of two rows of one
 * run. {@link #eager} ignores it. The forks need {@code --add-modules jdk.incubator.vector} for the
 * Winograd path (scripts/bench passes it; the forks inherit it): setup refuses a plan that should
 * have Winograd convolutions and has none, so a run without the module cannot pass for the real thing.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Dpanamadnn.threads=2"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 5, time = 2)
public class ResNetBenchmark {
    @Param({"resnet18", "resnet50"})
    String model;

    @Param({"1", "16"})
    int batch;

    @Param({"fused"})
    String plan;

    private ResNet net;
    private CompiledModel compiled;
    private Arena arena;
    private Tensor input, output;

    @Setup(Level.Trial)
    public void setUp() {
        net = build(model);
        arena = Arena.ofShared();
        input = Tensor.allocate(arena, DataType.F32, batch, 3, 224, 224);
        MemorySegment s = input.segment();
        var rnd = new SplittableRandom(1);
        for (long i = 0; i < input.numel(); i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-1, 1));
        compiled = CompiledModel.compile(net, options(plan), input.shape()).warmup();
        output = Tensor.allocate(arena, DataType.F32, compiled.outputShape());
        CompileOptions o = compiled.options();
        boolean winograd = compiled.steps().stream().anyMatch(st -> st.contains("winograd"));
        if (o.winograd() && o.layout() == CompileOptions.Layout.CHANNELS_LAST && !winograd) {
            throw new IllegalStateException("ResNetBenchmark: plan " + plan + " has no Winograd convolution: run the JVM with "
                    + "--add-modules jdk.incubator.vector (scripts/bench does)");
        }
    }

    /** The options of a {@code plan} parameter value. */
    static CompileOptions options(String plan) {
        CompileOptions d = CompileOptions.defaults();
        return switch (plan) {
            case "fused" -> d;
            case "no-bn-fold" -> d.withFoldBatchNorm(false);
            case "no-postops" -> d.withFusePostOps(false);
            case "no-sum" -> d.withFuseResidualSum(false);
            case "plain-layouts" -> d.withLayout(CompileOptions.Layout.PLAIN);
            case "channel-blocked" -> d.withLayout(CompileOptions.Layout.CHANNEL_BLOCKED);
            case "no-winograd" -> d.withWinograd(false);
            case "fast-relu" -> d.withFastRelu(true);
            case "unfused" -> CompileOptions.unfused();
            default -> throw new IllegalArgumentException("ResNetBenchmark: unknown plan '" + plan
                    + "', expected fused, no-bn-fold, no-postops, no-sum, plain-layouts, channel-blocked, no-winograd or unfused");
        };
    }

    /** FLOPs of one forward pass of {@code model} ("resnet18", "resnet34", "resnet50") at {@code batch} x 3 x 224 x 224 (convolutions and fc, x 2 for multiply-add). */
    static long flops(String model, int batch) {
        try (ResNet net = build(model); CompiledModel c = CompiledModel.compile(net, 1, 3, 224, 224)) {
            return c.flops() * batch;   // every layer's work is linear in the batch
        }
    }

    static ResNet build(String model) {
        return switch (model) {
            case "resnet18" -> ResNets.resnet18(1000);
            case "resnet34" -> ResNets.resnet34(1000);
            case "resnet50" -> ResNets.resnet50(1000);
            default -> throw new IllegalArgumentException("ResNetBenchmark: unknown model '" + model + "'");
        };
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
