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
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

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
        // oneDNN's max and min skip NaN: the sum of the input's NaN mask over the same dims is NaN where a reduced window
        // holds one. And they start from the lowest (largest) finite float, so a window of only -inf (+inf) gave -FLT_MAX
        // (FLT_MAX) where torch, numpy and ONNX Runtime give the infinity: min(x == -inf) over the window is 1 exactly for
        // such a window. A Java step over the (reduced) results puts NaN or the infinity there, and keeps the rest bit for
        // bit (adding the NaN flags as a post-op, as before, turned a maximum of -0.0 into +0.0).
        if (alg == MathOps.Reduction.MAX || alg == MathOps.Reduction.MIN) {
            boolean max = alg == MathOps.Reduction.MAX;
            float infinity = max ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
            Value mask = LowerMath.nanMask(plan, x, n.name());
            Value flag = reductionWith(plan, n, MathOps.Reduction.SUM, mask, dst, kept, List.of(), List.of(), "NaN flags for ");
            Value infinite = LowerMath.equalTo(plan, x, infinity, (max ? "-inf" : "+inf") + " flags for " + n.name());
            Value all = reductionWith(plan, n, MathOps.Reduction.MIN, infinite, dst, kept, List.of(), List.of(), "windows of only "
                    + (max ? "-inf" : "+inf") + " for ");
            Value m = reductionWith(plan, n, alg, x, dst, kept, List.of(), List.of(), "");
            long count = 1;
            for (long d : kept) count *= d;
            long size = count;
            Value fixed = PlanOutputs.javaStep(plan, List.of(m, flag, all), List.of(kept), (src, y) -> {
                for (long i = 0; i < size; i++) {
                    float v = src[0].getAtIndex(JAVA_FLOAT, i);
                    if (Float.isNaN(src[1].getAtIndex(JAVA_FLOAT, i))) v = Float.NaN;
                    else if (src[2].getAtIndex(JAVA_FLOAT, i) == 1f) v = infinity;
                    y[0].setAtIndex(JAVA_FLOAT, i, v);
                }
            }, "java NaN and " + (max ? "-inf" : "+inf") + " windows of " + n.name()).get(0);
            return plan.asShape(fixed, out, n.name());
        }
        return plan.asShape(reductionWith(plan, n, alg, x, dst, kept, List.of(), List.of(), ""), out, n.name());
    }

    /** One reduction of {@code x} to {@code kept} ({@code dst}), then {@code add} (a binary post-op) or {@code eltwise}, if given. */
    static Value reduction(Compiler plan, Node n, MathOps.Reduction alg, Value x, MemoryDescriptor dst, long[] kept, Value add,
                           Ops.EltwiseOp eltwise, String what) {
        return reductionWith(plan, n, alg, x, dst, kept, add == null ? List.of() : List.of(add), eltwise == null ? List.of() : List.of(eltwise), what);
    }

    /** One reduction of {@code x} to {@code kept} ({@code dst}), then each of {@code adds} (binary post-ops), then {@code eltwise}. */
    static Value reductionWith(Compiler plan, Node n, MathOps.Reduction alg, Value x, MemoryDescriptor dst, long[] kept, List<Value> adds,
                           List<Ops.EltwiseOp> eltwise, String what) {
        Primitive p;
        String impl;
        try (PostOps post = PostOps.create()) {
            for (Value a : adds) post.add(a.md());
            for (Ops.EltwiseOp e : eltwise) post.eltwise(e);
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(post);
                 PrimitiveDescriptor pd = MathOps.reduction(alg, x.md(), dst, attr, "compiled " + what + n.op() + " " + n.name())) {
                p = plan.own(Primitive.create(pd));
                impl = pd.implementation();
            }
        }
        int o = plan.newBuffer(dst.byteSize());
        List<PlanArg> args = new java.util.ArrayList<>(List.of(PlanArg.of(Args.SRC, x.md(), x.buffer()), PlanArg.of(Args.DST, dst, o)));
        for (int i = 0; i < adds.size(); i++) args.add(PlanArg.of(Args.postOpSrc1(i), adds.get(i).md(), adds.get(i).buffer()));
        plan.emit(p, what + "reduce " + alg.name().toLowerCase(java.util.Locale.ROOT) + " " + n.name() + (adds.isEmpty() ? "" : " + flags")
                + " [" + impl + "]", args.toArray(PlanArg[]::new));
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
