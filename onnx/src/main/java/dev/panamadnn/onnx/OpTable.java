package dev.panamadnn.onnx;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ONNX ops we import: one {@link OpRule} per op and range of opsets whose semantics match an
 * op of ours ({@link dev.panamadnn.graph.Ops} follows ONNX opset 17 names and attributes). An op
 * is accepted only at an opset a rule covers, with only attributes that rule understands, and only
 * while our op set has every op the rule emits: ops other branches of work add light up without a
 * change here. Older opsets' forms are translated (axes as an attribute become a constant input,
 * Softmax's flatten-to-2-D semantics is taken only where it equals ours); legacy attributes that
 * change nothing in inference ({@code consumed_inputs}, {@code is_test}) are dropped.
 */
final class OpTable {
    private OpTable() {}

    /** The opsets of the default domain we read; a model importing another is refused. */
    static final int MIN_OPSET = 1, MAX_OPSET = 23;

    /** Attributes understood and dropped: they change nothing in inference (their values are checked where they could). */
    private static final Set<String> DROPPED = Set.of("consumed_inputs", "is_test", "spatial", "storage_order", "broadcast", "training_mode",
            "seed", "ratio");

    /**
     * Every ONNX op the table has rules for. The rules of an op are built when it is first looked up: the table's ~110
     * translations and checks are lambdas, and linking them all cost an import 55-85 ms in a fresh JVM, where a model
     * uses a handful of ops. {@link #rules} checks that an op with rules is listed here (so {@link #markdown} shows it).
     */
    static final List<String> OPS = List.of("Abs", "Acos", "Acosh", "Add", "And", "ArgMax", "ArgMin", "Asin", "Asinh", "Atan", "Atanh",
            "Attention", "AveragePool", "BatchNormalization", "BitShift", "BlackmanWindow", "Cast", "CastLike", "Ceil", "Celu", "Clip", "Concat",
            "Constant", "ConstantOfShape", "Conv", "ConvInteger", "ConvTranspose", "Cos", "Cosh", "CumSum", "DepthToSpace", "DequantizeLinear",
            "Div", "Dropout", "DynamicQuantizeLinear", "Einsum", "Elu", "Equal", "Erf", "Exp", "Expand", "EyeLike", "Flatten", "Floor", "GRU",
            "Gather", "GatherElements", "GatherND", "Gelu", "Gemm", "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool", "Greater",
            "GreaterOrEqual", "GridSample", "GroupNormalization", "HammingWindow", "HannWindow", "HardSigmoid", "HardSwish", "Hardmax",
            "Identity", "InstanceNormalization", "IsInf", "IsNaN", "LRN", "LSTM", "LayerNormalization", "LeakyRelu", "Less", "LessOrEqual",
            "Log", "LogSoftmax", "LpNormalization", "LpPool", "MatMul", "MatMulInteger", "Max", "MaxPool", "MaxUnpool", "Mean",
            "MeanVarianceNormalization", "Min", "Mish", "Mod", "Mul", "Neg", "NegativeLogLikelihoodLoss", "Not", "OneHot", "Or", "PRelu",
            "Pad", "Pow", "QLinearConv", "QLinearMatMul", "QuantizeLinear", "RMSNormalization", "RNN", "Range", "Reciprocal", "ReduceL1",
            "ReduceL2", "ReduceLogSum", "ReduceLogSumExp", "ReduceMax", "ReduceMean", "ReduceMin", "ReduceProd", "ReduceSum", "ReduceSumSquare",
            "Relu", "Reshape", "Resize", "ReverseSequence", "RoiAlign", "RotaryEmbedding", "Round", "Scatter", "ScatterElements", "ScatterND",
            "Selu", "Shape", "Shrink", "Sigmoid", "Sign", "Sin", "Sinh", "Size", "Slice", "Softmax", "SoftmaxCrossEntropyLoss", "Softplus",
            "Softsign", "SpaceToDepth", "Split", "Sqrt", "Squeeze", "Sub", "Sum", "Tan", "Tanh", "ThresholdedRelu", "Tile", "TopK", "Transpose",
            "Trilu", "Unsqueeze", "Upsample", "Where", "Xor");

    private static final Set<String> LISTED = Set.copyOf(OPS);

    /** The rules built so far, by op (only ops that have rules: a model's unknown op types are not kept). */
    private static final Map<String, List<OpRule>> BUILT = new ConcurrentHashMap<>();

    /** The rule for {@code op} at {@code opset}, or null. */
    static OpRule find(String op, int opset) {
        for (OpRule r : rules(op)) if (r.covers(opset)) return r;
        return null;
    }

    /** Whether any rule knows {@code op} (at some opset). */
    static boolean knows(String op) {
        return !rules(op).isEmpty();
    }

    /** {@code op}'s rules at every opset (empty for an op we do not import), built on first use. */
    static List<OpRule> rules(String op) {
        List<OpRule> built = BUILT.get(op);
        if (built != null) return built;
        List<OpRule> rules = new ArrayList<>();
        upToOpset17(op, rules);
        SelectRules.addTo(op, rules);
        LaterOpsets.addTo(op, rules, MAX_OPSET);   // opsets 18 on: the rules above carried on, the later forms added
        if (rules.isEmpty()) return List.of();
        if (!LISTED.contains(op)) throw new IllegalStateException(op + " has import rules but is missing from OpTable.OPS");
        built = BUILT.putIfAbsent(op, List.copyOf(rules));
        return built != null ? built : BUILT.get(op);
    }

