package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.internal.lifetime.NativeAccess;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@code fast_when_finite}: for each step whose activation keeps PyTorch's NaN at a price (a ReLU as
 * oneDNN's {@code elu} with alpha 0, a fused ReLU6 as {@link dev.panamadnn.internal.dnnl.Ops#clampKeepingNaN}'s
 * four post-ops), the largest input magnitude {@code M} for which that step provably never sees a
 * NaN: then oneDNN's own {@code relu} / {@code clip} (one cheap operation, which turns NaN into 0)
 * gives exactly the same result, and the plan runs it instead whenever every F32 input of a run is
 * finite and at most {@code M} in magnitude ({@link ExecutionContext} checks that per run: one pass
 * over the inputs).
 *
 * <p>The proof is interval arithmetic on magnitudes: with every graph input bounded by {@code M},
 * each value's bound follows from its inputs' ({@code |conv(x)| <= max_o sum|w_o| * |x| + |b|}, or where {@code x} is never
 * below 0 ({@link #nonNegativeResult}) {@code max_o max(sum w_o+, sum w_o-) * |x| + |b|},
 * {@code |a + b| <= |a| + |b|}, a ReLU6 or sigmoid bounds by a constant, pooling and reshaping keep
 * it...). A step qualifies when the bounds of all its inputs and of its result before the activation
 * stay below {@link #LIMIT} (2^100, far from float's 2^128: no partial sum inside a kernel can
 * overflow to an infinity, so no {@code inf - inf} can make a NaN from finite inputs, and no input
 * is NaN). An op not listed here, or a weight that is not finite, gives an unbounded value: the
 * steps after it keep the NaN-keeping form. Bounds are worst cases: a network that clamps (ReLU6:
 * MobileNets) stays bounded however deep it is; one that does not (plain ReLU) multiplies its
 * layers' weight norms, so only its first layers qualify.
 */
final class FiniteBounds implements Rewrite {
    static final String NAME = "fast_when_finite";
    /** Bounds at or above this may overflow inside a kernel (see the class comment). */
    static final double LIMIT = 0x1p100;
    /** The input bounds tried: 2^k for k from {@link #MAX_EXP} down to {@link #MIN_EXP}. */
    static final int MAX_EXP = 100, MIN_EXP = -24;
    /** Slack per linear op for rounding (a float dot product is within n * 2^-24 of the exact one, relatively). */
    private static final double ROUNDING = 1.01;
    private static final Set<String> SAME = Set.of("Identity", "Dropout", "Flatten", "Reshape", "Transpose", "ChannelShuffle", "Squeeze", "Unsqueeze", "Expand",
            "Slice", "Split", "Gather", "Concat", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "AdaptiveAvgPool",
            "AdaptiveMaxPool", "ReduceMean", "ReduceMax", "ReduceMin", "Relu", "Gelu", "Silu", "HardSwish", "Neg", "Abs", "Floor", "Ceil",
            "Round", "Max", "Min", "Tile", "DepthToSpace", "SpaceToDepth");
    private static final Set<String> UNIT = Set.of("Sigmoid", "Tanh", "HardSigmoid", "Softmax", "Sign", "Softsign", "Erf", "Sin", "Cos");
    /** The other ops {@link #op} bounds. */
    private static final Set<String> OPS = Set.of("Conv", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "LeakyRelu", "Elu", "Clip", "Pad",
            "BatchNormalization");

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return !options.fastRelu();   // with fastRelu every step already runs oneDNN's own relu and clip
    }

    /** Whether {@code n}'s step has a NaN-keeping activation with a cheaper oneDNN form (see {@link FusedActivation#ops}). */
    static boolean candidate(Node n) {
        if (n.op().equals("MaxPool")) return n.outputs().size() == 1;   // its NaN mask (LowerPool) is skipped when proven
        if (n.attributes().integer(PlanGraph.WINOGRAD, 0) == 1) return false;   // its activation is applied in Java
        Act act = n.op().equals("Relu") ? Act.of("Relu", n.attributes(), "", n.name()) : FusedActivation.of(n);
        return act != null && (act.isPlainRelu() || act.kind().equals("CLIP"));
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        List<Node> candidates = new ArrayList<>();   // loops, not lambdas, on the compile path: each lambda costs a cold JVM a spun class
        for (Node n : g.nodes) if (candidate(n)) candidates.add(n);
        if (candidates.isEmpty()) return;
        if (DeferredProof.enabled()) {   // proven after the plan's first run (DeferredProof): the candidates' steps get pending variants
            for (Node n : candidates) g.fastPending.add(n.name());
            g.fastCandidates.addAll(candidates);
            return;
        }
        Map<String, Integer> proven = provenExponents(g, candidates);
        for (Node n : candidates) {
            Integer k = proven.get(n.name());
            if (k == null) continue;
            g.fastInputBits.put(n.name(), bits(k));
            g.fired.add(fired(n, k));
        }
    }

    /** {@return 2^k as float bits, the form a step's bound takes} */
    static int bits(int k) {
        return Float.floatToRawIntBits(Math.scalb(1f, k));
    }

    /** {@return the rule's report of candidate {@code n} proven at 2^k} */
    static String fired(Node n, int k) {
        String fast = n.op().equals("MaxPool") ? "max pooling without its NaN mask"
                : "own " + (n.op().equals("Relu") || FusedActivation.of(n).isPlainRelu() ? "relu" : "clip");
        return NAME + ": " + n.name() + " (oneDNN's " + fast + " when every input is finite and |x| <= 2^" + k + ")";
    }

    /** The bounds of every value with inputs bounded by 2^k, computed once per k. */
    private static Map<String, Double> pass(PlanGraph g, Map<Integer, Map<String, Double>> passes, Map<String, Double> gains, int k) {
        Map<String, Double> p = passes.get(k);
        if (p == null) passes.put(k, p = bounds(g, Math.scalb(1.0, k), gains));
        return p;
    }

    /**
     * Per candidate that some input bound 2^k ({@link #MIN_EXP} <= k <= {@link #MAX_EXP}) proves, the largest such k.
     * Every bound rule is monotone in its inputs' bounds (sums, products and maxima of non-negative numbers, caps), so a
     * step proven at 2^k is proven at every smaller power: each candidate's k is found by bisection, the passes over the
     * graph ({@link #bounds}, one per k tried) shared by all candidates. A scan from {@link #MAX_EXP} down, as before,
     * made one pass per k until every candidate was proven - up to 125 when a step never is, at least down to the
     * smallest step's k - where the bisection makes about 7 per distinct path; the same exponents
     * ({@code FiniteBoundsSearchTest} checks it against that scan). The rule in a cold JVM, ONNX ResNet-18/50 at batch 1:
     * 59-103 ms before, 41-76 ms after (the rest is reading the weights for their row sums).
     */
    static Map<String, Integer> provenExponents(PlanGraph g, List<Node> candidates) {
        Map<String, Double> gains = new HashMap<>();
        Map<Integer, Map<String, Double>> passes = new HashMap<>();
        Map<String, Integer> proven = new HashMap<>();
        for (Node n : candidates) {
            if (!proves(g, n, pass(g, passes, gains, MIN_EXP))) continue;   // not even at the smallest bound: never
            if (proves(g, n, pass(g, passes, gains, MAX_EXP))) {
                proven.put(n.name(), MAX_EXP);
                continue;
            }
            int lo = MIN_EXP, hi = MAX_EXP;   // proven at lo, not at hi
            while (hi - lo > 1) {
                int mid = Math.floorDiv(lo + hi, 2);
                if (proves(g, n, pass(g, passes, gains, mid))) lo = mid;
                else hi = mid;
            }
            proven.put(n.name(), lo);
        }
        return proven;
    }

    /** Whether {@code bound} (one pass of {@link #bounds}) keeps {@code n}'s result and every input that is not a constant below {@link #LIMIT}. */
    static boolean proves(PlanGraph g, Node n, Map<String, Double> bound) {
        boolean ok = bound.getOrDefault(preActivation(n), Double.POSITIVE_INFINITY) < LIMIT;
        for (String in : n.inputs()) ok &= in == null || g.isConstant(in) || bound.getOrDefault(in, Double.POSITIVE_INFINITY) < LIMIT;
        return ok;
    }

    /** The key under which {@link #bounds} records {@code n}'s result before its fused activation. */
    private static String preActivation(Node n) {
        return "\0pre\0" + n.name();
    }

    /** Every value's magnitude bound with every F32 graph input bounded by {@code m} (infinite: none known). */
    static Map<String, Double> bounds(PlanGraph g, double m, Map<String, Double> gains) {
        Map<String, Double> b = new HashMap<>();
        Set<String> nonNegative = new java.util.HashSet<>();   // values never below 0 when finite (a ReLU's output...)
        for (dev.panamadnn.graph.Value v : g.source.inputs()) b.put(v.name(), v.dtype() == DataType.F32 ? m : Double.POSITIVE_INFINITY);
        for (Node n : g.nodes) {
            double[] in = new double[n.inputs().size()];
            boolean known = SAME.contains(n.op()) || UNIT.contains(n.op()) || OPS.contains(n.op());
            for (int i = 0; i < in.length; i++) {
                String name = n.input(i);
                in[i] = name == null ? 0 : b.containsKey(name) ? b.get(name)
                        : g.isConstant(name) ? (known && readsConstantBound(g, n, i) ? constantBound(g, name, gains) : 0) : Double.POSITIVE_INFINITY;
            }
            double pre = known ? op(g, n, in, gains, nonNegative) : Double.POSITIVE_INFINITY;   // not known to keep finite values finite: unbounded
            if (n.attributes().has(PlanGraph.SUM)) pre += in[in.length - 1];
            if (!(pre < LIMIT)) pre = Double.POSITIVE_INFINITY;   // may have overflowed inside the kernel (inf - inf: NaN), or NaN: unknown
            b.put(preActivation(n), pre);
            Act act = FusedActivation.of(n);
            double out = act == null || pre == Double.POSITIVE_INFINITY ? pre : activation(act, pre);   // a clamp keeps a NaN: no cap
            for (String o : n.outputs()) b.put(o, out);
            if (nonNegativeResult(n, act, nonNegative)) nonNegative.add(n.output());
            if (n.op().equals("MaxPool") && n.outputs().size() > 1) b.put(n.outputs().get(1), Double.POSITIVE_INFINITY);   // indices, not values
        }
        return b;
    }

    /**
     * Whether {@link #op} reads the bound of {@code n}'s constant input {@code i}: not the weights of a linear op (their
     * row sums are the gain), nor the parameters an op reads itself (Clip's limits, BatchNormalization's statistics, a
     * constant divisor, Pad's amounts) - reading a weight's every value for an unused bound costs a cold compile most.
     */
    private static boolean readsConstantBound(PlanGraph g, Node n, int i) {
        return switch (n.op()) {
            case "Conv", "Gemm" -> i != 1;
            case "MatMul" -> i != 1 || !g.isConstant(n.input(1));
            case "Clip", "BatchNormalization" -> i == 0;
            case "Div", "Pad" -> i != 1;
            default -> true;
        };
    }

    /** Ops whose result is never below 0 where their first input is not (finite values): they move or pick values, or average them. */
    private static final Set<String> KEEP_SIGN = Set.of("Identity", "Dropout", "Flatten", "Reshape", "Transpose", "ChannelShuffle", "Squeeze",
            "Unsqueeze", "Expand", "Slice", "Split", "Gather", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "AdaptiveAvgPool",
            "AdaptiveMaxPool", "ReduceMean", "ReduceMax", "ReduceMin", "Tile", "DepthToSpace", "SpaceToDepth", "Floor", "Ceil", "Round");

    /**
     * Whether node {@code n}'s (first) output is never below 0 for finite inputs: a ReLU or a clamp to [0, c] (as an op or
     * fused), a sigmoid or softmax, an absolute value; an op of {@link #KEEP_SIGN} of such a value; a concat, maximum or
     * minimum, sum or product of such values only. Its readers' bounds can then take the signs of their weights apart.
     * Whatever the inputs, such a value lies in [0, +inf] or is NaN, never -inf (ReLU(-inf) = 0, 0 * inf = NaN, inf + inf
     * = inf): {@link LowerPool}'s NaN mask relies on it.
     */
    static boolean nonNegativeResult(Node n, Act fused, Set<String> nonNegative) {
        if (fused != null) return fused.isPlainRelu() || fused.kind().equals("CLIP");   // clamp(x, 0, c)
        String op = n.op();
        if (op.equals("Relu") || op.equals("Sigmoid") || op.equals("Softmax") || op.equals("HardSigmoid") || op.equals("Abs")) return true;
        if (KEEP_SIGN.contains(op)) return !n.inputs().isEmpty() && nonNegative.contains(n.input(0));
        if (op.equals("Concat") || op.equals("Max") || op.equals("Min") || op.equals("Add") || op.equals("Mul")) {
            for (String in : n.inputs()) if (in == null || !nonNegative.contains(in)) return false;
            return !n.inputs().isEmpty();
        }
        return false;
    }

    /** {@return the values of {@code g} that {@link #nonNegativeResult} finds never below 0, by name} */
    static Set<String> nonNegativeValues(PlanGraph g) {
        Set<String> nonNegative = new java.util.HashSet<>();
        for (Node n : g.nodes) if (nonNegativeResult(n, FusedActivation.of(n), nonNegative)) nonNegative.add(n.output());
        return nonNegative;
    }

    /** The bound of {@code n}'s result (before a fused activation and residual sum) from its inputs' bounds. */
    private static double op(PlanGraph g, Node n, double[] in, Map<String, Double> gains, Set<String> nonNegative) {
        String op = n.op();
        if (SAME.contains(op)) {   // every input is data for these (a ChannelShuffle of a concat's groups too); the others read data first
            return max(in, op.equals("Concat") || op.equals("ChannelShuffle") || op.equals("Max") || op.equals("Min") ? in.length : 1);
        }
        if (UNIT.contains(op)) return in.length == 0 ? Double.POSITIVE_INFINITY : in[0] < Double.POSITIVE_INFINITY ? 1 : Double.POSITIVE_INFINITY;
        return switch (op) {
            case "Conv" -> linear(g, n, in, gains, nonNegative.contains(n.input(0)));
            case "Gemm" -> Math.abs(n.attributes().real("alpha", 1)) * linear(g, n, new double[] {in[0], in[1]}, gains, nonNegative.contains(n.input(0)))
                    + (in.length > 2 ? Math.abs(n.attributes().real("beta", 1)) * in[2] : 0) * ROUNDING;
            case "MatMul" -> matMul(g, n, in, gains, nonNegative.contains(n.input(0)));
            case "Add", "Sub" -> (in[0] + in[1]) * ROUNDING;
            case "Mul" -> in[0] * in[1] * ROUNDING;
            case "Div" -> g.isConstant(n.input(1)) ? in[0] / minAbs(g, n.input(1)) * ROUNDING : Double.POSITIVE_INFINITY;
            case "LeakyRelu" -> in[0] * Math.max(1, Math.abs(n.attributes().real("alpha", 0.01)));
            case "Elu" -> Math.max(in[0], Math.abs(n.attributes().real("alpha", 1.0)));
            case "Clip" -> clip(g, n, in[0]);
            case "Pad" -> Math.max(in[0], n.inputs().size() > 2 && n.input(2) != null ? in[2] : Math.abs(n.attributes().real("value", 0)));
            case "BatchNormalization" -> batchNorm(g, n, in[0]);
            default -> throw new IllegalStateException(op + " is listed in OPS but has no bound rule");
        };
    }

    /**
     * {@code A @ B} (K the reduction's length, read from A: a folded transpose keeps A's last dim), plus a fused bias
     * (input 2), then a fused scalar factor or divisor (input 3, {@link FuseMatMulScale}).
     */
    private static double matMul(PlanGraph g, Node n, double[] in, Map<String, Double> gains, boolean nonNegativeInput) {
        double bias = in.length > 2 ? in[2] : 0;
        Shape a = g.shape(n.input(0));
        double product = g.isConstant(n.input(1)) ? linear(g, n, new double[] {in[0], in[1], bias}, gains, nonNegativeInput)
                : (in[0] * in[1] * a.dim(a.rank() - 1).size() + bias) * ROUNDING;
        if (in.length < 4 || n.input(3) == null) return product;
        return (n.attributes().string(PlanGraph.SCALE_OP).equals("Div") ? product / in[3] : product * in[3]) * ROUNDING;   // a scalar: |c|
    }

    private static double max(double[] in, int first) {
        double m = 0;
        for (int i = 0; i < Math.min(first, in.length); i++) m = Math.max(m, in[i]);
        return m;
    }

    private static double activation(Act act, double x) {
        return switch (act.kind()) {
            case "CLIP" -> Math.min(x, Math.abs(act.beta()));
            case "SIGMOID", "TANH" -> x < Double.POSITIVE_INFINITY ? 1 : x;
            case "RELU" -> x * Math.max(1, Math.abs(act.alpha()));
            case "ELU" -> Math.max(x, Math.abs(act.alpha()));
            default -> x;   // GELU, SWISH: |f(x)| <= |x|
        };
    }

    private static double clip(PlanGraph g, Node n, double x) {
        Float lo, hi;
        try {
            lo = LowerMath.clipBound(g, n, 1, "min", Float.NEGATIVE_INFINITY);
            hi = LowerMath.clipBound(g, n, 2, "max", Float.POSITIVE_INFINITY);
        } catch (UnsupportedOperationException notF32) {
            return Double.POSITIVE_INFINITY;
        }
        if (lo == null || hi == null || lo.isNaN() || hi.isNaN()) return Double.POSITIVE_INFINITY;
        if (x == Double.POSITIVE_INFINITY) return x;   // the input may be NaN, which Clip keeps
        double cap = Math.max(Math.abs(lo), Math.abs(hi));
        return Float.isInfinite(lo) || Float.isInfinite(hi) ? Math.max(x, Float.isInfinite(lo) ? Math.abs(hi) : Math.abs(lo)) : cap;
    }

    /** {@code |scale| * (|x| + |mean|) + |shift|} per channel, the largest. */
    private static double batchNorm(PlanGraph g, Node n, double x) {
        for (int i = 1; i < 5; i++) if (n.input(i) != null && !g.isConstant(n.input(i))) return Double.POSITIVE_INFINITY;
        float[] mean = g.floats(n.input(3)), var = g.floats(n.input(4));
        float[] gamma = n.input(1) == null ? null : g.floats(n.input(1)), beta = n.input(2) == null ? null : g.floats(n.input(2));
        double eps = n.attributes().real("epsilon", 1e-5), worst = 0;
        for (int c = 0; c < mean.length; c++) {
            double k = Math.abs(gamma == null ? 1 : gamma[c]) / Math.sqrt(var[c] + eps);
            worst = Math.max(worst, k * (x + Math.abs(mean[c])) + (beta == null ? 0 : Math.abs(beta[c])));
        }
        return worst * ROUNDING;
    }

    /**
     * A Conv, Gemm or MatMul with constant weights: the largest sum of |weights| into one output
     * times the input's bound, plus the largest |bias|.
     */
    /**
     * A linear op's bound: its gain times its input's bound, plus its bias's. The gain is the largest row sum of |w| over
     * one output's weights, or where the input is never below 0 ({@link #nonNegativeResult}) the largest of the row's
     * positive and negative parts' sums: every partial sum of {@code w_i x_i} with {@code 0 <= x_i <= M} lies in
     * {@code [-M sum w-, M sum w+]}, whatever order a kernel adds them in (about half of sum |w| per layer).
     */
    private static double linear(PlanGraph g, Node n, double[] in, Map<String, Double> gains, boolean nonNegativeInput) {
        if (in[0] == Double.POSITIVE_INFINITY) return in[0];   // unbounded whatever the weights: not read
        String signed = n.name() + "\0signed";
        Double known = gains.get(nonNegativeInput ? signed : n.name());
        if (known == null) {
            double[] both = weightGain(g, n);
            gains.put(n.name(), both[0]);
            gains.put(signed, both[1]);
            known = nonNegativeInput ? both[1] : both[0];
        }
        double gain = known;
        double bias = 0;
        for (int i = 2; i < in.length - (n.attributes().has(PlanGraph.SUM) ? 1 : 0); i++) bias = Math.max(bias, in[i]);
        return (gain * in[0] + bias) * ROUNDING;
    }

    /**
     * Over the outputs, the largest sum of |w| over the weights that feed one, and the largest of such a row's positive
     * and negative parts' sums ({@link #linear}); both infinite when a weight is not finite or not constant.
     */
    private static double[] weightGain(PlanGraph g, Node n) {
        String w = n.input(1);
        double[] unbounded = {Double.POSITIVE_INFINITY, Double.POSITIVE_INFINITY};
        if (!g.isConstant(w)) return unbounded;
        long[] shape = g.shape(w).sizes();
        if (shape.length < 2) shape = new long[] {shape.length == 0 ? 1 : shape[0], 1};   // MatMul by a vector [K]: one output
        int outputs, inner, stride;   // the weights of output o: inner values from o * ... with this stride between them
        boolean conv = n.op().equals("Conv");
        boolean rowMajorOut = conv || n.op().equals("Gemm") && n.attributes().integer("transB", 0) != 0;
        long count = 1;
        for (long s : shape) count *= s;
        if (rowMajorOut) {   // [out, ...]: each output's weights contiguous
            outputs = (int) shape[0];
            inner = (int) (count / shape[0]);
            stride = 1;
        } else {   // [..., K, N]: each output a column (batched MatMul weights: every matrix's columns)
            inner = (int) shape[shape.length - 2];
            outputs = (int) (count / inner);
            stride = (int) shape[shape.length - 1];
        }
        float[] computed = g.computed.get(w);
        PlanGraph.Scaled scaled = g.scaled(w);   // a folded batch norm's weights: the initializer's rows, times their factor
        if (scaled != null && !rowMajorOut) {   // read by columns (not FoldBatchNorm's [out, ...] weights): as its values
            computed = g.floatsToRead(w);
            scaled = null;
        }
        // Rows are read from the tensor's memory as dense data: PlanGraph.tensor hands a strided view out as a dense copy
        Tensor t = computed != null ? null : scaled != null ? scaled.tensor() : g.tensor(w);
        if (computed == null && (t == null || t.dtype() != DataType.F32)) return unbounded;
        // A constant's own memory never reaches native code (it may be a mapping of a file that another process truncates,
        // or an arena another thread closes: NativeAccess): its rows are copied to the heap by Java first.
        MemorySegment seg = computed != null ? MemorySegment.ofArray(computed) : t.segment();
        // Rows are copied a block at a time (about 1 MB): one bulk copy for many rows, on a cold JVM each copy's own cost
        // (its checks, in the interpreter) is microseconds.
        int blockRows = computed != null || stride != 1 ? 0 : (int) Math.max(1, Math.min(outputs, (1 << 18) / Math.max(1, inner)));
        float[] rows = blockRows == 0 ? null : new float[blockRows * inner];
        long n2 = (long) shape[shape.length - 1];
        double worstAbs = 0, worstSigned = 0;
        double[] parts = new double[2];   // one output's positive and negative parts: sum max(w, 0), sum max(-w, 0)
        for (int o = 0; o < outputs; o++) {
            long base = rowMajorOut ? (long) o * inner : (o / n2) * inner * n2 + o % n2;
            if (computed != null && stride == 1) {
                partSums(computed, (int) base, inner, parts);
            } else if (rows != null) {
                int r = o % blockRows;
                if (r == 0) {   // by NativeAccess: a tensor another thread closes meanwhile is an exception naming it, no stray interrupt
                    long bytes = 4L * Math.min(blockRows, outputs - o) * inner;
                    NativeAccess.copy(seg.asSlice(4 * base, bytes), MemorySegment.ofArray(rows).asSlice(0, bytes), "weights " + w);
                }
                partSums(rows, r * inner, inner, parts);
                if (scaled != null) {
                    // |fl(w s)| <= |w| |s| (1 + 2^-24); an infinite or NaN factor makes the sums infinite or NaN (unbounded);
                    // a negative factor swaps the parts, which leaves their maximum
                    double f = Math.abs((double) scaled.scales()[o]) * (1 + 0x1p-23);
                    parts[0] *= f;
                    parts[1] *= f;
                }
            } else {   // a constant's columns (MatMul weights [..., K, N]): read by Java
                double pos = 0, neg = 0;
                for (int i = 0; i < inner; i++) {
                    float x = seg.getAtIndex(ValueLayout.JAVA_FLOAT_UNALIGNED, base + (long) i * stride);
                    pos += Math.max(x, 0f);
                    neg += Math.max(-x, 0f);
                }
                parts[0] = pos * (1 + 2.0 * inner * 0x1p-24);
                parts[1] = neg * (1 + 2.0 * inner * 0x1p-24);
            }
            double abs = parts[0] + parts[1], signed = Math.max(parts[0], parts[1]);
            if (!(abs < Double.POSITIVE_INFINITY)) return unbounded;   // a NaN or infinite weight
            worstAbs = Math.max(worstAbs, abs);
            worstSigned = Math.max(worstSigned, signed);
        }
        return new double[] {worstAbs, worstSigned};
    }

    /**
     * Upper bounds of the sums of {@code max(a[from + i], 0)} and {@code max(-a[from + i], 0)} for {@code i < n} into
     * {@code parts[0]} and {@code parts[1]} (NaN where an element is, infinite where one is infinite): summed in double
     * (two partial sums each: at most {@code n 2^-53} relatively below the exact sums), scaled by {@code 1 + 2 n 2^-24}.
     * A plain loop over a heap array, which a cold JVM compiles after a few rows (one OpenBLAS call per row cost more in
     * method-handle code; docs/benchmarks.md, "Thirteenth look").
     */
    static void partSums(float[] a, int from, int n, double[] parts) {
        double p0 = 0, p1 = 0, n0 = 0, n1 = 0;
        int i = from, end = from + n;
        for (; i + 1 < end; i += 2) {
            float x = a[i], y = a[i + 1];
            p0 += Math.max(x, 0f);
            n0 += Math.max(-x, 0f);
            p1 += Math.max(y, 0f);
            n1 += Math.max(-y, 0f);
        }
        if (i < end) {
            p0 += Math.max(a[i], 0f);
            n0 += Math.max(-a[i], 0f);
        }
        double scale = 1 + 2.0 * n * 0x1p-24;
        parts[0] = (p0 + p1) * scale;
        parts[1] = (n0 + n1) * scale;
    }

    private static double constantBound(PlanGraph g, String name, Map<String, Double> gains) {
        String key = "\0const\0" + name;
        Double known = gains.get(key);
        if (known != null) return known;
        double m = constantMagnitude(g, name);
        gains.put(key, m);
        return m;
    }

    /** The largest |value| of constant {@code name} (infinite for an integer constant or a non-finite value). */
    private static double constantMagnitude(PlanGraph g, String name) {
        float[] v;
        try {
            v = g.floatsToRead(name);
        } catch (UnsupportedOperationException notF32) {
            return Double.POSITIVE_INFINITY;   // an integer constant (shape, indices): not a value of the computation
        }
        double m = 0;
        for (float f : v) {
            if (!(Math.abs(f) < Double.POSITIVE_INFINITY)) return Double.POSITIVE_INFINITY;
            m = Math.max(m, Math.abs(f));
        }
        return m;
    }

    private static double minAbs(PlanGraph g, String name) {
        double m = Double.POSITIVE_INFINITY;
        for (float f : g.floatsToRead(name)) m = Math.min(m, Math.abs(f));
        return m;   // 0: the quotient is unbounded
    }

    /**
     * The largest {@code |x|} over {@code count} floats at {@code s}, as the bits of a non-negative float:
     * {@code 0x7f800000} for infinity, more for NaN; compared as ints, the order of the magnitudes.
     *
     * <p>Read straight from the segment with {@code Math.max}, which C2 vectorizes: 0.13-0.19 ms for ImageNet's
     * 224x224 input at batch 16 (2.4 million floats) against 1.1-1.5 ms for the former bulk copy into an {@code int[]}
     * chunk and a branching loop (measured on a 2-vCPU AMD EPYC VM). In chunks of {@link #CHUNK}, each a call: the
     * JIT compiles the chunk's loop after a few calls instead of on a long loop's back edges.
     */
    static int maxAbsBits(MemorySegment s, long count) {
        int m = 0;
        for (long i = 0; i < count; i += CHUNK) m = Math.max(m, maxAbsBits(s, i, Math.min(count, i + CHUNK)));
        return m;
    }

    /** The floats per call of {@link #maxAbsBits(MemorySegment, long)}'s loop. */
    static final int CHUNK = 4096;

    private static int maxAbsBits(MemorySegment s, long from, long to) {
        int m = 0;
        for (long i = from; i < to; i++) m = Math.max(m, s.get(ValueLayout.JAVA_INT_UNALIGNED, 4 * i) & 0x7fffffff);
        return m;
    }
}
