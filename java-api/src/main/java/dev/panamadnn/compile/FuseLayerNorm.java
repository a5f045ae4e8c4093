package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The layer normalization exporters write op by op → one {@code LayerNormalization} node (oneDNN's layer
 * normalization: one pass for the statistics, one for the result, instead of seven steps and five buffers). torch 1.13
 * writes {@code nn.LayerNorm} / {@code F.layer_norm} this way at every opset before 17 (ConvNeXt, ViT, Swin, BERT
 * exported with the default opset):
 * <pre>
 *   mean = ReduceMean(x, axes)          d = Sub(x, mean)
 *   var  = ReduceMean(Pow(d, 2), axes)  y = Div(d, Sqrt(Add(var, eps)))   [then Mul(y, scale)] [then Add(., B)]
 * </pre>
 * Also matched: {@code Mul(d, d)} for the square, {@code Mul(d, Reciprocal(Sqrt(...)))} for the division, every Add and
 * Mul either way round. The axes (an attribute, or the constant second input of opset 18) must be the last {@code k} dims
 * of an F32 value and both reductions keep them ({@code keepdims} 1); {@code eps} a positive finite scalar constant.
 * Every value inside the pattern must be read only inside it ({@code d} by the square and the division, the rest once).
 * A scale and a shift are taken in when they are constants that vary along the normalized dims only (e.g. {@code [C]}
 * or {@code [1, 1, C]} for the last dim; broadcast within them is expanded); otherwise they stay separate ops after the
 * fused node. The result equals the op-by-op form up to float rounding (oneDNN computes the variance from the mean as
 * the pattern does, in two passes), NaN and infinities included: a row with a NaN or an infinity is NaN in both.
 */
final class FuseLayerNorm implements Rewrite {
    @Override
    public String name() {
        return "fuse_layer_norm";
    }

    @Override
    public boolean enabled(CompileOptions options) {
        return true;
    }

    @Override
    public void apply(PlanGraph g, CompileOptions options) {
        for (Node top : new ArrayList<>(g.nodes)) {
            if (!(top.op().equals("Div") || top.op().equals("Mul")) || !g.contains(top)) continue;
            List<Node> matched = new ArrayList<>();
            String[] dx = normalized(g, top, matched);   // {d, the sqrt's operand} when top is d / sqrt(var + eps)
            if (dx == null) continue;
            Node sub = g.soleProducer(dx[0], "Sub", 2);
            Node meanNode = sub == null ? null : g.soleProducer(sub.input(1), "ReduceMean", 1);
            if (meanNode == null || !meanNode.input(0).equals(sub.input(0))) continue;
            String x = sub.input(0);
            if (g.isConstant(x) || g.value(x) == null || g.value(x).dtype() != DataType.F32) continue;
            long[] shape = concrete(g.shape(x));
            int axis = shape == null ? -1 : trailingAxis(g, meanNode, shape.length);
            if (axis < 0) continue;
            Node add = g.soleProducer(dx[1], "Add", 1);
            String var = add == null ? null : otherThanScalar(g, add);
            Node varNode = var == null ? null : g.soleProducer(var, "ReduceMean", 1);
            if (varNode == null || trailingAxis(g, varNode, shape.length) != axis) continue;
            float eps = g.floats(add.input(0).equals(var) ? add.input(1) : add.input(0))[0];
            if (!(eps > 0) || Float.isInfinite(eps)) continue;
            Node square = g.soleProducer(varNode.input(0), null, 1);
            if (square == null || !isSquareOf(g, square, dx[0])) continue;
            matched.addAll(List.of(sub, meanNode, add, varNode, square));

            // The affine part: Mul by a constant scale, then Add of a constant shift, each taken in when it fits.
            long[] normalizedShape = Arrays.copyOfRange(shape, axis, shape.length);
            Node last = top;
            Node mul = onlyReader(g, last.output(), "Mul");
            String scale = affine(g, mul, last.output(), shape, axis, top.name() + ".scale");
            if (scale != null) {
                matched.add(mul);
                last = mul;
            }
            Node addB = onlyReader(g, last.output(), "Add");
            String shift = affine(g, addB, last.output(), shape, axis, top.name() + ".shift");
            if (shift != null) {
                if (scale == null) {
                    float[] ones = new float[Math.toIntExact(numel(g, shift))];
                    Arrays.fill(ones, 1f);
                    scale = g.addConstant(top.name() + ".scale", ones, Shape.of(normalizedShape));
                }
                matched.add(addB);
                last = addB;
            }
            List<String> inputs = new ArrayList<>(List.of(x));
            if (scale != null) inputs.add(scale);
            if (shift != null) inputs.add(shift);
            Node ln = new Node(last.name(), "LayerNormalization", inputs, List.of(last.output()),
                    Attributes.of("axis", (long) axis, "epsilon", (double) eps));
            g.replace(last, ln);
            for (Node n : matched) if (n != last) g.remove(n);
            g.fired.add(name() + ": " + matched.size() + " nodes ending in " + last.name() + " into one LayerNormalization over "
                    + Arrays.toString(normalizedShape) + (scale == null ? "" : shift == null ? " with its scale" : " with its scale and shift"));
        }
    }