    /**
     * The table as Markdown rows (docs/onnx.md is checked against it by a test): ONNX op, opsets,
     * attributes understood, our ops, whether this build's op set has them all, limits.
     */
    static String markdown() {
        StringBuilder sb = new StringBuilder("| ONNX op | opsets | attributes | our ops | in this build | limits |\n|---|---|---|---|---|---|\n");
        List<OpRule> sorted = new ArrayList<>();
        for (String op : OPS) sorted.addAll(rules(op));
        sorted.sort(java.util.Comparator.comparing(OpRule::op).thenComparingInt(OpRule::fromOpset));
        for (OpRule r : sorted) {
            boolean all = dev.panamadnn.graph.Ops.names().containsAll(r.targets());
            sb.append("| ").append(r.op()).append(" | ").append(r.fromOpset()).append(r.toOpset() == r.fromOpset() ? "" : "-" + r.toOpset())
                    .append(" | ").append(r.attributes().isEmpty() ? "-" : String.join(", ", new java.util.TreeSet<>(r.attributes())))
                    .append(" | ").append(String.join(", ", r.targets())).append(" | ").append(all ? "yes" : "not yet")
                    .append(" | ").append(r.note()).append(" |\n");
        }
        return sb.toString();
    }

    /** A rule mapping {@code op} onto our op of the same name, copying its attributes (less the dropped legacy ones). */
    static OpRule same(String op, int from, int to, String... attributes) {
        return new OpRule(op, from, to, Set.of(attributes), List.of(op), null, new Same(op), "");
    }

    /** {@link #same}'s translation: a class, not a lambda (each lambda costs a cold JVM a class spun at its first use). */
    private record Same(String op) implements OpRule.Translate {
        @Override
        public List<String> apply(NodeContext n) {
            return List.of(n.emit(op, kept(n.attributes), n.inputs.toArray(new String[0])));
        }
    }

    static Attributes kept(Attributes a) {
        Attributes.Builder b = a.toBuilder();
        for (String d : DROPPED) b.remove(d);
        if (a.string("auto_pad", "NOTSET").equals("VALID")) b.remove("auto_pad");   // VALID: no padding (pads absent, checked)
        return b.build();
    }

    private static final String MAXPOOL_PADS = "auto_pad SAME_* as pads; uneven pads (ceil_mode 0) as a Pad with -inf first";

    private static final String MAXPOOL_INDICES = "; Indices (storage_order 0 or 1) as a Java step with the values, PyTorch's maxima "
            + "(the first of equal ones, NaN the maximum), an input of at most 2^24 elements in a plan";

    private static final String AVGPOOL_PADS = "auto_pad SAME_* as pads; uneven pads (ceil_mode 0) as a Pad with zeros first, "
            + "then (count_include_pad 0) a Mul by window size / elements inside";


