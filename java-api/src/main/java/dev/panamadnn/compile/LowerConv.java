package dev.panamadnn.compile;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.dnnl.Chosen;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.lowering.ConvLowering;
import dev.panamadnn.internal.lowering.ConvSpec;
import static dev.panamadnn.compile.PlanArg.CONSTANT;

/**
 * The lowering of a {@code Conv} node (2-D, with whatever the rules fused into it: folded batch
 * norm, residual sum, activation) in the layouts {@link AssignLayouts} chose: the oneDNN
 * convolution with its weights reordered once, or Winograd F(4x4, 3x3) with the direct convolution as its guard's fallback.
 */
final class LowerConv {
    private LowerConv() {}

    /**
     * A 2-D or 3-D convolution (1-D as 2-D with height 1) (+ folded batch norm) (+ residual sum into its last input's
     * buffer) (+ activation).
     */
    static Value conv(Compiler plan, Node n) {
        Value x = plan.spatial(n, plan.in(n, 0));
        int nd = x.shape().length - 2;   // 2 or 3 spatial dims
        Attributes a = n.attributes();
        long[] wShape = Compiler.as2d(plan.graph.shape(n.input(1)).sizes());
        long groups = a.integer("group", 1), oc = wShape[0], ic = wShape[1] * groups;
        long[] k = Arrays.copyOfRange(wShape, 2, 2 + nd);
        long[] stride = window(a.integers("strides", null), nd), dilation = window(a.integers("dilations", null), nd);
        long[][] pads = pads(a.integers("pads", null), nd);
        long[] padBefore = pads[0], padAfter = pads[1];
        long[] outShape = outShape(plan, n);
        // Weights or bias computed at run time (a graph input, another node's output): read from their plan buffers, the
        // weights reordered into the primitive's layout by a step each run; no Winograd, no tap trimming.
        boolean runtimeW = !plan.graph.isConstant(n.input(1)), runtimeB = n.input(2) != null && !plan.graph.isConstant(n.input(2));
        // Copied into native memory below (straight from an initializer: PlanGraph.source), read as an array for Winograd
        PlanGraph.ConstantSource w = runtimeW ? null : plan.graph.source(n.input(1));
        float[] b = n.input(2) == null || runtimeB ? null : plan.graph.floatsToRead(n.input(2));
        long[] spatial = Arrays.copyOfRange(x.shape(), 2, 2 + nd);
        // The oneDNN geometry, computed where eager convolutions compute theirs.
        ConvSpec spec = ConvSpec.of(false, ic, oc, groups, k, stride, dilation, padBefore, padAfter, null);
        boolean reshaped = false;   // kernel trimmed or input padded: not the geometry the Winograd rule chose for
        if (spec.mayHavePaddingOnlyWindows(spatial) && nd == 3) {   // (the taps below are trimmed in 2-D only)
            long[] shape = x.shape(), padded = shape.clone(), onnxPads = new long[2 * shape.length];
            for (int d = 0; d < nd; d++) {
                padded[2 + d] += padBefore[d] + padAfter[d];
                onnxPads[2 + d] = padBefore[d];
                onnxPads[shape.length + 2 + d] = padAfter[d];
            }
            checkPadded(plan, n, padded);
            x = plan.javaStep(PlanOutputs.javaInput(plan, x, plan.label(n)), padded, PadKernel.of(shape, padded, onnxPads, "constant", 0f),
                    "java zero padding for " + plan.label(n) + " (a window would lie wholly in the padding)");
            spatial = Arrays.copyOfRange(padded, 2, 2 + nd);
            padBefore = new long[nd];
            padAfter = new long[nd];
            spec = ConvSpec.of(false, ic, oc, groups, k, stride, dilation, padBefore, padAfter, null);
            reshaped = true;
        }
        if (spec.mayHavePaddingOnlyWindows(spatial)) {
            // oneDNN's kernels mishandle windows wholly in the padding (docs/convolution.md). Kernel taps that fall in
            // the padding for every output are dropped first, exactly (a 3x3 kernel dilated 24 over a 14x14 input, as in
            // DeepLabV3's ASPP, reads only its centre: a 1x1 convolution); what still has such windows is padded by a step.
            long[] outSpatial = {outShape[2], outShape[3]};
            long[][] taps = new long[2][];
            for (int d = 0; d < 2; d++) taps[d] = usedTaps(spatial[d], outSpatial[d], k[d], stride[d], dilation[d], padBefore[d]);
            long[] k2 = new long[2], pb2 = new long[2], pa2 = new long[2];
            for (int d = 0; d < 2; d++) {
                k2[d] = taps[d][1] - taps[d][0] + 1;
                pb2[d] = padBefore[d] - taps[d][0] * dilation[d];
                pa2[d] = padAfter[d] - (k[d] - 1 - taps[d][1]) * dilation[d];
            }
            ConvSpec trimmed = k2[0] < 1 || k2[1] < 1 || pb2[0] < 0 || pb2[1] < 0 || pa2[0] < 0 || pa2[1] < 0 ? null
                    : ConvSpec.of(false, ic, oc, groups, k2, stride, dilation, pb2, pa2, null);
            if (trimmed != null && !runtimeW && !trimmed.mayHavePaddingOnlyWindows(spatial)) {
                w = PlanGraph.ConstantSource.of(trim(plan.graph.floatsToRead(n.input(1)), wShape, taps));
                wShape = new long[] {wShape[0], wShape[1], k2[0], k2[1]};
                k = k2;
                padBefore = pb2;
                padAfter = pa2;
                spec = trimmed;
            } else {
                long[] shape = x.shape(), padded = {shape[0], shape[1], shape[2] + padBefore[0] + padAfter[0], shape[3] + padBefore[1] + padAfter[1]};
                checkPadded(plan, n, padded);
                long[] onnxPads = {0, 0, padBefore[0], padBefore[1], 0, 0, padAfter[0], padAfter[1]};
                Value plainX = PlanOutputs.javaInput(plan, x, plan.label(n));
                x = plan.javaStep(plainX, padded, PadKernel.of(shape, padded, onnxPads, "constant", 0f), "java zero padding for " + plan.label(n)
                        + " (a window would lie wholly in the padding)");
                spatial = new long[] {padded[2], padded[3]};
                padBefore = new long[2];
                padAfter = new long[2];
                spec = ConvSpec.of(false, ic, oc, groups, k, stride, dilation, padBefore, padAfter, null);
            }
            reshaped = true;
        }
        ConvLowering geometry = spec.lower(n.label(), spatial);
        Value sum = a.has(PlanGraph.SUM) ? plan.values.get(n.inputs().get(3)) : null;
        Act act = FusedActivation.of(n);
        String what = plan.label(n);
        long[] wDims = geometry.weightDims();
        int any = ConvOps.anyFormat();
        // The layouts the assign_layouts rule decided (plain where it is off); a reorder below where x arrives in another.
        // 3-D ones (5-D tensors, outside that rule's 4-D formats) write ndhwc, which every 3-D kernel after them takes
        // (oneDNN's own pick for a grouped one, aBcde4b, left the pooling after it on its reference kernel), and read it
        // too unless the input arrives plain (the stem: oneDNN's choice).
        int srcFormat = nd == 3 ? (plan.isPlain(x) ? any : ConvOps.channelsLast5d()) : AssignLayouts.format4d(AssignLayouts.source(n));
        int dstFormat = nd == 3 ? ConvOps.channelsLast5d() : AssignLayouts.format4d(AssignLayouts.output(n));
        MemoryDescriptor srcAny = plan.own(MemoryDescriptor.f32(srcFormat, x.shape()));
        MemoryDescriptor wAny = plan.own(MemoryDescriptor.f32(any, wDims));
        MemoryDescriptor dstAny = plan.own(MemoryDescriptor.f32(dstFormat, outShape));
        MemoryDescriptor biasMd = n.input(2) == null ? null : plan.own(MemoryDescriptor.f32(Ops.plain1d(), oc));
        MemoryDescriptor src, weights, dst;
        Primitive p;
        PlanStep.Fast fast;
        String impl;
        // concat_in_place: read a view of a concat's channels as it is, write into the output's place in a concat, where
        // oneDNN has a kernel other than its reference one for that (else the usual layouts, and a copy before or after).
        int blocked = ConvOps.channelBlocked4d();
        Value region = sum == null && !runtimeW && !runtimeB && nd == 2 && dstFormat == blocked && n.attributes().integer(PlanGraph.WINOGRAD, 0) == 0
                ? plan.concats.region(n.output()) : null;
        MemoryDescriptor srcView = plan.concats.isView(x) && srcFormat == blocked ? x.md() : null;
        MemoryDescriptor[] use = {srcAny, dstAny};
        FusedActivation.Maker make = new FusedActivation.Maker(sum != null) {
            @Override
            PrimitiveDescriptor make(PrimitiveAttributes attr) {
                return ConvOps.convolution(use[0], wAny, biasMd, use[1], geometry.strides(), geometry.dilates(), geometry.padLeft(),
                        geometry.padRight(), attr, "compiled " + what);
            }
        };
        PrimitiveDescriptor inPlace = null;
        for (MemoryDescriptor[] candidate : new MemoryDescriptor[][] {{srcView, region == null ? null : region.md()}, {srcView, dstAny},
                {srcAny, region == null ? null : region.md()}}) {
            if (inPlace != null || candidate[0] == null || candidate[1] == null || candidate[0] == srcAny && candidate[1] == dstAny) continue;
            use[0] = candidate[0];
            use[1] = candidate[1];
            inPlace = LowerConv.notReference(make, FusedActivation.ops(plan, act));
        }
        if (inPlace == null) {
            use[0] = srcAny;
            use[1] = dstAny;
            // Where oneDNN offers only its reference kernel in the decided layouts (ref:any visits every tap, in the padding
            // too: a stem with a 65,536-tap kernel over 3 inputs took 52 s with AVX2 kernels), another layout's kernel, with
            // reorders around it: oneDNN's choice, then channel-blocked, then channels-last (HugeKernelConvTest).
            if (nd == 2 && region == null) {
                PrimitiveDescriptor first = LowerConv.notReference(make, FusedActivation.ops(plan, act));
                for (int f : new int[] {any, blocked, ConvOps.channelsLast4d()}) {
                    if (first != null) break;
                    use[0] = plan.own(MemoryDescriptor.f32(f, x.shape()));
                    use[1] = plan.own(MemoryDescriptor.f32(f, outShape));
                    first = LowerConv.notReference(make, FusedActivation.ops(plan, act));
                }
                if (first == null) {   // only the reference kernel anywhere: take it in the decided layouts
                    use[0] = srcAny;
                    use[1] = dstAny;
                }
                inPlace = first;
            }
        }
        boolean placed = inPlace != null && region != null && use[1] == region.md();
        try (PrimitiveDescriptor pd = inPlace != null ? inPlace : make.apply(FusedActivation.ops(plan, act))) {
            src = plan.own(Chosen.src(pd));
            weights = plan.own(Chosen.weights(pd));
            dst = plan.own(Chosen.dst(pd));
            p = plan.own(Primitive.create(pd));
            impl = pd.implementation();
            fast = FusedActivation.fastVariant(plan, n, act, make, pd);
        }
        long taps = 1;
        for (int d = 0; d < nd; d++) taps *= outShape[2 + d] * k[d];
        plan.flops += 2 * outShape[0] * oc * taps * (ic / groups);
        if (runtimeW || runtimeB) {
            Value in = x.md().sameLayoutAs(src) ? x : plan.reorder(x, src, "reorder into " + what);
            PlanArg wArg;
            if (runtimeW) {
                Value wv = LowerMath.plainIn(plan, n, 1);
                Value wr = plan.reorder(new Value(plan.own(MemoryDescriptor.f32(ConvOps.rowMajor(wDims.length), wDims)), wv.buffer(), wDims), weights,
                        "reorder of the run's weights for " + what);
                wArg = PlanArg.of(Args.WEIGHTS, weights, wr.buffer());
            } else {
                try (MemoryDescriptor plainW = MemoryDescriptor.f32(ConvOps.rowMajor(wDims.length), wDims)) {
                    wArg = PlanArg.constant(Args.WEIGHTS, weights, plan.reorderedConstant(plainW, w, weights, "weights of " + what));
                }
            }
            PlanArg bArg = runtimeB ? PlanArg.of(Args.BIAS, biasMd, LowerMath.planBuffer(plan, n, 2).buffer())
                    : PlanArg.constant(Args.BIAS, biasMd, b == null ? null : plan.constants.of(b));
            int out = destination(plan, sum, in.buffer(), dst, what);
            plan.emit(p, fast, "conv " + what + " (weights " + (runtimeW ? "" : "constant, bias ") + "computed at run time) [" + impl + "]",
                    PlanArg.of(Args.SRC, src, in.buffer()), wArg, bArg, PlanArg.of(Args.DST, dst, out));
            return new Value(dst, out, outShape);
        }
        MemorySegment wBuf;
        try (MemoryDescriptor plainW = MemoryDescriptor.f32(ConvOps.rowMajor(wDims.length), wDims)) {
            wBuf = plan.reorderedConstant(plainW, w, weights, "weights of " + what);
        }
        // Chosen by the select_winograd rule; the layouts (nhwc in and out) and the source (not the caller's own
        // plain input, which the direct kernel reads without a reorder) are known only here.
        if (!reshaped && nd == 2 && n.attributes().integer(PlanGraph.WINOGRAD, 0) == 1 && x.buffer() >= 0 && plan.isChannelsLast(src, x.shape())
                && plan.isChannelsLast(dst, outShape)) {   // the direct one stays as the guard's fallback
            return winogradConv(plan, plan.graph.floatsToRead(n.input(1)), b, x, outShape, sum, act != null, what,
                    new Direct(p, src, weights, biasMd, dst, wBuf, impl));
        }
        Value in = x.md().sameLayoutAs(src) ? x : plan.reorder(x, src, "reorder into " + what);
        int out = placed ? region.buffer() : destination(plan, sum, in.buffer(), dst, what);
        String d = "conv " + what + (in == x && plan.concats.isView(x) ? " (reading a concat's channels)" : "")
                + (placed ? " (into its place in a concat)" : "") + " [" + impl + "]";
        plan.emit(p, fast, d, PlanArg.of(Args.SRC, src, in.buffer()), PlanArg.constant(Args.WEIGHTS, weights, wBuf),
                PlanArg.constant(Args.BIAS, biasMd, b == null ? null : plan.constants.of(b)),
                PlanArg.of(Args.DST, dst, out));
        return placed ? region : new Value(dst, out, outShape);
    }

