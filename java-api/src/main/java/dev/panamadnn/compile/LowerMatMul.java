package dev.panamadnn.compile;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.Chosen;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.PostOps;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.internal.dnnl.Reorder;
import java.util.Arrays;
import java.util.List;

/**
 * MatMul (numpy.matmul semantics) on oneDNN's matmul primitive, and Transpose as a oneDNN reorder
 * into a descriptor with permuted strides.
 */
final class LowerMatMul {
    private LowerMatMul() {}

    /**
     * {@code A @ B}: a 1-D A is a row {@code [1, K]}, a 1-D B a column {@code [K, 1]} (the added dim
     * dropped from the result); batch dims broadcast (both operands padded to one rank with leading
     * 1s, oneDNN broadcasts size-1 batch dims of either). A constant B (weights) is reordered once
     * into the layout the primitive picks; activations on both sides (attention's {@code q @ k^T})
     * are read plain. A constant bias (fuse_matmul_bias: input 2) is a binary post-op, a fused
     * activation (fuse_activation) an eltwise one after it.
     */
    static Value matmul(Compiler plan, Node n) {
        long[] sa = plan.graph.shape(n.input(0)).sizes(), sb = plan.graph.shape(n.input(1)).sizes(), out = LowerMath.outShape(plan, n);
        long[] a2 = sa.length == 1 ? new long[] {1, sa[0]} : sa, b2 = sb.length == 1 ? new long[] {sb[0], 1} : sb;
        int rank = Math.max(a2.length, b2.length);
        long[] ap = pad(a2, rank), bp = pad(b2, rank), dp = new long[rank];
        for (int i = 0; i < rank - 2; i++) dp[i] = Math.max(ap[i], bp[i]);
        dp[rank - 2] = ap[rank - 2];
        dp[rank - 1] = bp[rank - 1];
        if (rank > 5) throw Compiler.unsupported(n, "compiled up to 3 batch dims, got A " + Arrays.toString(sa) + ", B " + Arrays.toString(sb));
        boolean folded = sharedB(plan, n, bp, rank);
        if (folded) {
            // B (and the bias) the same for every batch of A (x @ W of a [L, N, E] or [N, L, E] activation): A's batch dims
            // fold into its rows, one [rows, K] x [K, N] product that reads B once, where a batched matmul broadcasting B
            // reads it once per batch (ViT's [50, 1, 768] x [768, 2304] in-projection: 50 row-vector products).
            long rows = 1;
            for (int i = 0; i < rank - 1; i++) rows *= ap[i];
            ap = new long[] {rows, ap[rank - 1]};
            bp = new long[] {bp[rank - 2], bp[rank - 1]};
            dp = new long[] {rows, dp[rank - 1]};
            rank = 2;
        }
        LowerBinary.Operand a = operand(plan, n, 0, ap);
        boolean constB = plan.graph.isConstant(n.input(1));
        MemoryDescriptor bUser = LowerMath.plainMd(plan, bp);
        MemoryDescriptor bMd = constB ? plan.own(MemoryDescriptor.f32(ConvOps.anyFormat(), bp)) : bUser;
        MemoryDescriptor dst = LowerMath.plainMd(plan, dp);
        Act act = FusedActivation.of(n);
        LowerBinary.Operand bias = n.input(2) == null ? null   // fuse_matmul_bias
                : folded ? operand(plan, n, 2, new long[] {1, last(plan.graph.shape(n.input(2)).sizes())}) : LowerBinary.operand(plan, n, 2, rank);
        Primitive p;
        PlanStep.Fast fast;
        String impl;
        MemoryDescriptor chosenB;
        java.util.function.Function<List<Ops.EltwiseOp>, PrimitiveDescriptor> make = ops -> FusedActivation.withPostOps(post -> {
            if (bias != null) post.add(bias.md());
        }, ops, attr -> Ops.matmul(a.md(), bMd, dst, attr, "compiled MatMul " + n.name()));
        try (PrimitiveDescriptor pd = make.apply(FusedActivation.ops(plan, act))) {
            chosenB = constB ? plan.own(Chosen.weights(pd)) : bUser;
            p = plan.own(Primitive.create(pd));
            impl = pd.implementation();
            fast = FusedActivation.fastVariant(plan, n, act, make, pd);
        }
        PlanArg bArg;
        if (constB) {
            bArg = PlanArg.constant(Args.WEIGHTS, chosenB, plan.reorderedConstant(bUser, plan.graph.floats(n.input(1)), chosenB,
                    "weights of " + n.name()));
        } else {
            Value b = plan.asShape(LowerMath.plainIn(plan, n, 1), bp, n.input(1));
            bArg = PlanArg.of(Args.WEIGHTS, b.md(), b.buffer());
        }
        long m = 1;
        for (long d : dp) m *= d;
        plan.flops += 2 * m * ap[rank - 1];
        int o = plan.newBuffer(dst.byteSize());
        plan.emit(p, fast, "matmul " + Compiler.label(n) + " " + Arrays.toString(ap) + " x " + Arrays.toString(bp) + " [" + impl + "]",
                a.arg(Args.SRC), bArg, PlanArg.of(Args.DST, dst, o), bias == null ? PlanArg.of(0, null, 0) : bias.arg(Args.postOpSrc1(0)));
        return plan.asShape(new Value(dst, o, dp), out, n.name());
    }

