package dev.panamadnn.benchmarks;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
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
 * Throughput of one large oneDNN convolution through our FFM bindings ({@link #ffm}) vs the
 * JavaCPP presets' JNI classes ({@link #jni}), same primitive (conv2d {@link LayerSpec}: plain
 * nchw src/dst, weights in the layout oneDNN chose, reordered once, bias, user scratchpad), same
 * library build, same thread count; memory objects bound once, so a call is {@code
 * dnnl_primitive_execute} + {@code dnnl_stream_wait} and nothing else: the binding is all that
 * differs. The C harness runs the same thing as {@code bare:SHAPE}. Each setup checks 16
 * outputs against plain loops ({@link ConvSpot}) before timing. JMH forks one JVM per method, so
 * a JNI fork never loads our copy of libdnnl and an FFM fork never loads JavaCPP's.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "-Dpanamadnn.threads=2"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class DnnlBindingBenchmark {

    @State(Scope.Benchmark)
    public static class Ffm {
        @Param({"conv2d:64>64:3@56"})
        public String shape;
        FfmDnnl conv;

        @Setup(Level.Trial)
        public void setUp() {
            ConvSpot g = ConvSpot.of(LayerSpec.parse(shape));
            float[] x = g.input(), w = g.weights(), b = g.bias();
            conv = FfmDnnl.conv(LayerSpec.parse(shape), x, w, b);
            conv.run();
            g.check("FFM " + shape, x, w, b, i -> conv.dst.getAtIndex(ValueLayout.JAVA_FLOAT, i));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            conv.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Jni {
        @Param({"conv2d:64>64:3@56"})
        public String shape;
        JniDnnl conv;

        @Setup(Level.Trial)
        public void setUp() {
            ConvSpot g = ConvSpot.of(LayerSpec.parse(shape));
            float[] x = g.input(), w = g.weights(), b = g.bias();
            conv = JniDnnl.conv(LayerSpec.parse(shape), x, w, b);
            conv.run();
            g.check("JNI " + shape, x, w, b, i -> conv.dst.get(i));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            conv.close();
        }
    }

    @Benchmark
    public MemorySegment ffm(Ffm f) {
        f.conv.run();
        return f.conv.dst;
    }

    @Benchmark
    public FloatPointer jni(Jni j) {
        j.conv.run();
        return j.conv.dst;
    }
}
