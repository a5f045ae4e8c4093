package dev.panamadnn.benchmarks;

import dev.panamadnn.Blas;
import dev.panamadnn.benchmarks.purejava.VectorGemm;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Loader;
import org.bytedeco.openblas.global.openblas_nolapack;
import org.ejml.concurrency.EjmlConcurrency;
import org.ejml.data.FMatrixRMaj;
import org.ejml.dense.row.CommonOps_FDRM;
import org.ejml.dense.row.CommonOps_MT_FDRM;
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
 * SGEMM {@code C = op(A) * op(B)}, f32, row-major, one shape per trial, against every
 * implementation: OpenBLAS through our FFM bindings ({@link #ffm}), the same OpenBLAS build
 * through JNI (JavaCPP presets, {@link #jni}), our Vector API GEMM ({@link #vectorApi}), EJML
 * single-threaded ({@link #ejml}) and multi-threaded ({@link #ejmlMt}), and our plain reference
 * ({@link #reference}: slow, so scripts/bench runs it only up to n = 256). Each benchmark method
 * uses only its own state, and JMH forks one JVM per method and shape, so a JNI fork never
 * loads our copy of OpenBLAS and an FFM fork never loads JavaCPP's.
 * scripts/bench picks the (method, shape) pairs; the defaults here are only for direct use.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class GemmBenchmark {
    @Param({"16", "64", "256", "1024", "2048", "2048x64x2048", "64x2048x2048", "1024:NT"})
    public String shape;

    Shape s;
    float[] a, b, c;

    @Setup(Level.Trial)
    public void setUp() {
        s = Shape.parse(shape);
        var rnd = new SplittableRandom(1);
        a = random(rnd, s.m() * s.k());
        b = random(rnd, s.k() * s.n());
        c = new float[s.m() * s.n()];
    }

    private static float[] random(SplittableRandom rnd, int size) {
        float[] x = new float[size];
        for (int i = 0; i < size; i++) x[i] = (float) rnd.nextDouble();
        return x;
    }

    /** Off-heap copies for the FFM path and the reference. */
    @State(Scope.Benchmark)
    public static class OffHeap {
        Arena arena;
        MemorySegment a, b, c;

        @Setup(Level.Trial)
        public void setUp(GemmBenchmark g) {
            arena = Arena.ofShared();
            a = arena.allocateFrom(ValueLayout.JAVA_FLOAT, g.a);
            b = arena.allocateFrom(ValueLayout.JAVA_FLOAT, g.b);
            c = arena.allocate(ValueLayout.JAVA_FLOAT, g.c.length);
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    /** JavaCPP's own copy of the same OpenBLAS build, with the same thread count. */
    @State(Scope.Benchmark)
    public static class Jni {
        FloatPointer a, b, c;
        int rowMajor, transA, transB;

        @Setup(Level.Trial)
        public void setUp(GemmBenchmark g) {
            Loader.load(openblas_nolapack.class);
            openblas_nolapack.blas_set_num_threads(BenchThreads.get());
            a = new FloatPointer(g.a);
            b = new FloatPointer(g.b);
            c = new FloatPointer(g.c.length);
            rowMajor = openblas_nolapack.CblasRowMajor;
            transA = g.s.transA() ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans;
            transB = g.s.transB() ? openblas_nolapack.CblasTrans : openblas_nolapack.CblasNoTrans;
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            a.close();
            b.close();
            c.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Vector {
        VectorGemm gemm;

        @Setup(Level.Trial)
        public void setUp() {
            gemm = new VectorGemm(BenchThreads.get());
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            gemm.close();
        }
    }

    @State(Scope.Benchmark)
    public static class Ejml {
        FMatrixRMaj a, b, c;

        @Setup(Level.Trial)
        public void setUp(GemmBenchmark g) {
            Shape s = g.s;
            a = FMatrixRMaj.wrap(s.transA() ? s.k() : s.m(), s.transA() ? s.m() : s.k(), g.a);
            b = FMatrixRMaj.wrap(s.transB() ? s.n() : s.k(), s.transB() ? s.k() : s.n(), g.b);
            c = new FMatrixRMaj(s.m(), s.n());
            EjmlConcurrency.setMaxThreads(BenchThreads.get());
        }
    }

    @Benchmark
    public MemorySegment ffm(OffHeap h) {
        Blas.sgemm(s.transA(), s.transB(), s.m(), s.n(), s.k(), 1f, h.a, s.lda(), h.b, s.ldb(), 0f, h.c, s.ldc());
        return h.c;
    }

    @Benchmark
    public FloatPointer jni(Jni j) {
        openblas_nolapack.cblas_sgemm(j.rowMajor, j.transA, j.transB, s.m(), s.n(), s.k(), 1f,
                j.a, s.lda(), j.b, s.ldb(), 0f, j.c, s.ldc());
        return j.c;
    }

    @Benchmark
    public float[] vectorApi(Vector v) {
        v.gemm.sgemm(s.transA(), s.transB(), s.m(), s.n(), s.k(), 1f, a, s.lda(), b, s.ldb(), 0f, c, s.ldc());
        return c;
    }

    @Benchmark
    public FMatrixRMaj ejml(Ejml e) {
        if (s.transA() && s.transB()) CommonOps_FDRM.multTransAB(e.a, e.b, e.c);
        else if (s.transA()) CommonOps_FDRM.multTransA(e.a, e.b, e.c);
        else if (s.transB()) CommonOps_FDRM.multTransB(e.a, e.b, e.c);
        else CommonOps_FDRM.mult(e.a, e.b, e.c);
        return e.c;
    }

    @Benchmark
    public FMatrixRMaj ejmlMt(Ejml e) {
        if (s.transA() && s.transB()) CommonOps_MT_FDRM.multTransAB(e.a, e.b, e.c);
        else if (s.transA()) CommonOps_MT_FDRM.multTransA(e.a, e.b, e.c);
        else if (s.transB()) CommonOps_MT_FDRM.multTransB(e.a, e.b, e.c);
        else CommonOps_MT_FDRM.mult(e.a, e.b, e.c);
        return e.c;
    }

    @Benchmark
    public MemorySegment reference(OffHeap h) {
        Blas.sgemmReference(s.transA(), s.transB(), s.m(), s.n(), s.k(), 1f, h.a, s.lda(), h.b, s.ldb(), 0f, h.c, s.ldc());
        return h.c;
    }
}
