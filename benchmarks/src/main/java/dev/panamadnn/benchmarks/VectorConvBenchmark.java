package dev.panamadnn.benchmarks;

import dev.panamadnn.benchmarks.purejava.VectorConv2d;
import dev.panamadnn.nn.Conv2d;
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
 * The best pure-Java convolution we have ({@link VectorConv2d}: im2col + the Vector API GEMM,
 * {@link BenchThreads} threads) on {@link LayerBenchmark}'s Conv2d shapes, so results.md can set
 * it beside the native layer and the plain reference. The weights and bias are the layer's own
 * (same initialisation as LayerBenchmark's), the input is made once per trial, and the output
 * array is reused across calls: unlike the native {@code forward}, no output is allocated per
 * call, which if anything favours the Java side.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Dpanamadnn.threads=2"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class VectorConvBenchmark {
    @Param({"conv2d:64>64:3@56", "conv2d:256>64:1@56", "conv2d:128>128:3/2@56"})
    public String shape;

    private VectorConv2d conv;
    private float[] x, weight, bias, y;
    private int n, size;

    @Setup(Level.Trial)
    public void setUp() {
        LayerSpec s = LayerSpec.parse(shape);
        if (!s.kind().equals("conv2d")) throw new IllegalArgumentException("VectorConvBenchmark: expected a conv2d shape, got " + shape);
        try (var layer = (Conv2d) s.build()) {
            weight = layer.weight().toFloatArray();
            bias = layer.bias().toFloatArray();
        }
        n = s.batch();
        size = s.size();
        conv = new VectorConv2d(s.cin(), s.cout(), s.k(), s.stride(), s.k() / 2, BenchThreads.get());
        x = new float[n * s.cin() * size * size];
        var rnd = new SplittableRandom(1);
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextDouble(-1, 1);
        y = new float[n * s.cout() * conv.outSize(size) * conv.outSize(size)];
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        conv.close();
    }

    @Benchmark
    public float[] vectorApi() {
        conv.forward(x, n, size, size, weight, bias, y);
        return y;
    }
}