    /** The rules of {@code op} up to opset 17 (those of the selecting ops come from {@link SelectRules}); none for an op we do not import. */
    private static void upToOpset17(String op, List<OpRule> rules) {
        String[] window = {"auto_pad", "kernel_shape", "pads", "strides"};
        switch (op) {
            case "Conv" -> rules.add(same(op, 1, 17, cat(window, "dilations", "group")).check(AutoPad.CHECK).translate(AutoPad::translate));
            case "ConvTranspose" -> rules.add(same(op, 1, 17, cat(window, "dilations", "group", "output_padding", "output_shape")).check(AutoPad.CHECK)
                    .translate(AutoPad::translateTransposed).note("output_shape and auto_pad SAME_* become explicit pads (fixed spatial sizes)"));
            case "MaxPool" -> {
                rules.add(same(op, 1, 7, window).check(AutoPad.CHECK).translate(AutoPad::translate, "MaxPool", "Pad")
                        .note(MAXPOOL_PADS + "; no Indices output at these opsets"));
                rules.add(same(op, 8, 9, cat(window, "storage_order")).check(AutoPad.CHECK).translate(AutoPad::translate, "MaxPool", "Pad")
                        .note(MAXPOOL_PADS + MAXPOOL_INDICES));
                rules.add(same(op, 10, 17, cat(window, "storage_order", "ceil_mode", "dilations")).check(AutoPad.CHECK)
                        .translate(AutoPad::translate, "MaxPool", "Pad").note(MAXPOOL_PADS + MAXPOOL_INDICES
                                + "; U8/I8 (opset 12 on) where the values are known (constants, bound inputs), exactly"));
            }
            case "AveragePool" -> {
                rules.add(same(op, 1, 6, window).check(AutoPad.CHECK)
                        .translate(AutoPad::translate, "AveragePool", "Pad", "Mul", "Constant").note(AVGPOOL_PADS));
                rules.add(same(op, 7, 9, cat(window, "count_include_pad")).check(AutoPad.CHECK)
                        .translate(AutoPad::translate, "AveragePool", "Pad", "Mul", "Constant").note(AVGPOOL_PADS));
                rules.add(same(op, 10, 17, cat(window, "count_include_pad", "ceil_mode")).check(AutoPad.CHECK)
                        .translate(AutoPad::translate, "AveragePool", "Pad", "Mul", "Constant").note(AVGPOOL_PADS));
            }
            case "BatchNormalization" -> {
                OpRule.Check bn = (a, opset) -> a.integer("spatial", 1) != 1 ? "spatial=0 is not supported"
                        : a.integer("training_mode", 0) != 0 ? "training_mode=1 is not supported (inference only)" : null;
                rules.add(same(op, 6, 6, "epsilon", "momentum", "spatial", "is_test")
                        .check((a, o) -> a.integer("is_test", 0) == 0 ? "is_test=0 (training) is not supported" : bn.problem(a, o)));
                rules.add(same(op, 7, 8, "epsilon", "momentum", "spatial").check(bn));
                rules.add(same(op, 9, 13, "epsilon", "momentum"));
                // training_mode arrived at opset 14 (15 only widened the types): torch writes training_mode=0 at 14 too
                rules.add(same(op, 14, 17, "epsilon", "momentum", "training_mode").translate(Composed::batchNorm, "BatchNormalization",
                        "ReduceMean", "Sub", "Mul", "Div", "Add", "Sqrt", "Reshape")
                        .note("training_mode=1 (the batch's statistics, and the running mean / var outputs) composed of ReduceMean and math ops"));
            }
            case "LayerNormalization" -> rules.add(same(op, 17, 17, "axis", "epsilon", "stash_type").translate(Composed::layerNorm,
                    "LayerNormalization", "ReduceMean", "Sub", "Mul", "Add", "Sqrt", "Reciprocal")
                    .note("with the Mean and InvStdDev outputs: composed of ReduceMean and math ops"));
            case "InstanceNormalization" -> rules.add(same(op, 6, 17, "epsilon"));
            case "GlobalAveragePool", "GlobalMaxPool", "Identity", "MatMul", "Softplus", "Softsign", "Not" -> rules.add(same(op, 1, 17));
            case "Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Abs", "Reciprocal", "Floor", "Ceil" -> rules.add(same(op, 6, 17));
            case "Neg" -> rules.add(same(op, 6, 17).translate(SelectRules::neg, "Neg", "Sub").note("of I64 values as Sub(0, X) (shape computations)"));
            case "Erf" -> rules.add(same(op, 9, 17));
            case "Sin", "Cos", "Tan", "Asin", "Acos", "Atan" -> rules.add(same(op, 7, 17));
            case "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Sign" -> rules.add(same(op, 9, 17));
            case "ThresholdedRelu" -> rules.add(same(op, 10, 17, "alpha"));
            case "Celu" -> rules.add(same(op, 12, 17, "alpha"));
            case "Shrink" -> rules.add(same(op, 9, 17, "bias", "lambd"));
            case "Round" -> rules.add(same(op, 11, 17));
            // Variadic element-wise ops as a left fold of our binary ones (Mean divides the sum by the count).
            case "Max", "Min", "Sum", "Mean" -> {
                String binary = op.equals("Max") || op.equals("Min") ? op : "Add";
                String[] emits = (op.equals("Mean") ? List.of("Add", "Div", "Identity") : List.of(binary, "Identity")).toArray(String[]::new);
                String chain = "as a chain of " + binary + (op.equals("Mean") ? " then Div" : "");
                rules.add(same(op, 8, 17).translate(n -> List.of(Composed.fold(n, binary)), emits).note(chain));
                rules.add(same(op, 6, 7).translate(n -> List.of(Composed.fold(n, binary)), emits).note(chain + " (equal shapes at these opsets)"));
            }
            case "HardSwish" -> rules.add(same(op, 14, 17));
            case "LeakyRelu", "Elu" -> rules.add(same(op, 6, 17, "alpha"));
            case "Selu" -> rules.add(same(op, 6, 17, "alpha", "gamma"));
            case "HardSigmoid" -> rules.add(same(op, 6, 17, "alpha", "beta"));
            case "PRelu" -> {
                rules.add(same(op, 7, 17));
                rules.add(same(op, 6, 6).translate(SelectRules::legacyPrelu, "PRelu", "Reshape")
                        .note("opset 6: a slope of C values is per channel (dim 1), as a [C, 1, ...] slope"));
            }
            case "Add", "Sub", "Mul", "Div", "Pow" -> {   // Pow-1 has the same legacy broadcast attributes
                rules.add(same(op, 7, 17));
                rules.add(same(op, 6, 6, "broadcast", "axis").translate(OpTable::legacyBroadcast).note("opset 6: axis only where it equals NumPy's alignment"));
            }
            case "Gemm" -> {
                String[] gemmOps = {"Gemm", "Transpose", "MatMul", "Mul", "Add"};
                String note = "as MatMul, Transpose, Mul, Add unless transA = 0, alpha = beta = 1 and B, C constants";
                rules.add(same(op, 7, 17, "alpha", "beta", "transA", "transB").translate(Composed::gemm, gemmOps).note(note));
                rules.add(same(op, 6, 6, "alpha", "beta", "transA", "transB", "broadcast").translate(Composed::gemm, gemmOps).note(note));
            }
            case "Flatten" -> rules.add(same(op, 1, 17, "axis"));
            case "Concat" -> rules.add(same(op, 4, 17, "axis"));
            case "Reshape" -> {
                rules.add(same(op, 5, 13));
                rules.add(same(op, 14, 17, "allowzero"));
            }
            case "Transpose" -> rules.add(same(op, 1, 17, "perm"));
            case "Softmax", "LogSoftmax", "Hardmax" -> {
                rules.add(same(op, 13, 17, "axis"));
                rules.add(same(op, 1, 12, "axis").translate(OpTable::legacySoftmax, op, "Reshape").note("opsets 1-12: flatten-to-2-D semantics (a "
                        + "Reshape around ours where the axis is not the last; the dims from it fixed)"));
            }
            case "Pad" -> {
                String padInts = "integer data (I64, I32, U8, I8, BOOL) where its values are known (constants, bound inputs), computed exactly at "
                        + "import (reflect of a dim cropped at one end and padded at the other refused there)";
                rules.add(same(op, 11, 17, "mode").note(padInts));
                rules.add(same(op, 2, 10, "mode", "pads", "value").translate(n -> {
                    String pads = n.longs("pads", n.attributes.integers("pads"), n.attributes.integers("pads").length);
                    Attributes a = Attributes.of("mode", n.attributes.string("mode", "constant"));
                    double value = n.attributes.real("value", 0);
                    return List.of(value == 0 ? n.emit("Pad", a, n.input(0), pads) : n.emit("Pad", a, n.input(0), pads, n.scalar("value", (float) value)));
                }).note(padInts + "; a non-zero value only for F32 data"));
            }
            case "Constant" -> rules.add(same(op, 1, 17, "value", "value_float", "value_floats", "value_int", "value_ints").translate(OpTable::constant)
                    .note("sparse_value and the string forms are not supported"));
            case "Dropout" -> rules.add(same(op, 1, 17, "ratio", "is_test", "seed", "consumed_inputs").translate(OpTable::dropout, "Identity", "Shape",
                    "ConstantOfShape").note("as Identity (training_mode true only with a constant ratio 0); the mask output as all true"));
            // Axes as an attribute before opset 13, an input from 13 on (our ops take the opset-17 form).
            case "Unsqueeze", "Squeeze" -> {
                rules.add(same(op, 13, 17));
                rules.add(same(op, 1, 12, "axes").translate(n -> List.of(n.emit(op, Attributes.empty(), n.input(0),
                        n.attributes.has("axes") ? n.longs("axes", n.attributes.integers("axes"), n.attributes.integers("axes").length) : ""))));
            }
            case "ReduceSum" -> {
                rules.add(same(op, 13, 17, "keepdims", "noop_with_empty_axes"));
                rules.add(same(op, 1, 12, "axes", "keepdims").translate(n -> List.of(n.emit("ReduceSum",
                        Attributes.of("keepdims", n.attributes.integer("keepdims", 1)), n.input(0),
                        n.attributes.has("axes") ? n.longs("axes", n.attributes.integers("axes"), n.attributes.integers("axes").length) : ""))));
            }
            case "ReduceMean" -> rules.add(same(op, 1, 17, "axes", "keepdims"));
            case "ReduceMax", "ReduceMin", "ReduceProd" -> rules.add(same(op, 1, 17, "axes", "keepdims")
                    .note("integer inputs computed when known (torch's var/std export their count as ReduceProd of a Shape)"));
            case "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp" -> rules.add(same(op, 1, 17, "axes", "keepdims")
                    .translate(Composed::composedReduce, "ReduceSum", "ReduceMax", "Abs", "Mul", "Sqrt", "Log", "Exp", "Sub", "Add").note(switch (op) {
                        case "ReduceL1" -> "as ReduceSum(Abs(X))";
                        case "ReduceL2" -> "as Sqrt(ReduceSum(X * X))";
                        case "ReduceSumSquare" -> "as ReduceSum(X * X)";
                        case "ReduceLogSum" -> "as Log(ReduceSum(X))";
                        default -> "as Log(ReduceSum(Exp(X - max))) + max, max = ReduceMax(X) (stable; an infinite max shifts by 0, as torch.logsumexp)";
                    }));
            case "ReverseSequence" -> rules.add(same(op, 10, 17, "batch_axis", "time_axis").translate(Composed::reverseSequence, "Cast", "Reshape",
                    "Sub", "Less", "Where", "Expand", "Shape", "GatherElements").note("as GatherElements with the index t < len ? len - 1 - t : t (F32, "
                    + "cast to INT64; a constant where the lengths are); a fixed time axis"));
            case "MeanVarianceNormalization" -> rules.add(same(op, 9, 17, "axes").translate(Composed::meanVarianceNormalization, "ReduceMean", "Sub",
                    "Mul", "Sqrt", "Add", "Div").note("(X - mean) / (sqrt(mean((X - mean)^2)) + 1e-9) over axes (default [0, 2, 3]); ONNX's function "
                    + "body takes the variance as E[X^2] - E[X]^2, the same in exact arithmetic, without its cancellation"));
            case "LpNormalization" -> rules.add(same(op, 1, 17, "axis", "p").translate(Composed::lpNormalization, "ReduceSum", "Abs", "Mul", "Sqrt",
                    "Equal", "Where", "Div").note("x / (sum over axis of abs(x)^p)^(1/p), p 1 or 2; a line of zeros stays zeros, as ONNX Runtime and "
                    + "F.normalize"));
            case "GlobalLpPool" -> rules.add(same(op, 2, 17, "p").translate(Composed::globalLpPool, "ReduceSum", "Abs", "Mul", "Pow", "Sqrt")
                    .note("(sum over the spatial dims of abs(x)^p)^(1/p), any integer p >= 1"));
            case "LpPool" -> rules.add(same(op, 2, 17, "auto_pad", "kernel_shape", "p", "pads", "strides").check(AutoPad.CHECK)
                    .translate(Composed::lpPool, "Abs", "Mul", "Pow", "Pad", "AveragePool", "Sqrt")
                    .note("per window (sum of abs(x)^p)^(1/p): abs(x)^p zero-padded (explicit or auto_pad SAME_* pads), an AveragePool times the "
                            + "kernel size, the root"));
            case "Clip" -> {
                rules.add(same(op, 11, 17));
                rules.add(same(op, 6, 10, "min", "max").translate(n -> List.of(n.emit("Clip", Attributes.empty(), n.input(0),
                        n.scalar("min", (float) n.attributes.real("min", -Float.MAX_VALUE)), n.scalar("max", (float) n.attributes.real("max",
                        Float.MAX_VALUE))))));
            }
            case "Shape" -> {
                rules.add(same(op, 1, 14));
                rules.add(same(op, 15, 17, "start", "end"));
            }
            case "Gather" -> rules.add(same(op, 1, 17, "axis"));
            case "Cast" -> rules.add(same(op, 6, 17, "to"));
            case "Einsum" -> rules.add(same(op, 12, 17, "equation").translate(Einsum::translate, "ReduceSum", "Transpose", "Reshape", "MatMul")
                    .note("one or two operands, as ReduceSum, Transpose, Reshape and one batched MatMul; ellipses; batch dims of 1 broadcast as "
                            + "NumPy (named or in the ellipsis); symbolic dims; no diagonal"));
            case "ConvInteger" -> rules.add(same(op, 10, 17, cat(window, "dilations", "group")).translate(Composed::integerOps, "Cast", "Sub",
                    "Reshape", "Conv").note("the Conv of x and w minus their zero points on exact F32 values, cast to INT32 (exact while the sums "
                    + "stay below 2^24); explicit pads"));
            case "DynamicQuantizeLinear" -> rules.add(same(op, 11, 17).translate(Composed::dynamicQuantize, "ReduceMin", "ReduceMax", "Min", "Max",
                    "Sub", "Div", "Neg", "Round", "Clip", "Add", "Cast", "Identity").note("in F32: the range of x with 0, 255 UINT8 levels, round "
                    + "half to even"));
            case "MatMulInteger" -> rules.add(same(op, 10, 17).translate(Composed::integerOps, "Cast", "Sub", "Reshape", "MatMul")
                    .note("the MatMul of A and B minus their zero points on exact F32 values, cast to INT32"));
            case "QLinearConv" -> rules.add(same(op, 10, 17, cat(window, "dilations", "group")).translate(Composed::integerOps, "Cast", "Sub",
                    "Reshape", "Conv", "Add", "Mul", "Div", "Round", "Clip").note("the integer sum (bias included) on exact F32 values, then "
                    + "saturate(round(sum * x_scale * w_scale / y_scale) + y_zero_point) as ONNX Runtime; per-channel weight scales; explicit pads"));
            case "QLinearMatMul" -> rules.add(same(op, 10, 17).translate(Composed::integerOps, "Cast", "Sub", "Reshape", "MatMul", "Mul", "Div",
                    "Round", "Add", "Clip").note("the integer sum on exact F32 values, then saturate(round(sum * a_scale * b_scale / y_scale) + "
                    + "y_zero_point)"));
            case "QuantizeLinear", "DequantizeLinear" -> {
                String[] ours = {"Cast", "Round", "Div", "Add", "Clip", "Sub", "Mul", "Reshape"};
                rules.add(same(op, 10, 12).translate(Composed::quantize, ours)
                        .note("in F32: round half to even, saturated to UINT8/INT8 (a quantized QDQ model runs in F32)"));
                rules.add(same(op, 13, 17, "axis").translate(Composed::quantize, ours)
                        .note("in F32: round half to even, saturated to UINT8/INT8; per-axis scales along axis (a quantized QDQ model runs in F32)"));
            }
            case "HannWindow", "HammingWindow", "BlackmanWindow" -> rules.add(same(op, 17, 17, "output_datatype", "periodic")
                    .translate(Composed::window, "Constant")
                    .note("its size known (a constant or a bound input): the values computed at import, FLOAT output"));
            case "EyeLike" -> rules.add(same(op, 9, 17, "dtype", "k").translate(Composed::eyeLike, "Constant")
                    .note("the input's dims known: a constant computed at import (every dtype but DOUBLE, BFLOAT16, STRING)"));
            case "IsNaN" -> rules.add(same(op, 9, 17).translate(n -> List.of(n.emit("Not", Attributes.empty(), n.emit("Equal", Attributes.empty(),
                    n.input(0), n.input(0)))), "Equal", "Not").note("as Not(Equal(X, X)), false only for NaN"));
            case "IsInf" -> rules.add(same(op, 10, 17, "detect_negative", "detect_positive").translate(OpTable::isInf, "Equal", "Abs")
                    .note("as Equal of X (or |X|) and the infinity detected"));
            case "LRN" -> rules.add(same(op, 1, 17, "alpha", "beta", "bias", "size").translate(Composed::lrn, "Mul", "Reshape", "Pad", "AveragePool",
                    "Shape", "Add", "Pow", "Div").note("across channels, as an AveragePool of the squares over a [N, 1, C, rest] view (the classic "
                    + "ONNX zoo models)"));
            case "CastLike" -> rules.add(same(op, 15, 17).translate(n -> List.of(n.emit("Cast", Attributes.of("to", onnxType(n, n.value(1).dtype())),
                    n.input(0))), "Cast").note("as Cast to the element type of target_type"));
            case "ConstantOfShape" -> rules.add(same(op, 9, 17, "value"));
            case "Expand" -> rules.add(same(op, 8, 17));
            case "Range" -> rules.add(same(op, 11, 17));
            case "ScatterND" -> rules.add(same(op, 11, 17, "reduction").note("indices known when compiling (constants, bound inputs); reduction "
                    + "none, add, mul (duplicate indices applied in order)"));
            case "Where" -> rules.add(same(op, 9, 17));
            case "Equal", "Less", "Greater", "And", "Or", "Xor" -> rules.add(same(op, 7, 17));
            case "Mod" -> rules.add(same(op, 10, 17, "fmod").note("integers, where the values are known (constants, bound inputs)"));
            case "Slice" -> {
                rules.add(same(op, 10, 17));
                rules.add(same(op, 1, 9, "starts", "ends", "axes").translate(n -> {
                    long[] starts = n.attributes.integers("starts"), ends = n.attributes.integers("ends");
                    long[] axes = n.attributes.integers("axes", null);
                    return List.of(n.emit("Slice", Attributes.empty(), n.input(0), n.longs("starts", starts, starts.length), n.longs("ends", ends,
                            ends.length), axes == null ? "" : n.longs("axes", axes, axes.length)));
                }).note("starts, ends, axes attributes as constant inputs"));
            }
            case "DepthToSpace", "SpaceToDepth" -> {
                String note = "as Reshape, Transpose, Reshape; C, H, W fixed";
                boolean depth = op.equals("DepthToSpace");
                rules.add(same(op, 13, 17, depth ? new String[] {"blocksize", "mode"} : new String[] {"blocksize"})
                        .translate(Composed::depthSpace, "Reshape", "Transpose").note(note));
                if (depth) rules.add(same(op, 11, 12, "blocksize", "mode").translate(Composed::depthSpace, "Reshape", "Transpose").note(note));
                rules.add(same(op, 1, depth ? 10 : 12, "blocksize").translate(Composed::depthSpace, "Reshape", "Transpose").note(note));
            }
            case "Size" -> rules.add(same(op, 1, 17).translate(n -> {
                if (!n.value(0).shape().isFixed()) throw n.needsConstant("the size of " + n.value(0) + " is not known when importing (symbolic dims)");
                long size = 1;
                for (long d : n.value(0).shape().sizes()) size = Math.multiplyExact(size, d);
                return List.of(n.emit("Constant", Attributes.of("value", TensorProtos.longs(n.arena(), new long[] {size}))));
            }, "Constant").note("input shapes fixed (a constant)"));
            case "Trilu" -> rules.add(same(op, 14, 17, "upper").translate(Composed::trilu, "Constant", "Where")
                    .note("k a constant (or a bound input), the last two dims fixed; as Where over a constant mask; X F32, BOOL (a causal mask) "
                            + "or an integer type"));
            case "Split" -> {
                rules.add(same(op, 13, 17, "axis").translate(n -> n.emit("Split", kept(n.attributes), n.inputs, n.outputCount)));
                rules.add(same(op, 2, 12, "axis", "split").translate(n -> n.emit("Split", Attributes.of("axis", n.attributes.integer("axis", 0)),
                        List.of(n.input(0), n.attributes.has("split") ? n.longs("split", n.attributes.integers("split"),
                                n.attributes.integers("split").length) : ""), n.outputCount)));
            }
            // Recurrent layers onto our ONNX-semantics LSTM and GRU (RecurrentShapes): default activations only, no clip, no input_forget.
            case "LSTM", "GRU" -> {
                boolean lstm = op.equals("LSTM");
                String[] attrs = lstm ? new String[] {"activations", "direction", "hidden_size", "input_forget"}
                        : new String[] {"activations", "direction", "hidden_size", "linear_before_reset"};
                String note = "default activations only; clip, activation_alpha/_beta" + (lstm ? " and input_forget = 1" : "") + " are not supported";
                OpRule.Check check = (a, opset) -> recurrentCheck(a, lstm);
                rules.add(same(op, 7, 13, attrs).check(check).translate(OpTable::recurrent, op).note(note));
                rules.add(same(op, 14, 17, cat(attrs, "layout")).check(check).translate(OpTable::recurrent, op).note(note));
            }
            // ONNX's plain RNN onto our RNN (oneDNN's vanilla RNN): one activation, Tanh, Relu or Sigmoid, the same in both directions.
            case "RNN" -> {
                String[] rnnAttrs = {"activations", "direction", "hidden_size"};
                String rnnNote = "activations Tanh (default), Relu or Sigmoid, the same for both directions; clip, activation_alpha/_beta are not "
                        + "supported";
                rules.add(same(op, 7, 13, rnnAttrs).check((a, opset) -> rnnCheck(a)).translate(OpTable::recurrent, "RNN").note(rnnNote));
                rules.add(same(op, 14, 17, cat(rnnAttrs, "layout")).check((a, opset) -> rnnCheck(a)).translate(OpTable::recurrent, "RNN").note(rnnNote));
            }
            default -> { }   // SelectRules' ops, the later opsets' new ops, or not one we import
        }
    }

