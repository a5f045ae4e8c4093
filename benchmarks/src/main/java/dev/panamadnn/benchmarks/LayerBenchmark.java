package dev.panamadnn.benchmarks;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.Layer;
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
 * Our layers through the public API, native ({@code forward(x)}, Backend.AUTO: oneDNN/OpenBLAS)
 * vs the plain-Java reference ({@code forward(x, Backend.REFERENCE)}), side by side, f32, one
 * caller, 2 intra-op threads ({@code -Dpanamadnn.threads=2}; scripts/bench passes its --threads).
 * The input is created once per trial; each call's output is closed inside the call, so the
 * allocation of the output is part of what is timed (as it is for a user of {@code forward}).
 * Shapes are {@link LayerSpec} strings; scripts/bench ({@link BenchMain#LAYER_SHAPES}) picks
 * which, and runs {@link #reference} only on {@link BenchMain#LAYER_REFERENCE_SHAPES} (about
 * 2 s per call or less). The defaults here are for direct use.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Dpanamadnn.threads=2"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class LayerBenchmark {
    @Param({"conv2d:64>64:3@56", "linear:512>512#64", "maxpool2d:64:3/2@112"})
    public String shape;

    private Layer layer;
    private Arena arena;
    private Tensor input;

    @Setup(Level.Trial)
    public void setUp() {
        LayerSpec s = LayerSpec.parse(shape);
        layer = s.build();
        arena = Arena.ofShared();
        input = Tensor.allocate(arena, DataType.F32, s.inputShape());
        MemorySegment seg = input.segment();
        var rnd = new SplittableRandom(1);
        for (long i = 0; i < input.numel(); i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-1, 1));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        layer.close();
        arena.close();
    }

    @Benchmark
    public float nativeForward() {
        try (Tensor y = layer.forward(input)) {
            return y.segment().getAtIndex(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    @Benchmark
    public float reference() {
        try (Tensor y = layer.forward(input, Backend.REFERENCE)) {
            return y.segment().getAtIndex(ValueLayout.JAVA_FLOAT, 0);
        }
    }
}
