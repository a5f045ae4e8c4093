package dev.panamadnn.compile;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import dev.panamadnn.internal.dnnl.Args;
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
import java.util.Locale;
import java.util.Set;

/**
 * The lowering of the math ops (the dispatch for all of them; binary ops in {@link LowerBinary},
 * MatMul and Transpose in {@link LowerMatMul}, reductions and normalizations in
 * {@link LowerReduce}): the unary ops as one oneDNN eltwise primitive each, except Erf, Floor and
 * Ceil (no oneDNN algorithm) and Log and Softplus (oneDNN's log is not accurate enough near
 * {@code log(x) = 0}): Java steps; Softmax on oneDNN's softmax, LogSoftmax composed (see {@link #logSoftmax}).
 */
final class LowerMath {
    private LowerMath() {}

    /** The ops lowered here. */
    static final Set<String> OPS = Set.of("Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "PRelu", "Mod", "MatMul", "Transpose", "Exp", "Log",
            "Sqrt", "Abs", "Neg", "Reciprocal", "Erf", "Softplus", "HardSigmoid", "HardSwish", "Selu", "Clip", "Floor", "Ceil", "Round",
            "Softmax", "LogSoftmax", "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "GlobalMaxPool", "InstanceNormalization",
            "LayerNormalization", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Sign", "Softsign",
            "ThresholdedRelu", "Celu", "Shrink", "Hardmax", "BoolMaskToAdditive");

    /** Lowers {@code n} if its op is one of {@link #OPS}, else returns null. */
    static Value lower(Compiler plan, Node n) {
        Attributes a = n.attributes();
        return switch (n.op()) {
            case "Add", "Sub", "Mul", "Div", "Pow", "Max", "Min", "PRelu", "Mod" -> LowerBinary.lower(plan, n);
            case "MatMul" -> LowerMatMul.matmul(plan, n);
            case "Transpose" -> LowerMatMul.transpose(plan, n);
            case "Softmax", "LogSoftmax" -> softmax(plan, n);
            case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "GlobalMaxPool" -> LowerReduce.reduce(plan, n);
            case "InstanceNormalization" -> LowerReduce.instanceNorm(plan, n);
            case "LayerNormalization" -> LowerReduce.layerNorm(plan, n);
            case "Erf" -> java(plan, n, MathKernels::erf);
            case "Floor" -> java(plan, n, Math::floor);
            case "Hardmax" -> {
                Value x = plan.javaInput(n);
                int rank = x.shape().length, axis = (int) Math.floorMod(a.integer("axis", -1), (long) rank);   // checked by the shape rule
                long outer = 1, inner = 1;
                for (int d = 0; d < axis; d++) outer *= x.shape()[d];
                for (int d = axis + 1; d < rank; d++) inner *= x.shape()[d];
                yield plan.javaStep(x, x.shape(), MathKernels.hardmax(outer, x.shape()[axis], inner), "java hardmax " + n.name());
            }
            case "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Sign", "Softsign",
                 "ThresholdedRelu", "Celu", "Shrink" -> java(plan, n, MathKernels.unary(n.op(), a));
            case "Ceil" -> java(plan, n, Math::ceil);
            // an attention bool mask (AttentionMask.bool: value != 0, NaN included, is True = masked out) as the scores' addend
            case "BoolMaskToAdditive" -> java(plan, n, x -> x != 0 ? Double.NEGATIVE_INFINITY : 0);
            case "HardSigmoid" -> eltwise(plan, n, MathOps.unary("HardSigmoid", a.real("alpha", 0.2), a.real("beta", 0.5)));
            case "Selu" -> chain(plan, plan.asShape(plan.in(n, 0), plan.graph.shape(n.input(0)).sizes(), n.input(0)),
                    new Ops.EltwiseOp[] {MathOps.unary("Selu", a.real("alpha", 1.67326319217681884765625), 0),
                            MathOps.unary("Linear", a.real("gamma", 1.05070102214813232421875), 0)}, "selu (elu, then linear) " + n.name());
            case "Clip" -> clip(plan, n);
            // Log and Softplus in Java: oneDNN 3.13's jit log is off by up to 3.4e-6 absolute (piecewise constant over
            // 1/32-wide steps of the mantissa), which is a relative error of 1e-3 and more where log(x) or softplus(x) is small
            case "Log" -> java(plan, n, Math::log, Winograd.available() ? VectorMath::log : null);
            case "Softplus" -> java(plan, n, MathKernels::softplus, Winograd.available() ? VectorMath::softplus : null);
            case "Exp", "Sqrt", "Abs", "Neg", "Reciprocal", "HardSwish", "Round" ->
                    eltwise(plan, n, MathOps.unary(n.op(), 0, 0));
            default -> null;
        };
    }

