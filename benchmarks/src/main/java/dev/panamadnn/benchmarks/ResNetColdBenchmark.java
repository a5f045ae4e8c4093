package dev.panamadnn.benchmarks;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.models.ResNet;
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
 * First-call latency of a compiled ResNet, the counterpart of {@link ResNetBenchmark}'s
 * steady state: single-shot times, one measurement per fresh JVM (fork), nothing warmed.
 * <ul>
 *   <li>{@link #compileAndWarmup}: {@code CompiledModel.compile(...).warmup()} (and its {@code close()}, a few milliseconds), the time a service
 *       spends before it can take its first request;</li>
 *   <li>{@link #firstRunWithoutWarmup}: the first {@code run} of a plan compiled without
 *       {@code warmup()} (execution contexts, buffers and oneDNN's lazily initialised state are
 *       created inside this call);</li>
 *   <li>{@link #firstRunAfterWarmup}: the first real {@code run} after {@code warmup()}; close to
 *       steady state when warm-up does its job (the JVM itself is still cold).</li>
 * </ul>
 * The model is built (random weights) in the trial set-up, outside the timed region.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 3, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Dpanamadnn.threads=2"})
@Warmup(iterations = 0)
@Measurement(iterations = 1)
public class ResNetColdBenchmark {
    @Param({"resnet18", "resnet50"})
    String model;

    @Param({"1"})
    int batch;

    private ResNet net;
    private Arena arena;
    private Tensor input, output;
    private CompiledModel cold, warm;

    @Setup(Level.Trial)
    public void setUp() {
        net = ResNetBenchmark.build(model);
        arena = Arena.ofShared();
        input = Tensor.allocate(arena, DataType.F32, batch, 3, 224, 224);
        MemorySegment s = input.segment();
        var rnd = new SplittableRandom(1);
        for (long i = 0; i < input.numel(); i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-1, 1));
        output = Tensor.allocate(arena, DataType.F32, batch, 1000);
    }

    /** Plans for the two first-run benchmarks, made before the timed call (only the one a benchmark needs). */
    @Setup(Level.Iteration)
    public void plans(org.openjdk.jmh.infra.BenchmarkParams params) {
        String which = params.getBenchmark();
        if (which.endsWith("firstRunWithoutWarmup")) cold = CompiledModel.compile(net, input.shape());
        if (which.endsWith("firstRunAfterWarmup")) warm = CompiledModel.compile(net, input.shape()).warmup();
    }

    @TearDown(Level.Iteration)
    public void closePlans() {
        if (cold != null) cold.close();
        if (warm != null) warm.close();
        cold = warm = null;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        net.close();
        arena.close();
    }

    @Benchmark
    public CompiledModel compileAndWarmup() {
        CompiledModel c = CompiledModel.compile(net, input.shape()).warmup();
        c.close();
        return c;
    }

    @Benchmark
    public Tensor firstRunWithoutWarmup() {
        cold.run(input, output);
        return output;
    }

    @Benchmark
    public Tensor firstRunAfterWarmup() {
        warm.run(input, output);
        return output;
    }
}
