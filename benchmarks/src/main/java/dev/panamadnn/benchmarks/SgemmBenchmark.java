package dev.panamadnn.benchmarks;

import dev.panamadnn.Blas;
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
 * Square SGEMM, OpenBLAS through FFM vs the plain-Java reference, side by side in one run.
 * The full comparison suite (JNI, C harness, optimised Java, % of peak) is the benchmarks issue.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
public class SgemmBenchmark {
    @Param({"64", "256"})
    int n;

    private Arena arena;
    private MemorySegment a, b, c;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofShared();
        var rnd = new SplittableRandom(1);
        a = arena.allocate(ValueLayout.JAVA_FLOAT, (long) n * n);
        b = arena.allocate(ValueLayout.JAVA_FLOAT, (long) n * n);
        c = arena.allocate(ValueLayout.JAVA_FLOAT, (long) n * n);
        for (long i = 0; i < (long) n * n; i++) {
            a.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble());
            b.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble());
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    @Benchmark
    public MemorySegment nativeOpenBlas() {
        Blas.sgemm(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n);
        return c;
    }

    @Benchmark
    public MemorySegment plainJavaReference() {
        Blas.sgemmReference(false, false, n, n, n, 1f, a, n, b, n, 0f, c, n);
        return c;
    }
}