    /**
     * Whether B has no batch dims beyond 1s (padded to {@code rank}) and a bias, if any, is one row: then A's batch dims can
     * fold into its rows.
     */
    private static boolean sharedB(Compiler plan, Node n, long[] bp, int rank) {
        if (rank <= 2) return false;
        for (int i = 0; i < rank - 2; i++) if (bp[i] != 1) return false;
        if (n.input(2) != null) {
            long[] bias = plan.graph.shape(n.input(2)).sizes();
            for (int i = 0; i < bias.length - 1; i++) if (bias[i] != 1) return false;
        }
        return true;
    }

    private static long last(long[] dims) {
        return dims.length == 0 ? 1 : dims[dims.length - 1];
    }

    private static LowerBinary.Operand operand(Compiler plan, Node n, int i, long[] dims) {
        if (plan.graph.isConstant(n.input(i))) {
            return new LowerBinary.Operand(LowerMath.plainMd(plan, dims), PlanArg.CONSTANT, plan.constant(plan.graph.floats(n.input(i))), dims);
        }
        Value v = plan.asShape(LowerMath.plainIn(plan, n, i), dims, n.input(i));
        return new LowerBinary.Operand(v.md(), v.buffer(), null, dims);
    }

    private static long[] pad(long[] dims, int rank) {
        return LowerBinary.padded(dims, rank);
    }

    /**
     * Transpose: one reorder from the input (in whatever layout it has, e.g. a convolution's
     * channels-last output) to a descriptor of the input's dims whose strides
     * are those of the plain output, permuted (input dim {@code perm[i]} gets the output's stride
     * {@code i}); the result is then the plain output. When the input's layout already is that
     * descriptor, a view (no step).
     */
    static Value transpose(Compiler plan, Node n) {
        Value x = plan.asShape(plan.in(n, 0), plan.graph.shape(n.input(0)).sizes(), n.input(0));   // any layout: the reorder reads it
        long[] in = x.shape(), out = LowerMath.outShape(plan, n);
        int r = in.length;
        long[] perm = n.attributes().integers("perm", null);
        if (perm == null) {
            perm = new long[r];
            for (int i = 0; i < r; i++) perm[i] = r - 1 - i;
        }
        long[] outStrides = new long[r], strides = new long[r];
        long step = 1;
        for (int i = r - 1; i >= 0; i--) {
            outStrides[i] = step;
            step *= out[i];
        }
        boolean identity = true;   // the dims larger than 1 keep their order: the same bytes
        long last = -1;
        for (int i = 0; i < r; i++) {
            strides[(int) perm[i]] = outStrides[i];
            if (in[(int) perm[i]] == 1) continue;
            identity &= perm[i] > last;
            last = perm[i];
        }
        if (identity) return plan.asShape(plan.plain(x, "reorder to plain for " + n.name()), out, n.name());
        MemoryDescriptor to = plan.own(MemoryDescriptor.f32Strided(in, strides));
        // Already in the output's order (e.g. [N, C, H, W] -> [N, H, W, C] of a channels-last activation): a view.
        if (x.md().sameLayoutAs(to)) return new Value(LowerMath.plainMd(plan, out), x.buffer(), out);
        Primitive p = plan.own(Reorder.primitive(x.md(), to, "transpose " + n.name()));
        int o = plan.newBuffer(to.byteSize());
        plan.emit(p, "transpose " + n.name() + " perm " + Arrays.toString(perm), PlanArg.of(Args.FROM, x.md(), x.buffer()),
                PlanArg.of(Args.TO, to, o));
        return new Value(LowerMath.plainMd(plan, out), o, out);
    }

