package dev.panamadnn.compile;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.Chosen;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.internal.dnnl.MathOps;
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
     * are read plain, or through a strided view of a transpose's input ({@link FoldTransposeMatMul}).
     * A constant bias (fuse_matmul_bias: input 2) is a binary post-op, a constant scalar factor or
     * divisor (fuse_matmul_scale: input 3) another, a fused activation (fuse_activation) an eltwise
     * one after them.
     */
    static Value matmul(Compiler plan, Node n) {
        long[] permA = n.attributes().integers(PlanGraph.PERM_A, null), permB = n.attributes().integers(PlanGraph.PERM_B, null);
        long[] permDst = n.attributes().integers(PlanGraph.PERM_DST, null);
        long[] sa = operandShape(plan, n, 0, permA), sb = operandShape(plan, n, 1, permB), out = LowerMath.outShape(plan, n);
        if (permDst != null) {   // the node's output is the transposed product; the product's own dims
            long[] product = new long[out.length];
            for (int k = 0; k < permDst.length; k++) product[(int) permDst[k]] = out[k];
            out = product;
        }
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
        // A folded transpose's operand: a view of its source (folded rows need dense operands: there, the transpose itself)
        Value va = permA == null ? null : permutedInput(plan, n, 0, permA, !folded), vb = permB == null ? null : permutedInput(plan, n, 1, permB, !folded);
        // written through a view of the transposed result, else transposed after
        long[] viewDst = folded || permDst == null || !viewable(dp, permutedStrides(permute(dp, permDst), permDst)) ? null : permDst;
        LowerBinary.Operand bias = n.input(2) == null ? null   // fuse_matmul_bias
                : folded ? operand(plan, n, 2, new long[] {1, last(plan.graph.shape(n.input(2)).sizes())}) : LowerBinary.operand(plan, n, 2, dp.length);
        LowerBinary.Operand scale = n.input(3) == null ? null : operand(plan, n, 3, ones(dp.length));   // fuse_matmul_scale
        Value product = product(plan, n, ap, bp, dp, va, vb, bias, scale, viewDst, true);
        if (product == null) {   // oneDNN has only its reference kernel for the views: the transposes after all
            if (va != null) va = plan.plain(va, "transpose " + n.input(0) + " (for " + n.name() + ")");
            if (vb != null) vb = plan.plain(vb, "transpose " + n.input(1) + " (for " + n.name() + ")");
            viewDst = null;
            product = product(plan, n, ap, bp, dp, va, vb, bias, scale, null, false);
        }
        if (viewDst != null) return product;
        Value v = plan.asShape(product, out, n.name());
        return permDst == null ? v : permuted(plan, v, permDst, n.name());
    }

    /**
     * The step {@code A @ B} of dims {@code ap} x {@code bp} -> {@code dp} with its fused bias and scale, A and B from
     * {@code va} and {@code vb} where given (a transpose's view or result), else from the node's inputs; null, emitting
     * nothing, when {@code viewsOrNull} and a view leaves oneDNN only its reference kernel (the node's own A is read
     * only after that check: its reorder to plain, if any, is emitted once).
     */
    private static Value product(Compiler plan, Node n, long[] ap, long[] bp, long[] dp, Value va, Value vb, LowerBinary.Operand bias,
                                 LowerBinary.Operand scale, long[] dstPerm, boolean viewsOrNull) {
        int rank = dp.length;
        if (va != null && !isView(plan, va)) va = plan.asShape(va, ap, n.input(0));   // a transpose's plain result, folded rows
        if (vb != null && !isView(plan, vb)) vb = plan.asShape(vb, bp, n.input(1));
        MemoryDescriptor aMd = va != null ? va.md() : LowerMath.plainMd(plan, ap);   // the node's own A is read plain (operand)
        boolean constB = vb == null && plan.graph.isConstant(n.input(1));
        MemoryDescriptor bUser = vb != null ? vb.md() : LowerMath.plainMd(plan, bp);
        MemoryDescriptor bMd = constB ? plan.own(MemoryDescriptor.f32(ConvOps.anyFormat(), bp)) : bUser;
        long[] written = dstPerm == null ? dp : permute(dp, dstPerm);   // the buffer's dims: the transposed result's, plain
        MemoryDescriptor dst = dstPerm == null ? LowerMath.plainMd(plan, dp) : view(plan, dp, permutedStrides(written, dstPerm));
        Act act = FusedActivation.of(n);
        MathOps.Binary scaleOp = scale == null ? null : n.attributes().string(PlanGraph.SCALE_OP).equals("Div") ? MathOps.Binary.DIV : MathOps.Binary.MUL;
        Primitive p;
        PlanStep.Fast fast;
        String impl;
        MemoryDescriptor chosenB;
        java.util.function.Function<List<Ops.EltwiseOp>, PrimitiveDescriptor> make = ops -> FusedActivation.withPostOps(post -> {
            if (bias != null) post.add(bias.md());
            if (scale != null) post.binary(scaleOp, scale.md());
        }, ops, attr -> Ops.matmul(aMd, bMd, dst, attr, "compiled MatMul " + n.name()));
        try (PrimitiveDescriptor pd = make.apply(FusedActivation.ops(plan, act))) {
            impl = pd.implementation();
            if (viewsOrNull && impl.startsWith("ref") && (isView(plan, va) || isView(plan, vb) || dstPerm != null)) return null;
            chosenB = constB ? plan.own(Chosen.weights(pd)) : bUser;
            p = plan.own(Primitive.create(pd));
            fast = FusedActivation.fastVariant(plan, n, act, make, pd);
        }
        LowerBinary.Operand a = va != null ? new LowerBinary.Operand(va.md(), va.buffer(), null, ap) : operand(plan, n, 0, ap);
        PlanArg bArg;
        if (constB) {
            bArg = PlanArg.constant(Args.WEIGHTS, chosenB, plan.reorderedConstant(bUser, plan.graph.unscaledSource(n.input(1)), chosenB,
                    "weights of " + n.name()));
        } else {
            Value b = vb != null ? vb : plan.asShape(LowerMath.plainIn(plan, n, 1), bp, n.input(1));
            bArg = PlanArg.of(Args.WEIGHTS, b.md(), b.buffer());
        }
        long m = 1;
        for (long d : dp) m *= d;
        plan.flops += 2 * m * ap[rank - 1];
        int o = plan.newBuffer(dst.byteSize());
        int post = 0;
        plan.emit(p, fast, "matmul " + Compiler.label(n) + " " + Arrays.toString(ap) + " x " + Arrays.toString(bp) + " [" + impl + "]",
                a.arg(Args.SRC), bArg, PlanArg.of(Args.DST, dst, o), bias == null ? PlanArg.of(0, null, 0) : bias.arg(Args.postOpSrc1(post++)),
                scale == null ? PlanArg.of(0, null, 0) : scale.arg(Args.postOpSrc1(post)));
        return dstPerm == null ? new Value(dst, o, dp) : new Value(LowerMath.plainMd(plan, written), o, written);
    }

    /**
     * The strides, by dim of the product, of a buffer plain in {@code written} = the product's dims permuted by
     * {@code perm} (product dim {@code perm[k]} is the buffer's dim {@code k}).
     */
    private static long[] permutedStrides(long[] written, long[] perm) {
        long[] plain = plainStrides(written), strides = new long[written.length];
        for (int k = 0; k < perm.length; k++) strides[(int) perm[k]] = plain[k];
        return strides;
    }

    /** The strides of a row-major (plain) tensor of {@code dims}. */
    private static long[] plainStrides(long[] dims) {
        long[] strides = new long[dims.length];
        long step = 1;
        for (int k = dims.length - 1; k >= 0; k--) {
            strides[k] = step;
            step *= dims[k];
        }
        return strides;
    }

    /** Input {@code i}'s dims as the product reads them: its graph shape, permuted as the folded transpose did. */
    private static long[] operandShape(Compiler plan, Node n, int i, long[] perm) {
        long[] s = plan.graph.shape(n.input(i)).sizes();
        return perm == null ? s : permute(s, perm);
    }

    /** {@code dims} in the order of {@code perm}: element {@code k} is {@code dims[perm[k]]}. */
    static long[] permute(long[] dims, long[] perm) {
        long[] out = new long[perm.length];
        for (int k = 0; k < perm.length; k++) out[k] = dims[(int) perm[k]];
        return out;
    }

    /**
     * Input {@code i} of a MatMul whose transpose {@link FoldTransposeMatMul} folded, permuted by {@code perm}: where
     * {@code view} and its source is plain, a view of the source's bytes with permuted strides (no step); else the
     * transpose, one reorder from the source in whatever layout it has.
     */
    private static Value permutedInput(Compiler plan, Node n, int i, long[] perm, boolean view) {
        long[] source = plan.graph.shape(n.input(i)).sizes();
        Value x = plan.asShape(plan.in(n, i), source, n.input(i));
        if (!view || !plan.isPlain(x)) return permuted(plan, x, perm, n.input(i) + " (for " + n.name() + ")");
        long[] dims = permute(source, perm), strides = permute(plainStrides(source), perm);
        if (!viewable(dims, strides)) return permuted(plan, x, perm, n.input(i) + " (for " + n.name() + ")");
        return new Value(view(plan, dims, strides), x.buffer(), dims);
    }

    /**
     * A strided descriptor of {@code dims} for the matmul, each size-1 dim given the stride an outermost dim would have:
     * its stride addresses nothing, but oneDNN 3.13's matmul misread a transposed B whose size-1 batch dim had the
     * stride of another dim ([1, 2, 8, 16] with strides [16, 8, 1, 16]: wrong products from {@code brg_matmul:avx2};
     * right with 256 there, as in every other stride pattern a C sweep tried).
     */
    private static MemoryDescriptor view(Compiler plan, long[] dims, long[] strides) {
        long outer = 1;
        for (int k = 0; k < dims.length; k++) if (dims[k] > 1) outer = Math.max(outer, strides[k] * dims[k]);
        long[] s = strides.clone();
        for (int k = 0; k < dims.length; k++) if (dims[k] == 1) s[k] = outer;
        return plan.own(MemoryDescriptor.f32Strided(dims, s));
    }

    /**
     * Whether oneDNN's matmul is trusted with a view of these dims and strides: its batch dims' strides do not increase
     * from outer to inner (size-1 dims aside) and both matrix dims exceed 1. A random sweep found {@code brg_matmul:avx2}
     * giving wrong products for a transposed B of one row ({@code [4, 3, 2, 1, 3]} with batch strides {@code [9, 3, 36]});
     * within these limits every case of {@code MatMulFoldsTest} agrees (and two 4,000-case runs of its random sweep, sizes 1-6 and 1-7).
     */
    private static boolean viewable(long[] dims, long[] strides) {
        int r = dims.length;
        if (dims[r - 2] == 1 || dims[r - 1] == 1) return false;
        long last = Long.MAX_VALUE;
        for (int k = 0; k < r - 2; k++) {
            if (dims[k] == 1) continue;
            if (strides[k] > last) return false;
            last = strides[k];
        }
        return true;
    }

    /** Whether {@code v} is a view whose strides are not its dims' plain ones. */
    private static boolean isView(Compiler plan, Value v) {
        return v != null && !plan.isPlain(v);
    }

    private static long[] ones(int rank) {
        long[] d = new long[rank];
        Arrays.fill(d, 1);
        return d;
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
        return permuted(plan, x, FoldTransposeMatMul.perm(n, x.shape().length), n.name());
    }

    /** {@code x} (any layout) permuted by {@code perm} into a plain value: a reorder, or {@code x}'s own bytes where they already are. */
    private static Value permuted(Compiler plan, Value x, long[] perm, String what) {
        long[] in = x.shape(), out = permute(in, perm);
        boolean identity = true;   // the dims larger than 1 keep their order: the same bytes
        long last = -1;
        for (int i = 0; i < in.length; i++) {
            if (in[(int) perm[i]] == 1) continue;
            identity &= perm[i] > last;
            last = perm[i];
        }
        if (identity) return plan.asShape(plan.plain(x, "reorder to plain for " + what), out, what);
        MemoryDescriptor to = plan.own(MemoryDescriptor.f32Strided(in, permutedStrides(out, perm)));   // input dim perm[i]: out's stride i
        // Already in the output's order (e.g. [N, C, H, W] -> [N, H, W, C] of a channels-last activation): a view.
        if (x.md().sameLayoutAs(to)) return new Value(LowerMath.plainMd(plan, out), x.buffer(), out);
        Primitive p = plan.own(Reorder.primitive(x.md(), to, "transpose " + what));
        int o = plan.newBuffer(to.byteSize());
        plan.emit(p, "transpose " + what + " perm " + Arrays.toString(perm), PlanArg.of(Args.FROM, x.md(), x.buffer()),
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
