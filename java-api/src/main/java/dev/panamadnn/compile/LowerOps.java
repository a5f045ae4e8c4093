package dev.panamadnn.compile;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
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
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.Layer;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.lowering.InnerProductLowering;
import static dev.panamadnn.compile.PlanArg.CONSTANT;

/**
 * The lowering of the remaining nodes: standalone batch norm, add, activations, flatten, gemm
 * (inner product) and {@code Layer} nodes (a Java step running the layer's own kernel).
 */
final class LowerOps {
    private LowerOps() {}

    /** Inference batch norm with the running statistics as a primitive of its own (folding off or impossible), out of place. */
    static Value batchNorm(Compiler plan, Node n) {
        Value x = plan.in(n, 0);
        long[] shape = x.shape();
        if (shape.length < 2) throw plan.unsupported(n, "compiled on 2-D and larger activations, got " + Arrays.toString(shape));
        if (shape.length > 5) {   // per channel: the spatial dims folded into one, a view of the same plain bytes, and back
            Value folded = plan.asShape(x, new long[] {shape[0], shape[1], LowerIndex.prod(shape, 2, shape.length)}, "batch norm " + n.name() + " as 3-D");
            return plan.asShape(batchNorm(plan, n, folded), shape, "batch norm " + n.name() + " back to " + shape.length + "-D");
        }
        return batchNorm(plan, n, x);
    }

    private static Value batchNorm(Compiler plan, Node n, Value x) {
        x = AssignLayouts.elementwiseInput(plan, n, x);
        boolean constant = true;   // else some of scale, shift, mean, variance are computed at run time: the primitive reads them
        for (int i = 1; i < 5; i++) constant &= n.input(i) == null || plan.graph.isConstant(n.input(i));
        Value scaled = constant ? scaleShift(plan, n, x) : null;
        if (scaled != null) return scaled;
        x = plan.concats.dense(x);
        Act act = FusedActivation.of(n);
        Value y = batchNormPrimitive(plan, n, x);
        return act == null ? y : eltwise(plan, n, act, y, plan.label(n));
    }

    /**
     * Inference batch norm as {@code x * s + t} per channel ({@code s = gamma / sqrt(var + eps)},
     * {@code t = beta - mean * s}, in double), with a fused activation: on a 4-D activation a depthwise 1x1
     * convolution (weights {@code s}, bias {@code t}, the activation a post-op; {@link #depthwise}), else one jit
     * binary primitive (multiply by {@code s}, the shift and the activation as post-ops) over the input's own
     * layout. oneDNN's batch normalization runs a plain-layout input in {@code ncsp_bnorm}, 3.7x the time of one
     * such pass (DenseNet-121 at batch 16: 179 ms for its 73 unfoldable pre-activation norms, their ReLUs 48 ms
     * more). Null when oneDNN offers only its reference kernels for that layout (the primitive is used then).
     */
    private static Value scaleShift(Compiler plan, Node n, Value x) {
        int c = Math.toIntExact(x.shape()[1]);
        double eps = (float) n.attributes().real("epsilon", 1e-5);
        float[] mean = plan.graph.floats(n.input(3)), var = plan.graph.floats(n.input(4));
        float[] gamma = n.input(1) == null ? null : plan.graph.floats(n.input(1)), beta = n.input(2) == null ? null : plan.graph.floats(n.input(2));
        float[] s = new float[c], t = new float[c];
        for (int i = 0; i < c; i++) {
            double k = (gamma == null ? 1.0 : gamma[i]) / Math.sqrt(var[i] + eps);
            s[i] = (float) k;
            t[i] = (float) ((beta == null ? 0.0 : beta[i]) - mean[i] * k);
        }
        Act act = FusedActivation.of(n);
        if (x.shape().length == 4 && !plan.isPlain(x)) {   // on plain nchw oneDNN wraps it in reorders: 3-5x the binary's time
            Value dw = depthwise(plan, n, x, s, t, act);
            if (dw != null) return dw;
        }
        x = plan.concats.dense(x);
        long[] shape = x.shape();
        long spatial = 1;
        for (int i = 2; i < shape.length; i++) spatial *= shape[i];
        if (shape.length > 2 && spatial == 1) {
            // [N, C, 1...]: oneDNN 3.13's jit binary, with the per-channel src1 and the post-op add of the shift, gave every
            // element channel 0's scale and shift when N > 1 (measured: BatchNorm1d on [2, 2, 1]); the same memory as a plain
            // [N, C] (asShape reorders a layout that is not), which it computes right
            Value y = binaryScaleShift(plan, n, plan.asShape(x, new long[] {shape[0], shape[1]}, n.name()), s, t, act);
            return y == null ? null : plan.asShape(y, shape, n.name());
        }
        return binaryScaleShift(plan, n, x, s, t, act);
    }