    /** Input {@code i} of {@code n} with the dims of its graph value, plain (a reorder first if it is blocked). */
    static Value plainIn(Compiler plan, Node n, int i) {
        Value x = plan.asShape(plan.in(n, i), plan.graph.shape(n.input(i)).sizes(), n.input(i));
        return plan.plain(x, "reorder to plain for " + n.name());
    }

    /**
     * Input {@code i} plain in a plan buffer: {@link #plainIn}, copied when it is the caller's own tensor (a step may
     * hold at most two caller buffers: a batch norm's run-time mean, variance, scale and shift are copied).
     */
    static Value planBuffer(Compiler plan, Node n, int i) {
        Value v = plainIn(plan, n, i);
        return v.buffer() >= 0 ? v : plan.reorder(v, v.md(), "copy of " + n.input(i) + " for " + n.name());
    }

    /**
     * Parameter input {@code i} of a normalization (scale, shift, mean, variance) as argument {@code id} of layout {@code md}:
     * a constant, a value computed at run time (its plan buffer), or {@code absent} (a constant) when the input is missing.
     */
    static PlanArg paramArg(Compiler plan, Node n, int i, int id, MemoryDescriptor md, float[] absent) {
        if (n.input(i) == null) return PlanArg.constant(id, md, plan.constant(absent));
        if (plan.graph.isConstant(n.input(i))) return PlanArg.constant(id, md, plan.constant(plan.graph.floats(n.input(i))));
        return PlanArg.of(id, md, planBuffer(plan, n, i).buffer());
    }

    static long[] outShape(Compiler plan, Node n) {
        return plan.graph.value(n.output()).shape().sizes();
    }

    /** Ops whose oneDNN algorithm loses NaN (measured: Exp gives +inf, Clip a bound, HardSigmoid 1): their NaN mask is added. */
    private static final Set<String> LOSES_NAN = Set.of("Exp", "Clip", "HardSigmoid");

    /**
     * {@code 0 * tanh(x)}: 0 where {@code x} is a number (tanh is bounded, so infinities give 0 too),
     * NaN where it is NaN. Added (a binary post-op) to the result of a oneDNN primitive whose
     * algorithm skips NaN (max, min, clip...), it puts back PyTorch's and ONNX's NaN, natively, for
     * one more pass over {@code x}.
     */
    static Value nanMask(Compiler plan, Value x, String at) {
        return chain(plan, x, new Ops.EltwiseOp[] {Ops.eltwise("TANH", 0f), MathOps.unary("Linear", 0, 0)}, "NaN mask (0 * tanh) for " + at);
    }

    /** 1 where {@code x} equals {@code value} (an infinity, say), else 0: oneDNN's binary eq against a constant scalar. */
    static Value equalTo(Compiler plan, Value x, float value, String description) {
        return withScalar(plan, x, MathOps.Binary.EQ, value, new Ops.EltwiseOp[0], description);
    }

