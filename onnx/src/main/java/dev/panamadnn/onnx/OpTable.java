package dev.panamadnn.onnx;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

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

    static final List<OpRule> RULES = new ArrayList<>();

    /** The rule for {@code op} at {@code opset}, or null. */
    static OpRule find(String op, int opset) {
        for (OpRule r : RULES) if (r.op().equals(op) && r.covers(opset)) return r;
        return null;
    }

    /** Whether any rule knows {@code op} (at some opset). */
    static boolean knows(String op) {
        for (OpRule r : RULES) if (r.op().equals(op)) return true;
        return false;
    }

    /**
     * The table as Markdown rows (docs/onnx.md is checked against it by a test): ONNX op, opsets,
     * attributes understood, our ops, whether this build's op set has them all, limits.
     */
    static String markdown() {
        StringBuilder sb = new StringBuilder("| ONNX op | opsets | attributes | our ops | in this build | limits |\n|---|---|---|---|---|---|\n");
        List<OpRule> sorted = new ArrayList<>(RULES);
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
    private static OpRule same(String op, int from, int to, String... attributes) {
        OpRule r = new OpRule(op, from, to, Set.of(attributes), List.of(op), null, n -> List.of(n.emit(op, kept(n.attributes), n.inputs.toArray(String[]::new))), "");
        RULES.add(r);
        return r;
    }

    /** Replaces the rule just added (by {@link #same}) with {@code r}. */
    private static void replaceLast(OpRule r) {
        RULES.set(RULES.size() - 1, r);
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


    static {
        String[] window = {"auto_pad", "kernel_shape", "pads", "strides"};
        replaceLast(same("Conv", 1, 17, cat(window, "dilations", "group")).check(AutoPad.CHECK).translate(AutoPad::translate));
        replaceLast(same("ConvTranspose", 1, 17, cat(window, "dilations", "group", "output_padding", "output_shape")).check(AutoPad.CHECK)
                .translate(AutoPad::translateTransposed).note("output_shape and auto_pad SAME_* become explicit pads (fixed spatial sizes)"));
        replaceLast(same("MaxPool", 1, 7, window).check(AutoPad.CHECK).translate(AutoPad::translate, "MaxPool", "Pad")
                .note(MAXPOOL_PADS + "; no Indices output at these opsets"));
        replaceLast(same("MaxPool", 8, 9, cat(window, "storage_order")).check(AutoPad.CHECK).translate(AutoPad::translate, "MaxPool", "Pad")
                .note(MAXPOOL_PADS + MAXPOOL_INDICES));
        replaceLast(same("MaxPool", 10, 17, cat(window, "storage_order", "ceil_mode", "dilations")).check(AutoPad.CHECK)
                .translate(AutoPad::translate, "MaxPool", "Pad").note(MAXPOOL_PADS + MAXPOOL_INDICES
                        + "; U8/I8 (opset 12 on) where the values are known (constants, bound inputs), exactly"));
        replaceLast(same("AveragePool", 1, 6, window).check(AutoPad.CHECK)
                .translate(AutoPad::translate, "AveragePool", "Pad", "Mul", "Constant").note(AVGPOOL_PADS));
        replaceLast(same("AveragePool", 7, 9, cat(window, "count_include_pad")).check(AutoPad.CHECK)
                .translate(AutoPad::translate, "AveragePool", "Pad", "Mul", "Constant").note(AVGPOOL_PADS));
        replaceLast(same("AveragePool", 10, 17, cat(window, "count_include_pad", "ceil_mode")).check(AutoPad.CHECK)
                .translate(AutoPad::translate, "AveragePool", "Pad", "Mul", "Constant").note(AVGPOOL_PADS));
        OpRule.Check bn = (a, opset) -> a.integer("spatial", 1) != 1 ? "spatial=0 is not supported"
                : a.integer("training_mode", 0) != 0 ? "training_mode=1 is not supported (inference only)" : null;
        replaceLast(same("BatchNormalization", 6, 6, "epsilon", "momentum", "spatial", "is_test").check(bn)
                .check((a, o) -> a.integer("is_test", 0) == 0 ? "is_test=0 (training) is not supported" : bn.problem(a, o)));
        replaceLast(same("BatchNormalization", 7, 8, "epsilon", "momentum", "spatial").check(bn));
        replaceLast(same("BatchNormalization", 9, 14, "epsilon", "momentum"));
        replaceLast(same("BatchNormalization", 15, 17, "epsilon", "momentum", "training_mode").translate(Composed::batchNorm, "BatchNormalization",
                "ReduceMean", "Sub", "Mul", "Div", "Add", "Sqrt", "Reshape")
                .note("training_mode=1 (the batch's statistics, and the running mean / var outputs) composed of ReduceMean and math ops"));
        replaceLast(same("LayerNormalization", 17, 17, "axis", "epsilon", "stash_type").translate(Composed::layerNorm, "LayerNormalization",
                "ReduceMean", "Sub", "Mul", "Add", "Sqrt", "Reciprocal").note("with the Mean and InvStdDev outputs: composed of ReduceMean and math ops"));
        same("InstanceNormalization", 6, 17, "epsilon");
        for (String op : new String[] {"GlobalAveragePool", "GlobalMaxPool", "Identity", "MatMul"}) same(op, 1, 17);
        for (String op : new String[] {"Relu", "Sigmoid", "Tanh", "Exp", "Log", "Sqrt", "Abs", "Reciprocal"}) {
            same(op, 6, 17);
        }
        replaceLast(same("Neg", 6, 17).translate(SelectRules::neg, "Neg", "Sub").note("of I64 values as Sub(0, X) (shape computations)"));
        same("Softplus", 1, 17);
        same("Erf", 9, 17);
        for (String op : new String[] {"Sin", "Cos", "Tan", "Asin", "Acos", "Atan"}) same(op, 7, 17);
        for (String op : new String[] {"Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Sign"}) same(op, 9, 17);
        same("Softsign", 1, 17);
        same("ThresholdedRelu", 10, 17, "alpha");
        same("Celu", 12, 17, "alpha");
        same("Shrink", 9, 17, "bias", "lambd");
        same("Floor", 6, 17);
        same("Ceil", 6, 17);
        same("Round", 11, 17);
        // Variadic element-wise ops as a left fold of our binary ones (Mean divides the sum by the count).
        for (String op : new String[] {"Max", "Min", "Sum", "Mean"}) {
            String binary = op.equals("Max") || op.equals("Min") ? op : "Add";
            List<String> emits = op.equals("Mean") ? List.of("Add", "Div", "Identity") : List.of(binary, "Identity");
            replaceLast(same(op, 8, 17).translate(n -> List.of(Composed.fold(n, binary)), emits.toArray(String[]::new))
                    .note("as a chain of " + binary + (op.equals("Mean") ? " then Div" : "")));
            replaceLast(same(op, 6, 7).translate(n -> List.of(Composed.fold(n, binary)), emits.toArray(String[]::new))
                    .note("as a chain of " + binary + (op.equals("Mean") ? " then Div" : "") + " (equal shapes at these opsets)"));
        }
        same("HardSwish", 14, 17);
        same("LeakyRelu", 6, 17, "alpha");
        same("Elu", 6, 17, "alpha");
        same("Selu", 6, 17, "alpha", "gamma");
        same("HardSigmoid", 6, 17, "alpha", "beta");
        same("PRelu", 7, 17);
        replaceLast(same("PRelu", 6, 6).translate(SelectRules::legacyPrelu, "PRelu", "Reshape")
                .note("opset 6: a slope of C values is per channel (dim 1), as a [C, 1, ...] slope"));
        for (String op : new String[] {"Add", "Sub", "Mul", "Div", "Pow"}) {   // Pow-1 has the same legacy broadcast attributes
            same(op, 7, 17);
            replaceLast(same(op, 6, 6, "broadcast", "axis").translate(OpTable::legacyBroadcast).note("opset 6: axis only where it equals NumPy's alignment"));
        }
        String[] gemmOps = {"Gemm", "Transpose", "MatMul", "Mul", "Add"};
        replaceLast(same("Gemm", 7, 17, "alpha", "beta", "transA", "transB").translate(Composed::gemm, gemmOps)
                .note("as MatMul, Transpose, Mul, Add unless transA = 0, alpha = beta = 1 and B, C constants"));
        replaceLast(same("Gemm", 6, 6, "alpha", "beta", "transA", "transB", "broadcast").translate(Composed::gemm, gemmOps)
                .note("as MatMul, Transpose, Mul, Add unless transA = 0, alpha = beta = 1 and B, C constants"));
        same("Flatten", 1, 17, "axis");
        same("Concat", 4, 17, "axis");
        same("Reshape", 5, 13);
        same("Reshape", 14, 17, "allowzero");
        same("Transpose", 1, 17, "perm");
        same("Softmax", 13, 17, "axis");
        same("LogSoftmax", 13, 17, "axis");
        same("Hardmax", 13, 17, "axis");
        for (String op : new String[] {"Softmax", "LogSoftmax", "Hardmax"}) {
            replaceLast(same(op, 1, 12, "axis").translate(OpTable::legacySoftmax, op, "Reshape").note("opsets 1-12: flatten-to-2-D semantics (a Reshape around ours where the axis is not the last; the dims from it fixed)"));
        }
        String padInts = "integer data (I64, I32, U8, I8, BOOL) where its values are known (constants, bound inputs), computed exactly at import "
                + "(reflect of a dim cropped at one end and padded at the other refused there)";
        replaceLast(same("Pad", 11, 17, "mode").note(padInts));
        replaceLast(same("Pad", 2, 10, "mode", "pads", "value").translate(n -> {
            String pads = n.longs("pads", n.attributes.integers("pads"), n.attributes.integers("pads").length);
            Attributes a = Attributes.of("mode", n.attributes.string("mode", "constant"));
            double value = n.attributes.real("value", 0);
            return List.of(value == 0 ? n.emit("Pad", a, n.input(0), pads) : n.emit("Pad", a, n.input(0), pads, n.scalar("value", (float) value)));
        }).note(padInts + "; a non-zero value only for F32 data"));
        replaceLast(same("Constant", 1, 17, "value", "value_float", "value_floats", "value_int", "value_ints").translate(OpTable::constant)
                .note("sparse_value and the string forms are not supported"));
        replaceLast(same("Dropout", 1, 17, "ratio", "is_test", "seed", "consumed_inputs").translate(n -> {
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
        }, "Identity", "Shape", "ConstantOfShape").note("as Identity (training_mode true only with a constant ratio 0); the mask output as all "
                + "true"));
        // Axes as an attribute before opset 13, an input from 13 on (our ops take the opset-17 form).
        for (String op : new String[] {"Unsqueeze", "Squeeze"}) {
            same(op, 13, 17);
            replaceLast(same(op, 1, 12, "axes").translate(n -> List.of(n.emit(op, Attributes.empty(), n.input(0),
                    n.attributes.has("axes") ? n.longs("axes", n.attributes.integers("axes"), n.attributes.integers("axes").length) : ""))));
        }
        same("ReduceSum", 13, 17, "keepdims", "noop_with_empty_axes");
        replaceLast(same("ReduceSum", 1, 12, "axes", "keepdims").translate(n -> List.of(n.emit("ReduceSum",
                Attributes.of("keepdims", n.attributes.integer("keepdims", 1)), n.input(0),
                n.attributes.has("axes") ? n.longs("axes", n.attributes.integers("axes"), n.attributes.integers("axes").length) : ""))));
        for (String op : new String[] {"ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd"}) {
            OpRule r = same(op, 1, 17, "axes", "keepdims");
            if (!op.equals("ReduceMean")) replaceLast(r.note("integer inputs computed when known (torch's var/std export their count as ReduceProd of a Shape)"));
        }
        for (String op : new String[] {"ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"}) {
            replaceLast(same(op, 1, 17, "axes", "keepdims").translate(Composed::composedReduce, "ReduceSum", "ReduceMax", "Abs", "Mul", "Sqrt",
                    "Log", "Exp", "Sub", "Add").note(switch (op) {
                        case "ReduceL1" -> "as ReduceSum(Abs(X))";
                        case "ReduceL2" -> "as Sqrt(ReduceSum(X * X))";
                        case "ReduceSumSquare" -> "as ReduceSum(X * X)";
                        case "ReduceLogSum" -> "as Log(ReduceSum(X))";
                        default -> "as Log(ReduceSum(Exp(X - max))) + max, max = ReduceMax(X) (stable; an infinite max shifts by 0, as torch.logsumexp)";
                    }));
        }
        replaceLast(same("ReverseSequence", 10, 17, "batch_axis", "time_axis").translate(Composed::reverseSequence, "Cast", "Reshape", "Sub",
                "Less", "Where", "Expand", "Shape", "GatherElements").note("as GatherElements with the index t < len ? len - 1 - t : t (F32, cast"
                + " to INT64; a constant where the lengths are); a fixed time axis"));
        replaceLast(same("MeanVarianceNormalization", 9, 17, "axes").translate(Composed::meanVarianceNormalization, "ReduceMean", "Sub", "Mul",
                "Sqrt", "Add", "Div").note("(X - mean) / (sqrt(mean((X - mean)^2)) + 1e-9) over axes (default [0, 2, 3]); ONNX's function body"
                + " takes the variance as E[X^2] - E[X]^2, the same in exact arithmetic, without its cancellation"));
        replaceLast(same("LpNormalization", 1, 17, "axis", "p").translate(Composed::lpNormalization, "ReduceSum", "Abs", "Mul", "Sqrt", "Equal",
                "Where", "Div").note("x / (sum over axis of abs(x)^p)^(1/p), p 1 or 2; a line of zeros stays zeros, as ONNX Runtime and F.normalize"));
        replaceLast(same("GlobalLpPool", 2, 17, "p").translate(Composed::globalLpPool, "ReduceSum", "Abs", "Mul", "Pow", "Sqrt")
                .note("(sum over the spatial dims of abs(x)^p)^(1/p), any integer p >= 1"));
        replaceLast(same("LpPool", 2, 17, "auto_pad", "kernel_shape", "p", "pads", "strides").check(AutoPad.CHECK)
                .translate(Composed::lpPool, "Abs", "Mul", "Pow", "Pad", "AveragePool", "Sqrt")
                .note("per window (sum of abs(x)^p)^(1/p): abs(x)^p zero-padded (explicit or auto_pad SAME_* pads), an AveragePool times the kernel size, the root"));
        same("Clip", 11, 17);
        replaceLast(same("Clip", 6, 10, "min", "max").translate(n -> List.of(n.emit("Clip", Attributes.empty(), n.input(0),
                n.scalar("min", (float) n.attributes.real("min", -Float.MAX_VALUE)), n.scalar("max", (float) n.attributes.real("max", Float.MAX_VALUE))))));
        same("Shape", 1, 14);
        same("Shape", 15, 17, "start", "end");
        same("Gather", 1, 17, "axis");
        same("Cast", 6, 17, "to");
        replaceLast(same("Einsum", 12, 17, "equation").translate(Einsum::translate, "ReduceSum", "Transpose", "Reshape", "MatMul")
                .note("one or two operands, as ReduceSum, Transpose, Reshape and one batched MatMul; ellipses; batch dims of 1 broadcast as NumPy (named or in the ellipsis); symbolic dims; no diagonal"));
        replaceLast(same("ConvInteger", 10, 17, cat(window, "dilations", "group")).translate(Composed::integerOps, "Cast", "Sub", "Reshape", "Conv")
                .note("the Conv of x and w minus their zero points on exact F32 values, cast to INT32 (exact while the sums stay below 2^24); explicit pads"));
        replaceLast(same("DynamicQuantizeLinear", 11, 17).translate(Composed::dynamicQuantize, "ReduceMin", "ReduceMax", "Min", "Max", "Sub",
                "Div", "Neg", "Round", "Clip", "Add", "Cast", "Identity").note("in F32: the range of x with 0, 255 UINT8 levels, round half to even"));
        replaceLast(same("MatMulInteger", 10, 17).translate(Composed::integerOps, "Cast", "Sub", "Reshape", "MatMul")
                .note("the MatMul of A and B minus their zero points on exact F32 values, cast to INT32"));
        replaceLast(same("QLinearConv", 10, 17, cat(window, "dilations", "group")).translate(Composed::integerOps, "Cast", "Sub", "Reshape", "Conv",
                "Add", "Mul", "Div", "Round", "Clip").note("the integer sum (bias included) on exact F32 values, then saturate(round(sum * x_scale"
                + " * w_scale / y_scale) + y_zero_point) as ONNX Runtime; per-channel weight scales; explicit pads"));
        replaceLast(same("QLinearMatMul", 10, 17).translate(Composed::integerOps, "Cast", "Sub", "Reshape", "MatMul", "Mul", "Div", "Round", "Add",
                "Clip").note("the integer sum on exact F32 values, then saturate(round(sum * a_scale * b_scale / y_scale) + y_zero_point)"));
        for (String q : new String[] {"QuantizeLinear", "DequantizeLinear"}) {
            replaceLast(same(q, 10, 12).translate(Composed::quantize, "Cast", "Round", "Div", "Add", "Clip", "Sub", "Mul", "Reshape")
                    .note("in F32: round half to even, saturated to UINT8/INT8 (a quantized QDQ model runs in F32)"));
            replaceLast(same(q, 13, 17, "axis").translate(Composed::quantize, "Cast", "Round", "Div", "Add", "Clip", "Sub", "Mul", "Reshape")
                    .note("in F32: round half to even, saturated to UINT8/INT8; per-axis scales along axis (a quantized QDQ model runs in F32)"));
        }
        for (String w : new String[] {"HannWindow", "HammingWindow", "BlackmanWindow"}) {
            replaceLast(same(w, 17, 17, "output_datatype", "periodic").translate(Composed::window, "Constant")
                    .note("its size known (a constant or a bound input): the values computed at import, FLOAT output"));
        }
        replaceLast(same("EyeLike", 9, 17, "dtype", "k").translate(Composed::eyeLike, "Constant")
                .note("the input's dims known: a constant computed at import (every dtype but DOUBLE, BFLOAT16, STRING)"));
        replaceLast(same("IsNaN", 9, 17).translate(n -> List.of(n.emit("Not", Attributes.empty(), n.emit("Equal", Attributes.empty(), n.input(0),
                n.input(0)))), "Equal", "Not").note("as Not(Equal(X, X)), false only for NaN"));
        replaceLast(same("IsInf", 10, 17, "detect_negative", "detect_positive").translate(OpTable::isInf, "Equal", "Abs")
                .note("as Equal of X (or |X|) and the infinity detected"));
        replaceLast(same("LRN", 1, 17, "alpha", "beta", "bias", "size").translate(Composed::lrn, "Mul", "Reshape", "Pad", "AveragePool", "Shape", "Add",
                "Pow", "Div").note("across channels, as an AveragePool of the squares over a [N, 1, C, rest] view (the classic ONNX zoo models)"));
        replaceLast(same("CastLike", 15, 17).translate(n -> List.of(n.emit("Cast", Attributes.of("to", onnxType(n, n.value(1).dtype())), n.input(0))),
                "Cast").note("as Cast to the element type of target_type"));
        same("ConstantOfShape", 9, 17, "value");
        same("Expand", 8, 17);
        same("Range", 11, 17);
        replaceLast(same("ScatterND", 11, 17, "reduction").note("indices known when compiling (constants, bound inputs); reduction none, add, mul (duplicate indices applied in order)"));
        same("Where", 9, 17);
        for (String op : new String[] {"Equal", "Less", "Greater"}) same(op, 7, 17);
        same("Not", 1, 17);
        for (String op : new String[] {"And", "Or", "Xor"}) same(op, 7, 17);
        replaceLast(same("Mod", 10, 17, "fmod").note("integers, where the values are known (constants, bound inputs)"));
        same("Slice", 10, 17);
        replaceLast(same("Slice", 1, 9, "starts", "ends", "axes").translate(n -> {
            long[] starts = n.attributes.integers("starts"), ends = n.attributes.integers("ends");
            long[] axes = n.attributes.integers("axes", null);
            return List.of(n.emit("Slice", Attributes.empty(), n.input(0), n.longs("starts", starts, starts.length), n.longs("ends", ends, ends.length),
                    axes == null ? "" : n.longs("axes", axes, axes.length)));
        }).note("starts, ends, axes attributes as constant inputs"));
        replaceLast(same("DepthToSpace", 13, 17, "blocksize", "mode").translate(Composed::depthSpace, "Reshape", "Transpose")
                .note("as Reshape, Transpose, Reshape; C, H, W fixed"));
        replaceLast(same("DepthToSpace", 11, 12, "blocksize", "mode").translate(Composed::depthSpace, "Reshape", "Transpose")
                .note("as Reshape, Transpose, Reshape; C, H, W fixed"));
        replaceLast(same("DepthToSpace", 1, 10, "blocksize").translate(Composed::depthSpace, "Reshape", "Transpose")
                .note("as Reshape, Transpose, Reshape; C, H, W fixed"));
        replaceLast(same("SpaceToDepth", 13, 17, "blocksize").translate(Composed::depthSpace, "Reshape", "Transpose")
                .note("as Reshape, Transpose, Reshape; C, H, W fixed"));
        replaceLast(same("SpaceToDepth", 1, 12, "blocksize").translate(Composed::depthSpace, "Reshape", "Transpose")
                .note("as Reshape, Transpose, Reshape; C, H, W fixed"));
        replaceLast(same("Size", 1, 17).translate(n -> {
            if (!n.value(0).shape().isFixed()) throw n.needsConstant("the size of " + n.value(0) + " is not known when importing (symbolic dims)");
            long size = 1;
            for (long d : n.value(0).shape().sizes()) size = Math.multiplyExact(size, d);
            return List.of(n.emit("Constant", Attributes.of("value", TensorProtos.longs(n.arena(), new long[] {size}))));
        }, "Constant").note("input shapes fixed (a constant)"));
        replaceLast(same("Trilu", 14, 17, "upper").translate(Composed::trilu, "Constant", "Where")
                .note("k a constant (or a bound input), the last two dims fixed; as Where over a constant mask; X F32, BOOL (a causal mask) "
                        + "or an integer type"));
        replaceLast(same("Split", 13, 17, "axis").translate(n -> n.emit("Split", kept(n.attributes), n.inputs, n.outputCount)));
        replaceLast(same("Split", 2, 12, "axis", "split").translate(n -> n.emit("Split", Attributes.of("axis", n.attributes.integer("axis", 0)),
                List.of(n.input(0), n.attributes.has("split") ? n.longs("split", n.attributes.integers("split"), n.attributes.integers("split").length) : ""),
                n.outputCount)));
        SelectRules.addTo(RULES);
        SelectRules.addIndexRulesTo(RULES);
        // Recurrent layers onto our ONNX-semantics LSTM and GRU (RecurrentShapes): default activations only, no clip, no input_forget.
        for (String op : new String[] {"LSTM", "GRU"}) {
            String[] attrs = op.equals("LSTM") ? new String[] {"activations", "direction", "hidden_size", "input_forget"}
                    : new String[] {"activations", "direction", "hidden_size", "linear_before_reset"};
            String note = "default activations only; clip, activation_alpha/_beta" + (op.equals("LSTM") ? " and input_forget = 1" : "")
                    + " are not supported";
            boolean lstm = op.equals("LSTM");
            OpRule.Check check = (a, opset) -> recurrentCheck(a, lstm);
            replaceLast(same(op, 7, 13, attrs).check(check).translate(OpTable::recurrent, op).note(note));
            replaceLast(same(op, 14, 17, cat(attrs, "layout")).check(check).translate(OpTable::recurrent, op).note(note));
        }
        // ONNX's plain RNN onto our RNN (oneDNN's vanilla RNN): one activation, Tanh, Relu or Sigmoid, the same in both directions.
        String[] rnnAttrs = {"activations", "direction", "hidden_size"};
        String rnnNote = "activations Tanh (default), Relu or Sigmoid, the same for both directions; clip, activation_alpha/_beta are not supported";
        replaceLast(same("RNN", 7, 13, rnnAttrs).check((a, opset) -> rnnCheck(a)).translate(OpTable::recurrent, "RNN").note(rnnNote));
        replaceLast(same("RNN", 14, 17, cat(rnnAttrs, "layout")).check((a, opset) -> rnnCheck(a)).translate(OpTable::recurrent, "RNN")
                .note(rnnNote));
        LaterOpsets.addTo(RULES, MAX_OPSET);   // opsets 18 on: the rules above carried on, the later forms added
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