    /**
     * {@code x * s + t} per channel, then {@code act}, as a depthwise 1x1 convolution, or null when oneDNN has only its
     * reference kernel for {@code x}'s layout (or wraps another layout's kernel in reorders, as for plain {@code nchw},
     * where it took 3-5x the binary's time). Its kernels ({@code brdgmm_dw} on channels-last, {@code jit_dw} on
     * channel-blocked) beat the binary primitive 1.2-4x on every shape measured (2-vCPU AMD EPYC Zen 4, AVX-512,
     * channels-last, batch 1 and 16, 24 to 1024 channels, 4x4 to 56x56: e.g. 16x64x56x56 0.22 vs 0.52 ms,
     * 1x24x56x56 0.009 vs 0.039 ms; on channel-blocked the binary has only its reference kernel), and they read a view
     * of a concat's channels ({@link ConcatInPlace}) as it is: DenseNet's pre-activation norms read the growing
     * concatenation without copying it.
     */
    private static Value depthwise(Compiler plan, Node n, Value x, float[] s, float[] t, Act act) {
        long c = x.shape()[1];
        MemoryDescriptor dst = plan.concats.isView(x) ? plan.own(MemoryDescriptor.f32(ConvOps.channelBlocked4d(), x.shape())) : x.md();
        long[] wDims = {c, 1, 1, 1, 1};
        MemoryDescriptor wAny = plan.own(MemoryDescriptor.f32(ConvOps.anyFormat(), wDims));
        MemoryDescriptor biasMd = plan.own(MemoryDescriptor.f32(Ops.plain1d(), c));
        long[] ones = {1, 1}, zeros = {0, 0};
        java.util.function.Function<List<Ops.EltwiseOp>, PrimitiveDescriptor> make = ops -> FusedActivation.withPostOps(post -> { }, ops,
                attr -> ConvOps.convolution(x.md(), wAny, biasMd, dst, ones, zeros, zeros, zeros, attr, "compiled " + n.name()));
        Primitive p;
        PlanStep.Fast fast;
        String impl;
        MemoryDescriptor weights;
        try (PrimitiveDescriptor pd = LowerConv.notReference(make, FusedActivation.ops(plan, act))) {
            if (pd == null) return null;
            impl = pd.implementation();
            if (impl.contains("ncsp")) return null;   // a kernel for another layout between two reorders
            weights = plan.own(Chosen.weights(pd));
            p = plan.own(Primitive.create(pd));
            fast = FusedActivation.fastVariant(plan, n, act, make, pd);
        }
        MemorySegment wBuf;
        try (MemoryDescriptor plainW = MemoryDescriptor.f32(ConvOps.rowMajor(wDims.length), wDims)) {
            wBuf = plan.reorderedConstant(plainW, s, weights, "scales of " + n.name());
        }
        int out = plan.newBuffer(dst.byteSize());
        plan.emit(p, fast, "batchnorm " + plan.label(n) + " as a depthwise 1x1 conv" + (plan.concats.isView(x) ? " (reading a concat's channels)" : "")
                + " [" + impl + "]", PlanArg.of(Args.SRC, x.md(), x.buffer()), PlanArg.constant(Args.WEIGHTS, weights, wBuf),
                PlanArg.constant(Args.BIAS, biasMd, plan.constant(t)), PlanArg.of(Args.DST, dst, out));
        return new Value(dst, out, x.shape());
    }

