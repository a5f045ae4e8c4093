package dev.panamadnn.compile;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.MathOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.PostOps;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import java.util.Arrays;

/**
 * ReduceMean/Sum/Max/Min/Prod and GlobalMaxPool on oneDNN's reduction primitive; LayerNormalization on
 * its layer normalization; InstanceNormalization
 * on its group normalization with one group per channel (the statistics of each (sample, channel)
 * plane, exactly instance normalization's).
 */
final class LowerReduce {
    private LowerReduce() {}

    static Value reduce(Compiler plan, Node n) {
        Value x = LowerMath.plainIn(plan, n, 0);
        long[] in = x.shape(), out = LowerMath.outShape(plan, n);
        long[] kept = in.clone();   // the keepdims shape: reduced dims 1
        if (n.op().equals("GlobalMaxPool")) {
            for (int i = 2; i < in.length; i++) kept[i] = 1;
        } else {
            long[] axes = n.attributes().integers("axes", null);
            if (n.inputs().size() > 1 && n.input(1) != null) {
                dev.panamadnn.Tensor t = plan.graph.tensor(n.input(1));
                if (t == null) throw Compiler.unsupported(n, "axes (input 1) must be a constant");
                axes = new long[(int) t.numel()];
                // unaligned: a tensor of a mapped file need not be 8-byte aligned
                for (int i = 0; i < axes.length; i++) axes[i] = t.segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i);
            }
            boolean all = axes == null || axes.length == 0;
            if (all && n.attributes().integer("noop_with_empty_axes", 0) != 0) return plan.asShape(x, out, n.name());
            if (all) Arrays.fill(kept, 1);
            else for (long a : axes) kept[(int) (a < 0 ? a + in.length : a)] = 1;
        }
        if (Arrays.equals(kept, in)) return plan.asShape(x, out, n.name());   // only size-1 dims reduced: the values themselves
        MathOps.Reduction alg = switch (n.op()) {
            case "ReduceSum" -> MathOps.Reduction.SUM;
            case "ReduceMean" -> MathOps.Reduction.MEAN;
            case "ReduceMin" -> MathOps.Reduction.MIN;
            case "ReduceProd" -> MathOps.Reduction.PROD;
            default -> MathOps.Reduction.MAX;
        };
        MemoryDescriptor dst = LowerMath.plainMd(plan, kept);
        // oneDNN's max and min skip NaN: the sum of the input's NaN mask over the same dims (0, or NaN
        // where a reduced window holds one) is added as a post-op.
        Value flag = null;
        if (alg == MathOps.Reduction.MAX || alg == MathOps.Reduction.MIN) {
            Value mask = LowerMath.nanMask(plan, x, n.name());
            flag = reduction(plan, n, MathOps.Reduction.SUM, mask, dst, kept, null, null, "NaN flags for ");
        }
        return plan.asShape(reduction(plan, n, alg, x, dst, kept, flag, null, ""), out, n.name());
    }

    /** One reduction of {@code x} to {@code kept} ({@code dst}), then {@code add} (a binary post-op) or {@code eltwise}, if given. */
    static Value reduction(Compiler plan, Node n, MathOps.Reduction alg, Value x, MemoryDescriptor dst, long[] kept, Value add,
                           Ops.EltwiseOp eltwise, String what) {
        Primitive p;
        String impl;
        try (PostOps post = PostOps.create()) {
            if (add != null) post.add(add.md());
            if (eltwise != null) post.eltwise(eltwise);
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(post);
                 PrimitiveDescriptor pd = MathOps.reduction(alg, x.md(), dst, attr, "compiled " + what + n.op() + " " + n.name())) {
                p = plan.own(Primitive.create(pd));
                impl = pd.implementation();
            }
        }
        int o = plan.newBuffer(dst.byteSize());
        plan.emit(p, what + "reduce " + alg.name().toLowerCase(java.util.Locale.ROOT) + " " + n.name() + (add == null ? "" : " + NaN flags")
                + " [" + impl + "]", PlanArg.of(Args.SRC, x.md(), x.buffer()), PlanArg.of(Args.DST, dst, o),
                add == null ? PlanArg.of(0, null, 0) : PlanArg.of(Args.postOpSrc1(0), add.md(), add.buffer()));
        return new Value(dst, o, kept);
    }

    /**
     * LayerNormalization (ONNX: statistics over the dims from {@code axis} on) on oneDNN's layer
     * normalization, the input viewed as {@code [M, K]}; an absent scale is 1 and an absent B 0
     * (PyTorch's {@code elementwise_affine=False}). The eager LayerNorm's primitive, same geometry.
     */
    static Value layerNorm(Compiler plan, Node n) {
        Value x0 = LowerMath.plainIn(plan, n, 0);
        long[] shape = x0.shape();
        long ax = n.attributes().integer("axis", -1);
        int axis = (int) (ax < 0 ? ax + shape.length : ax);
        long m = 1, k = 1;
        for (int i = 0; i < shape.length; i++) {
            if (i < axis) m *= shape[i];
            else k *= shape[i];
        }
        float eps = (float) n.attributes().real("epsilon", 1e-5);
        if (!(eps > 0) || Float.isInfinite(eps)) throw Compiler.unsupported(n, "epsilon must be a positive finite float, got " + eps);
        Value x = plan.asShape(x0, new long[] {m, k}, n.name());
        MemoryDescriptor stats = plan.own(MemoryDescriptor.f32(Ops.plain1d(), m)), affine = plan.own(MemoryDescriptor.f32(Ops.plain1d(), k));
        Primitive p;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = dev.panamadnn.internal.dnnl.NormOps.layerNormalization(x.md(), stats, eps, true, attr,
                     "compiled LayerNormalization " + n.name())) {
            p = plan.own(Primitive.create(pd));
        }
        float[] ones = new float[Math.toIntExact(k)];
        Arrays.fill(ones, 1f);
        PlanArg scale = LowerMath.paramArg(plan, n, 1, Args.SCALE, affine, ones);   // constants, or computed at run time
        PlanArg shift = LowerMath.paramArg(plan, n, 2, Args.SHIFT, affine, new float[ones.length]);
        int o = plan.newBuffer(x.md().byteSize());
        plan.emit(p, "layer norm " + n.name() + " over [" + m + ", " + k + "]", PlanArg.of(Args.SRC, x.md(), x.buffer()),
                PlanArg.of(Args.DST, x.md(), o), scale, shift);
        return plan.asShape(new Value(x.md(), o, x.shape()), shape, n.name());
    }

    /** InstanceNormalization as group normalization with C groups, scale and B per channel (constants or computed at run time). */
    static Value instanceNorm(Compiler plan, Node n) {
        Value x = LowerMath.plainIn(plan, n, 0);
        long[] shape = x.shape();
        if (shape.length > 5) {   // oneDNN's group normalization takes up to 3 spatial dims: the rest folded into one (plain: a view)
            long rest = LowerIndex.prod(shape, 2, shape.length);
            Value y = instanceNorm(plan, n, plan.asShape(x, new long[] {shape[0], shape[1], rest}, "instance norm " + n.name() + " as 3-D"));
            return plan.asShape(y, shape, "instance norm " + n.name() + " back to " + shape.length + "-D");
        }
        return instanceNorm(plan, n, x);
    }

    private static Value instanceNorm(Compiler plan, Node n, Value x) {
        long c = x.shape()[1];
        float eps = (float) n.attributes().real("epsilon", 1e-5);
        if (!(eps > 0) || Float.isInfinite(eps)) throw Compiler.unsupported(n, "epsilon must be a positive finite float, got " + eps);
        MemoryDescriptor channels = plan.own(MemoryDescriptor.f32(Ops.plain1d(), c));
        Primitive p;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = MathOps.groupNormalization(x.md(), c, eps, attr, "compiled InstanceNormalization " + n.name())) {
            p = plan.own(Primitive.create(pd));
        }
        int o = plan.newBuffer(x.md().byteSize());
        plan.emit(p, "instance norm " + n.name() + " (group norm, " + c + " groups)", PlanArg.of(Args.SRC, x.md(), x.buffer()),
                PlanArg.of(Args.DST, x.md(), o), LowerMath.paramArg(plan, n, 1, Args.SCALE, channels, null),
                LowerMath.paramArg(plan, n, 2, Args.SHIFT, channels, null));
        return new Value(x.md(), o, x.shape());
    }
}