    /**
     * The primitive descriptor {@code make} creates with {@code ops}, or null when oneDNN refuses those layouts or
     * offers only its reference kernel for them (a caller then falls back to dense layouts and a copy).
     */
    static PrimitiveDescriptor notReference(java.util.function.Function<List<Ops.EltwiseOp>, PrimitiveDescriptor> make, List<Ops.EltwiseOp> ops) {
        PrimitiveDescriptor pd;
        try {
            pd = make.apply(ops);
        } catch (RuntimeException e) {
            return null;
        }
        if (!pd.implementation().startsWith("ref")) return pd;
        pd.close();
        return null;
    }

    private static long[] outShape(Compiler plan, Node n) {
        return Compiler.as2d(plan.graph.value(n.output()).shape().sizes());
    }

    /** Refuses a zero-padded copy of the input past {@link #MAX_PADDED_BYTES}, naming the node and the sizes. */
    private static void checkPadded(Compiler plan, Node n, long[] padded) {
        long bytes = 4;
        for (long d : padded) {
            if (d > MAX_PADDED_BYTES / bytes) throw plan.unsupported(n, "its windows wholly in the padding need a zero-padded copy of the input "
                    + java.util.Arrays.toString(padded) + ", over " + MAX_PADDED_BYTES + " bytes");
            bytes *= d;
        }
        if (bytes > MAX_PADDED_BYTES) throw plan.unsupported(n, "its windows wholly in the padding need a zero-padded copy of the input "
                + java.util.Arrays.toString(padded) + " (" + bytes + " bytes, over " + MAX_PADDED_BYTES + ")");
    }

