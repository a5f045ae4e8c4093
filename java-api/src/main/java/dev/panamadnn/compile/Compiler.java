package dev.panamadnn.compile;

import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.Reorder;
import dev.panamadnn.natives.ThreadControl;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The plan builder: the mutable state of one compile - the values lowered so far (layout, buffer, shape), the logical
 * buffers with the steps that use them, the steps ({@link PlanStep}), the constants ({@link PlanConstants}) and every
 * native object created - and the operations the {@code Lower*} classes build steps with (inputs, reorders, views,
 * Java steps, {@code emit}). {@link LowerGraph} drives it; {@link CompiledModel} keeps it as the plan's immutable
 * steps, buffers and constants once built (the lowering's maps are cleared). Single-use and single-threaded; on
 * failure everything it created is closed ({@link #closeAll()}).
 */
final class Compiler {
    /** An activation: its layout (owned by the plan), the logical buffer holding it, its logical shape. */
    record Value(MemoryDescriptor md, int buffer, long[] shape) {}

    final CompileOptions options;
    /** The plan's intra-op threads (0: OpenMP's default), in force on this thread while primitives are created. */
    private final int threads;
    /** Multiply-adds x 2 of every convolution and inner product in the plan. */
    long flops;

    /** {@return the plan's intra-op threads (0: OpenMP's default)} */
    int threads() {
        return threads;
    }

    Compiler(CompileOptions options, int threads, SharedConstants shared) {
        this.options = options;
        this.threads = threads;
        this.constants = new PlanConstants(shared);
    }

    final List<AutoCloseable> owned = new ArrayList<>();
    final PlanConstants constants;
    final List<PlanStep> steps = new ArrayList<>();
    /** Per logical buffer: its bytes and the first and last step using it. */
    final List<BufferAssignment.Buffer> buffers = new ArrayList<>();
    /** The inputs and outputs, with their concrete shapes (the bound graph's values). */
    List<dev.panamadnn.graph.Value> inputs, outputs;
    /** The logical buffer bound to the caller's output 0 instead of a plan buffer, or -1. */
    int outputAlias = -1;
    /** Where each rule fired, in order. */
    final List<String> fired = new ArrayList<>();

    PlanGraph graph;
    final Map<String, Value> values = new HashMap<>();
    /** For {@link #readLater}: each value's last reading node, by index in {@link #graph}'s nodes (built at the first question). */
    private Map<String, Integer> lastReaders;
    private List<Node> lastReadersOf;
    private int lastReadersCount;
    /** The integer (I64/I32) graph inputs by name, and their index: read only by steps that take them ({@link LowerIndex}). */
    final Map<String, Integer> integerInputs = new HashMap<>();
    /** The node being lowered (its index in {@code graph.nodes}). */
    int nodeIndex;

    /** Closes what was created, newest first. */
    void closeAll() {
        List<AutoCloseable> all = new ArrayList<>(owned);
        Collections.reverse(all);
        RuntimeException failure = null;
        for (AutoCloseable c : all) {
            try {
                c.close();
            } catch (Exception e) {
                if (failure == null) failure = new IllegalStateException("CompiledModel: closing a native object failed", e);
            }
        }
        owned.clear();
        constants.close();
        if (failure != null) throw failure;
    }

    /** The steps' pending fast variants ({@link FusedActivation#fastVariant}), for {@link DeferredProof}. */
    final List<PlanStep.Fast> pendingFasts = new ArrayList<>();
    /** The proof of {@link #pendingFasts}, set at the end of the lowering where there are any; null otherwise. */
    DeferredProof proof;

    /** A pending fast variant for node {@code node}'s step ({@code pending} null: the step is skipped once proven). */
    PlanStep.Fast pendingFast(String node, FusedActivation.Pending pending) {
        PlanStep.Fast f = new PlanStep.Fast(node, pending);
        pendingFasts.add(f);
        return f;
    }

    <T extends AutoCloseable> T own(T t) {
        owned.add(t);
        return t;
    }

    Value in(Node n, int i) {
        Value v = values.get(n.input(i));
        if (v != null && concats.isView(v) && !(i == 0 && (n.op().equals("Conv") || n.op().equals("BatchNormalization")))) {
            return concats.dense(v);   // the readers that take a view of a concat's channels (ConcatInPlace) are the convolution and batch norm
        }
        if (v != null && graph.value(n.input(i)).dtype() != dev.panamadnn.DataType.F32 && !LowerCarried.reads(n.op())) {
            throw unsupported(n, "input '" + n.input(i) + "' is " + graph.value(n.input(i)).dtype() + " computed at run time (held as exact F32 "
                    + "values); only " + LowerCarried.READERS + " read such values");
        }
        if (v == null && integerInputs.containsKey(n.input(i)) && LowerCarried.reads(n.op())) {   // held as exact F32 values, converted once
            v = LowerCarried.convertInput(this, integerInputs.get(n.input(i)), graph.value(n.input(i)));
            values.put(n.input(i), v);
        }
        if (v == null && graph.isConstant(n.input(i))) v = constantActivation(n.input(i));
        if (v == null) {
            dev.panamadnn.graph.Value gv = graph.value(n.input(i));
            throw unsupported(n, "input '" + n.input(i) + "' " + (gv.dtype() != dev.panamadnn.DataType.F32
                    ? "is " + gv.dtype() + " and computed at run time; a plan computes on F32 values (other dtypes only in shape computations known when compiling)"
                    : "is a constant; only weights may be constants"));
        }
        return v;
    }

    /**
     * An F32 constant read where an activation is expected (a Cos of a constant range: what an exporter left
     * unfolded, or a graph whose inputs were all bound): copied from the plan's constants into a buffer of its
     * own by a step at this point of every run, once per value. Null for other dtypes and for scalars (rank 0).
     */
    private Value constantActivation(String name) {
        dev.panamadnn.graph.Value gv = graph.value(name);
        if (gv.dtype() != dev.panamadnn.DataType.F32 || !gv.shape().isFixed() || gv.shape().rank() == 0) return null;
        long[] shape = gv.shape().sizes();
        MemoryDescriptor md = own(MemoryDescriptor.f32(Ops.plain(shape.length), shape));
        int out = newBuffer(md.byteSize());
        emit(own(Reorder.primitive(md, md, "copy of constant " + name)), "copy of constant " + name,
                PlanArg.constant(Args.FROM, md, constant(graph.floats(name))), PlanArg.of(Args.TO, md, out));
        Value v = new Value(md, out, shape);
        values.put(name, v);
        return v;
    }

    static String label(Node n) {
        return n.name() + n.attributes().string(PlanGraph.FUSED, "");
    }

    static UnsupportedOperationException unsupported(Node n, String why) {
        return new UnsupportedOperationException("CompiledModel: cannot compile node " + n.label() + ": " + why);
    }

    static void require4d(Value x, Node n) {
        if (x.shape().length != 4) {
            throw unsupported(n, "compiled on 4-D [N, C, H, W] activations, got shape " + Arrays.toString(x.shape()));
        }
    }

    /**
     * Whether a node after the current one (or the graph's output) reads plan buffer {@code buffer}, through any value: a
     * value lowered so far in that buffer whose last reader comes after the current node. (Was a scan of every later node
     * per question, quadratic in an unrolled loop's thousands of in-place sums.)
     */
    boolean readLater(int buffer) {
        if (lastReaders == null || lastReadersOf != graph.nodes || lastReadersCount != graph.nodes.size()) {
            lastReaders = new HashMap<>();
            for (int i = 0; i < graph.nodes.size(); i++) for (String in : graph.nodes.get(i).inputs()) if (!in.isEmpty()) lastReaders.put(in, i);
            lastReadersOf = graph.nodes;
            lastReadersCount = graph.nodes.size();
        }
        for (Map.Entry<String, Value> e : values.entrySet()) {
            if (e.getValue().buffer() != buffer) continue;
            Integer last = lastReaders.get(e.getKey());
            if (last != null && last > nodeIndex) return true;
        }
        for (String o : graph.source.outputs()) {
            Value out = values.get(o);
            if (out != null && out.buffer() == buffer) return true;
        }
        return false;
    }

    // ---- operations ---------------------------------------------------------------------------

    boolean isPlain(Value x) {
        try (MemoryDescriptor plain = MemoryDescriptor.f32(Ops.plain(x.shape().length), x.shape())) {
            return x.md().sameLayoutAs(plain);
        }
    }

    /** Whether a 4-D activation layout is {@code nhwc}, the one the Winograd transforms read and write. */
    static boolean isChannelsLast(MemoryDescriptor md, long[] shape) {
        try (MemoryDescriptor nhwc = MemoryDescriptor.f32(ConvOps.channelsLast4d(), shape)) {
            return md.sameLayoutAs(nhwc);
        }
    }

    /**
     * {@code x} as the 4-D activation a 2-D oneDNN convolution or pooling reads: a 1-D one
     * ({@code [N, C, L]}) is viewed as {@code [N, C, 1, L]} (the same bytes in plain layout).
     */
    Value spatial2d(Node n, Value x) {
        long[] logical = graph.shape(n.input(0)).sizes();
        if (logical.length == 3) return asShape(x, as2d(logical), "view of " + n.input(0) + " as 2-D");
        if (logical.length != 4) throw unsupported(n, "compiled on [N, C, L] or [N, C, H, W] activations, got " + Arrays.toString(logical));
        return x;
    }

    /** The input of a convolution: {@link #spatial2d}'s, or a 3-D convolution's {@code [N, C, D, H, W]} as it is. */
    Value spatial(Node n, Value x) {
        return graph.shape(n.input(0)).sizes().length == 5 ? x : spatial2d(n, x);
    }

    /** A 3-D shape {@code [a, b, c]} as {@code [a, b, 1, c]}; other ranks unchanged. */
    static long[] as2d(long[] shape) {
        return shape.length == 3 ? new long[] {shape[0], shape[1], 1, shape[2]} : shape;
    }

    /**
     * {@code x} with the dims {@code shape} (same element count): itself if it has them, else its
     * plain layout viewed with them (a reorder to plain first if it is blocked).
     */
    Value asShape(Value x, long[] shape, String what) {
        if (Arrays.equals(x.shape(), shape)) return x;
        Value p = plain(x, "reorder to plain for " + what);
        return new Value(own(MemoryDescriptor.f32(Ops.plain(shape.length), shape)), p.buffer(), shape);
    }

    /**
     * The input of a Java step: in a plan buffer (a copy when it is the caller's input, so a Java
     * step only ever reads and writes plan memory), plain, with the dims of its graph value.
     */
    Value javaInput(Node n) {
        Value x = in(n, 0);
        if (x.buffer() < 0) {
            x = reorder(x, own(MemoryDescriptor.f32(Ops.plain(x.shape().length), x.shape())), "reorder (copy) of the input for " + n.name());
        }
        return plain(asShape(x, graph.shape(n.input(0)).sizes(), n.input(0)), "reorder to plain for " + n.name());
    }

    /** A Java step reading {@code x} (plain, in a plan buffer) and writing a new plain buffer of {@code outShape}. */
    Value javaStep(Value x, long[] outShape, JavaStep.Kernel kernel, String description) {
        MemoryDescriptor dst = own(MemoryDescriptor.f32(Ops.plain(outShape.length), outShape));
        int out = newBuffer(Math.max(4, dst.byteSize()));
        touch(x.buffer());
        touch(out);
        steps.add(new PlanStep(null, List.of(), description, null,
                new JavaStep((src, d) -> kernel.run(src[0], d[0]), new int[] {x.buffer()}, new long[][] {x.shape()}, new int[] {out},
                        new long[][] {outShape})));
        return new Value(dst, out, outShape);
    }

    /** {@code x} in the plain (row-major) layout: itself, or a reorder. */
    Value plain(Value x, String what) {
        MemoryDescriptor plain = own(MemoryDescriptor.f32(Ops.plain(x.shape().length), x.shape()));
        return x.md().sameLayoutAs(plain) ? x : reorder(x, plain, what);
    }

    MemorySegment constant(float[] values) {
        return constants.of(values);
    }

    /** {@code values}, laid out as {@code from}, reordered once into new plan constants in layout {@code to} ({@link #reorderedConstant(MemoryDescriptor, PlanGraph.ConstantSource, MemoryDescriptor, String)}). */
    MemorySegment reorderedConstant(MemoryDescriptor from, float[] values, MemoryDescriptor to, String what) {
        return reorderedConstant(from, PlanGraph.ConstantSource.of(values), to, what);
    }

    /**
     * A constant's values ({@link PlanGraph#source}), laid out as {@code from}, reordered once, now, into new plan
     * constants in layout {@code to}, its per-slice scales applied by the reorder. The reorder runs on a team of one
     * ({@link Reorder#once}); the plan's count is put back, since oneDNN sizes every primitive created afterwards (their
     * work split, baked in) by the creating thread's team.
     */
    MemorySegment reorderedConstant(MemoryDescriptor from, PlanGraph.ConstantSource values, MemoryDescriptor to, String what) {
        return constants.shared(to.byteSize(), new java.util.function.Consumer<MemorySegment>() {   // not a lambda: a spun class in a cold JVM
            @Override
            public void accept(MemorySegment dst) {
                Reorder.once(from, constants.staged(values), to, dst, values.scales(), what);
                if (threads > 0) ThreadControl.applyToCurrentThread(threads);
            }
        });
    }

    /** Where {@link ConcatInPlace} placed values: in a concat root's buffer. */
    final ConcatPlacement concats = new ConcatPlacement(this);

    /** Per activation (by identity): the copies already reordered into other layouts. */
    final IdentityHashMap<Value, List<Value>> reordered = new IdentityHashMap<>();

    /**
     * {@code x} in layout {@code to}, through a reorder step; a value that two consumers need in the
     * same layout (a block's input, read by its first convolution and its downsample) is reordered once.
     */
    Value reorder(Value x, MemoryDescriptor to, String what) {
        List<Value> copies = reordered.get(x);
        if (copies == null) reordered.put(x, copies = new ArrayList<>());
        for (Value c : copies) {
            if (c.md().sameLayoutAs(to)) return c;
        }
        Primitive p = own(Reorder.primitive(x.md(), to, what));
        int out = newBuffer(to.byteSize());
        emit(p, what, PlanArg.of(Args.FROM, x.md(), x.buffer()), PlanArg.of(Args.TO, to, out));
        Value y = new Value(to, out, x.shape());
        copies.add(y);
        return y;
    }

    /** A fresh copy of {@code x} in layout {@code to} (not shared with other readers: it will be overwritten). */
    Value copy(Value x, MemoryDescriptor to, String what) {
        Primitive p = own(Reorder.primitive(x.md(), to, what));
        int out = newBuffer(to.byteSize());
        emit(p, what, PlanArg.of(Args.FROM, x.md(), x.buffer()), PlanArg.of(Args.TO, to, out));
        return new Value(to, out, x.shape());
    }

    // ---- buffers --------------------------------------------------------------------------------

    int newBuffer(long bytes) {
        buffers.add(new BufferAssignment.Buffer(bytes, -1, -1));
        return buffers.size() - 1;
    }

    void emit(Primitive p, String description, PlanArg... args) {
        emit(p, null, description, args);
    }

    /** A step with its {@link FusedActivation#fastVariant} (or null). */
    void emit(Primitive p, PlanStep.Fast fast, String description, PlanArg... args) {
        List<PlanArg> present = new ArrayList<>();
        for (PlanArg a : args) {
            if (a.md() == null) continue;
            touch(a.buffer());
            present.add(a);
        }
        steps.add(new PlanStep(p, List.copyOf(present), description, null, null, fast));
    }

    /** A Winograd step: its matmul's arguments (transformed input, weights, products), plus the activations it reads and writes. */
    void emitWinograd(Primitive p, String description, Winograd.Conv conv, PlanArg src, PlanArg weights, PlanArg dst) {
        for (int b : new int[] {src.buffer(), dst.buffer(), conv.input(), conv.output()}) touch(b);
        steps.add(new PlanStep(p, List.of(src, weights, dst), description, conv, null));
    }

    /** A GRU's loop of convolution steps ({@link LowerRecurrentSteps}): reads and writes only plan buffers, its own. */
    void emitLoop(LowerRecurrentSteps.Loop loop, String description) {
        for (int b : loop.buffers()) touch(b);
        steps.add(new PlanStep(null, List.of(), description, null, null, null, loop));
    }

    /** Marks plan buffer {@code b} (ids below 0 are not plan buffers) as used by the step about to be added. */
    void touch(int b) {
        if (b < 0) return;
        BufferAssignment.Buffer buf = buffers.get(b);
        buffers.set(b, new BufferAssignment.Buffer(buf.bytes(), buf.first() < 0 ? steps.size() : buf.first(), steps.size()));
    }

    /** Whether a Winograd, Java or loop step reads or writes plan buffer {@code b} (those are never bound to the caller's tensors). */
    boolean customStepUses(int b) {
        for (PlanStep st : steps) {
            if (st.winograd() != null && (st.winograd().input() == b || st.winograd().output() == b)) return true;
            if (st.java() != null && st.java().uses(b)) return true;
            if (st.loop() != null && st.loop().uses(b)) return true;
        }
        return false;
    }
}