    /**
     * When {@code n} is {@code Div(d, Sqrt(s))} or {@code Mul(d, Reciprocal(Sqrt(s)))} (either way round), {@code {d, s}}
     * with the Sqrt (and Reciprocal) added to {@code matched} after {@code n}; else null.
     */
    private static String[] normalized(PlanGraph g, Node n, List<Node> matched) {
        if (n.outputs().size() != 1 || n.inputs().size() != 2) return null;
        if (n.op().equals("Div")) {
            Node sqrt = g.soleProducer(n.input(1), "Sqrt", 1);
            if (sqrt == null) return null;
            matched.addAll(List.of(n, sqrt));
            return new String[] {n.input(0), sqrt.input(0)};
        }
        if (!n.op().equals("Mul")) return null;
        for (int i = 0; i < 2; i++) {
            Node reciprocal = g.soleProducer(n.input(1 - i), "Reciprocal", 1);
            Node sqrt = reciprocal == null ? null : g.soleProducer(reciprocal.input(0), "Sqrt", 1);
            if (sqrt != null) {
                matched.addAll(List.of(n, reciprocal, sqrt));
                return new String[] {n.input(i), sqrt.input(0)};
            }
        }
        return null;
    }

    /** {@code Pow(d, 2)} or {@code Mul(d, d)}. */
    private static boolean isSquareOf(PlanGraph g, Node n, String d) {
        if (n.op().equals("Mul")) return n.inputs().size() == 2 && n.input(0).equals(d) && n.input(1).equals(d);
        if (!n.op().equals("Pow") || !n.input(0).equals(d) || !scalarFor(g, n.input(1), g.shape(d).rank())) return false;
        try {
            return g.floats(n.input(1))[0] == 2f;
        } catch (UnsupportedOperationException e) {
            return false;
        }
    }

    /**
     * The first reduced dim when {@code mean} (a ReduceMean keeping its dims) reduces exactly the last {@code k >= 1}
     * dims of a rank-{@code rank} value, else -1.
     */
    private static int trailingAxis(PlanGraph g, Node mean, int rank) {
        if (mean.attributes().integer("keepdims", 1) != 1) return -1;
        long[] axes = mean.attributes().integers("axes", null);
        if (mean.inputs().size() > 1 && mean.input(1) != null) {
            if (!g.isConstant(mean.input(1)) || g.tensor(mean.input(1)) == null) return -1;
            axes = LowerIndex.longs(g.tensor(mean.input(1)));
        }
        if (axes == null || axes.length == 0) return -1;   // every dim (or none, with noop_with_empty_axes): not a layer norm
        boolean[] reduced = new boolean[rank];
        for (long a : axes) {
            long p = a < 0 ? a + rank : a;
            if (p < 0 || p >= rank || reduced[(int) p]) return -1;
            reduced[(int) p] = true;
        }
        int first = rank - axes.length;
        for (int i = 0; i < rank; i++) if (reduced[i] != (i >= first)) return -1;
        return first;
    }

