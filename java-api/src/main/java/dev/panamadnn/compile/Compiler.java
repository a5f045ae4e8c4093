package dev.panamadnn.compile;

import dev.panamadnn.internal.Sizes;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.dnnl.Arg;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.PostOps;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.internal.dnnl.Reorder;
import dev.panamadnn.natives.ThreadControl;
import dev.panamadnn.nn.Layer;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_query_dst_md;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_query_src_md;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_query_weights_md;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lowers a {@link Graph} to a straight list of oneDNN primitives (and Java steps) over numbered
 * buffers: binds the graph to the input shapes, applies the {@link Rewrite} rules (constant
 * folding, batch-norm folding, residual sum and activation fusion, dead values, layout
 * assignment, Winograd selection), then lowers each remaining node by its op in the layouts the
 * {@code assign_layouts} rule decided (see {@link CompiledModel}). Knows ops, never model or
 * module names. Reads the graph's initializers and never writes them: folding works on copies.
 * Single-use and single-threaded; on failure everything it created is closed.
 */
final class Compiler {
    /** Buffer ids that are not plan-owned activation buffers: the caller's input 0 and output 0 (see {@link #inputId}), constants. */
    static final int INPUT = -1000, OUTPUT = -2000, CONSTANT = -3, UNUSED = -4;

    /** The buffer id of the caller's input {@code k} (bound per run). */
    static int inputId(int k) {
        return INPUT - k;
    }

    /** The buffer id of the caller's output {@code k} (bound per run). */
    static int outputId(int k) {
        return OUTPUT - k;
    }

    /** For a caller buffer id: its index among the caller's inputs then outputs ({@code inputs + k} for output k); -1 for others. */
    static int callerIndex(int buffer, int inputs) {
        if (buffer <= INPUT && buffer > OUTPUT) return INPUT - buffer;
        if (buffer <= OUTPUT && buffer > OUTPUT - 1000) return inputs + OUTPUT - buffer;
        return -1;
    }

    /** An activation: its layout (owned by the plan), the logical buffer holding it, its logical shape. */
    record Value(MemoryDescriptor md, int buffer, long[] shape) {}

    /**
     * One primitive execution: per argument its id, layout, and buffer (logical id, or CONSTANT with the segment);
     * {@code fast}, if not null, the same step with its activation in oneDNN's NaN-dropping form ({@link FiniteBounds}).
     */
    record Step(Primitive primitive, List<PlanArg> args, String description, Winograd.Conv winograd, JavaStep java, Fast fast) {
        Step(Primitive primitive, List<PlanArg> args, String description, Winograd.Conv winograd, JavaStep java) {
            this(primitive, args, description, winograd, java, null);
        }
    }

    /**
     * A step's alternative primitive (same arguments and layouts; oneDNN's own {@code relu} or {@code clip}
     * instead of the NaN-keeping formulation), run when every F32 input of the run is finite and at most
     * {@code maxInputBits} (float bits, compared as ints: {@link FiniteBounds#maxAbsBits}) in magnitude.
     */
    record Fast(Primitive primitive, int maxInputBits) {}

    /**
     * One argument of a step: its {@code DNNL_ARG_*} id ({@link Args}), its layout, and where its memory is: a
     * logical buffer (or {@link #INPUT} / {@link #OUTPUT}), or {@link #CONSTANT} with the segment. Absent if {@code md} is null.
     */
    record PlanArg(int id, MemoryDescriptor md, int buffer, MemorySegment constant) {
        static PlanArg of(int id, MemoryDescriptor md, int buffer) {
            return new PlanArg(id, md, buffer, null);
        }

        static PlanArg constant(int id, MemoryDescriptor md, MemorySegment segment) {
            return new PlanArg(id, md, CONSTANT, segment);
        }

        /** The runtime argument: {@code memory} for a buffer (null: bound per run), the constant otherwise. */
        Arg toArg(MemorySegment memory) {
            return new Arg(id, md, buffer == CONSTANT ? constant : memory);
        }
    }

    private static final java.util.concurrent.atomic.AtomicBoolean WINOGRAD_OFF_LOGGED = new java.util.concurrent.atomic.AtomicBoolean();

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
    final List<Step> steps = new ArrayList<>();
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
    /** The integer (I64/I32) graph inputs by name, and their index: read only by steps that take them ({@link LowerIndex}). */
    final Map<String, Integer> integerInputs = new HashMap<>();
    private int nodeIndex;