    /** Dropout as Identity: inference, or training mode with a constant ratio of 0; its mask output (if asked for) all true. */
    private static List<String> dropout(NodeContext n) {
        Tensor training = n.constant(2), ratio = n.constant(1);
        // Training mode with a constant ratio of 0 drops nothing and scales by 1/(1 - 0): the input itself (torchvision's
        // Swin exports its attention dropout so, p = 0.0 with training_mode true).
        boolean noDrop = ratio != null && ratio.dtype() == dev.panamadnn.DataType.F32 && ratio.numel() == 1
                && ratio.segment().get(ValueLayout.JAVA_FLOAT, 0) == 0f;
        if (!n.input(2).isEmpty() && (training == null || training.segment().get(ValueLayout.JAVA_BYTE, 0) != 0) && !noDrop) {
            if (training == null || ratio == null && !n.input(1).isEmpty()) {   // graph inputs: bound per call, then decided
                throw n.needsConstant("training_mode and ratio must be known (a constant false, or a ratio of 0)");
            }
            throw n.refuse("training_mode must be absent or a constant false (or the ratio a constant 0)");
        }
        String y = n.emit("Identity", Attributes.empty(), n.input(0));
        if (n.outputCount < 2) return List.of(y);
        // the mask: every element kept (inference, or a ratio of 0), a BOOL true of the input's shape
        java.lang.foreign.MemorySegment one = n.arena().allocate(1);
        one.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        String shape = n.emit("Shape", Attributes.empty(), n.input(0));
        return List.of(y, n.emit("ConstantOfShape", Attributes.of("value", Tensor.wrap(one, dev.panamadnn.DataType.BOOL, 1)), shape));
    }

