package dev.panamadnn.benchmarks;

import dev.panamadnn.Blas;
import dev.panamadnn.bindings.cblas.cblas_h;
import dev.panamadnn.internal.BlasCallers;
import dev.panamadnn.natives.Natives;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;
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
 * Per-call overhead of the binding, FFM vs JNI, on calls whose native work is tiny:
 * {@code openblas_get_num_threads} through our generated binding (JavaCPP maps it to a Java
 * field, so it has no JNI twin); {@code cblas_sdot} of length 1 through both (the nearest thing
 * to an empty call that both bindings expose); SGEMM at n = 16 with off-heap memory vs heap
 * arrays (FFM: critical downcall, no copy; JNI: JavaCPP's array overload); and oneDNN's
 * smallest useful call, an eltwise ReLU over 16 floats bound once ({@code dnnl_primitive_execute}
 * + {@code dnnl_stream_wait}), through our bindings ({@link FfmDnnl}, the way compiled models run
 * a primitive) vs JavaCPP's dnnl preset ({@link JniDnnl}); the C harness times it as
 * {@code relu:16}. Run with {@code -prof gc} (scripts/bench does) for bytes allocated per call.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class OverheadBenchmark {
    static final int N = 16;

    @State(Scope.Benchmark)
    public static class Ffm {
        Arena arena;
        MemorySegment x, y, a, b, c;
        /** The same two floats in an automatic arena: no per-call liveness acquire/release (see ffmSdot1Auto). */
        MemorySegment xAuto, yAuto;
        float[] ha = new float[N * N], hb = new float[N * N], hc = new float[N * N];

        @Setup(Level.Trial)
        public void setUp() {
            Natives.load();
            arena = Arena.ofShared();
            x = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1.5f);
            y = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 2f);
            Arena auto = Arena.ofAuto();
            xAuto = auto.allocateFrom(ValueLayout.JAVA_FLOAT, 1.5f);
            yAuto = auto.allocateFrom(ValueLayout.JAVA_FLOAT, 2f);
            for (int i = 0; i < N * N; i++) ha[i] = hb[i] = i % 7 * 0.25f;
            a = arena.allocateFrom(ValueLayout.JAVA_FLOAT, ha);
            b = arena.allocateFrom(ValueLayout.JAVA_FLOAT, hb);
            c = arena.allocate(ValueLayout.JAVA_FLOAT, N * N);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Jni {
        FloatPointer x, y, a, b, c;
        float[] ha = new float[N * N], hb = new float[N * N], hc = new float[N * N];

        @Setup(Level.Trial)
        public void setUp() {
            Loader.load(openblas_nolapack.class);
            openblas_nolapack.blas_set_num_threads(BenchThreads.get());
            x = new FloatPointer(1.5f);
            y = new FloatPointer(2f);
            for (int i = 0; i < N * N; i++) ha[i] = hb[i] = i % 7 * 0.25f;
            a = new FloatPointer(ha);
            b = new FloatPointer(hb);
            c = new FloatPointer((long) N * N);
        }
    }

    /** The 16 ReLU inputs, half negative. */
    static float[] reluInput() {
        float[] x = new float[N];
        for (int i = 0; i < N; i++) x[i] = (i % 2 == 0 ? -1 : 1) * (i + 0.5f);
        return x;
    }

    static void checkRelu(String who, float[] x, java.util.function.IntToDoubleFunction y) {
        for (int i = 0; i < N; i++) {
            if (y.applyAsDouble(i) != Math.max(x[i], 0f)) {
                throw new IllegalStateException(who + " ReLU: y[" + i + "] = " + y.applyAsDouble(i) + ", expected " + Math.max(x[i], 0f));
            }
        }
    }

    @State(Scope.Benchmark)
    public static class FfmDnnlRelu {
        FfmDnnl relu;

        @Setup(Level.Trial)
        public void setUp() {
            float[] x = reluInput();
            relu = FfmDnnl.relu(x);
            relu.run();
            checkRelu("FFM", x, i -> relu.dst.getAtIndex(ValueLayout.JAVA_FLOAT, i));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            relu.close();
        }
    }

    @State(Scope.Benchmark)
    public static class JniDnnlRelu {
        JniDnnl relu;

        @Setup(Level.Trial)
        public void setUp() {
            float[] x = reluInput();
            relu = JniDnnl.relu(x);
            relu.run();
            checkRelu("JNI", x, i -> relu.dst.get(i));
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            relu.close();
        }
    }

    @Benchmark
    public MemorySegment ffmDnnlRelu16(FfmDnnlRelu r) {
        r.relu.run();
        return r.relu.dst;
    }

    @Benchmark
    public FloatPointer jniDnnlRelu16(JniDnnlRelu r) {
        r.relu.run();
        return r.relu.dst;
    }

    @Benchmark
    public int ffmGetNumThreads(Ffm f) {
        return cblas_h.openblas_get_num_threads();
    }

    @Benchmark
    public float ffmSdot1(Ffm f) {
        return cblas_h.cblas_sdot(1, f.x, 1, f.y, 1);
    }

    /**
     * The same call on segments of an automatic arena. A segment of a shared arena (ffmSdot1, and
     * every owned Tensor) makes each downcall acquire and release the arena's liveness count
     * (two atomic updates per segment argument) so that another thread cannot free it mid-call;
     * automatic (and global) segments are kept alive by reachability instead, which costs nothing.
     */
    @Benchmark
    public float ffmSdot1Auto(Ffm f) {
        return cblas_h.cblas_sdot(1, f.xAuto, 1, f.yAuto, 1);
    }

    /** As ffmSdot1Auto through the critical downcall (Linker.Option.critical: no thread-state transition). */
    @Benchmark
    public float ffmSdot1Critical(Ffm f) {
        return cblas_h.cblas_sdot$critical(1, f.xAuto, 1, f.yAuto, 1);
    }

    @Benchmark
    public float jniSdot1(Jni j) {
        return openblas_nolapack.cblas_sdot(1, j.x, 1, j.y, 1);
    }

    @Benchmark
    public MemorySegment ffmSgemm16OffHeap(Ffm f) {
        Blas.sgemm(false, false, N, N, N, 1f, f.a, N, f.b, N, 0f, f.c, N);
        return f.c;
    }

    /**
     * The OpenBLAS call alone, off-heap, without Blas.sgemm's argument checks and caller gate
     * (internal BlasCallers): the "before" of {@link #ffmSgemm16RawGated}.
     */
    @Benchmark
    public MemorySegment ffmSgemm16Raw(Ffm f) {
        cblas_h.cblas_sgemm(cblas_h.CblasRowMajor(), cblas_h.CblasNoTrans(), cblas_h.CblasNoTrans(), N, N, N, 1f,
                f.a, N, f.b, N, 0f, f.c, N);
        return f.c;
    }

    /** ffmSgemm16Raw inside the caller gate Blas.sgemm uses (one uncontended semaphore acquire and release). */
    @Benchmark
    public MemorySegment ffmSgemm16RawGated(Ffm f) {
        BlasCallers.enter();
        try {
            cblas_h.cblas_sgemm(cblas_h.CblasRowMajor(), cblas_h.CblasNoTrans(), cblas_h.CblasNoTrans(), N, N, N, 1f,
                    f.a, N, f.b, N, 0f, f.c, N);
        } finally {
            BlasCallers.exit();
        }
        return f.c;
    }

    @Benchmark
    public float[] ffmSgemm16Heap(Ffm f) {
        Blas.sgemm(false, false, N, N, N, 1f, f.ha, f.hb, 0f, f.hc);
        return f.hc;
    }

    @Benchmark
    public FloatPointer jniSgemm16Pointer(Jni j) {
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                openblas_nolapack.CblasNoTrans, N, N, N, 1f, j.a, N, j.b, N, 0f, j.c, N);
        return j.c;
    }

    @Benchmark
    public float[] jniSgemm16Array(Jni j) {
        openblas_nolapack.cblas_sgemm(openblas_nolapack.CblasRowMajor, openblas_nolapack.CblasNoTrans,
                openblas_nolapack.CblasNoTrans, N, N, N, 1f, j.ha, N, j.hb, N, 0f, j.hc, N);
        return j.hc;
    }

    /**
     * How an eager output could be allocated (issue 16: "measure the options"): bytes of one
     * output, ReLU on 1K floats (4 KB) and Conv2d 64x56x56 (784 KB). Each call allocates, writes
     * one float (so the page is touched at least once) and frees.
     */
    @State(Scope.Benchmark)
    public static class Alloc {
        @Param({"4096", "802816"})
        public long bytes;
        static final MethodHandle MALLOC = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().find("malloc").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));
        static final MethodHandle FREE = Linker.nativeLinker().downcallHandle(
                Linker.nativeLinker().defaultLookup().find("free").orElseThrow(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
    }

    private static void free(MemorySegment s) {
        try {
            Alloc.FREE.invokeExact(s);
        } catch (Throwable t) {
            throw new AssertionError(t);
        }
    }

    /** Tensor.zeros today: a shared arena per tensor (malloc + zero fill), closed with the JDK's handshake. */
    @Benchmark
    public float allocSharedZeroed(Alloc a) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment s = arena.allocate(a.bytes, 64);
            s.set(ValueLayout.JAVA_FLOAT, 0, 1f);
            return s.get(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    /** A confined arena per tensor: no handshake on close, but only its thread may touch or close it. */
    @Benchmark
    public float allocConfinedZeroed(Alloc a) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(a.bytes, 64);
            s.set(ValueLayout.JAVA_FLOAT, 0, 1f);
            return s.get(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    /** An automatic arena: nothing to close, the memory is freed after a GC finds the segment unreachable. */
    @Benchmark
    public float allocAutoZeroed(Alloc a) {
        MemorySegment s = Arena.ofAuto().allocate(a.bytes, 64);
        s.set(ValueLayout.JAVA_FLOAT, 0, 1f);
        return s.get(ValueLayout.JAVA_FLOAT, 0);
    }

    /** A shared arena's scope over malloc'd memory that is not zeroed (freed by the arena's cleanup). */
    @Benchmark
    public float allocSharedMalloc(Alloc a) throws Throwable {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment raw = (MemorySegment) Alloc.MALLOC.invokeExact(a.bytes);
            MemorySegment s = raw.reinterpret(a.bytes, arena, OverheadBenchmark::free);
            s.set(ValueLayout.JAVA_FLOAT, 0, 1f);
            return s.get(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    /** malloc + free through FFM, no arena: the C harness's floor without its memset. */
    @Benchmark
    public float allocMallocFree(Alloc a) throws Throwable {
        MemorySegment s = ((MemorySegment) Alloc.MALLOC.invokeExact(a.bytes)).reinterpret(a.bytes);
        s.set(ValueLayout.JAVA_FLOAT, 0, 1f);
        float v = s.get(ValueLayout.JAVA_FLOAT, 0);
        Alloc.FREE.invokeExact(s);
        return v;
    }
}