    /** Builds the steps for {@code source} on inputs of {@code inputShapes} (one per graph input, in order). */
    /**
     * Refuses a graph (bound to its shapes) with a dimension past {@link Sizes#MAX_DNNL_DIM}, or a rank past
     * {@link Sizes#MAX_DNNL_RANK}, in an input or a node's output, naming it: oneDNN's kernels keep sizes in
     * {@code int}, and a convolution's creation divides by a batch of 2^32 truncated to 0 (SIGFPE, measured).
     */
    static void refuseOversizedDims(Graph bound) {
        for (dev.panamadnn.graph.Value v : bound.inputs()) {
            if (v.shape().isFixed()) Sizes.dnnlDims("graph " + bound.name() + ", input " + v.name(), "shape", v.shape().sizes());
        }
        for (Node n : bound.nodes()) {
            for (String o : n.outputs()) {
                if (o == null || o.isEmpty()) continue;
                dev.panamadnn.graph.Shape shape = bound.value(o).shape();
                if (shape.isFixed()) Sizes.dnnlDims("graph " + bound.name() + ", node " + n.name() + " (" + n.op() + ")", "output " + o, shape.sizes());
            }
        }
    }

    void compile(Graph source, long[]... inputShapes) {
        if (options.winograd() && options.layout() == CompileOptions.Layout.CHANNELS_LAST && !Winograd.available()
                && WINOGRAD_OFF_LOGGED.compareAndSet(false, true)) {
            System.getLogger("dev.panamadnn.compile").log(System.Logger.Level.INFO, "Winograd convolutions are off: the JVM runs without "
                    + "jdk.incubator.vector; start it with --add-modules jdk.incubator.vector to run 3x3 convolutions as Winograd F(4x4, 3x3)");
        }
        Graph bound = source.bind(inputShapes);
        refuseOversizedDims(bound);
        inputs = bound.inputs();
        outputs = bound.outputs().stream().map(bound::value).toList();
        graph = new PlanGraph(bound);
        for (Rewrite r : Rewrite.all()) {
            if (r.enabled(options) && !options.disabledRules().contains(r.name())) r.apply(graph, options);
        }
        fired.addAll(graph.fired);
        for (int k = 0; k < inputs.size(); k++) {
            dev.panamadnn.graph.Value v = inputs.get(k);
            if (v.dtype() != dev.panamadnn.DataType.F32) {   // read by shape computations (folded) or an embedding lookup, else refused by in()
                if (v.dtype() == dev.panamadnn.DataType.I64 || v.dtype() == dev.panamadnn.DataType.I32) integerInputs.put(v.name(), k);
                if (LowerCarried.CONVERTED_INPUTS.contains(v.dtype()) && graph.uses(v.name()) > 0) values.put(v.name(), LowerCarried.convertInput(this, k, v));
                continue;
            }
            long[] shape = v.shape().sizes();
            values.put(v.name(), new Value(own(MemoryDescriptor.f32(Ops.plain(shape.length), shape)), inputId(k), shape));
        }
        for (nodeIndex = 0; nodeIndex < graph.nodes.size(); nodeIndex++) {
            Node n = graph.nodes.get(nodeIndex);
            PlanIO.refuseEmpty(graph, n);
            List<Value> out;
            try {
                out = LowerRecurrent.handles(n) ? LowerRecurrent.lower(this, n)
                        : n.outputs().size() == 1 ? List.of(lower(n)) : LowerIndex.lowerMulti(this, n);
            } catch (ArithmeticException overflow) {   // a count past what a step indexes (a Java step's element map, an int size)
                throw new IllegalArgumentException("graph " + bound.name() + ", node " + n.name() + " (" + n.op() + "): sizes too large to compile"
                        + " (outputs " + n.outputs().stream().filter(o -> o != null && !o.isEmpty()).map(o -> o + " " + graph.shape(o)).toList()
                        + "): " + overflow.getMessage(), overflow);
            }
            for (int i = 0; i < out.size(); i++) values.put(n.outputs().get(i), out.get(i));
            for (int i = 0; i < out.size(); i++) concats.placeInRegion(n.outputs().get(i), out.get(i));
        }
        for (int k = 0; k < outputs.size(); k++) PlanOutputs.write(this, k);
        constants.endCompile();
        // The plan keeps this object (its steps, buffers, native objects) for its life; the rewritten graph - its folded
        // constants are heap arrays, 74 MB for VGG-11-BN - and the lowering's maps were needed only to build the steps.
        graph = null;
        values.clear();
        reordered.clear();
    }

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

    <T extends AutoCloseable> T own(T t) {
        owned.add(t);
        return t;
    }

    // ---- dispatch by op ---------------------------------------------------------------------

