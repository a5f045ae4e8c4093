package dev.panamadnn.compile;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.dnnl.Chosen;
import dev.panamadnn.internal.dnnl.ConvOps;
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

import dev.panamadnn.compile.Compiler.Step;
import dev.panamadnn.compile.Compiler.PlanArg;
import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.lowering.ConvLowering;
import dev.panamadnn.internal.lowering.ConvSpec;
import static dev.panamadnn.compile.Compiler.CONSTANT;

/**
 * The lowering of a {@code Conv} node (2-D, with whatever the rules fused into it: folded batch
 * norm, residual sum, activation) in the layouts {@link AssignLayouts} chose: the oneDNN
 * convolution with its weights reordered once, or Winograd F(4x4, 3x3) with the direct convolution as its guard's fallback.
 */
final class LowerConv {
    private LowerConv() {}

    /** A 2-D convolution (+ folded batch norm) (+ residual sum into its last input's buffer) (+ activation). */
    static Value conv(Compiler plan, Node n) {
        Value x = plan.spatial2d(n, plan.in(n, 0));
        Attributes a = n.attributes();
        long[] wShape = Compiler.as2d(plan.graph.shape(n.input(1)).sizes());
        long groups = a.integer("group", 1), oc = wShape[0], ic = wShape[1] * groups;
        long[] k = {wShape[2], wShape[3]};
        long[] stride = Compiler.window2d(a.integers("strides", null), 1), dilation = Compiler.window2d(a.integers("dilations", null), 1);
        long[] pads = Compiler.pads2d(a.integers("pads", null), wShape.length - 2);
        long[] padBefore = {pads[0], pads[1]}, padAfter = {pads[2], pads[3]};
        long[] outShape = Compiler.as2d(plan.graph.value(n.output()).shape().sizes());
        // The oneDNN geometry, computed where eager convolutions compute theirs.
        ConvSpec spec = ConvSpec.of(false, ic, oc, groups, k, stride, dilation, padBefore, padAfter, null);
        long[] spatial = {x.shape()[2], x.shape()[3]};
        if (spec.mayHavePaddingOnlyWindows(spatial)) {
            // Eager convolutions pad such geometries explicitly (and modules lower them to Pad + Conv).
            throw plan.unsupported(n, "a window may lie wholly in the padding (pads " + java.util.Arrays.toString(pads) + ", kernel "
                    + java.util.Arrays.toString(k) + ", dilations " + java.util.Arrays.toString(dilation) + " on input "
                    + java.util.Arrays.toString(spatial) + "), which oneDNN's kernels mishandle; a Pad node before the convolution does not");
        }
        ConvLowering geometry = spec.lower(n.label(), spatial);
        if (!plan.graph.isConstant(n.input(1)) || (n.input(2) != null && !plan.graph.isConstant(n.input(2)))) {
            throw plan.unsupported(n, "weights and bias must be constants (initializers)");
        }
        float[] w = plan.graph.floatsToRead(n.input(1));   // read only: copied to native memory below, transformed for Winograd
        float[] b = n.input(2) == null ? null : plan.graph.floatsToRead(n.input(2));
        Value sum = a.has(PlanGraph.SUM) ? plan.values.get(n.inputs().get(3)) : null;
        Act act = plan.fusedAct(n);
        String what = plan.label(n);
        long[] wDims = geometry.weightDims();
        int any = ConvOps.anyFormat();
        // The layouts the assign_layouts rule decided (plain where it is off); a reorder below where x arrives in another.
        int srcFormat = AssignLayouts.format4d(AssignLayouts.source(n)), dstFormat = AssignLayouts.format4d(AssignLayouts.output(n));
        MemoryDescriptor srcAny = plan.own(MemoryDescriptor.f32(srcFormat, x.shape()));
        MemoryDescriptor wAny = plan.own(MemoryDescriptor.f32(any, wDims));
        MemoryDescriptor dstAny = plan.own(MemoryDescriptor.f32(dstFormat, outShape));
        MemoryDescriptor biasMd = b == null ? null : plan.own(MemoryDescriptor.f32(Ops.plain1d(), oc));
        MemoryDescriptor src, weights, dst;
        Primitive p;
        Compiler.Fast fast;
        String impl;
        java.util.function.Function<List<Ops.EltwiseOp>, PrimitiveDescriptor> make = ops -> Compiler.withPostOps(post -> {
            if (sum != null) post.sum(1f);
        }, ops, attr -> ConvOps.convolution(srcAny, wAny, biasMd, dstAny, geometry.strides(), geometry.dilates(), geometry.padLeft(),
                geometry.padRight(), attr, "compiled " + what));
        try (PrimitiveDescriptor pd = make.apply(plan.eltwiseOps(act))) {
            src = plan.own(Chosen.src(pd));
            weights = plan.own(Chosen.weights(pd));
            dst = plan.own(Chosen.dst(pd));
            p = plan.own(Primitive.create(pd));
            impl = pd.implementation();
            fast = plan.fastVariant(n, act, make, pd);
        }
        plan.flops += 2 * outShape[0] * oc * outShape[2] * outShape[3] * (ic / groups) * k[0] * k[1];
        MemorySegment wBuf = plan.constants.allocate(weights.byteSize(), 64);
        try (Arena tmp = Arena.ofConfined();
             MemoryDescriptor plainW = MemoryDescriptor.f32(ConvOps.rowMajor(wDims.length), wDims)) {
            plan.reorderOnce(plainW, tmp.allocateFrom(ValueLayout.JAVA_FLOAT, w), weights, wBuf, "weights of " + what);
        }
        // Chosen by the select_winograd rule; the layouts (nhwc in and out) and the source (not the caller's own
        // plain input, which the direct kernel reads without a reorder) are known only here.
        if (n.attributes().integer(PlanGraph.WINOGRAD, 0) == 1 && x.buffer() >= 0 && plan.isChannelsLast(src, x.shape())
                && plan.isChannelsLast(dst, outShape)) {   // the direct one stays as the guard's fallback
            return winogradConv(plan, w, b, x, outShape, sum, act != null, what, new Direct(p, src, weights, biasMd, dst, wBuf, impl));
        }
        Value in = x.md().sameLayoutAs(src) ? x : plan.reorder(x, src, "reorder into " + what);
        int out = destination(plan, sum, in.buffer(), dst, what);
        String d = "conv " + what + " [" + impl + "]";
        plan.emit(p, fast, d, PlanArg.of(Args.SRC, src, in.buffer()), PlanArg.constant(Args.WEIGHTS, weights, wBuf),
                PlanArg.constant(Args.BIAS, biasMd, b == null ? null : plan.constants.allocateFrom(ValueLayout.JAVA_FLOAT, b)),
                PlanArg.of(Args.DST, dst, out));
        return new Value(dst, out, outShape);
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
        for (List<Value> copies : plan.reordered.values()) copies.removeIf(v -> v.buffer() == sum.buffer());   // overwritten from here on
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
        MemorySegment uBuf = plan.constants.allocate(u.byteSize(), 64);   // filled after compile: Winograd.prepare
        MemorySegment bias = plan.constants.allocate(4L * k, 64);
        if (b != null) MemorySegment.copy(b, 0, bias, ValueLayout.JAVA_FLOAT, 0, k);
        int out = destination(plan, sum, in.buffer(), nhwcOut, what);
        int vBuf = plan.newBuffer(v.byteSize()), mBuf = plan.newBuffer(m.byteSize());
        Step fallback = new Step(direct.primitive(), List.of(PlanArg.of(Args.SRC, direct.src(), in.buffer()),
                PlanArg.constant(Args.WEIGHTS, direct.weights(), direct.weightBuffer()), PlanArg.constant(Args.BIAS, direct.biasMd(), bias),
                PlanArg.of(Args.DST, direct.dst(), out)).stream().filter(a -> a.md() != null).toList(),
                "direct fallback [" + direct.impl() + "]", null, null);
        String d = "conv " + what + " [winograd F(4x4,3x3): " + (tiles + chunk - 1) / chunk + " x " + chunk + " tiles, " + impl
                + "; guarded, else " + direct.impl() + "]";
        Winograd.Weights weights = new Winograd.Weights(w, k, c, u, uBuf, what);
        plan.emitWinograd(p, d, new Winograd.Conv(in.buffer(), out, bias, n, h, wd, c, k, chunk, sum != null, relu, fallback, weights),
                PlanArg.of(Args.SRC, v, vBuf), PlanArg.constant(Args.WEIGHTS, u, uBuf), PlanArg.of(Args.DST, m, mBuf));
        return new Value(nhwcOut, out, outShape);
    }
}