    /**
     * {@code ChannelShuffle} ({@link FuseChannelShuffle}): output channel {@code j*g + i} = input channel {@code i*k + j}
     * ({@code k = C/g}), as one reorder between two 5-D views {@code [N, k, g, H, W]} of the input's and the output's
     * bytes, in the input's layout when that is channels-last or plain (else the input is made plain first).
     */
    static Value channelShuffle(Compiler plan, Node n) {
        if (n.inputs().size() > 1) return shuffledConcat(plan, n);
        Value x = plan.in(n, 0);
        long[] s = plan.graph.shape(n.input(0)).sizes();
        long g = n.attributes().integer("group"), c = s[1], k = c / g, h = s[2], w = s[3], chw = c * h * w;
        MemoryDescriptor nhwc = plan.own(MemoryDescriptor.f32(ConvOps.channelsLast4d(), s));
        boolean channelsLast = x.shape().length == 4 && x.md().sameLayoutAs(nhwc);
        if (!channelsLast) x = plan.plain(plan.asShape(x, s, n.input(0)), "reorder to plain for " + n.name());
        long[] dims = {s[0], k, g, h, w};
        long[] from = channelsLast ? new long[] {chw, 1, k, w * c, c} : new long[] {chw, h * w, k * h * w, w, 1};
        long[] to = channelsLast ? new long[] {chw, g, 1, w * c, c} : new long[] {chw, g * h * w, h * w, w, 1};
        MemoryDescriptor src = plan.own(MemoryDescriptor.f32Strided(dims, from)), dst = plan.own(MemoryDescriptor.f32Strided(dims, to));
        Primitive p = plan.own(Reorder.primitive(src, dst, "channel shuffle " + n.name()));
        int o = plan.newBuffer(dst.byteSize());
        plan.emit(p, "channel shuffle " + n.name() + " (group " + g + ", " + (channelsLast ? "nhwc" : "plain") + ")", PlanArg.of(Args.FROM, src, x.buffer()),
                PlanArg.of(Args.TO, dst, o));
        return new Value(channelsLast ? nhwc : LowerMath.plainMd(plan, s), o, s);
    }

    /**
     * A {@code ChannelShuffle} of the {@code g} inputs of a concat it absorbed ({@link FuseChannelShuffle}): input
     * {@code i} ({@code k} channels) goes by one reorder into the output's channels {@code i, i + g, i + 2g...}, the
     * 5-D view {@code [N, k, 1, H, W]} at {@code [0, 0, i, 0, 0]} of the output seen as {@code [N, k, g, H, W]}. The output
     * is channels-last when input 0 arrives so, else plain; an input in another layout (channel-blocked) is made
     * plain first, as a 5-D view needs plain strides.
     */
    private static Value shuffledConcat(Compiler plan, Node n) {
        long g = n.attributes().integer("group");
        long[] s = plan.graph.shape(n.output()).sizes();
        long c = s[1], k = c / g, h = s[2], w = s[3], chw = c * h * w;
        long[] part = {s[0], k, h, w}, run = {s[0], k, 1, h, w};
        MemoryDescriptor partNhwc = plan.own(MemoryDescriptor.f32(ConvOps.channelsLast4d(), part));
        boolean channelsLast = plan.in(n, 0).md().sameLayoutAs(partNhwc);
        MemoryDescriptor out = channelsLast ? plan.own(MemoryDescriptor.f32(ConvOps.channelsLast4d(), s)) : LowerMath.plainMd(plan, s);
        MemoryDescriptor whole = plan.own(MemoryDescriptor.f32Strided(new long[] {s[0], k, g, h, w},
                channelsLast ? new long[] {chw, g, 1, w * c, c} : new long[] {chw, g * h * w, h * w, w, 1}));
        int o = plan.newBuffer(out.byteSize());
        for (int i = 0; i < g; i++) {
            Value x = groupView(plan, n, i, part, partNhwc);
            MemoryDescriptor dst = plan.own(whole.submemory(run, new long[] {0, 0, i, 0, 0}));
            Primitive p = plan.own(Reorder.primitive(x.md(), dst, "channel shuffle " + n.name() + " of input " + i));
            plan.emit(p, "channel shuffle " + n.name() + " (group " + g + ", input " + i + " into " + (channelsLast ? "nhwc" : "plain") + ")",
                    PlanArg.of(Args.FROM, x.md(), x.buffer()), PlanArg.of(Args.TO, dst, o));
        }
        return new Value(out, o, s);
    }