    /** The largest zero-padded input copy a plan makes for a convolution with windows wholly in the padding (1 GiB). */
    static final long MAX_PADDED_BYTES = 1L << 30;

    /** ONNX's pads {@code [begin..., end...]} as {begin, end} for {@code nd} spatial dims: 0 when absent, a 1-D one as the width's. */
    static long[][] pads(long[] pads, int nd) {
        long[] before = new long[nd], after = new long[nd];
        if (pads != null) {
            int given = pads.length / 2;
            System.arraycopy(pads, 0, before, nd - given, given);
            System.arraycopy(pads, given, after, nd - given, given);
        }
        return new long[][] {before, after};
    }

    /** A window attribute for {@code nd} spatial dims: 1 each when absent, a 1-D one as {@code [1, s]}. */
    static long[] window(long[] v, int nd) {
        long[] w = new long[nd];
        Arrays.fill(w, 1);
        if (v != null) System.arraycopy(v, 0, w, nd - v.length, v.length);
        return w;
    }

    /**
     * The first and last kernel tap (0-based) of one axis that reads the input for some output position: taps
     * {@code t} with {@code 0 <= o * stride - padBefore + t * dilation < in} for an {@code o} in {@code [0, out)}, a
     * contiguous range since the position grows with {@code t}; {@code {0, -1}} when none does.
     */
    static long[] usedTaps(long in, long out, long kernel, long stride, long dilation, long padBefore) {
        long first = -1, last = -1;
        for (long t = 0; t < kernel; t++) {
            long lo = t * dilation - padBefore, hi = (out - 1) * stride + lo;   // positions of tap t over every output
            if (hi < 0 || lo > in - 1) continue;
            // some o in [0, out) lands in [0, in): the smallest o with o * stride + lo >= 0 must also be <= in - 1
            long o = lo >= 0 ? 0 : Math.floorDiv(-lo + stride - 1, stride);
            if (o * stride + lo > in - 1) continue;
            if (first < 0) first = t;
            last = t;
        }
        return first < 0 ? new long[] {0, -1} : new long[] {first, last};
    }