    /**
     * A chain of eltwise ops over {@code x} in one primitive: oneDNN's eltwise primitive takes no
     * eltwise post-ops (unimplemented), its binary primitive does, so this is {@code x + 0} (exact,
     * -0 becoming +0 before the ops) with the chain as post-ops.
     */
    static Value chain(Compiler plan, Value x, Ops.EltwiseOp[] ops, String description) {
        return withScalar(plan, x, MathOps.Binary.ADD, 0f, ops, description);
    }

    /** {@code op(x, scalar)} then {@code ops} as post-ops, in one binary primitive whose second operand is a constant. */
    private static Value withScalar(Compiler plan, Value x, MathOps.Binary op, float scalar, Ops.EltwiseOp[] ops, String description) {
        long[] ones = new long[x.shape().length];
        java.util.Arrays.fill(ones, 1);
        MemoryDescriptor scalarMd = plainMd(plan, ones);
        Primitive p;
        try (PostOps posts = PostOps.create()) {
            for (Ops.EltwiseOp e : ops) posts.eltwise(e);
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(posts);
                 PrimitiveDescriptor pd = MathOps.binary(op, x.md(), scalarMd, x.md(), attr, description)) {
                p = plan.own(Primitive.create(pd));
            }
        }
        int out = plan.newBuffer(x.md().byteSize());
        plan.emit(p, description, PlanArg.of(Args.SRC, x.md(), x.buffer()), PlanArg.constant(Args.SRC_1, scalarMd, plan.constant(new float[] {scalar})),
                PlanArg.of(Args.DST, x.md(), out));
        return new Value(x.md(), out, x.shape());
    }

    /** One eltwise primitive ({@code op}; the NaN mask added for the ops in LOSES_NAN), in the input's layout. */
    static Value eltwise(Compiler plan, Node n, Ops.EltwiseOp op) {
        Value x = plan.asShape(plan.in(n, 0), plan.graph.shape(n.input(0)).sizes(), n.input(0));
        if (LOSES_NAN.contains(n.op()) && unpadded(x)) return keepingNaN(plan, n, x, op);
        Value mask = LOSES_NAN.contains(n.op()) ? nanMask(plan, x, n.name()) : null;
        Primitive p;
        try (PostOps posts = PostOps.create()) {
            if (mask != null) posts.add(mask.md());
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(posts);
                 PrimitiveDescriptor pd = Ops.eltwise(op, x.md(), attr, "compiled " + n.op() + " " + n.name())) {
                p = plan.own(Primitive.create(pd));
            }
        }
        int out = plan.newBuffer(x.md().byteSize());
        plan.emit(p, "eltwise " + n.op().toLowerCase(Locale.ROOT) + " " + n.name() + (mask == null ? "" : " + NaN mask"),
                PlanArg.of(Args.SRC, x.md(), x.buffer()), PlanArg.of(Args.DST, x.md(), out),
                mask == null ? PlanArg.of(0, null, 0) : PlanArg.of(Args.postOpSrc1(0), mask.md(), mask.buffer()));
        return new Value(x.md(), out, x.shape());
    }

    /** Whether {@code x}'s buffer holds exactly its elements (no blocked-layout padding): then any element-wise op may read it flat. */
    private static boolean unpadded(Value x) {
        long n = 1;
        for (long d : x.shape()) n *= d;
        return x.md().byteSize() == n * Float.BYTES;
    }

    /**
     * {@code op(x) + 0 * tanh(x)} (the NaN mask) as two binary primitives over the buffer viewed flat
     * (the element-wise result is the same in any layout): oneDNN 3.13 runs an eltwise primitive with a
     * binary post-op, and a binary one broadcasting a scalar over a channel-blocked layout, only in its
     * reference kernels ({@code ref:any}), which took 54-60 ms instead of 0.1 ms for a 32x64x64 Clip
     * (ReLU6 in MobileNetV2, 17 of them); the binary primitive on 1-D data is its jit kernel, and it takes
     * the eltwise and the mask's addition as post-ops.
     */
    private static Value keepingNaN(Compiler plan, Node n, Value x, Ops.EltwiseOp op) {
        long count = x.md().byteSize() / Float.BYTES;
        MemoryDescriptor flat = plan.own(MemoryDescriptor.f32(Ops.plain1d(), count));
        Value mask = nanMask(plan, new Value(flat, x.buffer(), new long[] {count}), n.name());
        MemoryDescriptor zeroMd = plainMd(plan, new long[] {1});
        Primitive p;
        try (PostOps posts = PostOps.create()) {
            posts.eltwise(op).add(flat);
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(posts);
                 PrimitiveDescriptor pd = MathOps.binary(MathOps.Binary.ADD, flat, zeroMd, flat, attr, "compiled " + n.op() + " " + n.name())) {
                p = plan.own(Primitive.create(pd));
            }
        }
        int out = plan.newBuffer(x.md().byteSize());
        plan.emit(p, "eltwise " + n.op().toLowerCase(Locale.ROOT) + " " + n.name() + " + NaN mask (flat)", PlanArg.of(Args.SRC, flat, x.buffer()),
                PlanArg.constant(Args.SRC_1, zeroMd, plan.constant(new float[1])), PlanArg.of(Args.DST, flat, out),
                PlanArg.of(Args.postOpSrc1(1), flat, mask.buffer()));
        return new Value(x.md(), out, x.shape());
    }

    /** Clip: bounds from the constant inputs 1 and 2 (opset 11+) or the min/max attributes (opset 6-10), absent: unbounded. */
    private static Value clip(Compiler plan, Node n) {
        float lo = bound(plan, n, 1, "min", Float.NEGATIVE_INFINITY), hi = bound(plan, n, 2, "max", Float.POSITIVE_INFINITY);
        if (Float.isNaN(lo) || Float.isNaN(hi)) throw Compiler.unsupported(n, "a NaN bound (min " + lo + ", max " + hi + ")");
        // min > max: ONNX (numpy.clip: min first, then max) and torch.clamp give max everywhere; oneDNN refuses min > max.
        return eltwise(plan, n, MathOps.unary("Clip", Math.min(lo, hi), hi));
    }

    private static float bound(Compiler plan, Node n, int input, String attribute, float otherwise) {
        Float b = clipBound(plan.graph, n, input, attribute, otherwise);
        if (b == null) throw Compiler.unsupported(n, attribute + " (input " + input + ") must be a constant");
        return b;
    }

    /**
     * A Clip bound: constant input {@code input} (opset 11+), else attribute {@code attribute} (opset 6-10), else
     * {@code otherwise} (unbounded); null when the input is computed at run time. Also read by {@link FuseActivation}.
     */
    static Float clipBound(PlanGraph g, Node n, int input, String attribute, float otherwise) {
        if (input < n.inputs().size() && n.input(input) != null) {
            return g.isConstant(n.input(input)) ? g.floats(n.input(input))[0] : null;
        }
        return (float) n.attributes().real(attribute, otherwise);
    }

    /** An element-wise op oneDNN has no algorithm for, as a Java step: {@code f} in double, rounded once. */
    private static Value java(Compiler plan, Node n, java.util.function.DoubleUnaryOperator f) {
        return java(plan, n, f, null);
    }

    /** A Java step of {@code f} per element, or of {@code vector}'s kernel (the Vector API's form) when given. */
    private static Value java(Compiler plan, Node n, java.util.function.DoubleUnaryOperator f, java.util.function.LongFunction<JavaStep.Kernel> vector) {
        Value x = plan.javaInput(n);
        long count = Arrays.stream(x.shape()).reduce(1, Math::multiplyExact);
        return plan.javaStep(x, x.shape(), vector != null ? vector.apply(count) : MathKernels.elementwise(count, f),
                "java " + n.op().toLowerCase(Locale.ROOT) + " " + n.name() + (vector != null ? " (vector)" : ""));
    }

    /**
     * Softmax / LogSoftmax along one axis (ONNX opset 13; the opset &lt; 13 form, flattened to 2-D at
     * {@code axis}, is the importer's to map) on oneDNN's softmax, then PyTorch's NaN lines put back
     * natively (a reduction and a binary add).
     */
    private static Value softmax(Compiler plan, Node n) {
        Value x = plainIn(plan, n, 0);
        int rank = x.shape().length;
        long ax = n.attributes().integer("axis", -1);
        int axis = (int) (ax < 0 ? ax + rank : ax);
        boolean log = n.op().equals("LogSoftmax");
        // A line of one: x - max - log(1) is 0, or NaN from +-inf or NaN (as PyTorch); oneDNN refuses a reduction of one
        if (log && x.shape()[axis] == 1) return eltwise(plan, n, MathOps.unary("Linear", 0, 0));
        if (log) return logSoftmax(plan, n, x, axis);
        Primitive p;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = MathOps.softmax(x.md(), axis, log, attr, "compiled " + n.op() + " " + n.name())) {
            p = plan.own(Primitive.create(pd));
        }
        int out = plan.newBuffer(x.md().byteSize());
        plan.emit(p, (log ? "logsoftmax " : "softmax ") + n.name() + " (axis " + axis + ")", PlanArg.of(Args.SRC, x.md(), x.buffer()),
                PlanArg.of(Args.DST, x.md(), out));
        Value y = new Value(x.md(), out, x.shape());
        if (x.shape()[axis] == 1) return y;   // a line of one: 1 (0 for log), or NaN from x - max itself
        // PyTorch: a line whose x - max has a NaN (a NaN, a +inf, only -inf) is all NaN; oneDNN's maximum skips NaN and gives
        // [NaN, 0, 0] for [NaN, 1, 2] or [inf, 1, 2]. The sum of each output line times 0 (softmax: values in [0, 1]) or of
        // its NaN mask (log-softmax: -inf is a legitimate value) is 0, or NaN for a line holding one: added back, natively.
        if (!log && axis == rank - 1 && onlyMatMulRows(plan, n)) return y;
        long[] kept = x.shape().clone();
        kept[axis] = 1;
        if (axis == rank - 1) {
            // [M, S] + [M, 1]: oneDNN's binary broadcasts that view with its jit kernel; the 4-D [N, H, L, S] + [N, H, L, 1]
            // of attention got the reference kernel (23 ms of a 50 ms MultiheadAttention d=512 L=128, 1 thread).
            long lines = 1;
            for (int i = 0; i < axis; i++) lines *= x.shape()[i];
            y = new Value(plainMd(plan, new long[] {lines, x.shape()[axis]}), y.buffer(), new long[] {lines, x.shape()[axis]});
            kept = new long[] {lines, 1};
        }
        MemoryDescriptor flagMd = plainMd(plan, kept);
        Value flag = log
                ? LowerReduce.reduction(plan, n, MathOps.Reduction.SUM, nanMask(plan, y, n.name()), flagMd, kept, null, null, "NaN lines of ")
                : LowerReduce.reduction(plan, n, MathOps.Reduction.SUM, y, flagMd, kept, null, MathOps.unary("Linear", 0, 0), "NaN lines of ");
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = MathOps.binary(MathOps.Binary.ADD, y.md(), flagMd, y.md(), attr, "NaN lines of " + n.name())) {
            p = plan.own(Primitive.create(pd));
        }
        int fixed = plan.newBuffer(y.md().byteSize());
        plan.emit(p, "add the NaN lines of " + n.name(), PlanArg.of(Args.SRC, y.md(), y.buffer()), PlanArg.of(Args.SRC_1, flagMd, flag.buffer()),
                PlanArg.of(Args.DST, y.md(), fixed));
        return new Value(x.md(), fixed, x.shape());
    }

    /**
     * LogSoftmax as PyTorch computes it, {@code (x - max) - log(sum(exp(x - max)))} along the axis: a max reduction, a
     * binary {@code x - max} with an {@code exp} post-op, a sum reduction, the log of each line's sum in Java (one per
     * line, in double), a binary {@code x - max} and a binary adding {@code -log(sum)}. oneDNN's own logsoftmax takes
     * the log with its jit log (off by up to 3.4e-6 absolute), which put the log-probability of a dominant class (a value
     * near 0) 1e-3 and more off relatively. PyTorch's NaN lines (a NaN or +inf in the line, or only -inf): a NaN in
     * {@code x - max} (oneDNN's max skips NaN) makes the sum NaN or, through oneDNN's exp of NaN, +inf, and a +inf makes the
     * max +inf; the Java step turns each into a NaN {@code log(sum)}, so the whole line is NaN; a line of only -inf gives
     * {@code -inf - (-inf)}, NaN, by itself.
     */
    private static Value logSoftmax(Compiler plan, Node n, Value x, int axis) {
        long[] shape = x.shape();
        long after = 1;
        for (int i = axis + 1; i < shape.length; i++) after *= shape[i];
        if (after == 1) return logSoftmaxLast(plan, n, new Value(x.md(), x.buffer(), shape), axis);
        // Another axis (the classes of a segmentation map, [N, C, H, W] over C): oneDNN reduces it only on its reference
        // kernel (3-4 ms each at [1, 21, 128, 128]), so the axis is made the last by a reorder and back by another.
        int r = shape.length;
        long[] moved = new long[r];   // the dims in memory order: the others as they are, then the axis
        int[] to = new int[r];        // dim d of x is dim to[d] of moved
        for (int d = 0, k = 0; d < r; d++) {
            if (d == axis) continue;
            to[d] = k;
            moved[k++] = shape[d];
        }
        to[axis] = r - 1;
        moved[r - 1] = shape[axis];
        long[] movedStrides = new long[r], strides = new long[r];
        long step = 1;
        for (int i = r - 1; i >= 0; i--) {
            movedStrides[i] = step;
            step *= moved[i];
        }
        for (int d = 0; d < r; d++) strides[d] = movedStrides[to[d]];
        MemoryDescriptor asMoved = plan.own(MemoryDescriptor.f32Strided(shape, strides));   // x's dims over the moved bytes
        int there = plan.newBuffer(x.md().byteSize());
        plan.emit(plan.own(Reorder.primitive(x.md(), asMoved, "axis last for " + n.name())), "axis " + axis + " last for " + n.name(),
                PlanArg.of(Args.FROM, x.md(), x.buffer()), PlanArg.of(Args.TO, asMoved, there));
        Value y = logSoftmaxLast(plan, n, new Value(plainMd(plan, moved), there, moved), r - 1);
        int back = plan.newBuffer(x.md().byteSize());
        plan.emit(plan.own(Reorder.primitive(asMoved, x.md(), "axis back for " + n.name())), "axis " + axis + " back for " + n.name(),
                PlanArg.of(Args.FROM, asMoved, y.buffer()), PlanArg.of(Args.TO, x.md(), back));
        return new Value(x.md(), back, shape);
    }

    /** {@link #logSoftmax} along {@code axis}, after which every dim is 1 (the last one, in effect). */
    private static Value logSoftmaxLast(Compiler plan, Node n, Value x, int axis) {
        long[] shape = x.shape();
        long lines = 1;   // [lines, S] and [lines, 1]: the view oneDNN's jit binary broadcasts (see softmax above)
        for (int i = 0; i < axis; i++) lines *= shape[i];
        long[] view = {lines, shape[axis]}, kept = {lines, 1};
        Value v = new Value(plainMd(plan, view), x.buffer(), view);
        MemoryDescriptor keptMd = plainMd(plan, kept);
        Value max = LowerReduce.reduction(plan, n, MathOps.Reduction.MAX, v, keptMd, kept, null, null, "max of ");
        int exp = plan.newBuffer(v.md().byteSize());
        Primitive p;
        try (PostOps post = PostOps.create()) {
            post.eltwise(MathOps.unary("Exp", 0, 0));
            try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad(post);
                 PrimitiveDescriptor pd = MathOps.binary(MathOps.Binary.SUB, v.md(), keptMd, v.md(), attr, "exp(x - max) of " + n.name())) {
                p = plan.own(Primitive.create(pd));
            }
        }
        plan.emit(p, "exp(x - max) of " + n.name() + " (axis " + axis + ")", PlanArg.of(Args.SRC, v.md(), v.buffer()),
                PlanArg.of(Args.SRC_1, keptMd, max.buffer()), PlanArg.of(Args.DST, v.md(), exp));
        Value sum = LowerReduce.reduction(plan, n, MathOps.Reduction.SUM, new Value(v.md(), exp, view), keptMd, kept, null, null, "sum of exp of ");
        long count = lines;
        // A sum of exp(x - max) <= 1 terms is at most the line's length: +inf only from oneDNN's exp of a NaN (it gives +inf)
        Value negLog = PlanOutputs.javaStep(plan, List.of(sum, max), List.of(kept), (src, dst) -> {
            for (long i = 0; i < count; i++) {
                float s = src[0].getAtIndex(JAVA_FLOAT, i), m = src[1].getAtIndex(JAVA_FLOAT, i);
                dst[0].setAtIndex(JAVA_FLOAT, i, s == Float.POSITIVE_INFINITY || m == Float.POSITIVE_INFINITY ? Float.NaN : (float) -Math.log(s));
            }
        }, "java -log(sum) of " + n.name()).get(0);
        // (x - max) + -log(sum) as two broadcasting binaries: one with the second as a binary post-op ran oneDNN's slow path
        // (13 ms for [1, 21, 128, 128] where each binary takes 0.1 ms)
        int centred = plan.newBuffer(v.md().byteSize()), out = plan.newBuffer(v.md().byteSize());
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = MathOps.binary(MathOps.Binary.SUB, v.md(), keptMd, v.md(), attr, "x - max of " + n.name())) {
            p = plan.own(Primitive.create(pd));
        }
        plan.emit(p, "x - max of " + n.name() + " (axis " + axis + ")", PlanArg.of(Args.SRC, v.md(), v.buffer()),
                PlanArg.of(Args.SRC_1, keptMd, max.buffer()), PlanArg.of(Args.DST, v.md(), centred));
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = MathOps.binary(MathOps.Binary.ADD, v.md(), keptMd, v.md(), attr, "logsoftmax " + n.name())) {
            p = plan.own(Primitive.create(pd));
        }
        plan.emit(p, "logsoftmax " + n.name() + " (axis " + axis + "): (x - max) - log(sum)", PlanArg.of(Args.SRC, v.md(), centred),
                PlanArg.of(Args.SRC_1, keptMd, negLog.buffer()), PlanArg.of(Args.DST, v.md(), out));
        return new Value(x.md(), out, shape);
    }

    /**
     * Whether every reader of the softmax's output is a MatMul taking it as A (the lines as rows) and
     * the output is no graph output: then the NaN repair changes nothing. It only touches lines
     * holding a NaN, and one NaN in a row of A makes that whole row of {@code A @ B} NaN, which is
     * what the repaired all-NaN row gives (attention's {@code softmax(q k^T) v}).
     */
    private static boolean onlyMatMulRows(Compiler plan, Node n) {
        if (plan.graph.source.isOutput(n.output())) return false;
        var readers = plan.graph.consumers(n.output());
        if (readers.isEmpty()) return false;
        for (Node r : readers) {
            if (!r.op().equals("MatMul") || !n.output().equals(r.input(0)) || n.output().equals(r.input(1))) return false;
            if (plan.graph.shape(r.input(0)).rank() < 2) return false;
        }
        return true;
    }

    /** An f32 plain descriptor owned by the plan. */
    static MemoryDescriptor plainMd(Compiler plan, long[] dims) {
        return plan.own(MemoryDescriptor.f32(Ops.plain(dims.length), dims));
    }
}