    /**
     * The operand of {@code binary} other than {@code value} as a LayerNormalization scale or shift: itself where it is
     * an F32 constant of the normalized shape, else its values broadcast to that shape as a new constant named after
     * {@code name}; null when there is no such node or the operand is no constant varying along the normalized dims only.
     */
    private static String affine(PlanGraph g, Node binary, String value, long[] shape, int axis, String name) {
        if (binary == null) return null;
        String c = other(binary, value);
        long[] normalized = Arrays.copyOfRange(shape, axis, shape.length);
        if (sameShape(g, c, normalized)) return c;
        float[] v = alongNormalized(g, c, shape, axis);
        return v == null ? null : g.addConstant(name, v, Shape.of(normalized));
    }

    /**
     * The values of constant {@code c} broadcast over the normalized dims {@code shape[axis..]} when, broadcast against
     * {@code shape} (NumPy rules), it neither widens the result nor varies along the leading dims; else null.
     */
    private static float[] alongNormalized(PlanGraph g, String c, long[] shape, int axis) {
        if (!g.isConstant(c) || g.value(c) != null && g.value(c).dtype() != DataType.F32) return null;
        long[] cs = concrete(g.shape(c));
        if (cs == null || cs.length > shape.length) return null;
        int offset = shape.length - cs.length;
        for (int i = 0; i < cs.length; i++) {
            int d = offset + i;
            if (cs[i] != 1 && (cs[i] != shape[d] || d < axis)) return null;
        }
        float[] v;
        try {
            v = g.floats(c);
        } catch (UnsupportedOperationException e) {
            return null;
        }
        int k = shape.length - axis;
        long n = 1;
        for (int i = axis; i < shape.length; i++) n *= shape[i];
        if (n > Integer.MAX_VALUE) return null;
        float[] out = new float[(int) n];
        long[] idx = new long[k];
        for (int o = 0; o < out.length; o++) {
            long at = 0;   // c's flat index of normalized position idx (a dim of 1 in c reads index 0)
            for (int i = 0; i < k; i++) {
                int ci = axis + i - offset;
                if (ci >= 0) at = at * cs[ci] + (cs[ci] == 1 ? 0 : idx[i]);
            }
            out[o] = v[(int) at];
            for (int i = k - 1; i >= 0 && ++idx[i] == shape[axis + i]; i--) idx[i] = 0;
        }
        return out;
    }

    /** Whether {@code c} is an F32 constant tensor (an initializer or a Constant's) of exactly {@code shape}. */
    private static boolean sameShape(PlanGraph g, String c, long[] shape) {
        long[] cs = concrete(g.shape(c));
        dev.panamadnn.Tensor t = cs != null && Arrays.equals(cs, shape) ? g.tensor(c) : null;
        return t != null && t.dtype() == DataType.F32;
    }

    private static long[] concrete(Shape s) {
        return s == null || !s.isFixed() ? null : s.sizes();
    }

    private static long numel(PlanGraph g, String value) {
        long[] s = concrete(g.shape(value));
        if (s == null) return -1;
        long n = 1;
        for (long d : s) n *= d;
        return n;
    }

    /** Whether constant {@code c} has one element and a rank up to {@code rank} (broadcast, it does not widen a rank-{@code rank} value). */
    private static boolean scalarFor(PlanGraph g, String c, int rank) {
        return g.isConstant(c) && numel(g, c) == 1 && g.shape(c).rank() <= rank;
    }

    /** The one node reading {@code value} (not a graph output) when it is a binary {@code op}, else null. */
    private static Node onlyReader(PlanGraph g, String value, String op) {
        if (g.uses(value) != 1) return null;
        List<Node> readers = g.consumers(value);
        if (readers.size() != 1) return null;
        Node r = readers.get(0);
        return r.op().equals(op) && r.inputs().size() == 2 && r.outputs().size() == 1 && !r.input(0).equals(r.input(1)) ? r : null;
    }

    private static String other(Node binary, String value) {
        return binary.input(0).equals(value) ? binary.input(1) : binary.input(0);
    }

    /** For an Add with one operand a scalar constant: the other operand, else null. */
    private static String otherThanScalar(PlanGraph g, Node add) {
        if (add.inputs().size() != 2) return null;
        for (int i = 0; i < 2; i++) {
            String c = add.input(i);
            if (scalarFor(g, c, g.shape(add.input(1 - i)).rank()) && !g.isConstant(add.input(1 - i))) {
                try {
                    g.floats(c);
                } catch (UnsupportedOperationException e) {
                    return null;
                }
                return add.input(1 - i);
            }
        }
        return null;
    }
}
