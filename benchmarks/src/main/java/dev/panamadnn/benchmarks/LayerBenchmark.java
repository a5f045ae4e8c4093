package dev.panamadnn.benchmarks;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.Layer;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
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
    private Tensor out;

    @Setup(Level.Trial)
    public void setUp() {
        // "bare:SPEC" times the C harness's bound call (cHarness); the Java methods run SPEC as usual.
        LayerSpec s = LayerSpec.parse(shape.startsWith("bare:") ? shape.substring(5) : shape);
        layer = s.build();
        arena = Arena.ofShared();
        input = Tensor.allocate(arena, DataType.F32, s.inputShape());
        out = Tensor.allocate(arena, DataType.F32, layer.outputShape(s.inputShape()));
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

    /**
     * {@code forwardInto(x, out)}: the same call into one output kept across calls (made once per
     * trial), so no output allocation, zero fill or free per call.
     */
    @Benchmark
    public float nativeForwardInto() {
        layer.forwardInto(input, out);
        return out.segment().getAtIndex(ValueLayout.JAVA_FLOAT, 0);
    }

    /**
     * The C harness's eager call for the same shape, in this process (see {@link CLayer}): C and
     * Java timed by the same JMH run, same libraries, same OpenMP runtime.
     */
    @Benchmark
    public void cHarness(CLayer c) throws Throwable {
        CLayer.CALL.invokeExact(c.handle);
    }

    /**
     * The C harness's eager call on this benchmark's own input and output tensors (the memory
     * {@code nativeForwardInto} uses) instead of buffers C allocated: with {@link #cHarness} and
     * {@code nativeForwardInto} beside it, separates where the buffers sit from how the call is made.
     */
    @Benchmark
    public void cHarnessOnJavaBuffers(CLayer c) throws Throwable {
        CLayer.CALL_WITH.invokeExact(c.handle, input.segment(), out.segment(), MemorySegment.NULL, MemorySegment.NULL);
    }

    /**
     * {@link #cHarnessOnJavaBuffers}, and also on a Java copy of the C harness's reordered weights
     * (allocated as {@code Conv2d} allocates its own: a shared arena, 64-byte aligned) and a Java
     * scratchpad (allocated as {@code Scratchpads} does: an automatic arena, the next power of two):
     * every buffer of the C call where ours would be.
     */
    @Benchmark
    public void cHarnessOnJavaPlacedBuffers(CLayer c) throws Throwable {
        CLayer.CALL_WITH.invokeExact(c.handle, input.segment(), out.segment(), c.weights, c.scratch);
    }

    @Benchmark
    public float reference() {
        try (Tensor y = layer.forward(input, Backend.REFERENCE)) {
            return y.segment().getAtIndex(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    /**
     * {@code dnnl_layer_bench.c} built as a shared library ({@code -shared -fPIC}; scripts/bench
     * and scripts/bench-eager build it as {@code libdnnl_layer_bench.so}) named by
     * {@code -Dpanamadnn.bench.clib=PATH}, with {@code pdnn_layer_open} for the benchmark's shape:
     * the primitive and buffers made once (and its output spot-checked against plain loops by
     * the C side), so a call is the C harness's eager call for that shape. Loaded after our
     * library (the {@code layer} state's setup), it resolves the same libdnnl/libgomp/libopenblas,
     * which the dynamic linker finds already loaded.
     */
    @State(Scope.Benchmark)
    public static class CLayer {
        static final MethodHandle CALL;
        static final MethodHandle CALL_WITH;
        static final MethodHandle WEIGHTS_BYTES;
        static final MethodHandle SCRATCH_BYTES;
        static final MethodHandle COPY_WEIGHTS;
        static final MethodHandle OPEN;
        static final MethodHandle CLOSE;

        static {
            String lib = System.getProperty("panamadnn.bench.clib");
            if (lib == null) throw new IllegalStateException("cHarness needs -Dpanamadnn.bench.clib=PATH/libdnnl_layer_bench.so (scripts/bench-eager builds it)");
            Linker linker = Linker.nativeLinker();
            SymbolLookup c = SymbolLookup.libraryLookup(Path.of(lib), Arena.global());
            CALL = linker.downcallHandle(c.find("pdnn_layer_call").orElseThrow(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
            CALL_WITH = linker.downcallHandle(c.find("pdnn_layer_call_with").orElseThrow(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            WEIGHTS_BYTES = linker.downcallHandle(c.find("pdnn_layer_weights_bytes").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
            SCRATCH_BYTES = linker.downcallHandle(c.find("pdnn_layer_scratch_bytes").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS));
            COPY_WEIGHTS = linker.downcallHandle(c.find("pdnn_layer_copy_weights").orElseThrow(),
                    FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS));
            OPEN = linker.downcallHandle(c.find("pdnn_layer_open").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
            CLOSE = linker.downcallHandle(c.find("pdnn_layer_close").orElseThrow(), FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
        }

        MemorySegment handle;
        MemorySegment weights = MemorySegment.NULL, scratch = MemorySegment.NULL;
        private Arena weightsArena;

        @Setup(Level.Trial)
        public void setUp(LayerBenchmark b) throws Throwable {
            int threads = Integer.getInteger("panamadnn.threads", 2);
            try (Arena tmp = Arena.ofConfined()) {
                handle = (MemorySegment) OPEN.invokeExact(tmp.allocateFrom(b.shape), threads);
            }
            if (handle.equals(MemorySegment.NULL)) throw new IllegalStateException("pdnn_layer_open(" + b.shape + ") failed (see stderr)");
            long w = (long) WEIGHTS_BYTES.invokeExact(handle), sp = (long) SCRATCH_BYTES.invokeExact(handle);
            weightsArena = Arena.ofShared();
            if (w > 0) {
                weights = weightsArena.allocate(w, 64);
                COPY_WEIGHTS.invokeExact(handle, weights);
            }
            if (sp > 0) scratch = Arena.ofAuto().allocate(Long.highestOneBit(sp - 1) << 1, 64);
        }

        @TearDown(Level.Trial)
        public void tearDown() throws Throwable {
            CLOSE.invokeExact(handle);
            weightsArena.close();
        }
    }
}
