package dev.panamadnn.compile;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.MathOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.PostOps;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Add, Sub, Mul, Div, Max, Min with NumPy broadcasting on oneDNN's binary primitive, PRelu on its
 * PReLU primitive, Pow with a constant exponent. Either operand may be an activation or a constant.
 * oneDNN broadcasts only the second source, so when the first operand is the broadcast one the
 * operands swap (Add, Mul, Max, Min; Sub as {@code -(b - a)}, exact in IEEE arithmetic); a Div or
 * a Pow base, or both operands broadcast, expand the first operand to the output shape first: at
 * compile time for a constant, by a Java step for an activation. A same-shape Add of two
 * activations keeps {@link LowerOps#add} (with the residual-sum and activation fusion rules).
 */
final class LowerBinary {
    private LowerBinary() {}

    /** An operand: an activation in a plan buffer, or a constant (buffer {@link PlanArg#CONSTANT}) with its segment. */
    record Operand(MemoryDescriptor md, int buffer, MemorySegment constant, long[] dims) {
        PlanArg arg(int id) {
            return buffer == PlanArg.CONSTANT ? PlanArg.constant(id, md, constant) : PlanArg.of(id, md, buffer);
        }
    }

    static Value lower(Compiler plan, Node n) {
        long[] out = LowerMath.outShape(plan, n);
        String op = n.op();
        if (n.inputs().size() == 1) return plan.asShape(plan.in(n, 0), out, n.name());   // Max/Min of one input: itself
        boolean constA = plan.graph.isConstant(n.input(0)), constB = plan.graph.isConstant(n.input(1));
        if (op.equals("Add") && !constA && !constB && Arrays.equals(plan.graph.shape(n.input(0)).sizes(), out)
                && Arrays.equals(plan.graph.shape(n.input(1)).sizes(), out)) {
            return LowerOps.add(plan, n);
        }
        if (op.equals("Pow")) return pow(plan, n, out);
        if (op.equals("Mod")) return mod(plan, n, out);
        if (op.equals("PRelu")) return prelu(plan, n, out);
        int rank = out.length;
        long[] da = padded(plan.graph.shape(n.input(0)).sizes(), rank), db = padded(plan.graph.shape(n.input(1)).sizes(), rank);
        int aIn = 0, bIn = 1;
        boolean negate = false, expandA = false;
        if (!Arrays.equals(da, out)) {
            boolean commutes = op.equals("Add") || op.equals("Mul") || op.equals("Max") || op.equals("Min");
            if (Arrays.equals(db, out) && (commutes || op.equals("Sub"))) {
                aIn = 1;
                bIn = 0;
                negate = op.equals("Sub");
            } else {
                expandA = true;
            }
        }
        MathOps.Binary alg = MathOps.Binary.valueOf(op.toUpperCase(java.util.Locale.ROOT));
        boolean masked = alg == MathOps.Binary.MAX || alg == MathOps.Binary.MIN;
        Operand b = operand(plan, n, bIn, rank);
        // A full-shape activation in another layout (a convolution's channels-last output) against a broadcast operand (a
        // per-channel scale or shift: FiLM, a bias) is read as it is, the result in that layout: no reorder on either side.
        if (!expandA && !plan.graph.isConstant(n.input(aIn)) && !Arrays.equals(b.dims(), out) && !masked) {
            Value own = plan.asShape(plan.in(n, aIn), out, n.input(aIn));
            // (unless oneDNN has only its reference kernel for that layout: the plain operands below, merged, get a jit one;
            // Swin's LayerNorm after a patch merging, whose channels-last [N, H, W, 4C] concat arrives in nhwc of dims 1-3)
            if (!plan.isPlain(own) && !refOnly(alg, own.md(), b.md(), own.md(), n)) {
                try {
                    return emit(plan, n, alg, new Operand(own.md(), own.buffer(), null, out), b, own.md(), negate, false);
                } catch (dev.panamadnn.DnnlException unimplemented) {
                    // no oneDNN binary kernel for these layouts: the plain operands below
                }
            }
        }
        Operand a = operand(plan, n, aIn, rank);
        if (expandA) a = expand(plan, n, a, out);
        MemoryDescriptor dst = LowerMath.plainMd(plan, out);
        if (!masked && !Arrays.equals(b.dims(), out) && refOnly(alg, a.md(), b.md(), dst, n)) {
            long[][] merged = merged(out, b.dims());
            if (merged != null) {
                MemoryDescriptor md0 = LowerMath.plainMd(plan, merged[0]), md1 = LowerMath.plainMd(plan, merged[1]);
                if (!refOnly(alg, md0, md1, md0, n)) {
                    // The same bytes seen with fewer dims, which oneDNN's jit binary takes (a LayerNorm's x - mean over
                    // [1, 56, 56, 96] - [1, 56, 56, 1] as [3136, 96] - [3136, 1]); the result keeps the node's shape.
                    Value v = emit(plan, n, alg, new Operand(md0, a.buffer(), a.constant(), merged[0]),
                            new Operand(md1, b.buffer(), b.constant(), merged[1]), md0, negate, false);
                    return new Value(dst, v.buffer(), v.shape());
                }
            }
            if (b.buffer() == PlanArg.CONSTANT && LowerIndex.prod(out, 0, out.length) <= FoldConstants.MAX_BROADCAST) {
                // Still the reference kernel (broadcast in alternating dims: Swin's [B, nW, heads, L, L] + [1, nW, 1, L, L]
                // mask): a constant operand is expanded once to the output's shape, an element-wise op oneDNN runs jit.
                b = new Operand(dst, PlanArg.CONSTANT, plan.constant(MathKernels.expand(b.constant().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT),
                        b.dims(), out)), out);
            }
        }
        return emit(plan, n, alg, a, b, dst, negate, masked);
    }

    /**
     * {@code out} and {@code b} (its broadcast operand, same rank) with every run of adjacent dims that {@code b} either
     * has in full or broadcasts (size 1) merged into one, size-1 dims of {@code out} dropped; {@code null} when that
     * leaves the rank as it is. Both row-major, so each merged pair views the same bytes.
     */
    static long[][] merged(long[] out, long[] b) {
        List<long[]> runs = new ArrayList<>();   // {out size, b size}
        Boolean full = null;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == 1) continue;
            boolean f = b[i] == out[i];
            if (full != null && full == f) {
                long[] r = runs.get(runs.size() - 1);
                r[0] *= out[i];
                r[1] *= b[i];
            } else {
                runs.add(new long[] {out[i], b[i]});
                full = f;
            }
        }
        if (runs.isEmpty()) return null;
        if (runs.size() == 1) runs.add(0, new long[] {1, 1});   // oneDNN's binary takes 2 dims at least (keeps a scalar's form too)
        if (runs.size() >= out.length) return null;
        long[][] m = new long[2][runs.size()];
        for (int i = 0; i < runs.size(); i++) {
            m[0][i] = runs.get(i)[0];
            m[1][i] = runs.get(i)[1];
        }
        return m;
    }

    /** Whether oneDNN has only its reference kernel for {@code a op b -> dst} (no post-ops). */
    private static boolean refOnly(MathOps.Binary alg, MemoryDescriptor a, MemoryDescriptor b, MemoryDescriptor dst, Node n) {
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = MathOps.binary(alg, a, b, dst, attr, "probe of compiled " + n.op() + " " + n.name())) {
            return pd.implementation().startsWith("ref");
        }
    }

    /** One binary primitive {@code a op b} into a new buffer of layout {@code dst}, with the post-ops the flags ask for. */
    private static Value emit(Compiler plan, Node n, MathOps.Binary alg, Operand a, Operand b, MemoryDescriptor dst, boolean negate,
                              boolean masked) {
        Act act = FusedActivation.of(n);
        List<PlanArg> maskArgs = new ArrayList<>();   // oneDNN's max and min skip NaN: NaN masks of both operands put it back
        Primitive p;
        PlanStep.Fast fast = null;
        String impl;
        try (PostOps post = PostOps.create()) {
            if (negate) post.eltwise(MathOps.unary("Linear", -1, 0));
            if (act != null) FusedActivation.ops(plan, act).forEach(post::eltwise);
            if (masked) {
                int first = (negate ? 1 : 0) + (act != null ? 1 : 0);
                maskArgs.add(maskOf(plan, n, a, post, first));
                maskArgs.add(maskOf(plan, n, b, post, first + 1));
            }
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(post);
                 PrimitiveDescriptor pd = MathOps.binary(alg, a.md(), b.md(), dst, attr, "compiled " + n.op() + " " + n.name())) {
                p = plan.own(Primitive.create(pd));
                impl = pd.implementation();
                if (!masked) {   // (a masked one's post-ops read its operands' NaN masks: no fast form)
                    fast = FusedActivation.fastVariant(plan, n, act, ops -> FusedActivation.withPostOps(fp -> {
                        if (negate) fp.eltwise(MathOps.unary("Linear", -1, 0));
                    }, ops, fa -> MathOps.binary(alg, a.md(), b.md(), dst, fa, "compiled " + n.op() + " " + n.name())), pd);
                }
            }
        }
        int o = plan.newBuffer(dst.byteSize());
        plan.emit(p, fast, n.op().toLowerCase(java.util.Locale.ROOT) + " " + Compiler.label(n) + (negate ? " (operands swapped, negated)" : "")
                + " [" + impl + "]", args(a.arg(Args.SRC), b.arg(Args.SRC_1), PlanArg.of(Args.DST, dst, o), maskArgs));
        return new Value(dst, o, LowerMath.outShape(plan, n));
    }

    private static PlanArg[] args(PlanArg a, PlanArg b, PlanArg d, List<PlanArg> more) {
        List<PlanArg> all = new ArrayList<>(List.of(a, b, d));
        all.addAll(more);
        return all.toArray(PlanArg[]::new);
    }

    /** The NaN mask of an operand as post-op {@code index}'s source: a constant computed now, or a step over the activation. */
    private static PlanArg maskOf(Compiler plan, Node n, Operand o, PostOps post, int index) {
        if (o.buffer() != PlanArg.CONSTANT) {
            Value m = LowerMath.nanMask(plan, new Value(o.md(), o.buffer(), o.dims()), n.name());
            post.add(m.md());
            return PlanArg.of(Args.postOpSrc1(index), m.md(), m.buffer());
        }
        float[] c = o.constant().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
        for (int i = 0; i < c.length; i++) c[i] = Float.isNaN(c[i]) ? Float.NaN : 0f;
        post.add(o.md());
        return PlanArg.constant(Args.postOpSrc1(index), o.md(), plan.constant(c));
    }

    /** Input {@code i} as an operand of rank {@code rank} (leading 1s), plain. */
    static Operand operand(Compiler plan, Node n, int i, int rank) {
        long[] dims = padded(plan.graph.shape(n.input(i)).sizes(), rank);
        if (plan.graph.isConstant(n.input(i))) {
            return new Operand(LowerMath.plainMd(plan, dims), PlanArg.CONSTANT, plan.constant(constantValues(plan, n, i)), dims);
        }
        Value x = LowerMath.plainIn(plan, n, i);
        Value v = plan.asShape(x, dims, n.input(i));
        return new Operand(v.md(), v.buffer(), null, dims);
    }

    /**
     * F32 {@code Mod} (ONNX requires {@code fmod = 1} for floats: C's {@code fmod}, the result has the dividend's sign):
     * a Java step over both operands broadcast to the output, Java's {@code %} on floats being IEEE-754's fmod (NaN for a
     * zero divisor or an infinite dividend, the dividend for an infinite divisor).
     */
    private static Value mod(Compiler plan, Node n, long[] out) {
        dev.panamadnn.DataType t = plan.graph.value(n.input(0)).dtype();
        if (t != dev.panamadnn.DataType.F32) {
            throw Compiler.unsupported(n, "Mod of " + t + " values computed at run time is not compiled (F32 is; integer Mod only on values "
                    + "known when compiling, as in shape computations)");
        }
        if (n.attributes().integer("fmod", 0) != 1) throw Compiler.unsupported(n, "float Mod needs fmod = 1 (ONNX's rule), got fmod = 0");
        Operand a = operand(plan, n, 0, out.length), b = operand(plan, n, 1, out.length);
        if (!Arrays.equals(a.dims(), out)) a = expand(plan, n, a, out);
        if (!Arrays.equals(b.dims(), out)) b = expand(plan, n, b, out);
        MemorySegment[] constant = {a.constant(), b.constant()};
        List<Value> ins = new ArrayList<>();
        int[] slot = {-1, -1};
        for (int i = 0; i < 2; i++) {
            Operand o = i == 0 ? a : b;
            if (o.buffer() == PlanArg.CONSTANT) continue;
            slot[i] = ins.size();
            ins.add(PlanOutputs.javaInput(plan, new Value(o.md(), o.buffer(), out), n.name()));
        }
        long size = LowerIndex.prod(out, 0, out.length);
        return PlanOutputs.javaStep(plan, ins, List.of(out), (src, dst) -> {
            MemorySegment x = slot[0] < 0 ? constant[0] : src[slot[0]], y = slot[1] < 0 ? constant[1] : src[slot[1]];
            for (long i = 0; i < size; i++) {
                dst[0].setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, x.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i)
                        % y.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i));
            }
        }, "java fmod " + n.name()).get(0);
    }

    /**
     * A constant operand's values as floats: F32 as they are, integers (Pow's base or exponent, ONNX 12+) when every one is
     * exact in F32 ({@link LowerCarried#exactValues}); refused otherwise.
     */
    private static float[] constantValues(Compiler plan, Node n, int i) {
        float[] v = LowerCarried.exactValues(plan.graph, n.input(i));
        if (v == null) throw Compiler.unsupported(n, "constant '" + n.input(i) + "' holds integers beyond 2^24, which a plan's F32 values hold inexactly");
        return v;
    }

    /** {@code logical} with leading 1s up to {@code rank} (at least 1 dim). */
    static long[] padded(long[] logical, int rank) {
        long[] dims = new long[Math.max(rank, Math.max(logical.length, 1))];
        Arrays.fill(dims, 1);
        System.arraycopy(logical, 0, dims, dims.length - logical.length, logical.length);
        return dims;
    }

    /** {@code a} expanded to {@code out}: a constant now, an activation by a Java step. */
    private static Operand expand(Compiler plan, Node n, Operand a, long[] out) {
        MemoryDescriptor md = LowerMath.plainMd(plan, out);
        if (a.buffer() == PlanArg.CONSTANT) {
            float[] v = a.constant().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT);
            return new Operand(md, PlanArg.CONSTANT, plan.constant(MathKernels.expand(v, a.dims(), out)), out);
        }
        Value x = new Value(a.md(), a.buffer(), a.dims());
        if (x.buffer() < 0) x = plan.reorder(x, LowerMath.plainMd(plan, a.dims()), "copy of the input for " + n.name());
        Value y = plan.javaStep(x, out, MathKernels.expand(a.dims(), out), "java expand of " + n.input(0) + " to "
                + Arrays.toString(out) + " for " + n.name());
        return new Operand(y.md(), y.buffer(), null, out);
    }

    /** Pow with a constant exponent: one eltwise {@code pow} when it is a single value, else a Java step. */
    private static Value pow(Compiler plan, Node n, long[] out) {
        if (plan.graph.isConstant(n.input(0)) && plan.graph.isConstant(n.input(1))) throw Compiler.unsupported(n, "both operands are constants");
        if (!plan.graph.isConstant(n.input(1))) {   // an exponent computed at run time: a Java step over both (a constant base read as floats)
            Operand a = operand(plan, n, 0, out.length), e = operand(plan, n, 1, out.length);
            if (!Arrays.equals(a.dims(), out)) a = expand(plan, n, a, out);
            if (!Arrays.equals(e.dims(), out)) e = expand(plan, n, e, out);
            float[] base = a.buffer() == PlanArg.CONSTANT ? a.constant().toArray(java.lang.foreign.ValueLayout.JAVA_FLOAT) : null;
            List<Value> ins = new ArrayList<>();
            if (base == null) ins.add(PlanOutputs.javaInput(plan, new Value(a.md(), a.buffer(), out), n.name()));
            ins.add(PlanOutputs.javaInput(plan, new Value(e.md(), e.buffer(), out), n.name()));
            Value y = PlanOutputs.javaStep(plan, ins, List.of(out), MathKernels.powOf(base), "java pow " + n.name() + " (exponent computed at run time)")
                    .get(0);
            dev.panamadnn.DataType t = plan.graph.value(n.output()).dtype();
            if (t == dev.panamadnn.DataType.F32) return y;
            // an integer base (ONNX 12+): the result is of its dtype, truncated toward zero as ONNX's reference casts, so that
            // the value held as F32 is the exact integer every reader of integer values expects
            boolean i32 = t == dev.panamadnn.DataType.I32;
            long size = LowerIndex.prod(out, 0, out.length);
            return plan.javaStep(y, out, (src, dst) -> {
                for (long i = 0; i < size; i++) {
                    float f = src.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i);
                    dst.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, i32 ? (float) (int) f : (float) (long) f);
                }
            }, "java truncate " + n.name() + " to " + t);
        }
        float[] e = constantValues(plan, n, 1);
        boolean uniform = true;
        for (float f : e) uniform &= Float.compare(f, e[0]) == 0;
        long[] base = plan.graph.shape(n.input(0)).sizes();
        // oneDNN's pow(x, beta) is exact for the integer exponents checked against PyTorch (2, and -1 as Reciprocal),
        // but gave NaN for pow(inf, 0.5): other exponents run in Java (C's pow, in double).
        if (uniform && Arrays.equals(base, out) && (e[0] == 2f || e[0] == -1f)) {
            return LowerMath.eltwise(plan, n, MathOps.unary("Pow", e[0], 0));
        }
        Operand a = operand(plan, n, 0, out.length);
        if (!Arrays.equals(a.dims(), out)) a = expand(plan, n, a, out);
        Value x = new Value(a.md(), a.buffer(), out);
        if (x.buffer() < 0) x = plan.reorder(x, LowerMath.plainMd(plan, out), "copy of the input for " + n.name());
        long[] eDims = padded(plan.graph.shape(n.input(1)).sizes(), out.length);
        return plan.javaStep(x, out, MathKernels.pow(MathKernels.expand(e, eDims, out)), "java pow " + n.name());
    }

    /**
     * PRelu on oneDNN's PReLU primitive: the slope (a constant, or a value computed at run time) broadcast into X. Beyond
     * 5 dims (oneDNN's PReLU takes up to 5) X and the slope are viewed with their runs of dims the slope has in full or
     * broadcasts merged ({@link #merged}), the same bytes; refused, naming the shapes, if that leaves more than 5.
     */
    private static Value prelu(Compiler plan, Node n, long[] out) {
        Value x = LowerMath.plainIn(plan, n, 0);
        Operand slope = operand(plan, n, 1, out.length);
        MemoryDescriptor xmd = x.md();
        if (out.length > 5) {
            long[][] m = merged(out, slope.dims());
            if (m == null || m[0].length > 5) {
                throw Compiler.unsupported(n, "PRelu of X " + Arrays.toString(out) + " with slope " + Arrays.toString(slope.dims())
                        + " is not compiled: oneDNN's PReLU takes up to 5 dims, and these do not merge into 5");
            }
            xmd = LowerMath.plainMd(plan, m[0]);
            slope = new Operand(LowerMath.plainMd(plan, m[1]), slope.buffer(), slope.constant(), m[1]);
        }
        Primitive p;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = MathOps.prelu(xmd, slope.md(), attr, "compiled PRelu " + n.name())) {
            p = plan.own(Primitive.create(pd));
        }
        int o = plan.newBuffer(x.md().byteSize());
        plan.emit(p, "prelu " + n.name(), PlanArg.of(Args.SRC, xmd, x.buffer()), slope.arg(Args.WEIGHTS), PlanArg.of(Args.DST, xmd, o));
        return new Value(x.md(), o, out);
    }
}
