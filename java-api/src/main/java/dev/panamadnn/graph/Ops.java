package dev.panamadnn.graph;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The op set of a {@link Graph}, each with its inputs, typed attributes and shape rule. Names,
 * inputs and attributes follow ONNX (opset 17) where ONNX has the op (pads as
 * {@code [begin..., end...]}, dilations 1-based, NumPy broadcasting for the element-wise ops), so
 * an ONNX model maps node for node; the few others are marked "(ours)":
 * <pre>
 * Conv               X, W, [B]              kernel_shape strides pads dilations group
 * ConvTranspose      X, W, [B]              kernel_shape strides pads dilations group output_padding
 * BatchNormalization X, [scale], [B], mean, var   epsilon momentum   (absent scale/B: 1/0, ours)
 * LayerNormalization X, [scale], [B]        axis epsilon   (absent scale: 1, ours)
 * MaxPool            X                      kernel_shape strides pads dilations ceil_mode storage_order
 *                    (outputs Y, [Indices]: I64 flat indices into X, storage_order 0 row-major, 1 column-major;
 *                    X F32, or U8/I8 pooled when its values are known)
 * AveragePool        X                      kernel_shape strides pads dilations ceil_mode count_include_pad
 * GlobalAveragePool, GlobalMaxPool   X
 * AdaptiveAvgPool, AdaptiveMaxPool   X      output_size                          (ours: PyTorch's)
 * Relu Sigmoid Tanh Silu(ours) Identity     X
 * LeakyRelu Elu      X                      alpha
 * Gelu               X                      approximate ("none" | "tanh")
 * Softmax            X                      axis (default -1)
 * Flatten            X                      axis (output always 2-D)
 * Gemm               A, B, [C]              transA transB alpha beta
 * MatMul             A, B                   (batched, broadcast)
 * Add Sub Mul Div Pow  A, B                 (broadcast)
 * Max Min            A, [B]                 (broadcast; ONNX's variadic form up to 2 inputs)
 * PRelu              X, slope               (slope broadcasts into X)
 * Exp Log Sqrt Abs Neg Reciprocal Erf Softplus HardSwish Floor Ceil Round   X
 * Sin Cos Tan Asin Acos Atan Sinh Cosh Asinh Acosh Atanh Sign Softsign   X
 * ThresholdedRelu Celu  X                  alpha (1.0)
 * Shrink             X                      bias (0) lambd (0.5)
 * Hardmax            X                      axis (default -1; opset 13: one axis)
 * BoolMaskToAdditive X                      (ours, not ONNX: an attention bool mask, value != 0 incl. NaN = True, to -inf / 0)
 * HardSigmoid        X                      alpha (0.2) beta (0.5)
 * Selu               X                      alpha gamma (ONNX's defaults)
 * Clip               X, [min], [max]        min max (the attributes of opset &lt; 11; from 11 scalar inputs)
 * LogSoftmax         X                      axis (default -1; opset 13: one axis)
 * ReduceMean ReduceSum ReduceMax ReduceMin ReduceProd   X, [axes (I64 constant)]   axes keepdims noop_with_empty_axes
 * InstanceNormalization   X, scale, B       epsilon
 * Concat             X...                   axis
 * Reshape            X, shape (I64 constant)  allowzero
 * Transpose          X                      perm (default: reversed)
 * Pad                X, pads (I64 constant), [value]   mode (constant | reflect | edge | wrap); integer X computed when known
 * Constant           -                      value (a tensor; the output has its dtype)
 * Layer              X                      module: a layer run by its own Java kernel (ours)
 * LSTM               X, W, R, [B], [sequence_lens], [initial_h], [initial_c], [P]   hidden_size direction layout
 *                    (outputs Y, [Y_h], [Y_c]; only the default activations: see RecurrentShapes)
 * GRU                X, W, R, [B], [sequence_lens], [initial_h]   hidden_size direction layout linear_before_reset
 * RNN                X, W, R, [B], [sequence_lens], [initial_h]   hidden_size direction layout activations (Tanh | Relu | Sigmoid)
 * -- shape, index and dtype ops (any of F32, I64, I32, BOOL; values propagated, see below) --
 * Identity           X                      (any dtype)
 * Shape              X                      start end            (I64 [k])
 * Gather             data, indices          axis (negative indices count from the end)
 * Unsqueeze          data, axes (known)     (opset 13)
 * Squeeze            data, [axes (known)]   (opset 13; no axes: every dim of size 1, fixed dims only)
 * Concat             X...                   axis (same dtype)
 * Slice              data, starts, ends, [axes], [steps]   (known; clamped, negative from the end)
 * Split              X, [split (known)]     axis num_outputs (several outputs; no split: equal parts, the last smaller)
 * Cast               X                      to (ONNX codes FLOAT=1, INT32=6, INT64=7, BOOL=9) saturate
 * ConstantOfShape    shape (known)          value (a one-element tensor; default F32 0)
 * Expand             X, shape (known)       (bidirectional broadcast)
 * Range              start, limit, delta    (known scalars)
 * ScatterND          data, indices, updates reduction (none, add, mul; folded from constants when compiling)
 * Equal Less Greater A, B                   (broadcast; BOOL out)
 * Where              condition (BOOL), X, Y (broadcast)
 * Not                X (BOOL)
 * And Or Xor         A, B (BOOL)            (broadcast; BOOL out)
 * Mod                A, B (integers; F32)   fmod (0: the divisor's sign, 1: the dividend's)
 * Add Sub Mul Div    on integers            (integer semantics, Div truncating; I64 exact, the others wrapping; U64 unsigned)
 * Reshape            on I64 data            (a shape vector)
 * -- element selection and resampling on F32 (SelectShapes) --
 * GatherElements     data, indices          axis
 * ScatterElements    data, indices, updates axis reduction (none, add, mul; indices known when compiling)
 * Tile               X, repeats (known)
 * Resize             X, [roi], [scales (known)], [sizes (known)]   mode coordinate_transformation_mode nearest_mode cubic_coeff_a exclude_outside
 * ArgMax ArgMin      X                      axis keepdims select_last_index   (I64 out)
 * GatherND           data, indices          batch_dims (F32 data at run time; any dtype folded when known)
 * OneHot             indices, depth (known), values [off, on]   axis (values' dtype out)
 * CumSum             x, axis (known)        exclusive reverse (F32 at run time; integers folded when known)
 * BitShift           X, Y (unsigned)        direction (broadcast; computed where both are known)
 * TopK               X, K (known)           axis largest sorted   (Values F32, Indices I64; always sorted)
 * MaxUnpool          X, I (I64), [output_shape (known)]   kernel_shape strides pads   (I: flat indices into the output)
 * GridSample         X [N, C, H, W], grid [N, Ho, Wo, 2]   mode padding_mode align_corners
 * RoiAlign           X [N, C, H, W], rois [R, 4], batch_indices (I64) [R]   mode output_height output_width sampling_ratio
 *                                           spatial_scale coordinate_transformation_mode   (avg compiled)
 * NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss   X, target, [weight]   reduction ignore_index (LossShapes)
 * </pre>
 * Values are F32 except the I64 shape/pads constants and the values of the shape, index and dtype
 * ops. <b>Value propagation:</b> when every input such an op reads is known (initializers,
 * {@code Constant} outputs, or computed from those and the input shapes, e.g. {@code Shape} of a
 * value), its output is known too; an I64 vector may be known symbolically ({@code [N, -1]} from
 * {@code Shape -> Gather -> Concat} with a symbolic batch), so a Reshape reading it still gets an
 * output shape; once the symbols are bound the values are fixed ({@link Graph#knownValue}) and a
 * compiled plan folds those nodes away. A shape input that is not known is a {@link GraphException}.
 * The shape rules accept symbolic dimensions where the op is linear in them (the batch through
 * everything above; a reshape keeping or inferring it). A symbol broadcasts only against itself
 * or 1: {@code N} against {@code 3} holds for two batch sizes only, so it is refused.
 */
public final class Ops {
    private Ops() {}

    /** The type of an attribute's value, checked for every attribute a node sets. */
    private enum Type { INT, FLOAT, STRING, INTS, TENSOR, MODULE }

    /**
     * How an op's outputs are inferred: {@code F32}, one F32 output from its shape rule in {@link #f32Rule} (every input F32 but
     * Reshape's and Pad's second and the reductions' axes); {@code TYPED}, its typed rule in {@link #typedRule}
     * (it checks the dtypes itself, gives every output with its dtype and, when known, its value).
     */
    private enum Kind { F32, TYPED }

    /**
     * An op: input and output counts, attributes, how its outputs are inferred, and whether a typed rule for integer inputs
     * ({@link #integerRule}) replaces it when input 0 is I64 or I32 (Add/Sub/Mul/Div on shape values).
     * The rules themselves are switches over the op name, not a function per op: a table of lambdas cost the first graph
     * of a JVM 35-40 ms to link (one class spun per lambda, ~70 of them), where a model uses a handful of ops.
     */
    private record Spec(int minInputs, int maxInputs, int minOutputs, int maxOutputs, Map<String, Type> attributes, Kind kind,
                        boolean onIntegers) {}

    private static final Map<String, Spec> SPECS = new TreeMap<>();

    private static void op(String name, int minIn, int maxIn, Map<String, Type> attrs) {
        SPECS.put(name, new Spec(minIn, maxIn, 1, 1, attrs, Kind.F32, false));
    }

    private static void typed(String name, int minIn, int maxIn, int minOut, int maxOut, Map<String, Type> attrs) {
        SPECS.put(name, new Spec(minIn, maxIn, minOut, maxOut, attrs, Kind.TYPED, false));
    }

    private static void onIntegers(String name) {
        Spec s = SPECS.get(name);
        SPECS.put(name, new Spec(s.minInputs(), s.maxInputs(), s.minOutputs(), s.maxOutputs(), s.attributes(), s.kind(), true));
    }

    /** Element-wise ops without attributes that compile.LowerMath runs as Java steps (in double, rounded to float). */
    static final String[] UNARY_JAVA = {"Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Sign",
        "Softsign"};

    /** Attribute names and types, in pairs. */
    private static Map<String, Type> attrs(Object... namesAndTypes) {
        Map<String, Type> m = new LinkedHashMap<>();
        for (int i = 0; i < namesAndTypes.length; i += 2) m.put((String) namesAndTypes[i], (Type) namesAndTypes[i + 1]);
        return Collections.unmodifiableMap(m);
    }

    private static Map<String, Type> with(Map<String, Type> base, Object... more) {
        Map<String, Type> m = new LinkedHashMap<>(base);
        m.putAll(attrs(more));
        return Collections.unmodifiableMap(m);
    }

    static {
        Map<String, Type> window = attrs("kernel_shape", Type.INTS, "strides", Type.INTS, "pads", Type.INTS, "dilations", Type.INTS,
                "auto_pad", Type.STRING);
        Map<String, Type> conv = with(window, "group", Type.INT);
        op("Conv", 2, 3, conv);
        op("ConvTranspose", 2, 3, with(conv, "output_padding", Type.INTS));
        op("BatchNormalization", 5, 5, attrs("epsilon", Type.FLOAT, "momentum", Type.FLOAT, "training_mode", Type.INT));
        op("LayerNormalization", 2, 3, attrs("axis", Type.INT, "epsilon", Type.FLOAT, "stash_type", Type.INT));
        typed("MaxPool", 1, 1, 1, 2, with(window, "ceil_mode", Type.INT, "storage_order", Type.INT));
        op("AveragePool", 1, 1, with(window, "ceil_mode", Type.INT, "count_include_pad", Type.INT));
        op("GlobalAveragePool", 1, 1, Map.of());
        op("GlobalMaxPool", 1, 1, Map.of());
        op("AdaptiveAvgPool", 1, 1, attrs("output_size", Type.INTS));
        op("AdaptiveMaxPool", 1, 1, attrs("output_size", Type.INTS));
        for (String s : new String[] {"Relu", "Sigmoid", "Tanh", "Silu"}) op(s, 1, 1, Map.of());
        op("LeakyRelu", 1, 1, attrs("alpha", Type.FLOAT));
        op("Elu", 1, 1, attrs("alpha", Type.FLOAT));
        op("Gelu", 1, 1, attrs("approximate", Type.STRING));
        op("Softmax", 1, 1, attrs("axis", Type.INT));
        op("Flatten", 1, 1, attrs("axis", Type.INT));
        op("Gemm", 2, 3, attrs("transA", Type.INT, "transB", Type.INT, "alpha", Type.FLOAT, "beta", Type.FLOAT));
        op("MatMul", 2, 2, Map.of());
        for (String s : new String[] {"Add", "Sub", "Mul", "Div"}) op(s, 2, 2, Map.of());
        // Math ops (shape rules in MathShapes; lowered by compile.LowerMath).
        for (String s : new String[] {"Exp", "Log", "Sqrt", "Abs", "Neg", "Reciprocal", "Erf", "Softplus", "HardSwish"}) {
            op(s, 1, 1, Map.of());
        }
        // Floor, Ceil and Round also compute known values: an export's output size, floor(size * scale) of constants
        for (String s : new String[] {"Floor", "Ceil", "Round"}) typed(s, 1, 1, 1, 1, Map.of());
        for (String s : UNARY_JAVA) op(s, 1, 1, Map.of());
        op("BoolMaskToAdditive", 1, 1, Map.of());   // nn.AttentionMaskLowering: PyTorch's bool mask as the scores' addend
        for (String s : new String[] {"ThresholdedRelu", "Celu"}) op(s, 1, 1, attrs("alpha", Type.FLOAT));
        op("Shrink", 1, 1, attrs("bias", Type.FLOAT, "lambd", Type.FLOAT));
        op("Hardmax", 1, 1, attrs("axis", Type.INT));
        op("HardSigmoid", 1, 1, attrs("alpha", Type.FLOAT, "beta", Type.FLOAT));
        op("Selu", 1, 1, attrs("alpha", Type.FLOAT, "gamma", Type.FLOAT));
        op("Clip", 1, 3, attrs("min", Type.FLOAT, "max", Type.FLOAT));
        typed("Pow", 2, 2, 1, 1, Map.of());   // the base's dtype; an F32 or integer exponent
        for (String s : new String[] {"Max", "Min"}) op(s, 1, 2, Map.of());
        op("PRelu", 2, 2, Map.of());
        op("LogSoftmax", 1, 1, attrs("axis", Type.INT));
        for (String s : new String[] {"ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd"}) {
            op(s, 1, 2, attrs("axes", Type.INTS, "keepdims", Type.INT, "noop_with_empty_axes", Type.INT));
        }
        op("InstanceNormalization", 3, 3, attrs("epsilon", Type.FLOAT));
        op("Reshape", 2, 2, attrs("allowzero", Type.INT));
        op("Transpose", 1, 1, attrs("perm", Type.INTS));
        op("Pad", 2, 3, attrs("mode", Type.STRING));
        op("Constant", 0, 0, attrs("value", Type.TENSOR));
        op("Layer", 1, 1, attrs("module", Type.MODULE));
        // Recurrent layers (RecurrentShapes): ONNX opset 14's LSTM, GRU and RNN, several outputs (Y, Y_h, Y_c).
        Map<String, Type> recurrent = attrs("hidden_size", Type.INT, "direction", Type.STRING, "layout", Type.INT, "activations", Type.STRING,
                "clip", Type.FLOAT);
        typed("LSTM", 3, 8, 1, 3, with(recurrent, "input_forget", Type.INT));
        typed("GRU", 3, 6, 1, 2, with(recurrent, "linear_before_reset", Type.INT));
        typed("RNN", 3, 6, 1, 2, recurrent);
        // The shape, index and dtype ops (IndexShapes): any of F32, I64, I32, BOOL; values propagated when known.
        int any = Integer.MAX_VALUE;
        typed("Identity", 1, 1, 1, 1, Map.of());
        typed("Shape", 1, 1, 1, 1, attrs("start", Type.INT, "end", Type.INT));
        typed("Gather", 2, 2, 1, 1, attrs("axis", Type.INT));
        // Ours: nn.Embedding's lookup, Gather on axis 0 of a 2-D table but with PyTorch's indices (in [0, rows); ONNX's
        // Gather counts negative ones from the end).
        typed("Embedding", 2, 2, 1, 1, Map.of());
        typed("Unsqueeze", 2, 2, 1, 1, Map.of());
        typed("Squeeze", 1, 2, 1, 1, Map.of());
        typed("Concat", 1, any, 1, 1, attrs("axis", Type.INT));
        typed("Slice", 3, 5, 1, 1, Map.of());
        typed("Split", 1, 2, 1, any, attrs("axis", Type.INT, "num_outputs", Type.INT));
        typed("Cast", 1, 1, 1, 1, attrs("to", Type.INT, "saturate", Type.INT));
        typed("ConstantOfShape", 1, 1, 1, 1, attrs("value", Type.TENSOR));
        typed("Expand", 2, 2, 1, 1, Map.of());
        typed("Range", 3, 3, 1, 1, Map.of());
        typed("ScatterND", 3, 3, 1, 1, attrs("reduction", Type.STRING));
        for (String s : new String[] {"Equal", "Less", "Greater"}) typed(s, 2, 2, 1, 1, Map.of());
        typed("Where", 3, 3, 1, 1, Map.of());
        typed("Not", 1, 1, 1, 1, Map.of());
        for (String s : new String[] {"And", "Or", "Xor"}) typed(s, 2, 2, 1, 1, Map.of());
        typed("Mod", 2, 2, 1, 1, attrs("fmod", Type.INT));
        for (String s : new String[] {"Add", "Sub", "Mul", "Div", "Max", "Min", "Clip", "Abs", "Neg", "Sign", "ReduceMean", "ReduceSum",
            "ReduceMax", "ReduceMin", "ReduceProd", "Reshape", "Transpose", "Pad"}) {
            onIntegers(s);
        }
        // Element selection and resampling on F32 activations (SelectShapes).
        typed("GatherElements", 2, 2, 1, 1, attrs("axis", Type.INT));
        typed("ScatterElements", 3, 3, 1, 1, attrs("axis", Type.INT, "reduction", Type.STRING));
        typed("Tile", 2, 2, 1, 1, Map.of());
        typed("Resize", 1, 4, 1, 1, attrs("mode", Type.STRING, "coordinate_transformation_mode", Type.STRING, "nearest_mode", Type.STRING,
                "cubic_coeff_a", Type.FLOAT, "exclude_outside", Type.INT, "extrapolation_value", Type.FLOAT));
        typed("NegativeLogLikelihoodLoss", 2, 3, 1, 1, attrs("reduction", Type.STRING, "ignore_index", Type.INT));
        typed("SoftmaxCrossEntropyLoss", 2, 3, 1, 2, attrs("reduction", Type.STRING, "ignore_index", Type.INT));
        for (String s : new String[] {"ArgMax", "ArgMin"}) {
            typed(s, 1, 1, 1, 1, attrs("axis", Type.INT, "keepdims", Type.INT, "select_last_index", Type.INT));
        }
        typed("GatherND", 2, 2, 1, 1, attrs("batch_dims", Type.INT));
        typed("OneHot", 3, 3, 1, 1, attrs("axis", Type.INT));
        typed("CumSum", 2, 2, 1, 1, attrs("exclusive", Type.INT, "reverse", Type.INT));
        typed("BitShift", 2, 2, 1, 1, attrs("direction", Type.STRING));
        typed("TopK", 2, 2, 1, 2, attrs("axis", Type.INT, "largest", Type.INT, "sorted", Type.INT));
        typed("RoiAlign", 3, 3, 1, 1, attrs("mode", Type.STRING, "output_height", Type.INT, "output_width", Type.INT, "sampling_ratio", Type.INT,
                "spatial_scale", Type.FLOAT, "coordinate_transformation_mode", Type.STRING));
        typed("GridSample", 2, 2, 1, 1, attrs("mode", Type.STRING, "padding_mode", Type.STRING, "align_corners", Type.INT));
        typed("MaxUnpool", 2, 3, 1, 1, attrs("kernel_shape", Type.INTS, "strides", Type.INTS, "pads", Type.INTS));
    }

    /** The shape rule of an F32 op ({@link Kind#F32}): the output shape from the inputs (absent optionals null, up to the maximum). */
    private static Shape f32Rule(Node n, List<Value> in, Known c) {
        return switch (n.op()) {
            case "Conv" -> WindowShapes.conv(n, in, false);
            case "ConvTranspose" -> WindowShapes.conv(n, in, true);
            case "BatchNormalization" -> {
                Shape x = rankAtLeast(in.get(0), 2, "X");
                if (in.get(3) == null || in.get(4) == null) throw new GraphException("running mean and variance (inputs 3 and 4) are required");
                for (int i = 1; i < 5; i++) if (in.get(i) != null) perChannel(in.get(i), x.dim(1), i);
                if (n.attributes().integer("training_mode", 0) != 0) throw new GraphException("training_mode is not supported (inference only)");
                yield x;
            }
            case "LayerNormalization" -> {
                Shape x = in.get(0).shape();
                int axis = axis(n.attributes().integer("axis", -1), x.rank(), "axis");
                Shape normalized = new Shape(x.dims().subList(axis, x.rank()));
                for (int i = 1; i < 3; i++) {
                    if (in.get(i) != null && !in.get(i).shape().equals(normalized)) {
                        throw new GraphException("input " + i + " " + in.get(i) + " must have the normalized shape " + normalized
                                + " (axis " + axis + " of " + x + ")");
                    }
                }
                yield x;
            }
            case "AveragePool" -> WindowShapes.pool(n, in.get(0));
            case "GlobalAveragePool", "GlobalMaxPool" -> {
                Shape x = rankAtLeast(in.get(0), 3, "X");
                List<Dim> d = new ArrayList<>(x.dims().subList(0, 2));
                for (int i = 2; i < x.rank(); i++) d.add(Dim.of(1));
                yield new Shape(d);
            }
            case "AdaptiveAvgPool", "AdaptiveMaxPool" -> {
                Shape x = rankAtLeast(in.get(0), 3, "X");
                long[] size = n.attributes().integers("output_size");
                if (size.length != x.rank() - 2) {
                    throw new GraphException("output_size " + Arrays.toString(size) + " must have one size per spatial dim of " + in.get(0));
                }
                List<Dim> d = new ArrayList<>(x.dims().subList(0, 2));
                for (long s : size) {
                    if (s < 1) throw new GraphException("output_size must be >= 1, got " + Arrays.toString(size));
                    d.add(Dim.of(s));
                }
                yield new Shape(d);
            }
            case "Gelu" -> {
                String a = n.attributes().string("approximate", "none");
                if (!a.equals("none") && !a.equals("tanh")) throw new GraphException("approximate must be 'none' or 'tanh', got '" + a + "'");
                yield in.get(0).shape();
            }
            case "Softmax", "LogSoftmax", "Hardmax" -> {
                axis(n.attributes().integer("axis", -1), in.get(0).shape().rank(), "axis");
                yield in.get(0).shape();
            }
            case "Flatten" -> TensorShapes.flatten(n, in.get(0));
            case "Gemm" -> {
                Shape a = rank(in.get(0), 2, "A"), b = rank(in.get(1), 2, "B");
                boolean ta = n.attributes().integer("transA", 0) != 0, tb = n.attributes().integer("transB", 0) != 0;
                Dim m = a.dim(ta ? 1 : 0), k = a.dim(ta ? 0 : 1), k2 = b.dim(tb ? 1 : 0), nn = b.dim(tb ? 0 : 1);
                if (!k.equals(k2)) {
                    throw new GraphException("A " + a + " and B " + b + " (transA=" + (ta ? 1 : 0) + ", transB=" + (tb ? 1 : 0)
                            + ") disagree on the inner dimension: " + k + " vs " + k2);
                }
                Shape out = Shape.of(m, nn);
                if (in.get(2) != null) TensorShapes.broadcastInto(out, in.get(2).shape(), "C");
                yield out;
            }
            case "MatMul" -> TensorShapes.matmul(in.get(0).shape(), in.get(1).shape());
            case "Add", "Sub", "Mul", "Div" -> TensorShapes.broadcast(in.get(0).shape(), in.get(1).shape());
            case "Clip" -> MathShapes.clip(in);
            case "Max", "Min" -> MathShapes.variadic(in);
            case "PRelu" -> MathShapes.prelu(in);
            case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd" -> MathShapes.reduce(n, in, c);
            case "InstanceNormalization" -> MathShapes.instanceNorm(in);
            case "Reshape" -> TensorShapes.reshape(in.get(0), in.get(1), c, n.attributes().integer("allowzero", 0) != 0);
            case "Transpose" -> TensorShapes.transpose(n, in.get(0).shape());
            case "Pad" -> TensorShapes.pad(n, in.get(0).shape(), c.longs(in.get(1), "pads"));
            case "Constant" -> {
                Tensor t = n.attributes().tensor("value");
                if (!t.isAlive()) throw new GraphException("the value tensor was freed (closed)");
                yield Shape.of(t.shape());
            }
            case "Layer" -> LayerShapes.infer(n.attributes().module("module"), in.get(0).shape());
            case "Relu", "Sigmoid", "Tanh", "Silu", "LeakyRelu", "Elu", "Exp", "Log", "Sqrt", "Abs", "Neg", "Reciprocal", "Erf", "Softplus",
                 "HardSwish", "Sin", "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Sign", "Softsign",
                 "BoolMaskToAdditive", "ThresholdedRelu", "Celu", "Shrink", "HardSigmoid", "Selu" -> in.get(0).shape();   // element-wise
            default -> throw new IllegalStateException("no shape rule for " + n.op());   // an F32 op missing here: a bug
        };
    }

    /** The typed rule of a {@link Kind#TYPED} op: every output with its dtype, shape and, when known, value. */
    private static List<IndexShapes.Out> typedRule(Node n, List<Value> in, Known c) {
        return switch (n.op()) {
            case "MaxPool" -> WindowShapes.maxPool(n, in, c);
            case "Floor", "Ceil", "Round" -> IndexArith.roundFloats(n, in, c);
            case "Pow" -> IndexArith.pow(n, in, c);
            case "LSTM" -> RecurrentShapes.lstm(n, in, c);
            case "GRU" -> RecurrentShapes.gru(n, in, c);
            case "RNN" -> RecurrentShapes.rnn(n, in, c);
            case "Identity" -> IndexShapes.identity(n, in, c);
            case "Shape" -> IndexShapes.shape(n, in, c);
            case "Gather" -> IndexShapes.gather(n, in, c);
            case "Embedding" -> IndexShapes.embedding(n, in, c);
            case "Unsqueeze" -> IndexShapes.unsqueeze(n, in, c);
            case "Squeeze" -> IndexShapes.squeeze(n, in, c);
            case "Concat" -> IndexShapes.concat(n, in, c);
            case "Slice" -> IndexShapes.slice(n, in, c);
            case "Split" -> IndexShapes.split(n, in, c);
            case "Cast" -> IndexArith.cast(n, in, c);
            case "ConstantOfShape" -> IndexArith.constantOfShape(n, in, c);
            case "Expand" -> IndexShapes.expand(n, in, c);
            case "Range" -> IndexArith.range(n, in, c);
            case "ScatterND" -> IndexArith.scatterNd(n, in, c);
            case "Equal", "Less", "Greater", "Where", "Not", "And", "Or", "Xor", "Mod" -> IndexArith.elementwise(n, in, c);
            case "GatherElements" -> SelectShapes.gatherElements(n, in, c);
            case "ScatterElements" -> SelectShapes.scatterElements(n, in, c);
            case "Tile" -> SelectShapes.tile(n, in, c);
            case "Resize" -> SelectShapes.resize(n, in, c);
            case "NegativeLogLikelihoodLoss", "SoftmaxCrossEntropyLoss" -> LossShapes.loss(n, in, c);
            case "ArgMax", "ArgMin" -> SelectShapes.argMinMax(n, in, c);
            case "GatherND" -> SelectShapes.gatherNd(n, in, c);
            case "OneHot" -> EncodeShapes.oneHot(n, in, c);
            case "CumSum" -> EncodeShapes.cumSum(n, in, c);
            case "BitShift" -> EncodeShapes.bitShift(n, in, c);
            case "TopK" -> SelectShapes.topK(n, in, c);
            case "RoiAlign" -> SelectShapes.roiAlign(n, in, c);
            case "GridSample" -> SelectShapes.gridSample(n, in, c);
            case "MaxUnpool" -> SelectShapes.maxUnpool(n, in, c);
            default -> throw new IllegalStateException("no typed shape rule for " + n.op());   // a TYPED op missing here: a bug
        };
    }

    /** The typed rule used instead of an op's own when its input 0 is an integer ({@link Spec#onIntegers}). */
    private static List<IndexShapes.Out> integerRule(Node n, List<Value> in, Known c) {
        return switch (n.op()) {
            case "Add", "Sub", "Mul", "Div", "Max", "Min" -> IndexArith.elementwise(n, in, c);
            case "Clip" -> IndexArith.clip(n, in, c);
            case "Abs", "Neg", "Sign" -> IndexArith.unaryInteger(n, in, c);
            case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd" -> IndexArith.reduce(n, in, c);
            case "Reshape" -> IndexArith.reshape(n, in, c);
            case "Transpose" -> IndexArith.transpose(n, in, c);
            case "Pad" -> TensorShapes.padIntegers(n, in, c);
            default -> throw new IllegalStateException("no integer shape rule for " + n.op());   // an onIntegers op missing here: a bug
        };
    }
    /** {@return how many inputs {@code op} needs at least} (for tests) */
    static int minInputs(String op) {
        return SPECS.get(op).minInputs();
    }

    /** {@return the ops a graph may use, sorted} */
    public static Set<String> names() {
        return Collections.unmodifiableSet(SPECS.keySet());
    }

    /**
     * Checks {@code node} against its op (input and output counts, attribute names and types,
     * input dtypes, shapes) and returns its outputs. {@code known} holds the values known at build
     * time (initializers, {@code Constant} outputs, and what earlier shape-computing nodes
     * computed from them); the values this node computes are added to it.
     */
    static List<Value> infer(Node node, List<Value> inputs, Known known) {
        Spec spec = SPECS.get(node.op());
        if (spec == null) throw new GraphException("unknown op '" + node.op() + "' (known: " + String.join(", ", SPECS.keySet()) + ")");
        int given = node.inputs().size();
        if (given < spec.minInputs() || given > spec.maxInputs()) {
            throw new GraphException("expected " + count(spec.minInputs(), spec.maxInputs()) + " inputs, got " + given);
        }
        int outs = node.outputs().size();
        if (outs < spec.minOutputs() || outs > spec.maxOutputs()) {
            throw new GraphException("expected " + count(spec.minOutputs(), spec.maxOutputs()) + " output(s), got " + outs);
        }
        checkAttributes(node, spec);
        String autoPad = node.attributes().string("auto_pad", "NOTSET");
        if (!autoPad.equals("NOTSET")) throw new GraphException("auto_pad " + autoPad + " is not supported: give explicit pads");
        List<Value> in = new ArrayList<>(inputs);
        if (spec.maxInputs() != Integer.MAX_VALUE) while (in.size() < spec.maxInputs()) in.add(null);   // absent trailing optionals
        boolean integers = spec.onIntegers() && inputs.get(0) != null && inputs.get(0).dtype() != DataType.F32;
        boolean typed = integers || spec.kind() == Kind.TYPED;
        for (int i = 0; i < inputs.size(); i++) {
            Value v = inputs.get(i);
            if (v == null) {
                // Ours: BatchNormalization's scale and B (its mean and var are checked by its rule), and LayerNormalization's
                // scale, may be absent (1 and 0: PyTorch's affine=False / elementwise_affine=False).
                boolean optional = node.op().equals("BatchNormalization") || node.op().equals("LayerNormalization") && i == 1;
                if (i < spec.minInputs() && !optional) throw new GraphException("input " + i + " is required");
                continue;
            }
            if (typed) continue;   // a typed rule checks its inputs' dtypes
            boolean i64 = (node.op().equals("Reshape") || node.op().equals("Pad") || node.op().startsWith("Reduce")) && i == 1;
            DataType want = i64 ? DataType.I64 : DataType.F32;
            if (v.dtype() != want) throw new GraphException("input " + i + " " + v + " must be " + want + ", got " + v.dtype());
        }
        if (!typed) {
            Shape shape = f32Rule(node, in, known);
            DataType dtype = node.op().equals("Constant") ? node.attributes().tensor("value").dtype() : DataType.F32;
            Known.Data folded = IndexArith.foldFloats(node, in, known, shape);
            if (folded != null) known.put(node.output(), folded);
            return List.of(new Value(node.output(), dtype, shape));
        }
        List<IndexShapes.Out> results = integers ? integerRule(node, in, known) : typedRule(node, in, known);
        List<Value> values = new ArrayList<>(results.size());
        for (int i = 0; i < results.size(); i++) {
            IndexShapes.Out o = results.get(i);
            String name = node.outputs().get(i);
            values.add(new Value(name, o.dtype(), o.shape()));
            if (o.value() != null) known.put(name, o.value());
        }
        return values;
    }

    private static String count(int min, int max) {
        return min == max ? String.valueOf(min) : min + " to " + (max == Integer.MAX_VALUE ? "any" : String.valueOf(max));
    }

    /** Every attribute known to the op and of its type (also those the shape rule never reads). */
    private static void checkAttributes(Node node, Spec spec) {
        Attributes a = node.attributes();
        for (String name : a.names()) {
            Type type = spec.attributes().get(name);
            if (type == null) {
                throw new GraphException("unknown attribute '" + name + "' (" + node.op() + " takes "
                        + (spec.attributes().isEmpty() ? "none" : new java.util.TreeSet<>(spec.attributes().keySet())) + ")");
            }
            switch (type) {   // each getter throws, naming the attribute, the expected and the given type
                case INT -> a.integer(name);
                case FLOAT -> a.real(name);
                case STRING -> a.string(name);
                case INTS -> a.integers(name);
                case TENSOR -> a.tensor(name);
                case MODULE -> a.module(name);
            }
        }
    }

    /**
     * Where an ONNX Slice along a dim of {@code size} starts: {@code start} counted from the end if negative, then
     * clamped as the spec says: into {@code [0, size]} for a positive step, {@code [0, size - 1]} for a negative one
     * (ONNX Runtime does the same; numpy would take nothing from a start before the first element). An empty dim
     * gives -1 for a negative step, so the range is empty whatever the end.
     *
     * @param start the node's start, any value
     * @param size  the dim's size
     * @param step  the node's step, not 0
     * @return the clamped start
     */
    public static long sliceStart(long start, long size, long step) {
        long s = start < 0 ? start + size : start;
        return step > 0 ? Math.max(0, Math.min(size, s)) : size == 0 ? -1 : Math.max(0, Math.min(size - 1, s));
    }

    static int axis(long axis, int rank, String what) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new GraphException(what + " " + axis + " is out of range for rank " + rank);
        return (int) a;
    }

    static Shape rank(Value v, int rank, String what) {
        if (v.shape().rank() != rank) throw new GraphException(what + " must have rank " + rank + ", got " + v);
        return v.shape();
    }

    static Shape rankAtLeast(Value v, int rank, String what) {
        if (v.shape().rank() < rank) throw new GraphException(what + " must have rank >= " + rank + ", got " + v);
        return v.shape();
    }

    /** Checks that input {@code index} is {@code [c]}: one value per channel. */
    static void perChannel(Value v, Dim c, int index) {
        if (v.shape().rank() != 1 || !v.shape().dim(0).equals(c)) {
            throw new GraphException("input " + index + " " + v + " must be [" + c + "] (one per channel)");
        }
    }
}
