package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.internal.safetensors.ToFloat;
import java.util.ArrayList;
import java.util.Set;

/**
 * Constant folding of weight-only subgraphs and shape computations: a node whose every output
 * shape inference computed ({@link dev.panamadnn.graph.Graph#knownValue}: a {@code Shape} of a
 * fixed-shape value and the Gather/Unsqueeze/Concat... reading it, any dtype) becomes that
 * constant, so the lowering never sees a shape computation; a {@code Constant} node becomes a constant of the
 * plan; an {@code Identity}, {@code Reshape}, {@code Flatten}, {@code Transpose} or a same-shape
 * {@code Add}/{@code Sub}/{@code Mul}/{@code Div} whose inputs are all constants (f32 data)
 * is computed now, in Java, and its output becomes a constant too (what exporters leave around
 * weights, e.g. a transposed or rescaled weight), as does a {@code Cast} to FLOAT of F16 or BF16 weights (a model
 * stored in half precision). Later rules and lowerings see only constants.
 */
final class FoldConstants implements Rewrite {
    private static final Set<String> FOLDABLE = Set.of("Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Add", "Sub", "Mul", "Div",
            "Pow");

    @Override
    public String name() {
        return "fold_constants";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return true;
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node n : new ArrayList<>(g.nodes)) {
            if (!n.op().equals("Constant") && known(g, n)) {   // a shape computation: its value was computed when shapes were inferred
                for (String o : n.outputs()) g.constantNodes.put(o, g.source.knownValue(o));
                g.remove(n);
                g.fired.add(name() + ": " + n.op().toLowerCase(java.util.Locale.ROOT) + " " + n.name() + " (known when compiling)");
                continue;
            }
            if (n.op().equals("Constant")) {
                g.constantNodes.put(n.output(), n.attributes().tensor("value"));
                g.remove(n);
                g.fired.add(name() + ": constant " + n.name());
                continue;
            }
            dev.panamadnn.Tensor half = n.op().equals("Cast") ? g.tensor(n.input(0)) : null;
            if (half != null && g.value(n.output()).dtype() == DataType.F32 && (half.dtype() == DataType.F16 || half.dtype() == DataType.BF16)) {
                // half-precision weights cast to float (a model stored in fp16): widened exactly, as safetensors' are on load
                float[] out = new float[Math.toIntExact(half.numel())];
                ToFloat.convert(half.dtype(), half.segment(), java.lang.foreign.MemorySegment.ofArray(out), out.length);
                fold(g, n, out, g.value(n.output()).shape());
                continue;
            }
            if ((n.op().equals("ScatterND") || n.op().equals("ScatterElements")) && n.inputs().stream().allMatch(g::isConstant)
                    && isF32(g, n.input(0)) && isF32(g, n.input(2))
                    && g.tensor(n.input(1)) != null) {   // Swin's shifted-window mask, from constants the rules before computed
                try {
                    float[] out = g.floats(n.input(0)).clone(), updates = g.floats(n.input(2));
                    int[] to = LowerSelect.targets(n, g.shape(n.input(0)).sizes(), g.shape(n.input(1)).sizes(), LowerIndex.longs(g.tensor(n.input(1))));
                    if (to.length != updates.length) continue;   // the lowering refuses it, naming the sizes
                    LowerSelect.Reduction reduction = LowerSelect.reduction(n.attributes().string("reduction", "none"));
                    for (int i = 0; i < to.length; i++) out[to[i]] = reduction.apply(out[to[i]], updates[i]);
                    fold(g, n, out, g.value(n.output()).shape());
                } catch (IllegalArgumentException bad) {
                    // an index out of range: left for the lowering to refuse
                }
                continue;
            }
            if (LOGIC.contains(n.op()) && n.outputs().size() == 1 && n.inputs().stream().allMatch(i -> i != null && g.isConstant(i))) {
                float[] out = logic(g, n);   // comparisons, Where and the logical ops of constants (Swin's mask), held as exact floats
                if (out != null) fold(g, n, out, g.value(n.output()).shape());
                continue;
            }
            if (!FOLDABLE.contains(n.op()) || n.outputs().size() != 1) continue;
            String data = n.input(0);
            if (data == null || !g.isConstant(data) || !isF32(g, data)) continue;
            float[] out;
            Shape outShape = g.value(n.output()).shape();
            switch (n.op()) {
                case "Identity", "Reshape", "Flatten", "Squeeze", "Unsqueeze" -> {   // the same elements, another shape
                    if (n.inputs().size() > 1 && n.input(1) != null && !n.input(1).isEmpty() && !g.isConstant(n.input(1))) continue;
                    out = g.floats(data);
                }
                case "Transpose" -> out = transpose(g.floats(data), g.shape(data).sizes(), n.attributes().integers("perm", null));
                default -> {
                    String other = n.input(1);
                    if (!g.isConstant(other) || !isF32(g, other) || !outShape.isFixed()) continue;
                    long[] o = outShape.sizes();
                    if (LowerIndex.prod(o, 0, o.length) > MAX_BROADCAST) continue;   // a broadcast into something large stays a step
                    // both operands broadcast to the output (NumPy rules; the shape rules checked them)
                    float[] a = MathKernels.expand(g.floats(data), LowerBinary.padded(g.shape(data).sizes(), o.length), o);
                    float[] b = MathKernels.expand(g.floats(other), LowerBinary.padded(g.shape(other).sizes(), o.length), o);
                    out = new float[a.length];
                    for (int i = 0; i < a.length; i++) {
                        out[i] = switch (n.op()) {
                            case "Add" -> a[i] + b[i];
                            case "Sub" -> a[i] - b[i];
                            case "Mul" -> a[i] * b[i];
                            case "Pow" -> (float) MathKernels.pow(a[i], b[i]);   // as the compiled Pow (C's pow in double)
                            default -> a[i] / b[i];
                        };
                    }
                }
            }
            fold(g, n, out, outShape);
        }
    }

    /** Node {@code n} replaced by the constant {@code out} of {@code shape}. */
    private void fold(PlanGraph g, Node n, float[] out, Shape shape) {
        g.setConstant(n.output(), out, shape);
        g.remove(n);
        g.fired.add(name() + ": " + n.op().toLowerCase(java.util.Locale.ROOT) + " " + n.name());
    }

    /** Ops folded by {@link #logic} when every input is a constant. */
    private static final Set<String> LOGIC = Set.of("Equal", "Less", "Greater", "Not", "And", "Or", "Xor", "Where", "Cast");

    /**
     * {@code n}'s result from constant inputs, broadcast, as exact floats (BOOL as 0 and 1, the form plans hold
     * computed integers and bools in, docs/onnx.md); null when an input is not exact in F32 or the result is large.
     */
    private static float[] logic(PlanGraph g, Node n) {
        Shape outShape = g.value(n.output()).shape();
        if (!outShape.isFixed()) return null;
        long[] o = outShape.sizes();
        if (LowerIndex.prod(o, 0, o.length) > MAX_BROADCAST) return null;
        float[][] in = new float[n.inputs().size()][];
        for (int k = 0; k < in.length; k++) {
            float[] v = LowerCarried.exactValues(g, n.input(k));
            if (v == null) return null;
            in[k] = MathKernels.expand(v, LowerBinary.padded(g.shape(n.input(k)).sizes(), o.length), o);
        }
        float[] out = new float[in[0].length];
        for (int i = 0; i < out.length; i++) {
            boolean r = switch (n.op()) {
                case "Equal" -> in[0][i] == in[1][i];
                case "Less" -> in[0][i] < in[1][i];
                case "Greater" -> in[0][i] > in[1][i];
                case "Not" -> in[0][i] == 0;
                case "And" -> in[0][i] != 0 && in[1][i] != 0;
                case "Or" -> in[0][i] != 0 || in[1][i] != 0;
                case "Xor" -> (in[0][i] != 0) != (in[1][i] != 0);
                default -> false;
            };
            out[i] = switch (n.op()) {
                case "Where" -> in[0][i] != 0 ? in[1][i] : in[2][i];
                case "Cast" -> cast(in[0][i], g.value(n.output()).dtype());
                default -> r ? 1f : 0f;
            };
        }
        return out;
    }

    /** ONNX's Cast of {@code v} to {@code to}, held as a float: a bool 0 or 1, an integer truncated toward zero. */
    private static float cast(float v, DataType to) {
        return switch (to) {
            case BOOL -> v != 0 ? 1f : 0f;
            case I64, I32 -> (float) (long) v;
            default -> v;
        };
    }

    /** The most elements a broadcasting fold of two constants writes (a larger result stays a step of the plan). */
    static final long MAX_BROADCAST = 1 << 22;

    /** Whether shape inference computed every output of {@code n} (e.g. a Shape of a fixed-shape value, a Gather of that). */
    private static boolean known(PlanGraph g, Node n) {
        for (String o : n.outputs()) if (g.source.knownValue(o) == null) return false;
        return true;
    }

    private static boolean isF32(PlanGraph g, String value) {
        var t = g.tensor(value);
        return t == null || t.dtype() == DataType.F32;   // null: computed by a rule, always f32
    }

    /** Row-major transpose of {@code x} (shape {@code shape}) by {@code perm} (null: reversed, as ONNX). */
    static float[] transpose(float[] x, long[] shape, long[] perm) {
        int r = shape.length;
        int[] p = new int[r];
        for (int i = 0; i < r; i++) p[i] = perm == null ? r - 1 - i : (int) perm[i];
        long[] inStride = new long[r];
        long s = 1;
        for (int d = r - 1; d >= 0; d--) {
            inStride[d] = s;
            s *= shape[d];
        }
        long[] outShape = new long[r];
        for (int i = 0; i < r; i++) outShape[i] = shape[p[i]];
        float[] out = new float[x.length];
        long[] idx = new long[r];
        for (int o = 0; o < out.length; o++) {
            long at = 0;
            for (int d = 0; d < r; d++) at += idx[d] * inStride[p[d]];
            out[o] = x[(int) at];
            for (int d = r - 1; d >= 0; d--) {
                if (++idx[d] < outShape[d]) break;
                idx[d] = 0;
            }
        }
        return out;
    }
}