    /** LSTM's and GRU's attribute values we compute (the activations arrive as one comma-separated string, see Importer). */
    private static String recurrentCheck(Attributes a, boolean lstm) {
        if (a.integer("input_forget", 0) != 0) return "input_forget = 1 (coupled input-forget gate) is not supported";
        String direction = a.string("direction", "forward");
        if (!Set.of("forward", "reverse", "bidirectional").contains(direction)) return "direction '" + direction + "' is not one of forward, reverse, bidirectional";
        if (a.has("activations")) {
            String given = a.string("activations").replace(" ", "");
            String one = lstm ? "Sigmoid,Tanh,Tanh" : "Sigmoid,Tanh";
            String want = direction.equals("bidirectional") ? one + "," + one : one;
            if (!given.equalsIgnoreCase(want)) return "activations '" + a.string("activations") + "' are not supported: only the defaults (" + want + ")";
        }
        return null;
    }

    /** RNN's attribute values we compute: one activation per direction, each Tanh, Relu or Sigmoid, both the same. */
    private static String rnnCheck(Attributes a) {
        String direction = a.string("direction", "forward");
        if (!Set.of("forward", "reverse", "bidirectional").contains(direction)) {
            return "direction '" + direction + "' is not one of forward, reverse, bidirectional";
        }
        if (!a.has("activations")) return null;
        String[] each = a.string("activations").split(",", -1);
        int dirs = direction.equals("bidirectional") ? 2 : 1;
        if (each.length != dirs) return "activations '" + a.string("activations") + "' must name " + dirs + " (one per direction), got " + each.length;
        for (String f : each) {
            if (!Set.of("tanh", "relu", "sigmoid").contains(f.trim().toLowerCase(java.util.Locale.ROOT))) {
                return "activation '" + f.trim() + "' is not supported: only Tanh, Relu, Sigmoid";
            }
        }
        if (dirs == 2 && !each[0].trim().equalsIgnoreCase(each[1].trim())) {
            return "activations '" + a.string("activations") + "' differ between the directions: oneDNN's RNN runs both with one";
        }
        return null;
    }

