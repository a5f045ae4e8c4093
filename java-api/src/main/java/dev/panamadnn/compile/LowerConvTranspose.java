package dev.panamadnn.compile;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.Chosen;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.internal.lowering.ConvLowering;
import dev.panamadnn.internal.lowering.ConvSpec;
import java.util.Arrays;
import java.util.List;

/**
 * {@code ConvTranspose} (1-D as 2-D with height 1, 2-D, 3-D; groups, dilation, asymmetric pads, output_padding) as
 * one oneDNN deconvolution over plain activations, its geometry from {@link ConvSpec} as the eager
 * {@code ConvTranspose1d/2d} compute theirs. ONNX's weights {@code [C_in, C_out/group, k...]} are oneDNN's logical
 * {@code [(g,) oc, ic, k...]} stored input-major, described by strides, and reordered into the primitive's layout
 * once, or by a step each run where they (or the bias) are computed at run time (ONNX's backend tests pass them as
 * graph inputs). Null, for the eager layer's Java step ({@link EagerNodes}), where oneDNN would not compute every
 * output (a trailing pure-bias tail, {@link ConvSpec.Axis#tail()}), a window would lie wholly in the padding (which
 * its kernels mishandle, docs/convolution.md), the strided kernel's buffer would overflow
 * ({@link ConvOps#stridedDeconvolutionFits}), or (ungrouped) a stride is past what oneDNN sets up in reasonable time
 * ({@link ConvOps#deconvolutionStridesFit}).
 */
final class LowerConvTranspose {
    private LowerConvTranspose() {}

    static Value lower(Compiler plan, Node n) {
        int rank = plan.graph.shape(n.input(0)).sizes().length;
        if (rank < 3 || rank > 5) return null;
        Value x = plan.spatial(n, plan.in(n, 0));
        int nd = x.shape().length - 2;
        Attributes a = n.attributes();
        long[] wShape = Compiler.as2d(plan.graph.shape(n.input(1)).sizes());
        long groups = a.integer("group", 1), ic = wShape[0], oc = wShape[1] * groups;
        long[] k = Arrays.copyOfRange(wShape, 2, 2 + nd);
        long[] stride = LowerConv.window(a.integers("strides", null), nd), dilation = LowerConv.window(a.integers("dilations", null), nd);
        long[] outPad = new long[nd], op = a.integers("output_padding", null);
        if (op != null) System.arraycopy(op, 0, outPad, nd - op.length, op.length);
        long[][] pads = LowerConv.pads(a.integers("pads", null), nd);
        long[] padBefore = pads[0], padAfter = pads[1];
        long[] spatial = Arrays.copyOfRange(x.shape(), 2, 2 + nd);
        long[] outShape = Compiler.as2d(plan.graph.value(n.output()).shape().sizes());
        ConvSpec spec = ConvSpec.of(true, ic, oc, groups, k, stride, dilation, padBefore, padAfter, outPad);
        ConvLowering geometry = spec.lower(n.label(), spatial);
        if (!Arrays.equals(geometry.computedOutputSize(), Arrays.copyOfRange(outShape, 2, 2 + nd))) return null;
        if (spec.mayHavePaddingOnlyWindows(spatial)) return null;
        if (!ConvOps.deconvolutionStridesFit(groups, stride) || !ConvOps.stridedDeconvolutionFits(outShape[outShape.length - 1], stride[nd - 1], oc)) {
            return null;
        }
        boolean runtimeW = !plan.graph.isConstant(n.input(1)), runtimeB = n.input(2) != null && !plan.graph.isConstant(n.input(2));

        x = plan.plain(x, "reorder to plain for " + n.name());
        int plainFormat = Ops.plain(nd + 2);
        MemoryDescriptor dst = plan.own(MemoryDescriptor.f32(plainFormat, outShape));
        long[] wDims = geometry.weightDims();
        MemoryDescriptor wAny = plan.own(MemoryDescriptor.f32(ConvOps.anyFormat(), wDims));
        MemoryDescriptor biasMd = n.input(2) == null ? null : plan.own(MemoryDescriptor.f32(Ops.plain1d(), oc));
        MemoryDescriptor src = x.md();
        String what = plan.label(n);
        Primitive p;
        MemoryDescriptor weights;
        String impl;
        try (PrimitiveDescriptor pd = FusedActivation.withPostOps(post -> { }, List.of(), attr -> ConvOps.deconvolution(src, wAny, biasMd, dst,
                geometry.strides(), geometry.dilates(), geometry.padLeft(), geometry.padRight(), attr, "compiled " + what))) {
            weights = plan.own(Chosen.weights(pd));
            p = plan.own(Primitive.create(pd));
            impl = pd.implementation();
        }
        long taps = 1;
        for (int d = 0; d < nd; d++) taps *= spatial[d] * k[d];
        plan.flops += 2 * x.shape()[0] * ic * taps * (oc / groups);
        MemoryDescriptor stored = plan.own(MemoryDescriptor.f32Strided(wDims, inputMajorStrides(wDims, groups > 1)));
        PlanArg wArg;
        if (runtimeW) {
            Value wv = LowerMath.plainIn(plan, n, 1);
            Value wr = plan.reorder(new Value(stored, wv.buffer(), wDims), weights, "reorder of the run's weights for " + what);
            wArg = PlanArg.of(Args.WEIGHTS, weights, wr.buffer());
        } else {
            wArg = PlanArg.constant(Args.WEIGHTS, weights, plan.reorderedConstant(stored, plan.graph.unscaledSource(n.input(1)), weights,
                    "weights of " + what));
        }
        PlanArg bArg = runtimeB ? PlanArg.of(Args.BIAS, biasMd, LowerMath.planBuffer(plan, n, 2).buffer())
                : PlanArg.constant(Args.BIAS, biasMd, n.input(2) == null ? null
                        : plan.constants.of(plan.graph.floatsToRead(n.input(2))));
        int out = plan.newBuffer(dst.byteSize());
        plan.emit(p, "deconv " + what + (runtimeW || runtimeB ? " (weights " + (runtimeW ? "" : "constant, bias ") + "computed at run time)" : "")
                + " [" + impl + "]", PlanArg.of(Args.SRC, src, x.buffer()), wArg, bArg, PlanArg.of(Args.DST, dst, out));
        return new Value(dst, out, outShape);
    }

    /**
     * The strides of ONNX's {@code [C_in, C_out/group, k...]} weights over oneDNN's logical dims {@code [oc, ic, k...]}
     * (grouped: {@code [g, oc/g, ic/g, k...]}): stored input-major ({@code [g,] ic, oc, k...}), kernel taps row-major.
     */
    static long[] inputMajorStrides(long[] dims, boolean grouped) {
        int at = grouped ? 1 : 0, nd = dims.length - at - 2;
        long taps = 1;
        long[] strides = new long[dims.length];
        for (int d = dims.length - 1; d >= at + 2; d--) {
            strides[d] = taps;
            taps *= dims[d];
        }
        long ocs = dims[at], ics = dims[at + 1];
        strides[at] = taps;               // oc
        strides[at + 1] = ocs * taps;     // ic
        if (grouped) strides[0] = ics * ocs * taps;
        assert nd >= 1;
        return strides;
    }
}
