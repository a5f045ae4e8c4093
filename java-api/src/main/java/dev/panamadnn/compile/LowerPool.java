package dev.panamadnn.compile;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.dnnl.Chosen;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.MathOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.NormOps;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.PoolOps;
import dev.panamadnn.internal.dnnl.PostOps;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.nn.Layer;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.lowering.PoolLowering;
import dev.panamadnn.internal.reference.MaxPoolTaps;
import static dev.panamadnn.compile.PlanArg.CONSTANT;

/**
 * The lowering of the pooling nodes ({@code MaxPool}, {@code AveragePool}, {@code GlobalAveragePool},
 * {@code AdaptiveAvgPool} with divisible sizes): oneDNN pooling with PyTorch's ceil-mode window and
 * -inf for max-pooling windows wholly in the padding.
 */
final class LowerPool {
    private LowerPool() {}

    static Value maxPool(Compiler plan, Node n) {
        Value x = plan.spatial(n, plan.in(n, 0));
        long[] outShape = Compiler.as2d(plan.graph.value(n.output()).shape().sizes());
        PoolLowering w = window(plan, n, true, false, x.shape(), outShape);
        String at = n.name();
        // oneDNN's kernels take at most 2^31 - 1 per dimension; the mask below is a Java array of the output's spatial size.
        long[] dims = Arrays.copyOf(x.shape(), x.shape().length + outShape.length - 2);
        System.arraycopy(outShape, 2, dims, x.shape().length, outShape.length - 2);
        Sizes.dnnlDims("MaxPool at " + at, "the input and output [N, C, spatial...]", dims);
        Sizes.arrayLength("MaxPool at " + at, "the padding-window mask (the output's spatial size)",
                Sizes.multiply("MaxPool at " + at, "the output's spatial size", spatialSize(outShape), 1));
        return pool(plan, n, w, x, outShape, "maxpool " + at, paddingOnlyWindows(w), !plan.options.fastRelu());   // fastRelu drops NaN
    }