    /** LSTM, GRU and RNN as our op of the same name; absent outputs (Y left out) get fresh names from the builder. */
    private static List<String> recurrent(NodeContext n) {
        Attributes.Builder b = n.attributes.toBuilder();
        if (n.attributes.integer("input_forget", 0) == 0) b.remove("input_forget");
        return n.emit(n.op, b.build(), n.inputs, Math.max(1, n.outputCount));
    }

    /** IsInf: X (or |X|, both signs detected) equal to the infinity detected; no sign detected compares with NaN (all false). */
    private static List<String> isInf(NodeContext n) {
        if (n.value(0).dtype() != dev.panamadnn.DataType.F32) throw n.refuse("X must be F32, got " + n.value(0));
        boolean negative = n.attributes.integer("detect_negative", 1) != 0, positive = n.attributes.integer("detect_positive", 1) != 0;
        String x = negative && positive ? n.emit("Abs", Attributes.empty(), n.input(0)) : n.input(0);
        float inf = !negative && !positive ? Float.NaN : negative && !positive ? Float.NEGATIVE_INFINITY : Float.POSITIVE_INFINITY;
        return List.of(n.emit("Equal", Attributes.empty(), x, n.scalar("infinity", inf)));
    }

    /** The ONNX TensorProto element type of {@code t} (Cast's {@code to}). */
    private static long onnxType(NodeContext n, dev.panamadnn.DataType t) {
        return switch (t) {
            case F32 -> 1;
            case U8 -> 2;
            case I8 -> 3;
            case I32 -> 6;
            case I64 -> 7;
            case BOOL -> 9;
            case F16 -> 10;
            default -> throw n.refuse("target_type is " + t + ", which Cast does not produce here");
        };
    }

