package dev.panamadnn.benchmarks;

import static dev.panamadnn.bindings.dnnl.dnnl_h.*;

import dev.panamadnn.DataType;
import dev.panamadnn.Eltwise;
import dev.panamadnn.Tensor;
import dev.panamadnn.bindings.dnnl.dnnl_exec_arg_t;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.Engine;
import dev.panamadnn.internal.dnnl.Execution;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.internal.dnnl.Stream;
import dev.panamadnn.natives.Natives;
import dev.panamadnn.natives.ThreadControl;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * What oneDNN costs us around the kernel, on primitives whose native work is tiny (run with
 * {@code -prof gc}, as scripts/bench does, for bytes allocated per call):
 * <ul>
 * <li><b>creating vs reusing a primitive.</b> ReLU over 16 floats: primitive descriptor +
 *     primitive created and destroyed per call ({@link #eltwiseCreate}), and that plus one
 *     execution ({@link #eltwiseCreateExecute}), against {@link #eltwiseCached} (the public
 *     {@link Eltwise#forward}, primitive cached). Conv2d 3x3 16->16 on 8x8: descriptor + primitive
 *     ({@link #convCreate}), a cache miss of the public layer ({@code weightsChanged()} then
 *     {@code forward}: create, reorder the weights, execute; {@link #convMiss}) and a cached
 *     {@code forward} ({@link #convCached}).</li>
 * <li><b>Java-side cost per executed primitive.</b> The same ReLU primitive three ways:
 *     {@link #eltwiseCached} (eager: memory objects, scratchpad and exec args built per call,
 *     a pooled stream), {@link #eltwiseBound} (what a compiled plan does per primitive: an
 *     {@link Execution} bound once, then {@code dnnl_primitive_execute} + wait) and
 *     {@link #eltwiseBare}: the generated binding's {@code dnnl_primitive_execute} and
 *     {@code dnnl_stream_wait} on handles and args prepared here with nothing of ours around
 *     them. The difference to the bare call is our Java-side cost.</li>
 * <li><b>allocation on the hot path.</b> A tiny model (Conv2d 3->8 3x3 + ReLU + Flatten +
 *     Linear 2048->10 on [1, 3, 16, 16]) compiled ({@link #compiledRun}, {@code run(input,
 *     output)}: meant to allocate nothing) and eager ({@link #eagerForward}). {@code
 *     -Dpdnn.fastRelu=true} in the fork compiles it with {@code CompileOptions.withFastRelu}, to
 *     separate the NaN-keeping ReLU's cost from the rest of a run's.</li>
 * </ul>
 * Reaches into {@code dev.panamadnn.internal.dnnl} (the benchmarks run on the class path) for the
 * create and bound cases, and into the generated bindings for the bare one, like
 * {@link OverheadBenchmark} does for CBLAS.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Fork(value = 1, jvmArgsAppend = {"--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class DnnlOverheadBenchmark {
    static final int ELEMENTS = 16;

    /** A ReLU over {@link #ELEMENTS} floats through our wrappers: public, bound, and the parts to create one. */
    @State(Scope.Benchmark)
    public static class Relu {
        Arena arena;
        MemorySegment src, dst, scratchpad;
        Eltwise eltwise;
        MemoryDescriptor desc;
        PrimitiveAttributes attr;
        Primitive primitive;
        Execution bound;
        Stream stream;

        @Setup(Level.Trial)
        public void setUp() {
            Natives.load();
            arena = Arena.ofShared();
            src = arena.allocate(ValueLayout.JAVA_FLOAT, ELEMENTS);
            dst = arena.allocate(ValueLayout.JAVA_FLOAT, ELEMENTS);
            for (int i = 0; i < ELEMENTS; i++) src.setAtIndex(ValueLayout.JAVA_FLOAT, i, i - ELEMENTS / 2f);
            eltwise = new Eltwise(Eltwise.Kind.RELU);
            eltwise.forward(src, dst);
            desc = MemoryDescriptor.f32(Ops.plain1d(), ELEMENTS);
            attr = PrimitiveAttributes.userScratchpad();
            primitive = createRelu(this);
            scratchpad = arena.allocate(Math.max(1, primitive.scratchpadBytes()), 64);
            bound = new Execution(primitive, List.of(Args.src(desc, src), Args.dst(desc, dst)), scratchpad, arena);
            stream = Stream.create(Engine.cpu());
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            bound.close();
            stream.close();
            primitive.close();
            attr.close();
            desc.close();
            eltwise.close();
            arena.close();
        }
    }

    /**
     * The same ReLU made with the generated bindings only (user scratchpad, as ours): engine,
     * stream, memory objects and the exec-arg array exist before the first call.
     */
    @State(Scope.Benchmark)
    public static class Bare {
        Arena arena;
        MemorySegment engine, stream, primitive, args;
        int nargs = 3;

        @Setup(Level.Trial)
        public void setUp() {
            Natives.load();
            ThreadControl.applyToCurrentThread();
            arena = Arena.ofShared();
            MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
            engine = created(dnnl_engine_create(out, dnnl_cpu(), 0), "dnnl_engine_create", out);
            stream = created(dnnl_stream_create(out, engine, dnnl_stream_default_flags()), "dnnl_stream_create", out);
            MemorySegment dims = arena.allocate(ValueLayout.JAVA_LONG, DNNL_MAX_NDIMS());
            dims.setAtIndex(ValueLayout.JAVA_LONG, 0, ELEMENTS);
            MemorySegment md = created(dnnl_memory_desc_create_with_tag(out, 1, dims, dnnl_f32(), dnnl_a()),
                    "dnnl_memory_desc_create_with_tag", out);
            MemorySegment attr = created(dnnl_primitive_attr_create(out), "dnnl_primitive_attr_create", out);
            check(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user()), "dnnl_primitive_attr_set_scratchpad_mode");
            MemorySegment pd = created(dnnl_eltwise_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                    dnnl_eltwise_relu(), md, md, 0f, 0f, attr), "dnnl_eltwise_forward_primitive_desc_create", out);
            primitive = created(dnnl_primitive_create(out, pd), "dnnl_primitive_create", out);
            MemorySegment scratchMd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md(), 0);
            MemorySegment src = arena.allocate(ValueLayout.JAVA_FLOAT, ELEMENTS), dst = arena.allocate(ValueLayout.JAVA_FLOAT, ELEMENTS);
            MemorySegment scratch = arena.allocate(Math.max(64, dnnl_memory_desc_get_size(scratchMd)), 64);
            MemorySegment[] memories = {
                created(dnnl_memory_create(out, md, engine, src), "dnnl_memory_create", out),
                created(dnnl_memory_create(out, md, engine, dst), "dnnl_memory_create", out),
                created(dnnl_memory_create(out, scratchMd, engine, scratch), "dnnl_memory_create", out)};
            int[] ids = {DNNL_ARG_SRC(), DNNL_ARG_DST(), DNNL_ARG_SCRATCHPAD()};
            args = dnnl_exec_arg_t.allocateArray(nargs, arena);
            for (int i = 0; i < nargs; i++) {
                dnnl_exec_arg_t.arg(dnnl_exec_arg_t.asSlice(args, i), ids[i]);
                dnnl_exec_arg_t.memory(dnnl_exec_arg_t.asSlice(args, i), memories[i]);
            }
            // The primitive keeps what it needs from the descriptors; the memory objects live until the JVM exits (a trial).
            check(dnnl_primitive_desc_destroy(pd), "dnnl_primitive_desc_destroy");
            check(dnnl_primitive_attr_destroy(attr), "dnnl_primitive_attr_destroy");
        }

        private static MemorySegment created(int status, String function, MemorySegment out) {
            check(status, function);
            return out.get(ValueLayout.ADDRESS, 0);
        }

        private static void check(int status, String function) {
            if (status != dnnl_success()) throw new IllegalStateException(function + " failed with status " + status);
        }
    }

    /** Conv2d 3x3 16->16, padding 1, on [1, 16, 8, 8]: the public layer and the descriptors to create its primitive. */
    @State(Scope.Benchmark)
    public static class Conv {
        Arena arena;
        Conv2d conv;
        Tensor input;
        MemoryDescriptor src, weights, bias, dst;
        PrimitiveAttributes attr;

        @Setup(Level.Trial)
        public void setUp() {
            arena = Arena.ofShared();
            conv = Conv2d.builder(16, 16, 3).padding(1).build();
            input = random(arena, 1, 16, 8, 8);
            conv.forward(input).close();
            src = MemoryDescriptor.f32(ConvOps.rowMajor(4), 1, 16, 8, 8);
            dst = MemoryDescriptor.f32(ConvOps.rowMajor(4), 1, 16, 8, 8);
            weights = MemoryDescriptor.f32(ConvOps.anyFormat(), 16, 16, 3, 3);
            bias = MemoryDescriptor.f32(ConvOps.rowMajor(1), 16);
            attr = PrimitiveAttributes.userScratchpad();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            for (AutoCloseable c : new AutoCloseable[] {src, dst, weights, bias, attr}) close(c);
            conv.close();
            arena.close();
        }
    }

    /** Conv2d(3, 8, 3, padding 1) + ReLU + Flatten + Linear(2048, 10) on [1, 3, 16, 16], eager and compiled. */
    @State(Scope.Benchmark)
    public static class TinyModel {
        Arena arena;
        Sequential model;
        CompiledModel compiled;
        Tensor input, output;

        @Setup(Level.Trial)
        public void setUp() {
            arena = Arena.ofShared();
            model = new Sequential(Conv2d.builder(3, 8, 3).padding(1).build(), new ReLU(), new Flatten(), new Linear(8 * 16 * 16, 10, true));
            input = random(arena, 1, 3, 16, 16);
            compiled = CompiledModel.compile(model, Boolean.getBoolean("pdnn.fastRelu")
                    ? dev.panamadnn.compile.CompileOptions.defaults().withFastRelu(true) : dev.panamadnn.compile.CompileOptions.defaults(),
                    1, 3, 16, 16).warmup();
            output = Tensor.allocate(arena, DataType.F32, compiled.outputShape());
            model.forward(input).close();
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            compiled.close();
            model.close();
            arena.close();
        }
    }

    static Primitive createRelu(Relu r) {
        // oneDNN's own eltwise_relu, as the raw-FFM variant above calls it
        try (PrimitiveDescriptor pd = Ops.eltwise(new Ops.EltwiseOp(dnnl_eltwise_relu(), 0f, 0f), r.desc, r.attr, "bench relu")) {
            return Primitive.create(pd);
        }
    }

    @Benchmark
    public Primitive eltwiseCreate(Relu r) {
        Primitive p = createRelu(r);
        p.close();
        return p;
    }

    @Benchmark
    public MemorySegment eltwiseCreateExecute(Relu r) {
        try (Primitive p = createRelu(r)) {
            p.execute(Args.src(r.desc, r.src), Args.dst(r.desc, r.dst));
        }
        return r.dst;
    }

    @Benchmark
    public MemorySegment eltwiseCached(Relu r) {
        r.eltwise.forward(r.src, r.dst);
        return r.dst;
    }

    @Benchmark
    public MemorySegment eltwiseBound(Relu r) {
        r.bound.execute(r.stream);
        r.stream.await();
        return r.dst;
    }

    @Benchmark
    public int eltwiseBare(Bare b) {
        int s = dnnl_primitive_execute(b.primitive, b.stream, b.nargs, b.args);
        return s | dnnl_stream_wait(b.stream);
    }

    @Benchmark
    public Primitive convCreate(Conv c) {
        try (PrimitiveDescriptor pd = ConvOps.convolution(c.src, c.weights, c.bias, c.dst, new long[] {1, 1}, new long[] {0, 0},
                new long[] {1, 1}, new long[] {1, 1}, c.attr, "bench conv")) {
            Primitive p = Primitive.create(pd);
            p.close();
            return p;
        }
    }

    @Benchmark
    public float convMiss(Conv c) {
        c.conv.weightsChanged();
        try (Tensor y = c.conv.forward(c.input)) {
            return y.segment().getAtIndex(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    @Benchmark
    public float convCached(Conv c) {
        try (Tensor y = c.conv.forward(c.input)) {
            return y.segment().getAtIndex(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    @Benchmark
    public Tensor compiledRun(TinyModel m) {
        m.compiled.run(m.input, m.output);
        return m.output;
    }

    @Benchmark
    public float eagerForward(TinyModel m) {
        try (Tensor y = m.model.forward(m.input)) {
            return y.segment().getAtIndex(ValueLayout.JAVA_FLOAT, 0);
        }
    }

    static Tensor random(Arena arena, long... shape) {
        Tensor t = Tensor.allocate(arena, DataType.F32, shape);
        var rnd = new SplittableRandom(1);
        for (long i = 0; i < t.numel(); i++) t.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) rnd.nextDouble(-1, 1));
        return t;
    }

    private static void close(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