    private Value lower(Node n) {
        String op = n.op();
        Act act = Act.of(op, n.attributes(), "", n.name());
        if (act != null) return LowerOps.eltwise(this, n, act, in(n, 0), n.name());
        if (op.equals("ConvTranspose")) {
            Value deconv = LowerConvTranspose.lower(this, n);   // else (a geometry oneDNN mishandles) the eager layer below
            if (deconv != null) return deconv;
        }
        return switch (op) {
            case "Conv" -> LowerConv.conv(this, n);
            case "BatchNormalization" -> LowerOps.batchNorm(this, n);
            case "MaxPool" -> LowerPool.maxPool(this, n);
            case "AveragePool" -> LowerPool.avgPool(this, n);
            case "GlobalAveragePool" -> LowerPool.adaptiveAvgPool(this, n, new long[] {1, 1});
            case "AdaptiveAvgPool" -> LowerPool.adaptiveAvgPool(this, n, n.attributes().integers("output_size"));
            case "Flatten" -> LowerOps.flatten(this, n);
            case "Gemm" -> LowerOps.gemm(this, n);
            case "Add" -> LowerMath.lower(this, n);
            case "Identity" -> in(n, 0);
            case "Pad" -> LowerOps.pad(this, n);
            case "Reshape" -> asShape(in(n, 0), graph.value(n.output()).shape().sizes(), n.name());
            case "ChannelShuffle" -> LowerMatMul.channelShuffle(this, n);
            case "Layer" -> {
                if (!(n.attributes().module("module") instanceof Layer layer)) throw unsupported(n, "its module is not a Layer");
                yield LowerOps.javaStep(this, n, layer);
            }
            default -> {
                Value index = LowerIndex.lower(this, n);   // the index/shape ops (Concat, Split, Slice, Gather, Expand, Where...)
                if (index != null) yield index;
                Value math = LowerMath.lower(this, n);   // the math ops (LowerMath.OPS)
                if (math != null) yield math;
                Layer eager = EagerNodes.layerFor(n, graph);
                if (eager == null) {
                    throw unsupported(n, "op " + op + " is not compiled yet (compiled: Conv, BatchNormalization, MaxPool, AveragePool, "
                            + "GlobalAveragePool, AdaptiveAvgPool, Flatten, Reshape, Squeeze, Unsqueeze, Pad, Gemm, Add, LSTM, GRU, Identity, Relu, LeakyRelu, "
                            + "Sigmoid, Tanh, Elu, Gelu, Silu, " + String.join(", ", new java.util.TreeSet<>(LowerMath.OPS))
                            + "; Concat, Split, Slice, Gather, Expand, Where, AdaptiveMaxPool, ConvTranspose and Layer nodes as Java steps)");
                }
                yield LowerOps.javaStep(this, n, own(eager));
            }
        };
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

    /** The activation fused into {@code n}, or null. */
    static Act fusedAct(Node n) {
        Attributes a = n.attributes();
        return a.has(PlanGraph.ACTIVATION) ? Act.of(a.string(PlanGraph.ACTIVATION), a, PlanGraph.ACTIVATION + ".", n.name()) : null;
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

    /** Whether a node after the current one (or the graph's output) reads plan buffer {@code buffer}, through any value. */
    boolean readLater(int buffer) {
        for (int i = nodeIndex + 1; i < graph.nodes.size(); i++) {
            for (String in : graph.nodes.get(i).inputs()) {
                Value v = values.get(in);
                if (v != null && v.buffer() == buffer) return true;
            }
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

    /** The oneDNN formulation of {@code act} in this plan: {@link Ops#eltwise(String, float)}, or oneDNN's relu with {@code fastRelu}. */
    Ops.EltwiseOp eltwiseOp(Act act) {
        return eltwiseOp(act, options.fastRelu());
    }

    private static Ops.EltwiseOp eltwiseOp(Act act, boolean fast) {
        return fast && act.isPlainRelu() ? Ops.fastRelu() : Ops.eltwise(act.kind(), act.alpha());
    }

    /**
     * {@code act} as the eltwise post-ops to append: none for null, one, or for a fused Clip {@link Ops#clampKeepingNaN}'s four
     * (with {@code fastRelu}: oneDNN's own clip, one operation that turns NaN into the lower bound).
     */
    java.util.List<Ops.EltwiseOp> eltwiseOps(Act act) {
        return eltwiseOps(act, options.fastRelu());
    }

    private static java.util.List<Ops.EltwiseOp> eltwiseOps(Act act, boolean fast) {
        if (act == null) return java.util.List.of();
        if (!act.kind().equals("CLIP")) return java.util.List.of(eltwiseOp(act, fast));
        return fast ? java.util.List.of(dev.panamadnn.internal.dnnl.MathOps.unary("Clip", 0, act.beta())) : Ops.clampKeepingNaN(act.beta());
    }

    /**
     * A primitive descriptor made by {@code make} with the post-ops {@code before} appends, then {@code ops}
     * (a user scratchpad, as every plan primitive has).
     */
    static PrimitiveDescriptor withPostOps(java.util.function.Consumer<PostOps> before, java.util.List<Ops.EltwiseOp> ops,
                                           java.util.function.Function<PrimitiveAttributes, PrimitiveDescriptor> make) {
        try (PostOps post = PostOps.create()) {
            before.accept(post);
            ops.forEach(post::eltwise);
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(post)) {
                return make.apply(attr);
            }
        }
    }

    /**
     * The fast variant of node {@code n}'s step (made by {@code make} from the activation's eltwise ops, as
     * {@code primary} was from {@link #eltwiseOps(Act)}), or null: only where {@link FiniteBounds} proved the step
     * NaN-free for bounded finite inputs (it considers only activations with a cheaper, NaN-dropping oneDNN form,
     * and no Winograd convolution); also null if oneDNN would pick other layouts for it (the step's buffers are shared).
     */
    Fast fastVariant(Node n, Act act, java.util.function.Function<java.util.List<Ops.EltwiseOp>, PrimitiveDescriptor> make,
                     PrimitiveDescriptor primary) {
        Integer bits = graph.fastInputBits.get(n.name());
        if (bits == null) return null;
        try (PrimitiveDescriptor pd = make.apply(eltwiseOps(act, true))) {
            for (int what : new int[] {dnnl_query_src_md(), dnnl_query_weights_md(), dnnl_query_dst_md()}) {
                if (!primary.sameMemory(pd, what, 0)) return null;
            }
            if (!primary.sameMemory(pd, dnnl_query_src_md(), 1)) return null;   // a binary primitive's second operand
            return new Fast(own(Primitive.create(pd)), bits);
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
        steps.add(new Step(null, List.of(), description, null,
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

    /**
     * Reorders weights once, now. The eager execution it uses sets this thread's OpenMP team to the
     * global count; the plan's count is put back, since oneDNN sizes every primitive created
     * afterwards (their work split, baked in) by the creating thread's team.
     */
    void reorderOnce(MemoryDescriptor from, MemorySegment src, MemoryDescriptor to, MemorySegment dst, String what) {
        Reorder.once(from, src, to, dst, what);
        if (threads > 0) ThreadControl.applyToCurrentThread(threads);
    }

    /** {@code values}, laid out as {@code from}, reordered once ({@link #reorderOnce}) into new plan constants in layout {@code to}. */
    MemorySegment reorderedConstant(MemoryDescriptor from, float[] values, MemoryDescriptor to, String what) {
        return constants.shared(to.byteSize(), dst -> reorderOnce(from, constants.staged(values), to, dst, what));
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
        List<Value> copies = reordered.computeIfAbsent(x, v -> new ArrayList<>());
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

    /** A step with its {@link #fastVariant} (or null). */
    void emit(Primitive p, Fast fast, String description, PlanArg... args) {
        List<PlanArg> present = new ArrayList<>();
        for (PlanArg a : args) {
            if (a.md() == null) continue;
            touch(a.buffer());
            present.add(a);
        }
        String d = fast == null ? description : description + " (fast when |inputs| <= " + Float.intBitsToFloat(fast.maxInputBits()) + ")";
        steps.add(new Step(p, List.copyOf(present), d, null, null, fast));
    }

    /** A Winograd step: its matmul's arguments (transformed input, weights, products), plus the activations it reads and writes. */
    void emitWinograd(Primitive p, String description, Winograd.Conv conv, PlanArg src, PlanArg weights, PlanArg dst) {
        for (int b : new int[] {src.buffer(), dst.buffer(), conv.input(), conv.output()}) touch(b);
        steps.add(new Step(p, List.of(src, weights, dst), description, conv, null));
    }

    /** Marks plan buffer {@code b} (ids below 0 are not plan buffers) as used by the step about to be added. */
    void touch(int b) {
        if (b < 0) return;
        BufferAssignment.Buffer buf = buffers.get(b);
        buffers.set(b, new BufferAssignment.Buffer(buf.bytes(), buf.first() < 0 ? steps.size() : buf.first(), steps.size()));
    }

    /** Whether a Winograd or Java step reads or writes plan buffer {@code b} (those are never bound to the caller's tensors). */
    boolean customStepUses(int b) {
        for (Step st : steps) {
            if (st.winograd() != null && (st.winograd().input() == b || st.winograd().output() == b)) return true;
            if (st.java() != null && st.java().uses(b)) return true;
        }
        return false;
    }
}