    /**
     * Input {@code i} of a {@code ChannelShuffle} of concatenated groups, a group {@code part = [N, k, H, W]}, as the 5-D
     * view {@code [N, k, 1, H, W]} of its bytes: channels-last or plain, a channel-blocked group made plain first.
     */
    private static Value groupView(Compiler plan, Node n, int i, long[] part, MemoryDescriptor partNhwc) {
        Value x = plan.asShape(plan.in(n, i), part, n.input(i));
        boolean channelsLast = x.md().sameLayoutAs(partNhwc);
        if (!channelsLast) x = plan.plain(x, "reorder to plain for " + n.name());
        long k = part[1], h = part[2], w = part[3], khw = k * h * w;
        long[] view = {part[0], k, 1, h, w};
        MemoryDescriptor md = plan.own(MemoryDescriptor.f32Strided(view, channelsLast ? new long[] {khw, 1, k, w * k, k} : new long[] {khw, h * w, khw, w, 1}));
        return new Value(md, x.buffer(), view);
    }

    /**
     * A {@code ChannelShuffle} of two concatenated groups that writes the two halves of its output as two values
     * ({@link FuseChannelShuffle}: the slices that read them were absorbed). Shuffled channel {@code 2j + i} is group
     * {@code i}'s channel {@code j}; the first half takes {@code j < k/2} of both groups, the second the rest. So group
     * {@code i}'s channels {@code [h k/2, (h+1) k/2)} go, by one reorder each, into half {@code h}'s channels
     * {@code i, i + 2, ...}: four reorders, each element moved once.
     */
    static List<Value> shuffledHalves(Compiler plan, Node n) {
        long[] s = plan.graph.shape(n.input(0)).sizes();   // each group: [N, k, H, W]; each half the same shape
        long k = s[1], q = k / 2, h = s[2], w = s[3], khw = k * h * w;
        MemoryDescriptor partNhwc = plan.own(MemoryDescriptor.f32(ConvOps.channelsLast4d(), s));
        boolean channelsLast = plan.in(n, 0).md().sameLayoutAs(partNhwc);
        MemoryDescriptor out = channelsLast ? partNhwc : LowerMath.plainMd(plan, s);
        MemoryDescriptor half5 = plan.own(MemoryDescriptor.f32Strided(new long[] {s[0], q, 2, h, w},
                channelsLast ? new long[] {khw, 2, 1, w * k, k} : new long[] {khw, 2 * h * w, h * w, w, 1}));
        int[] buffers = {plan.newBuffer(out.byteSize()), plan.newBuffer(out.byteSize())};
        long[] run = {s[0], q, 1, h, w};
        for (int i = 0; i < 2; i++) {
            Value group = groupView(plan, n, i, s, partNhwc);
            for (int half = 0; half < 2; half++) {
                MemoryDescriptor src = plan.own(group.md().submemory(run, new long[] {0, half * q, 0, 0, 0}));
                MemoryDescriptor dst = plan.own(half5.submemory(run, new long[] {0, 0, i, 0, 0}));
                Primitive p = plan.own(Reorder.primitive(src, dst, "channel shuffle " + n.name() + " of input " + i + " into half " + half));
                plan.emit(p, "channel shuffle " + n.name() + " (group 2, input " + i + " into half " + half + ", " + (channelsLast ? "nhwc" : "plain") + ")",
                        PlanArg.of(Args.FROM, src, group.buffer()), PlanArg.of(Args.TO, dst, buffers[half]));
            }
        }
        return List.of(new Value(out, buffers[0], s), new Value(out, buffers[1], s));
    }
}