    /** {@code x * s + t} per channel, then {@code act}, as a binary primitive, or null when oneDNN has only its reference one. */
    private static Value binaryScaleShift(Compiler plan, Node n, Value x, float[] s, float[] t, Act act) {
        int c = Math.toIntExact(x.shape()[1]);
        long[] dims = new long[x.shape().length];
        Arrays.fill(dims, 1);
        dims[1] = c;
        MemoryDescriptor perChannel = plan.own(MemoryDescriptor.f32(Ops.plain(dims.length), dims));
        Primitive p;
        PlanStep.Fast fast;
        String impl;
        java.util.function.Function<List<Ops.EltwiseOp>, PrimitiveDescriptor> make = ops -> FusedActivation.withPostOps(post -> post.add(perChannel), ops,
                attr -> MathOps.binary(MathOps.Binary.MUL, x.md(), perChannel, x.md(), attr, "compiled " + n.name()));
        try (PrimitiveDescriptor pd = make.apply(FusedActivation.ops(plan, act))) {
            impl = pd.implementation();
            if (impl.startsWith("ref")) return null;
            p = plan.own(Primitive.create(pd));
            fast = FusedActivation.fastVariant(plan, n, act, make, pd);
        }
        int out = plan.newBuffer(x.md().byteSize());
        plan.emit(p, fast, "batchnorm " + plan.label(n) + " as scale and shift [" + impl + "]", PlanArg.of(Args.SRC, x.md(), x.buffer()),
                PlanArg.constant(Args.SRC_1, perChannel, plan.constant(s)), PlanArg.of(Args.DST, x.md(), out),
                PlanArg.constant(Args.postOpSrc1(0), perChannel, plan.constant(t)));
        return new Value(x.md(), out, x.shape());
    }