    /**
     * PyTorch's NaN for the max pooling {@code y} of {@code x}: oneDNN's maximum skips NaN, so a window with a NaN gave its
     * largest other value (a NaN pixel through a ResNet gave finite logits where PyTorch gives NaN). Three steps after the
     * pooling add {@code 0 * avgpool(tanh(x))} to {@code y} in place: the tanh keeps NaN and sends +-inf to +-1, so the
     * average (padding counted as 0: never 0/0) is NaN exactly where a window holds a NaN, and 0 times it is 0 or NaN;
     * adding 0 leaves the maximum bit for bit, infinities included. (A separate binary step, not a post-op of the pooling:
     * oneDNN 3.13's jit pooling read a binary post-op's operand wrongly past the first image in the plain layout.)
     * Where {@code fast_when_finite} proved the pooling's input NaN-free for finite runs within a bound
     * ({@link FiniteBounds}), the three steps are skipped on such runs: the cost (about two passes over the input and one
     * over the output) is paid only on runs whose inputs hold a NaN, an infinity or a value past the bound, or on every
     * run for a pooling the bounds do not reach.
     *
     * <p>Where the pooling's input is never below 0 ({@link FiniteBounds#nonNegativeResult}: a ReLU's output, which holds
     * values in [0, +inf] or NaN, never -inf), the average of the raw input is already NaN exactly where a window holds a
     * NaN (a sum of values in [0, +inf] is never inf - inf), and its post-ops {@code 0 * 1 / (a + 1)} send [0, +inf] to
     * 0 and keep NaN: two steps instead of three, and no pass over the full-size input into a buffer of its own (ResNet-18's
     * stem at batch 16 on a 2-vCPU AMD VM: the tanh pass 30 ms and the average 2.6 ms of a first run's 400 before, the
     * average with these post-ops 5.6-7.3 ms now; with a tanh post-op instead 11.3).
     */
    private static void keepNaN(Compiler plan, Node n, PoolLowering w, Value x, MemoryDescriptor dst, int y) {
        Integer bits = plan.graph.fastInputBits.get(n.name());
        PlanStep.Fast skip = plan.graph.fastPending.contains(n.name()) ? plan.pendingFast(n.name(), null)
                : bits == null ? null : new PlanStep.Fast(null, bits);
        String what = "NaN mask of maxpool " + n.name();
        boolean nonNegative = plan.graph.nonNegative().contains(n.input(0));
        int t = x.buffer();
        if (!nonNegative) {
            Primitive tanh;
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
                 PrimitiveDescriptor pd = Ops.eltwise(Ops.eltwise("TANH", 0f), x.md(), attr, "compiled " + what)) {
                tanh = plan.own(Primitive.create(pd));
            }
            t = plan.newBuffer(x.md().byteSize());
            plan.emit(tanh, skip, "eltwise tanh (" + what + ")", PlanArg.of(Args.SRC, x.md(), x.buffer()), PlanArg.of(Args.DST, x.md(), t));
        }
        Primitive avg;
        String impl;
        try (PostOps post = PostOps.create()) {
            if (nonNegative) post.eltwise(MathOps.unary("Linear", 1, 1)).eltwise(MathOps.unary("Reciprocal", 0, 0));   // 1 / (x + 1)
            post.eltwise(MathOps.unary("Linear", 0, 0));
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(post);
                 PrimitiveDescriptor pd = PoolOps.pooling(PoolOps.Algorithm.AVG_INCLUDE_PADDING, x.md(), dst, w.strides(), w.kernel(),
                         w.dilates(), w.padLeft(), w.padRight(), attr, "compiled " + what)) {
                avg = plan.own(Primitive.create(pd));
                impl = pd.implementation();
            }
        }
        int mask = plan.newBuffer(dst.byteSize());
        plan.emit(avg, skip, (nonNegative ? "0 / (avgpool + 1) (" : "avgpool * 0 (") + what + ") [" + impl + "]",
                PlanArg.of(Args.SRC, x.md(), t), PlanArg.of(Args.DST, dst, mask));
        Primitive add;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = MathOps.binary(MathOps.Binary.ADD, dst, dst, dst, attr, "compiled " + what)) {
            add = plan.own(Primitive.create(pd));
        }
        plan.emit(add, skip, "binary add in place (" + what + ")", PlanArg.of(Args.SRC, dst, y), PlanArg.of(Args.SRC_1, dst, mask),
                PlanArg.of(Args.DST, dst, y));
    }

    /**
     * MaxPool with its Indices output (ONNX's second output, PyTorch's {@code return_indices}): both from one Java step over
     * a window table computed once ({@link MaxPoolTaps}: PyTorch's maximum, NaN included, and the first of equal ones), so
     * the values and the indices agree. Pads may differ between a dim's ends. The indices are held as exact F32 values
     * (as ArgMax's, {@link LowerCarried}), so the input may have at most 2^24 elements.
     */
    static List<Value> maxPoolWithIndices(Compiler plan, Node n) {
        long[] x = LowerIndex.shape(plan, n.input(0)), y = LowerIndex.out(plan, n, 0);
        long total = LowerIndex.prod(x, 0, x.length);
        if (total > LowerCarried.MAX_EXACT) {
            throw Compiler.unsupported(n, "Indices over an input of " + total + " elements (a plan holds indices as exact F32 values, up to 2^24)");
        }
        int nd = x.length - 2;
        Attributes a = n.attributes();
        long[] pads = a.integers("pads", new long[2 * nd]);
        MaxPoolTaps taps;
        try {
            taps = MaxPoolTaps.of(Arrays.copyOfRange(x, 2, x.length), Arrays.copyOfRange(y, 2, y.length), a.integers("kernel_shape"),
                    LowerConv.window(a.integers("strides", null), nd), LowerConv.window(a.integers("dilations", null), nd),
                    Arrays.copyOf(pads, nd), a.integer("storage_order", 0) == 1);
        } catch (IllegalArgumentException e) {
            throw Compiler.unsupported(n, "with Indices: " + e.getMessage());
        }
        long planes = x[0] * x[1];
        return PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0)), List.of(y, y), (src, dst) -> taps.pool(src[0], planes, dst[0], dst[1]),
                "java maxpool " + n.name() + " with indices" + (a.integer("storage_order", 0) == 1 ? " (column-major)" : ""));
    }

    private static long spatialSize(long[] shape) {
        long s = 1;
        for (int d = 2; d < shape.length; d++) s *= shape[d];
        return s;
    }

    /**
     * {@code [1, 1, spatial...]} of the output: -inf where a max-pooling window lies wholly in the padding, 0 elsewhere;
     * null if no window does. oneDNN's maximum starts from -FLT_MAX, so such a window gives
     * -3.4028235E38 where PyTorch gives -inf; the pooling adds this as a binary post-op (NaN and
     * infinities are unchanged by + 0). Possible with dilation, e.g. kernel 2, dilation 2,
     * padding 1 on a size-1 input.
     */
    private static float[] paddingOnlyWindows(PoolLowering w) {
        List<PoolLowering.Axis> axes = w.axes();
        int nd = axes.size();
        long[] out = new long[nd];
        for (int d = 0; d < nd; d++) out[d] = axes.get(d).out();
        boolean any = false;
        float[] mask = new float[Math.toIntExact(Arrays.stream(out).reduce(1, Math::multiplyExact))];
        long[] at = new long[nd];
        for (int i = 0; i < mask.length; i++) {
            boolean empty = false;
            for (int d = 0; d < nd && !empty; d++) empty = axes.get(d).inPaddingOnly(at[d]);
            mask[i] = empty ? Float.NEGATIVE_INFINITY : 0f;
            any |= empty;
            for (int d = nd - 1; d >= 0; d--) {   // the next position, row-major
                if (++at[d] < out[d]) break;
                at[d] = 0;
            }
        }
        return any ? mask : null;
    }

    static Value avgPool(Compiler plan, Node n) {
        Value x = plan.spatial(n, plan.in(n, 0));
        long[] outShape = Compiler.as2d(plan.graph.value(n.output()).shape().sizes());
        boolean includePad = n.attributes().integer("count_include_pad", 0) != 0;
        PoolLowering w = window(plan, n, false, includePad, x.shape(), outShape);
        if (includePad && w.overhangs()) {
            // ceil_mode with count_include_pad and a last window past the padding: PyTorch's divisor there is one
            // oneDNN does not compute; the eager layer repairs it, so it runs as a Java step.
            Layer eager = EagerNodes.layerFor(n, plan.graph);
            if (eager == null) throw plan.unsupported(n, "ceil_mode with count_include_pad past the padding, input " + Arrays.toString(x.shape()));
            return LowerOps.javaStep(plan, n, plan.own(eager));
        }
        return pool(plan, n, w, x, outShape, "avgpool " + n.name(), null);
    }

    /**
     * The 2-D window in oneDNN's terms, computed where eager pooling computes it
     * ({@link PoolLowering#windowed}); the graph's inferred output shape must agree with it.
     */
    private static PoolLowering window(Compiler plan, Node n, boolean max, boolean includePad, long[] inShape, long[] outShape) {
        Attributes a = n.attributes();
        int nd = inShape.length - 2;
        long[] k = LowerConv.window(a.integers("kernel_shape"), nd), s = LowerConv.window(a.integers("strides", null), nd);
        long[] d = LowerConv.window(a.integers("dilations", null), nd), pads = a.integers("pads", null);
        long[] pad = new long[nd];
        if (pads != null) {
            int given = pads.length / 2;
            for (int i = 0; i < given; i++) {
                if (pads[i] != pads[given + i]) {
                    throw plan.unsupported(n, "only symmetric pooling pads are compiled (PyTorch's), got " + Arrays.toString(pads));
                }
                pad[nd - given + i] = pads[i];
            }
        }
        PoolLowering w = PoolLowering.windowed(max, includePad, Arrays.copyOfRange(inShape, 2, 2 + nd), k, s, pad, d,
                a.integer("ceil_mode", 0) != 0);
        if (!Arrays.equals(w.outputSize(), Arrays.copyOfRange(outShape, 2, 2 + nd))) {
            throw plan.unsupported(n, "the pooling window gives " + Arrays.toString(w.outputSize()) + " where the graph infers "
                    + Arrays.toString(outShape));
        }
        return w;
    }

    static Value adaptiveAvgPool(Compiler plan, Node n, long[] size) {
        Value x = plan.spatial(n, plan.in(n, 0));
        long[] outShape = Compiler.as2d(plan.graph.value(n.output()).shape().sizes());
        int nd = x.shape().length - 2;
        PoolLowering w = PoolLowering.adaptive(false, Arrays.copyOfRange(x.shape(), 2, 2 + nd), Arrays.copyOfRange(outShape, 2, 2 + nd));
        if (w == null) {   // windows of varying size: the eager layer's kernel, as a Java step
            Layer eager = EagerNodes.layerFor(n, plan.graph);
            if (eager == null) throw plan.unsupported(n, "adaptive pooling " + Arrays.toString(x.shape()) + " -> " + Arrays.toString(outShape));
            return LowerOps.javaStep(plan, n, plan.own(eager));
        }
        return pool(plan, n, w, x, outShape, "avgpool " + n.name(), null);
    }

    static Value pool(Compiler plan, Node n, PoolLowering w, Value x, long[] outShape, String what, float[] addend) {
        return pool(plan, n, w, x, outShape, what, addend, false);
    }

    /**
     * A pooling primitive reading {@code x} as it arrives and writing the layout {@link AssignLayouts} decided for
     * {@code n} ({@code any}: oneDNN's, in practice the source's); {@code addend} ({@code [1, 1, oh, ow]}, or null)
     * is added to its output as a post-op; with {@code keepNaN} (max pooling) the steps of {@link #keepNaN} follow.
     */
    static Value pool(Compiler plan, Node n, PoolLowering w, Value x, long[] outShape, String what, float[] addend, boolean keepNaN) {
        int format = outShape.length == 4 ? AssignLayouts.format4d(AssignLayouts.output(n)) : ConvOps.anyFormat();   // 3-D: oneDNN's
        MemoryDescriptor dstAny = plan.own(MemoryDescriptor.f32(format, outShape));
        long[] addendDims = outShape.clone();
        addendDims[0] = addendDims[1] = 1;
        MemoryDescriptor addendMd = addend == null ? null : plan.own(MemoryDescriptor.f32(Ops.plain(outShape.length), addendDims));
        MemoryDescriptor dst;
        Primitive p;
        String impl;
        try (PostOps post = PostOps.create();
             PrimitiveAttributes attr = addend == null ? PrimitiveAttributes.userScratchpad()
                     : PrimitiveAttributes.userScratchpad(post.add(addendMd));
             PrimitiveDescriptor pd = PoolOps.pooling(w.algorithm(), x.md(), dstAny, w.strides(), w.kernel(), w.dilates(), w.padLeft(), w.padRight(), attr, "compiled " + what)) {
            dst = plan.own(Chosen.dst(pd));
            p = plan.own(Primitive.create(pd));
            impl = pd.implementation();
        }
        int out = plan.newBuffer(dst.byteSize());
        String description = what + (addend == null ? "" : "+(-inf where a window is all padding)") + " [" + impl + "]";
        plan.emit(p, description, PlanArg.of(Args.SRC, x.md(), x.buffer()), PlanArg.of(Args.DST, dst, out),
                PlanArg.constant(Args.postOpSrc1(0), addendMd, addend == null ? null : plan.constant(addend)));
        if (keepNaN) keepNaN(plan, n, w, x, dst, out);
        return new Value(dst, out, outShape);
    }

    /**
     * MaxUnpool (a Java step): a zero output with each X element written at its flat index from I (MaxPool's Indices
     * output, into the whole output). I is a constant (or bound input), the plan's I64/I32 graph input, or computed at
     * run time (held as exact F32 values); an index outside the output is refused when compiling, or at run time an
     * exception naming the node. A duplicate index keeps the last element written (ONNX leaves it open).
     */
    static Value maxUnpool(Compiler plan, Node n) {
        long[] y = LowerIndex.out(plan, n, 0);
        long count = LowerIndex.prod(LowerIndex.shape(plan, n.input(0)), 0, LowerIndex.shape(plan, n.input(0)).length), total = LowerIndex.prod(y, 0, y.length);
        String name = n.input(1), label = n.label(), what = "java max_unpool " + n.name();
        dev.panamadnn.Tensor t = plan.graph.tensor(name);
        if (t != null) {
            long[] to = LowerIndex.longs(t);
            for (long v : to) if (v < 0 || v >= total) throw Compiler.unsupported(n, "index " + v + " is outside the output " + Arrays.toString(y));
            return PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0)), List.of(y), (src, dst) -> {
                dst[0].fill((byte) 0);
                for (int i = 0; i < to.length; i++) dst[0].setAtIndex(ValueLayout.JAVA_FLOAT, to[i], src[0].getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }, what).get(0);
        }
        RunTimeIntegers ids = RunTimeIntegers.of(plan, n, 1);
        return PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0), ids.value()), List.of(y), (src, dst) -> {
            dst[0].fill((byte) 0);
            for (long i = 0; i < count; i++) {
                long v = ids.get(src[1], i);
                if (v < 0 || v >= total) {
                    throw new IllegalArgumentException("CompiledModel: node " + label + ": index " + v + " (element " + i + " of '" + name
                            + "') is outside the output " + Arrays.toString(y));
                }
                dst[0].setAtIndex(ValueLayout.JAVA_FLOAT, v, src[0].getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }
        }, what + ", indices computed at run time").get(0);
    }
}