    /** OIHW weights {@code w} of {@code shape} cut to the kernel rows {@code taps[0]} and columns {@code taps[1]} (inclusive ranges). */
    static float[] trim(float[] w, long[] shape, long[][] taps) {
        int kh = (int) shape[2], kw = (int) shape[3], h0 = (int) taps[0][0], h1 = (int) taps[0][1], w0 = (int) taps[1][0], w1 = (int) taps[1][1];
        int nh = h1 - h0 + 1, nw = w1 - w0 + 1, planes = (int) (shape[0] * shape[1]);
        float[] out = new float[planes * nh * nw];
        for (int p = 0; p < planes; p++) {
            for (int i = 0; i < nh; i++) System.arraycopy(w, (p * kh + h0 + i) * kw + w0, out, (p * nh + i) * nw, nw);
        }
        return out;
    }

    /**
     * The buffer a convolution reading buffer {@code input} writes in layout {@code dst}: a new one,
     * or, with a residual {@code sum} post-op, the one holding the shortcut, which the convolution
     * then overwrites in place; a fresh copy of the shortcut instead when its layout differs, it is
     * the caller's input or the convolution's own input, or a later node (or the output) still reads
     * that buffer.
     */
    static int destination(Compiler plan, Value sum, int input, MemoryDescriptor dst, String what) {
        if (sum == null) return plan.newBuffer(dst.byteSize());
        boolean inPlace = sum.buffer() >= 0 && sum.buffer() != input && sum.md().sameLayoutAs(dst) && !plan.readLater(sum.buffer());
        if (!inPlace) return plan.copy(sum, dst, "reorder (copy) of the shortcut for " + what).buffer();
        for (List<Value> copies : plan.reordered.values()) {   // overwritten from here on
            for (java.util.Iterator<Value> i = copies.iterator(); i.hasNext(); ) if (i.next().buffer() == sum.buffer()) i.remove();
        }
        return sum.buffer();
    }

