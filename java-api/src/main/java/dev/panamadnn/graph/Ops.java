package dev.panamadnn.graph;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Layer;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The op set of a {@link Graph}, each with its shape rule. Names, inputs and attributes follow
 * ONNX where ONNX has the op (pads as {@code [begin..., end...]}, dilations 1-based, NumPy
 * broadcasting for the element-wise ops), so an ONNX model maps node for node; the few others are
 * marked "(ours)":
 * <pre>
 * Conv               X, W, [B]              kernel_shape strides pads dilations group
 * ConvTranspose      X, W, [B]              kernel_shape strides pads dilations group output_padding
 * BatchNormalization X, [scale], [B], mean, var   epsilon momentum   (absent scale/B: 1/0, ours)
 * LayerNormalization X, [scale], [B]        axis epsilon   (absent scale: 1, ours)
 * MaxPool            X                      kernel_shape strides pads dilations ceil_mode
 * AveragePool        X                      kernel_shape strides pads dilations ceil_mode count_include_pad
 * GlobalAveragePool, GlobalMaxPool   X
 * AdaptiveAvgPool, AdaptiveMaxPool   X      output_size                          (ours: PyTorch's)
 * Relu Sigmoid Tanh Silu(ours) Identity     X
 * LeakyRelu Elu      X                      alpha
 * Gelu               X                      approximate ("none" | "tanh")
 * Softmax            X                      axis
 * Flatten            X                      axis
 * Gemm               A, B, [C]              transA transB alpha beta
 * MatMul             A, B                   (batched, broadcast)
 * Add Sub Mul Div    A, B                   (broadcast)
 * Concat             X...                   axis
 * Reshape            X, shape (I64 constant)  allowzero
 * Transpose          X                      perm
 * Pad                X, pads (I64 constant), [value]   mode (constant | reflect | edge | wrap)
 * Constant           -                      value (a tensor)
 * Layer              X                      module: a layer run by its own Java kernel (ours)
 * </pre>
 * Every value is F32 except the I64 shape/pads constants. The shape rules accept symbolic
 * dimensions where the op is linear in them (the batch through everything above; a reshape
 * keeping or inferring it).
 */
public final class Ops {
    private Ops() {}

    /** A shape rule: the output shapes of a node from its inputs (null entries: absent). */
    private interface Rule {
        List<Shape> infer(Node node, List<Value> in, Map<String, Tensor> constants);
    }

    private record Spec(int minInputs, int maxInputs, int outputs, Set<String> attributes, Rule rule) {}

    private static final Map<String, Spec> SPECS = new TreeMap<>();

    private static void op(String name, int minIn, int maxIn, Set<String> attrs, Rule rule) {
        SPECS.put(name, new Spec(minIn, maxIn, 1, attrs, rule));
    }

    static {
        Set<String> conv = Set.of("kernel_shape", "strides", "pads", "dilations", "group", "auto_pad");
        op("Conv", 2, 3, conv, (n, in, c) -> List.of(conv(n, in, false)));
        Set<String> convT = Set.of("kernel_shape", "strides", "pads", "dilations", "group", "auto_pad", "output_padding");
        op("ConvTranspose", 2, 3, convT, (n, in, c) -> List.of(conv(n, in, true)));
        op("BatchNormalization", 5, 5, Set.of("epsilon", "momentum", "training_mode"), (n, in, c) -> {
            Shape x = rankAtLeast(in.get(0), 2, "X");
            for (int i = 1; i < 5; i++) if (in.get(i) != null) channels(in.get(i), x.dim(1), "BatchNormalization", i);
            if (in.get(3) == null || in.get(4) == null) throw new GraphException("running mean and variance are required");
            if (n.attributes().integer("training_mode", 0) != 0) throw new GraphException("training_mode is not supported (inference only)");
            return List.of(x);
        });
        op("LayerNormalization", 2, 3, Set.of("axis", "epsilon", "stash_type"), (n, in, c) -> {
            Shape x = in.get(0).shape();
            int axis = axis(n.attributes().integer("axis", -1), x.rank(), "axis");
            Shape normalized = new Shape(x.dims().subList(axis, x.rank()));
            for (int i = 1; i < 3; i++) {
                if (in.get(i) != null && !in.get(i).shape().equals(normalized)) {
                    throw new GraphException("input " + i + " (" + in.get(i) + ") must have the normalized shape " + normalized);
                }
            }
            return List.of(x);
        });
        Set<String> pool = Set.of("kernel_shape", "strides", "pads", "dilations", "ceil_mode", "auto_pad", "storage_order");
        op("MaxPool", 1, 1, pool, (n, in, c) -> List.of(pool(n, in.get(0))));
        Set<String> avg = Set.of("kernel_shape", "strides", "pads", "dilations", "ceil_mode", "auto_pad", "count_include_pad");
        op("AveragePool", 1, 1, avg, (n, in, c) -> List.of(pool(n, in.get(0))));
        Rule global = (n, in, c) -> {
            Shape x = rankAtLeast(in.get(0), 3, "X");
            List<Dim> d = new ArrayList<>(x.dims().subList(0, 2));
            for (int i = 2; i < x.rank(); i++) d.add(Dim.of(1));
            return List.of(new Shape(d));
        };
        op("GlobalAveragePool", 1, 1, Set.of(), global);
        op("GlobalMaxPool", 1, 1, Set.of(), global);
        Rule adaptive = (n, in, c) -> {
            Shape x = rankAtLeast(in.get(0), 3, "X");
            long[] size = n.attributes().integers("output_size");
            if (size.length != x.rank() - 2) {
                throw new GraphException("output_size " + Arrays.toString(size) + " must have one size per spatial dim of " + x);
            }
            List<Dim> d = new ArrayList<>(x.dims().subList(0, 2));
            for (long s : size) {
                if (s < 1) throw new GraphException("output_size must be >= 1, got " + Arrays.toString(size));
                d.add(Dim.of(s));
            }
            return List.of(new Shape(d));
        };
        op("AdaptiveAvgPool", 1, 1, Set.of("output_size"), adaptive);
        op("AdaptiveMaxPool", 1, 1, Set.of("output_size"), adaptive);
        Rule same = (n, in, c) -> List.of(in.get(0).shape());
        for (String s : new String[] {"Relu", "Sigmoid", "Tanh", "Silu", "Identity"}) op(s, 1, 1, Set.of(), same);
        op("LeakyRelu", 1, 1, Set.of("alpha"), same);
        op("Elu", 1, 1, Set.of("alpha"), same);
        op("Gelu", 1, 1, Set.of("approximate"), (n, in, c) -> {
            String a = n.attributes().string("approximate", "none");
            if (!a.equals("none") && !a.equals("tanh")) throw new GraphException("approximate must be 'none' or 'tanh', got '" + a + "'");
            return List.of(in.get(0).shape());
        });
        op("Softmax", 1, 1, Set.of("axis"), (n, in, c) -> {
            axis(n.attributes().integer("axis", -1), in.get(0).shape().rank(), "axis");
            return List.of(in.get(0).shape());
        });
        op("Flatten", 1, 1, Set.of("axis"), (n, in, c) -> {
            Shape x = in.get(0).shape();
            long a = n.attributes().integer("axis", 1);
            int axis = (int) (a < 0 ? a + x.rank() : a);
            if (axis < 0 || axis > x.rank()) throw new GraphException("axis " + a + " is out of range for rank " + x.rank());
            Dim left = new Shape(x.dims().subList(0, axis)).elements(), right = new Shape(x.dims().subList(axis, x.rank())).elements();
            if (left == null || right == null) throw new GraphException("cannot flatten " + x + " at axis " + axis + ": two symbols would multiply");
            return List.of(Shape.of(left, right));
        });
        op("Gemm", 2, 3, Set.of("transA", "transB", "alpha", "beta"), (n, in, c) -> {
            Shape a = rank(in.get(0), 2, "A"), b = rank(in.get(1), 2, "B");
            boolean ta = n.attributes().integer("transA", 0) != 0, tb = n.attributes().integer("transB", 0) != 0;
            Dim m = a.dim(ta ? 1 : 0), k = a.dim(ta ? 0 : 1), k2 = b.dim(tb ? 1 : 0), nn = b.dim(tb ? 0 : 1);
            if (!k.equals(k2)) throw new GraphException("A " + a + " and B " + b + " (transA=" + (ta ? 1 : 0) + ", transB=" + (tb ? 1 : 0)
                    + ") disagree on the inner dimension: " + k + " vs " + k2);
            Shape out = Shape.of(m, nn);
            if (in.size() > 2 && in.get(2) != null) broadcast(out, in.get(2).shape(), "C");
            return List.of(out);
        });
        op("MatMul", 2, 2, Set.of(), (n, in, c) -> List.of(matmul(in.get(0).shape(), in.get(1).shape())));
        for (String s : new String[] {"Add", "Sub", "Mul", "Div"}) {
            op(s, 2, 2, Set.of(), (n, in, c) -> List.of(broadcast(in.get(0).shape(), in.get(1).shape(), null)));
        }
        op("Concat", 1, Integer.MAX_VALUE, Set.of("axis"), (n, in, c) -> {
            Shape first = in.get(0).shape();
            int axis = axis(n.attributes().integer("axis"), first.rank(), "axis");
            Dim sum = Dim.of(0);
            for (int i = 0; i < in.size(); i++) {
                Value v = in.get(i);
                if (v == null) throw new GraphException("input " + i + " is absent");
                Shape s = v.shape();
                if (s.rank() != first.rank()) throw new GraphException("input " + v + " has rank " + s.rank() + ", input 0 " + first);
                for (int d = 0; d < s.rank(); d++) {
                    if (d != axis && !s.dim(d).equals(first.dim(d))) {
                        throw new GraphException("inputs " + in.get(0) + " and " + v + " differ in dim " + d + " (concatenating on " + axis + ")");
                    }
                }
                sum = add(sum, s.dim(axis));
                if (sum == null) throw new GraphException("cannot add dims of different symbols on axis " + axis);
            }
            List<Dim> d = new ArrayList<>(first.dims());
            d.set(axis, sum);
            return List.of(new Shape(d));
        });
        op("Reshape", 2, 2, Set.of("allowzero"), (n, in, c) -> List.of(reshape(in.get(0).shape(), constantLongs(in.get(1), c, "shape"),
                n.attributes().integer("allowzero", 0) != 0)));
        op("Transpose", 1, 1, Set.of("perm"), (n, in, c) -> {
            Shape x = in.get(0).shape();
            long[] perm = n.attributes().integers("perm", null);
            List<Dim> d = new ArrayList<>();
            boolean[] seen = new boolean[x.rank()];
            for (int i = 0; i < x.rank(); i++) {
                long p = perm == null ? x.rank() - 1 - i : i < perm.length ? perm[i] : -1;
                if (perm != null && perm.length != x.rank() || p < 0 || p >= x.rank() || seen[(int) p]) {
                    throw new GraphException("perm " + Arrays.toString(perm) + " is not a permutation of the " + x.rank() + " dims of " + x);
                }
                seen[(int) p] = true;
                d.add(x.dim((int) p));
            }
            return List.of(new Shape(d));
        });
        op("Pad", 2, 3, Set.of("mode"), (n, in, c) -> {
            Shape x = in.get(0).shape();
            long[] pads = constantLongs(in.get(1), c, "pads");
            String mode = n.attributes().string("mode", "constant");
            if (!Set.of("constant", "reflect", "edge", "wrap").contains(mode)) {
                throw new GraphException("mode must be constant, reflect, edge or wrap, got '" + mode + "'");
            }
            if (pads.length != 2 * x.rank()) throw new GraphException("pads " + Arrays.toString(pads) + " must have 2 x rank (" + x.rank() + ") entries");
            List<Dim> d = new ArrayList<>();
            for (int i = 0; i < x.rank(); i++) {
                long p = pads[i] + pads[i + x.rank()];
                if (p == 0) d.add(x.dim(i));
                else if (!x.dim(i).isFixed()) throw new GraphException("cannot pad the symbolic dim " + i + " of " + x);
                else if (x.dim(i).factor() + p < 0) throw new GraphException("pads " + Arrays.toString(pads) + " remove more than dim " + i + " of " + x);
                else d.add(Dim.of(x.dim(i).factor() + p));
            }
            return List.of(new Shape(d));
        });
        op("Constant", 0, 0, Set.of("value"), (n, in, c) -> List.of(Shape.of(n.attributes().tensor("value").shape())));
        op("Layer", 1, 1, Set.of("module"), (n, in, c) -> List.of(layer(n.attributes().module("module"), in.get(0).shape())));
    }

    /** The ops a graph may use. */
    public static Set<String> names() {
        return java.util.Collections.unmodifiableSet(SPECS.keySet());
    }

    /** Checks {@code node} against its op (input count, attributes, shapes) and returns its outputs. */
    static List<Value> infer(Node node, List<Value> inputs, Map<String, Tensor> constants) {
        Spec spec = SPECS.get(node.op());
        if (spec == null) throw new GraphException("unknown op '" + node.op() + "' (known: " + String.join(", ", SPECS.keySet()) + ")");
        int given = node.inputs().size();
        if (given < spec.minInputs() || given > spec.maxInputs()) {
            throw new GraphException("expected " + (spec.minInputs() == spec.maxInputs() ? String.valueOf(spec.minInputs())
                    : spec.minInputs() + " to " + (spec.maxInputs() == Integer.MAX_VALUE ? "any" : spec.maxInputs())) + " inputs, got " + given);
        }
        if (node.outputs().size() != spec.outputs()) {
            throw new GraphException("expected " + spec.outputs() + " output(s), got " + node.outputs().size());
        }
        for (String a : node.attributes().names()) {
            if (!spec.attributes().contains(a)) {
                throw new GraphException("unknown attribute '" + a + "' (" + node.op() + " takes " + new java.util.TreeSet<>(spec.attributes()) + ")");
            }
        }
        String autoPad = node.attributes().has("auto_pad") ? node.attributes().string("auto_pad") : "NOTSET";
        if (!autoPad.equals("NOTSET")) throw new GraphException("auto_pad " + autoPad + " is not supported: give explicit pads");
        for (int i = 0; i < inputs.size(); i++) {
            Value v = inputs.get(i);
            if (v == null) {
                // BatchNormalization's scale and B, and LayerNormalization's scale, may be absent (ours: 1 and 0).
                boolean optional = node.op().equals("BatchNormalization") || node.op().equals("LayerNormalization") && i == 1;
                if (i < spec.minInputs() && !optional) throw new GraphException("input " + i + " is required");
                continue;
            }
            boolean i64 = (node.op().equals("Reshape") || node.op().equals("Pad")) && i == 1;
            DataType want = i64 ? DataType.I64 : DataType.F32;
            if (v.dtype() != want) throw new GraphException("input " + i + " " + v + " must be " + want + ", got " + v.dtype());
        }
        List<Shape> shapes = spec.rule().infer(node, inputs, constants);
        List<Value> out = new ArrayList<>(shapes.size());
        for (int i = 0; i < shapes.size(); i++) out.add(new Value(node.outputs().get(i), DataType.F32, shapes.get(i)));
        return out;
    }

    // ---- shape rules --------------------------------------------------------------------------

    private static Shape conv(Node n, List<Value> in, boolean transposed) {
        Shape x = in.get(0).shape(), w = in.get(1).shape();
        int spatial = x.rank() - 2;
        if (x.rank() < 3 || x.rank() > 5) throw new GraphException("X must be [N, C, spatial...] with 1 to 3 spatial dims, got " + in.get(0));
        if (w.rank() != x.rank() || !w.isFixed()) throw new GraphException("W must be a fixed rank-" + x.rank() + " tensor, got " + in.get(1));
        long[] ws = w.sizes();
        long group = n.attributes().integer("group", 1);
        if (group < 1) throw new GraphException("group must be >= 1, got " + group);
        long[] k = Arrays.copyOfRange(ws, 2, ws.length);
        long[] ks = n.attributes().integers("kernel_shape", k);
        if (!Arrays.equals(ks, k)) throw new GraphException("kernel_shape " + Arrays.toString(ks) + " disagrees with W " + in.get(1));
        long[] s = ints(n, "strides", spatial, 1), d = ints(n, "dilations", spatial, 1), p = ints(n, "pads", 2 * spatial, 0);
        Dim c = x.dim(1);
        if (!c.isFixed()) throw new GraphException("the channels of X " + in.get(0) + " must be fixed");
        long inC = transposed ? ws[0] : ws[1] * group, outC = transposed ? ws[1] * group : ws[0];
        if (c.factor() != inC) {
            throw new GraphException("X " + in.get(0) + " has " + c.factor() + " channels but W " + in.get(1) + " (group " + group + ") expects " + inC);
        }
        if (inC % group != 0 || outC % group != 0) throw new GraphException("channels " + inC + " -> " + outC + " are not divisible by group " + group);
        if (in.size() > 2 && in.get(2) != null) channels(in.get(2), Dim.of(outC), n.op(), 2);
        long[] op = transposed ? ints(n, "output_padding", spatial, 0) : new long[spatial];
        List<Dim> out = new ArrayList<>(List.of(x.dim(0), Dim.of(outC)));
        for (int i = 0; i < spatial; i++) {
            Dim xi = x.dim(2 + i);
            if (!xi.isFixed()) throw new GraphException("spatial dim " + i + " of X " + in.get(0) + " must be fixed");
            if (s[i] < 1 || d[i] < 1 || p[i] < 0 || p[i + spatial] < 0 || k[i] < 1) {
                throw new GraphException("strides, dilations must be >= 1 and pads >= 0, got strides " + Arrays.toString(s) + ", dilations "
                        + Arrays.toString(d) + ", pads " + Arrays.toString(p));
            }
            long reach = d[i] * (k[i] - 1) + 1, o;
            if (transposed) {
                if (op[i] < 0 || (op[i] >= s[i] && op[i] >= d[i])) {
                    throw new GraphException("output_padding " + Arrays.toString(op) + " must be smaller than the stride or the dilation");
                }
                o = (xi.factor() - 1) * s[i] - p[i] - p[i + spatial] + reach + op[i];
            } else {
                long span = xi.factor() + p[i] + p[i + spatial] - reach;
                o = span < 0 ? 0 : span / s[i] + 1;
            }
            if (o < 1) {
                throw new GraphException("output size " + o + " < 1 on spatial dim " + i + " (input " + xi + ", kernel " + k[i] + ", stride "
                        + s[i] + ", pads " + p[i] + "/" + p[i + spatial] + ", dilation " + d[i] + ")");
            }
            out.add(Dim.of(o));
        }
        return new Shape(out);
    }

    /** PyTorch's (and ONNX's) pooling output size, ceil_mode's last window required to start inside the input or left padding. */
    private static Shape pool(Node n, Value xv) {
        Shape x = rankAtLeast(xv, 3, "X");
        int spatial = x.rank() - 2;
        long[] k = n.attributes().integers("kernel_shape");
        if (k.length != spatial) throw new GraphException("kernel_shape " + Arrays.toString(k) + " must have " + spatial + " entries for " + xv);
        long[] s = ints(n, "strides", spatial, 1), d = ints(n, "dilations", spatial, 1), p = ints(n, "pads", 2 * spatial, 0);
        boolean ceil = n.attributes().integer("ceil_mode", 0) != 0;
        List<Dim> out = new ArrayList<>(x.dims().subList(0, 2));
        for (int i = 0; i < spatial; i++) {
            Dim xi = x.dim(2 + i);
            if (!xi.isFixed()) throw new GraphException("spatial dim " + i + " of X " + xv + " must be fixed");
            if (k[i] < 1 || s[i] < 1 || d[i] < 1 || p[i] < 0 || p[i + spatial] < 0) {
                throw new GraphException("kernel, strides, dilations must be >= 1 and pads >= 0, got kernel " + Arrays.toString(k)
                        + ", strides " + Arrays.toString(s) + ", dilations " + Arrays.toString(d) + ", pads " + Arrays.toString(p));
            }
            long span = xi.factor() + p[i] + p[i + spatial] - d[i] * (k[i] - 1) - 1;
            // With ceil_mode a window may reach past the padded input (PyTorch and ONNX: MaxPool(2, ceil) of 1 gives 1).
            long o = (ceil ? Math.floorDiv(span + s[i] - 1, s[i]) : Math.floorDiv(span, s[i])) + 1;
            if (ceil && (o - 1) * s[i] >= xi.factor() + p[i]) o--;
            if (o < 1) {
                throw new GraphException("the window (kernel " + k[i] + ", dilation " + d[i] + ") is larger than the padded input " + xi
                        + " (output size " + o + " on spatial dim " + i + ")");
            }
            out.add(Dim.of(o));
        }
        return new Shape(out);
    }

    private static Shape layer(Module m, Shape x) {
        if (!(m instanceof Layer layer)) {
            throw new GraphException("module " + (m == null ? "null" : m.getClass().getSimpleName()) + " is not a Layer, whose output shape is known");
        }
        if (x.isFixed()) return Shape.of(layer.outputShape(x.sizes()));
        // Symbolic dims: a layer linear in them (the batch) gives a * sym + b per dim; probe with two sizes.
        long[] one = bindAll(x, 1), two = bindAll(x, 2);
        long[] a = layer.outputShape(one), b = layer.outputShape(two);
        String sym = null;
        for (Dim d : x.dims()) if (d.symbol() != null) sym = sym == null || sym.equals(d.symbol()) ? d.symbol() : "";
        if ("".equals(sym) || a.length != b.length) throw new GraphException("cannot infer " + m + " on " + x + " symbolically");
        List<Dim> out = new ArrayList<>();
        for (int i = 0; i < a.length; i++) {
            if (a[i] == b[i]) out.add(Dim.of(a[i]));
            else if (b[i] == 2 * a[i]) out.add(new Dim(a[i], sym));
            else throw new GraphException("cannot infer " + m + " on " + x + ": output dim " + i + " is not proportional to " + sym);
        }
        return new Shape(out);
    }

    private static long[] bindAll(Shape x, long v) {
        long[] s = new long[x.rank()];
        for (int i = 0; i < s.length; i++) s[i] = x.dim(i).isFixed() ? x.dim(i).factor() : x.dim(i).factor() * v;
        return s;
    }

    /** NumPy broadcasting of {@code a} and {@code b}; with {@code onlyInto} (a name), b must broadcast into a unchanged. */
    static Shape broadcast(Shape a, Shape b, String onlyInto) {
        int r = Math.max(a.rank(), b.rank());
        List<Dim> out = new ArrayList<>(r);
        for (int i = 0; i < r; i++) {
            Dim x = i < r - a.rank() ? Dim.of(1) : a.dim(i - (r - a.rank()));
            Dim y = i < r - b.rank() ? Dim.of(1) : b.dim(i - (r - b.rank()));
            Dim d;
            if (x.equals(y) || y.equals(Dim.of(1))) d = x;
            else if (x.equals(Dim.of(1))) d = y;
            else throw new GraphException("shapes " + a + " and " + b + " do not broadcast (dim " + i + ": " + x + " vs " + y + ")");
            out.add(d);
        }
        Shape s = new Shape(out);
        if (onlyInto != null && !s.equals(a)) throw new GraphException(onlyInto + " " + b + " does not broadcast into " + a);
        return s;
    }

    private static Shape matmul(Shape a, Shape b) {
        if (a.rank() < 1 || b.rank() < 1) throw new GraphException("MatMul needs inputs of rank >= 1, got " + a + " and " + b);
        Shape a2 = a.rank() == 1 ? Shape.of(Dim.of(1), a.dim(0)) : a, b2 = b.rank() == 1 ? Shape.of(b.dim(0), Dim.of(1)) : b;
        Dim k = a2.dim(a2.rank() - 1), k2 = b2.dim(b2.rank() - 2);
        if (!k.equals(k2)) throw new GraphException("MatMul of " + a + " and " + b + ": inner dimensions " + k + " and " + k2 + " differ");
        Shape batch = broadcast(new Shape(a2.dims().subList(0, a2.rank() - 2)), new Shape(b2.dims().subList(0, b2.rank() - 2)), null);
        List<Dim> d = new ArrayList<>(batch.dims());
        if (a.rank() > 1) d.add(a2.dim(a2.rank() - 2));
        if (b.rank() > 1) d.add(b2.dim(b2.rank() - 1));
        return new Shape(d);
    }

    private static Shape reshape(Shape x, long[] target, boolean allowZero) {
        List<Dim> out = new ArrayList<>();
        int infer = -1;
        for (int i = 0; i < target.length; i++) {
            long t = target[i];
            if (t == -1) {
                if (infer >= 0) throw new GraphException("shape " + Arrays.toString(target) + " has more than one -1");
                infer = i;
                out.add(null);
            } else if (t == 0 && !allowZero) {
                if (i >= x.rank()) throw new GraphException("shape " + Arrays.toString(target) + " copies dim " + i + " of " + x + ", which has none");
                out.add(x.dim(i));
            } else if (t < 0) {
                throw new GraphException("shape " + Arrays.toString(target) + " has a negative size other than -1");
            } else out.add(Dim.of(t));
        }
        Dim total = x.elements();
        if (total == null) throw new GraphException("cannot reshape " + x + ": more than one symbol");
        Dim known = Dim.of(1);
        for (Dim d : out) if (d != null) known = known.times(d);
        if (known == null) throw new GraphException("cannot reshape " + x + " to " + Arrays.toString(target) + ": two symbols would multiply");
        if (infer >= 0) {
            Dim rest = divide(total, known);
            if (rest == null) throw new GraphException("cannot reshape " + x + " (" + total + " elements) to " + Arrays.toString(target));
            out.set(infer, rest);
        } else if (!total.equals(known)) {
            throw new GraphException("cannot reshape " + x + " (" + total + " elements) to " + Arrays.toString(target) + " (" + known + ")");
        }
        return new Shape(out);
    }

    /** {@code a / b} if exact, else null. */
    private static Dim divide(Dim a, Dim b) {
        if (b.symbol() != null) {
            if (!b.symbol().equals(a.symbol()) || a.factor() % b.factor() != 0) return null;
            return Dim.of(a.factor() / b.factor());
        }
        if (b.factor() == 0 || a.factor() % b.factor() != 0) return null;
        return new Dim(a.factor() / b.factor(), a.symbol());
    }

    private static Dim add(Dim a, Dim b) {
        if (a.factor() == 0) return b;
        if (b.factor() == 0) return a;
        if (a.symbol() == null ? b.symbol() != null : !a.symbol().equals(b.symbol())) return null;
        return new Dim(a.factor() + b.factor(), a.symbol());
    }

    private static long[] constantLongs(Value v, Map<String, Tensor> constants, String what) {
        Tensor t = constants.get(v.name());
        if (t == null) throw new GraphException(what + " '" + v.name() + "' must be an initializer (a constant)");
        if (t.dtype() != DataType.I64 || t.rank() != 1) throw new GraphException(what + " must be a 1-D I64 tensor, got " + v);
        long[] out = new long[(int) t.numel()];
        for (int i = 0; i < out.length; i++) out[i] = t.segment().getAtIndex(ValueLayout.JAVA_LONG, i);
        return out;
    }

    private static long[] ints(Node n, String name, int count, long otherwise) {
        long[] v = n.attributes().integers(name, null);
        if (v == null) {
            v = new long[count];
            Arrays.fill(v, otherwise);
        } else if (v.length != count) {
            throw new GraphException(name + " " + Arrays.toString(v) + " must have " + count + " entries");
        }
        return v;
    }

    private static int axis(long axis, int rank, String what) {
        long a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) throw new GraphException(what + " " + axis + " is out of range for rank " + rank);
        return (int) a;
    }

    private static Shape rank(Value v, int rank, String what) {
        if (v.shape().rank() != rank) throw new GraphException(what + " must have rank " + rank + ", got " + v);
        return v.shape();
    }

    private static Shape rankAtLeast(Value v, int rank, String what) {
        if (v.shape().rank() < rank) throw new GraphException(what + " must have rank >= " + rank + ", got " + v);
        return v.shape();
    }

    private static void channels(Value v, Dim c, String op, int index) {
        if (v.shape().rank() != 1 || !v.shape().dim(0).equals(c)) {
            throw new GraphException(op + " input " + index + " " + v + " must be [" + c + "] (one per channel)");
        }
    }
}