    /** Inference batch norm as oneDNN's batch normalization primitive. */
    private static Value batchNormPrimitive(Compiler plan, Node n, Value x) {
        long c = x.shape()[1];
        boolean affine = n.input(1) != null || n.input(2) != null;
        MemoryDescriptor channels = plan.own(MemoryDescriptor.f32(Ops.plain1d(), c));
        Primitive p;
        String impl;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = NormOps.batchNormalization(x.md(), (float) n.attributes().real("epsilon", 1e-5), affine, attr,
                     "compiled " + n.name())) {
            p = plan.own(Primitive.create(pd));
            impl = pd.implementation();
        }
        float[] ones = new float[(int) c];
        Arrays.fill(ones, 1f);
        PlanArg mean = LowerMath.paramArg(plan, n, 3, Args.MEAN, channels, null), var = LowerMath.paramArg(plan, n, 4, Args.VARIANCE, channels, null);
        PlanArg scale = affine ? LowerMath.paramArg(plan, n, 1, Args.SCALE, channels, ones) : PlanArg.constant(Args.SCALE, null, null);
        PlanArg shift = affine ? LowerMath.paramArg(plan, n, 2, Args.SHIFT, channels, new float[(int) c]) : PlanArg.constant(Args.SHIFT, null, null);
        int out = plan.newBuffer(x.md().byteSize());
        String d = "batchnorm " + n.name() + " [" + impl + "]";
        plan.emit(p, d, PlanArg.of(Args.SRC, x.md(), x.buffer()), PlanArg.of(Args.DST, x.md(), out), mean, var, scale, shift);
        return new Value(x.md(), out, x.shape());
    }


    /** An add of two same-shape activations as a binary primitive (a residual add not fused as a sum), + a fused activation. */
    static Value add(Compiler plan, Node n) {
        long[] shape = plan.graph.value(n.output()).shape().sizes();
        Value x = AssignLayouts.elementwiseInput(plan, n, plan.asShape(plan.in(n, 0), shape, n.input(0))), y0 = plan.in(n, 1);
        if (Arrays.equals(plan.graph.shape(n.input(1)).sizes(), shape)) y0 = plan.asShape(y0, shape, n.input(1));
        if (!Arrays.equals(x.shape(), y0.shape())) {
            throw plan.unsupported(n, "only adds of equal shapes are compiled, got " + Arrays.toString(x.shape()) + " + " + Arrays.toString(y0.shape()));
        }
        Value y = y0.md().sameLayoutAs(x.md()) ? y0 : plan.reorder(y0, x.md(), "reorder operand for " + n.name());
        Act act = FusedActivation.of(n);
        Primitive p;
        PlanStep.Fast fast;
        String impl;
        java.util.function.Function<List<Ops.EltwiseOp>, PrimitiveDescriptor> make = ops -> FusedActivation.withPostOps(post -> { }, ops,
                attr -> NormOps.add(x.md(), attr, "compiled " + n.name()));
        try (PrimitiveDescriptor pd = make.apply(FusedActivation.ops(plan, act))) {
            p = plan.own(Primitive.create(pd));
            impl = pd.implementation();
            fast = FusedActivation.fastVariant(plan, n, act, make, pd);
        }
        int out = plan.newBuffer(x.md().byteSize());
        plan.emit(p, fast, "add " + plan.label(n) + " [" + impl + "]", PlanArg.of(Args.SRC, x.md(), x.buffer()),
                PlanArg.of(Args.SRC_1, x.md(), y.buffer()), PlanArg.of(Args.DST, x.md(), out));
        return new Value(x.md(), out, x.shape());
    }

    /** A standalone activation (one not fused into a convolution), out of place. */
    static Value eltwise(Compiler plan, Node n, Act act, Value x, String at) {
        Primitive p;
        PlanStep.Fast fast;
        java.util.function.Function<List<Ops.EltwiseOp>, PrimitiveDescriptor> make = ops -> {
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad()) {
                return Ops.eltwise(ops.get(0), x.md(), attr, "compiled " + act.kind() + " " + at);
            }
        };
        try (PrimitiveDescriptor pd = make.apply(List.of(FusedActivation.op(plan, act)))) {
            p = plan.own(Primitive.create(pd));
            fast = FusedActivation.fastVariant(plan, n, act, make, pd);
        }
        int out = plan.newBuffer(x.md().byteSize());
        plan.emit(p, fast, (act.isPlainRelu() ? "relu " : "eltwise " + act.kind().toLowerCase(java.util.Locale.ROOT) + " ") + at,
                PlanArg.of(Args.SRC, x.md(), x.buffer()), PlanArg.of(Args.DST, x.md(), out));
        return new Value(x.md(), out, x.shape());
    }

    /** Flatten: a reorder to the plain layout if the activation is blocked, then a view of the same buffer. */
    static Value flatten(Compiler plan, Node n) {
        Value x = plan.in(n, 0);
        long[] outShape = plan.graph.value(n.output()).shape().sizes();
        Value p = plan.plain(x, "reorder to plain for " + n.name());
        return new Value(plan.own(MemoryDescriptor.f32(Ops.plain(outShape.length), outShape)), p.buffer(), outShape);
    }

    /**
     * Gemm {@code A * B^T + C} (a Linear: transB = 1, or B transposed here once) as an inner product, + a residual sum
     * ({@link FuseResidualSum}: into the buffer of its input 3, or a copy of it) + a fused activation.
     */
    static Value gemm(Compiler plan, Node n) {
        Attributes a = n.attributes();
        if (a.integer("transA", 0) != 0 || a.real("alpha", 1) != 1 || a.real("beta", 1) != 1) {
            throw plan.unsupported(n, "only transA = 0, alpha = beta = 1 is compiled");
        }
        if (!plan.graph.isConstant(n.input(1)) || (n.input(2) != null && !plan.graph.isConstant(n.input(2)))) {
            throw plan.unsupported(n, "B and C must be constants (initializers)");
        }
        Value x = plan.asShape(plan.in(n, 0), plan.graph.shape(n.input(0)).sizes(), n.input(0));
        long[] outShape = plan.graph.value(n.output()).shape().sizes();
        long inF = x.shape()[1], outF = outShape[1];
        PlanGraph.ConstantSource w = a.integer("transB", 0) != 0 ? plan.graph.source(n.input(1))   // [out, in]: as it is
                : PlanGraph.ConstantSource.of(FoldConstants.transpose(plan.graph.floatsToRead(n.input(1)), new long[] {inF, outF}, null));
        float[] bias = n.input(2) == null ? null : plan.graph.floats(n.input(2));
        if (bias != null && bias.length != outF) throw plan.unsupported(n, "C must hold one value per output (" + outF + "), got " + bias.length);
        Act act = FusedActivation.of(n);
        String at = plan.label(n);
        Value sum = a.has(PlanGraph.SUM) ? plan.values.get(n.inputs().get(3)) : null;
        MemoryDescriptor src = plan.own(MemoryDescriptor.f32(Ops.plain(2), x.shape()));
        Value in = x.md().sameLayoutAs(src) ? x : plan.reorder(x, src, "reorder into " + at);
        InnerProductLowering dims = InnerProductLowering.of(x.shape(), outF, bias != null);   // the dims eager Linear uses
        MemoryDescriptor wAny = plan.own(MemoryDescriptor.f32(ConvOps.anyFormat(), dims.weightDims()));
        MemoryDescriptor biasMd = bias == null ? null : plan.own(MemoryDescriptor.f32(Ops.plain1d(), dims.biasDims()));
        MemoryDescriptor dst = plan.own(MemoryDescriptor.f32(Ops.plain(2), outShape));
        MemoryDescriptor weights;
        Primitive p;
        PlanStep.Fast fast;
        String impl;
        FusedActivation.Maker make = new FusedActivation.Maker(sum != null) {
            @Override
            PrimitiveDescriptor make(PrimitiveAttributes attr) {
                return Ops.innerProduct(src, wAny, biasMd, dst, attr, "compiled linear " + at);
            }
        };
        try (PrimitiveDescriptor pd = make.apply(FusedActivation.ops(plan, act))) {
            weights = plan.own(Chosen.weights(pd));
            p = plan.own(Primitive.create(pd));
            impl = pd.implementation();
            fast = FusedActivation.fastVariant(plan, n, act, make, pd);
        }
        plan.flops += 2 * x.shape()[0] * inF * outF;
        MemorySegment wBuf;
        try (MemoryDescriptor plainW = MemoryDescriptor.f32(Ops.plain(2), dims.weightDims())) {
            wBuf = plan.reorderedConstant(plainW, w, weights, "weights of " + at);
        }
        String d = "linear " + at + " [" + impl + "]";
        int out = sum == null ? plan.newBuffer(dst.byteSize())
                : LowerConv.destination(plan, plan.asShape(sum, outShape, n.inputs().get(3)), in.buffer(), dst, d);
        plan.emit(p, fast, d, PlanArg.of(Args.SRC, src, in.buffer()), PlanArg.constant(Args.WEIGHTS, weights, wBuf),
                PlanArg.constant(Args.BIAS, biasMd, biasMd == null ? null : plan.constant(bias)), PlanArg.of(Args.DST, dst, out));
        return new Value(dst, out, outShape);
    }

    /**
     * A {@code Layer} node: the layer's own forward over the plan's (plain) buffers, a Java step.
     * Its input is copied into a plan buffer when it is the caller's input, so a Java step only ever
     * reads and writes plan memory.
     */
    static Value javaStep(Compiler plan, Node n, Layer layer) {
        long[] inShape = plan.graph.shape(n.input(0)).sizes();
        Value x = plan.javaInput(n);
        long[] outShape = plan.graph.value(n.output()).shape().sizes();
        long outBytes = Sizes.f32Bytes(n.label(), outShape);
        // straight into the plan's buffer (forwardInto): a new owned output per run would cost a JDK handshake to free
        JavaStep.Kernel kernel = (src, target) -> layer.forwardInto(Tensor.wrap(src, DataType.F32, inShape),
                Tensor.wrap(target.asSlice(0, outBytes), DataType.F32, outShape), Backend.AUTO);
        return plan.javaStep(x, outShape, kernel, "java " + n.name() + " (" + layer.getClass().getSimpleName() + ", its own kernel)");
    }

    /** {@code Pad} (constant, reflect, edge, wrap) as a Java kernel over plain buffers (no allocation per run). */
    static Value pad(Compiler plan, Node n) {
        long[] inShape = plan.graph.shape(n.input(0)).sizes(), outShape = plan.graph.value(n.output()).shape().sizes();
        Tensor p = plan.graph.tensor(n.input(1));
        if (p == null) throw plan.unsupported(n, "pads must be a constant");
        long[] pads = new long[inShape.length * 2];
        for (int i = 0; i < pads.length; i++) pads[i] = p.segment().getAtIndex(ValueLayout.JAVA_LONG, i);
        // No padding at all: the input itself, as Identity (torch 1.13 writes such a Pad before every AvgPool2d,
        // e.g. DenseNet's transitions: a copy, two reorders and a plain-layout pooling per run otherwise).
        if (java.util.Arrays.stream(pads).allMatch(v -> v == 0)) return plan.in(n, 0);
        float value = n.input(2) == null ? 0f : plan.graph.floats(n.input(2))[0];
        String mode = n.attributes().string("mode", "constant");
        int r = inShape.length;
        for (int d = 0; d < r && (mode.equals("reflect") || mode.equals("wrap")); d++) {   // as the integer Pad (TensorShapes)
            if (Math.min(pads[d], pads[d + r]) < 0 && Math.max(pads[d], pads[d + r]) > 0) {
                throw plan.unsupported(n, "mode " + mode + " with pads " + java.util.Arrays.toString(pads) + " that crop one end of dim " + d
                        + " and pad the other is ambiguous (ONNX Runtime crops first, this kernel pads first: they differ where the"
                        + " padding reaches past what the crop leaves) and not supported");
            }
        }
        Value x = plan.javaInput(n);
        return plan.javaStep(x, outShape, PadKernel.of(inShape, outShape, pads, mode, value), "java pad " + n.name() + " (" + mode + ")");
    }
}