    /** A created direct convolution, its weights reordered into {@code weightBuffer}: a Winograd step's guard fallback. */
    private record Direct(Primitive primitive, MemoryDescriptor src, MemoryDescriptor weights, MemoryDescriptor biasMd,
                          MemoryDescriptor dst, MemorySegment weightBuffer, String impl) {}

    /**
     * A Winograd F(4x4, 3x3) convolution (weights {@code w}, already batch-norm folded; bias {@code b}
     * or none) writing {@code nhwc}: transformed weights reordered once into the matmul's layout, the
     * matmul primitive over one chunk of tiles, and buffers for one chunk of transformed input and products;
     * {@code direct} (same weights, bias and post-ops) runs instead when the input trips the guard.
     */
    static Value winogradConv(Compiler plan, float[] w, float[] b, Value x, long[] outShape, Value sum, boolean relu, String what,
                               Direct direct) {
        int n = (int) x.shape()[0], c = (int) x.shape()[1], h = (int) x.shape()[2], wd = (int) x.shape()[3], k = (int) outShape[1];
        MemoryDescriptor nhwcIn = plan.own(MemoryDescriptor.f32(ConvOps.channelsLast4d(), x.shape()));
        MemoryDescriptor nhwcOut = plan.own(MemoryDescriptor.f32(ConvOps.channelsLast4d(), outShape));
        Value in = x.md().sameLayoutAs(nhwcIn) ? x : plan.reorder(x, nhwcIn, "reorder into " + what);
        long tiles = (long) n * Winograd.tiles(h) * Winograd.tiles(wd), chunk = Winograd.chunkTiles(tiles, c, k);
        MemoryDescriptor v = plan.own(MemoryDescriptor.f32(Ops.plain(3), 36, chunk, c));
        MemoryDescriptor m = plan.own(MemoryDescriptor.f32(Ops.plain(3), 36, chunk, k));
        MemoryDescriptor uAny = plan.own(MemoryDescriptor.f32(ConvOps.anyFormat(), 36, c, k));
        MemoryDescriptor u;
        Primitive p;
        String impl;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = Ops.matmul(v, uAny, m, attr, "compiled Winograd products of " + what)) {
            u = plan.own(Chosen.weights(pd));
            p = plan.own(Primitive.create(pd));
            impl = pd.implementation();
        }
        // filled after compile (Winograd.prepare, which faults its pages in); in a plan set, possibly another plan's
        PlanConstants.Transformed transformed = plan.constants.winograd(direct.weightBuffer(), direct.weights(), u, k, c,
                new java.util.function.BiFunction<MemoryDescriptor, MemorySegment, Winograd.Weights>() {   // not a lambda: see FusedActivation.Maker
                    @Override
                    public Winograd.Weights apply(MemoryDescriptor layout, MemorySegment buffer) {
                        return new Winograd.Weights(w, k, c, layout, buffer, what);
                    }
                });
        MemorySegment uBuf = transformed.buffer();
        MemorySegment bias = plan.constants.allocate(4L * k);
        if (b != null) MemorySegment.copy(b, 0, bias, ValueLayout.JAVA_FLOAT, 0, k);
        int out = destination(plan, sum, in.buffer(), nhwcOut, what);
        int vBuf = plan.newBuffer(v.byteSize()), mBuf = plan.newBuffer(m.byteSize());
        List<PlanArg> fallbackArgs = new ArrayList<>();
        for (PlanArg a : new PlanArg[] {PlanArg.of(Args.SRC, direct.src(), in.buffer()), PlanArg.constant(Args.WEIGHTS, direct.weights(),
                direct.weightBuffer()), PlanArg.constant(Args.BIAS, direct.biasMd(), bias), PlanArg.of(Args.DST, direct.dst(), out)}) {
            if (a.md() != null) fallbackArgs.add(a);
        }
        PlanStep fallback = new PlanStep(direct.primitive(), List.copyOf(fallbackArgs),
                "direct fallback [" + direct.impl() + "]", null, null);
        String d = "conv " + what + " [winograd F(4x4,3x3): " + (tiles + chunk - 1) / chunk + " x " + chunk + " tiles, " + impl
                + "; guarded, else " + direct.impl() + "]";
        Winograd.Weights weights = transformed.weights();
        plan.emitWinograd(p, d, new Winograd.Conv(in.buffer(), out, bias, n, h, wd, c, k, chunk, sum != null, relu, fallback, weights),
                PlanArg.of(Args.SRC, v, vBuf), PlanArg.constant(Args.WEIGHTS, u, uBuf), PlanArg.of(Args.DST, m, mBuf));
        return new Value(nhwcOut, out, outShape);
    }
}