    /** Opset-6 broadcasting (B aligned at {@code axis}): taken where it equals NumPy's (suffix) alignment. */
    private static List<String> legacyBroadcast(NodeContext n) {
        int ra = n.value(0).shape().rank(), rb = n.value(1).shape().rank();
        if (n.attributes.integer("broadcast", 0) == 0) {
            if (!n.value(0).shape().equals(n.value(1).shape())) throw n.refuse("broadcast=0 needs equal shapes, got " + n.value(0) + " and " + n.value(1));
        } else if (n.attributes.has("axis")) {
            long axis = n.attributes.integer("axis");
            if (axis < 0) axis += ra;
            if (axis != ra - rb) throw n.refuse("legacy broadcast axis=" + n.attributes.integer("axis") + " of " + n.value(1) + " into " + n.value(0)
                    + " differs from NumPy's alignment");
        }
        return List.of(n.emit(n.op, Attributes.empty(), n.input(0), n.input(1)));
    }

    /**
     * Softmax/LogSoftmax before opset 13 flatten to 2-D at {@code axis} (default 1): one softmax over all the dims from
     * {@code axis} on. The last axis is ours as it is; another is a Reshape folding the dims from it into one (the dims
     * before it copied, so a symbolic batch stays), ours over that last dim, and a Reshape back. The dims from the axis on
     * must be fixed.
     */
    private static List<String> legacySoftmax(NodeContext n) {
        var shape = n.value(0).shape();
        int rank = shape.rank();
        long axis = n.attributes.integer("axis", 1);
        if (axis < 0) axis += rank;
        if (axis == rank - 1) return List.of(n.emit(n.op, Attributes.of("axis", -1L), n.input(0)));
        long folded = 1;
        long[] back = new long[rank];
        for (int d = 0; d < rank; d++) {
            if (d < axis) continue;   // 0: Reshape copies the input's dim (ONNX), the batch symbol included
            if (!shape.dim(d).isFixed()) {
                throw n.needsConstant(n.op + " of opset " + n.opset + " over axis " + n.attributes.integer("axis", 1) + " of " + n.value(0)
                        + " (flatten-to-2-D semantics) needs the dims from the axis on fixed; dim " + d + " is " + shape.dim(d));
            }
            folded *= shape.dim(d).size();
            back[d] = shape.dim(d).size();
        }
        long[] flat = new long[(int) axis + 1];
        flat[(int) axis] = folded;
        String x2 = n.emit("Reshape", Attributes.empty(), n.input(0), n.longs("flat", flat, flat.length));
        String y2 = n.emit(n.op, Attributes.of("axis", -1L), x2);
        return List.of(n.emit("Reshape", Attributes.empty(), y2, n.longs("back", back, back.length)));
    }

    private static List<String> constant(NodeContext n) {
        Attributes a = n.attributes;
        if (a.names().size() != 1) throw n.refuse("exactly one value attribute expected, got " + a.names());
        Tensor value;
        if (a.has("value")) value = a.tensor("value");
        else if (a.has("value_float")) return List.of(n.emit("Constant", Attributes.of("value", TensorProtos.floats(n.arena(), new float[] {(float) a.real("value_float")}))));
        else if (a.has("value_floats")) {
            double[] d = a.reals("value_floats");
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) f[i] = (float) d[i];
            value = TensorProtos.floats(n.arena(), f, f.length);
        } else if (a.has("value_int")) value = TensorProtos.longs(n.arena(), new long[] {a.integer("value_int")});
        else value = TensorProtos.longs(n.arena(), a.integers("value_ints"), a.integers("value_ints").length);
        return List.of(n.emit("Constant", Attributes.of("value", value)));
    }

    private static String[] cat(String[] a, String... more) {
        String[] r = Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, r, a.length, more.length);
        return r;
    }
}
