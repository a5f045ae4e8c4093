package dev.panamadnn.graph;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The shape rules of the tensor ops (ONNX semantics): NumPy broadcasting, MatMul, Flatten,
 * Concat, Reshape, Transpose, Pad. Symbolic dims pass through where the result stays a multiple
 * of one symbol ({@code 12*N}); where it would not ({@code N*M}, {@code N+2}) the rule refuses.
 */
final class TensorShapes {
    private TensorShapes() {}

    /** ONNX Flatten: always 2-D, {@code [prod(dims[:axis]), prod(dims[axis:])]}, axis in {@code [-rank, rank]}. */
    static Shape flatten(Node n, Value xv) {
        Shape x = xv.shape();
        long a = n.attributes().integer("axis", 1);
        long axis = a < 0 ? a + x.rank() : a;
        if (axis < 0 || axis > x.rank()) throw new GraphException("axis " + a + " is out of range for rank " + x.rank() + " (" + xv + ")");
        Dim left = new Shape(x.dims().subList(0, (int) axis)).elements(), right = new Shape(x.dims().subList((int) axis, x.rank())).elements();
        if (left == null || right == null) throw new GraphException("cannot flatten " + x + " at axis " + axis + ": two symbols would multiply");
        return Shape.of(left, right);
    }

    /** ONNX Transpose: {@code perm} (default: the dims reversed). */
    static Shape transpose(Node n, Shape x) {
        long[] perm = n.attributes().integers("perm", null);
        if (perm == null) {
            List<Dim> reversed = new ArrayList<>(x.dims());
            Collections.reverse(reversed);
            return new Shape(reversed);
        }
        String bad = "perm " + Arrays.toString(perm) + " is not a permutation of the " + x.rank() + " dims of " + x;
        if (perm.length != x.rank()) throw new GraphException(bad);
        List<Dim> d = new ArrayList<>();
        boolean[] seen = new boolean[x.rank()];
        for (long p : perm) {
            if (p < 0 || p >= x.rank() || seen[(int) p]) throw new GraphException(bad);
            seen[(int) p] = true;
            d.add(x.dim((int) p));
        }
        return new Shape(d);
    }

    /** ONNX Pad: {@code pads} is {@code [begin per dim..., end per dim...]}, negative entries crop. */
    static Shape pad(Node n, Shape x, long[] pads) {
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
        return new Shape(d);
    }

    /**
     * ONNX Pad of integer or bool data (I64, I32, U8, I8, BOOL; an I64 shape vector keeps its symbols): the shape as
     * {@link #pad}, the values computed when the data is known (a bound input: ONNX's int32 Pad cases), by the plan's
     * Pad mapping (internal.lowering.Padding): output index {@code o} reads input {@code o - begin} per dim, outside the input
     * the constant (input 2, of the data's dtype, default 0), the mirror without the edge (reflect, numpy's), the edge
     * or the wrapped-around element. Negative pads crop; in a dim padded at one end and cropped at the other, reflect
     * and wrap are refused (cropping first, as ONNX Runtime does, or padding first may give different values there;
     * the edge is the same element either way).
     */
    static List<IndexShapes.Out> padIntegers(Node n, List<Value> in, Known k) {
        Value x = in.get(0);
        IndexShapes.require(x, "data", DataType.I64, DataType.I32, DataType.U8, DataType.I8, DataType.BOOL);
        IndexShapes.require(in.get(1), "pads", DataType.I64);
        if (in.get(2) != null && in.get(2).dtype() != x.dtype()) throw new GraphException("constant_value " + in.get(2) + " must be " + x.dtype() + " as data");
        long[] pads = k.longs(in.get(1), "pads");
        Shape y = pad(n, x.shape(), pads);
        String mode = n.attributes().string("mode", "constant");
        int r = x.shape().rank();
        for (int d = 0; d < r && (mode.equals("reflect") || mode.equals("wrap")); d++) {
            if (Math.min(pads[d], pads[d + r]) < 0 && Math.max(pads[d], pads[d + r]) > 0) {
                throw new GraphException("mode " + mode + " with pads " + Arrays.toString(pads) + " that crop one end of dim " + d
                        + " and pad the other is ambiguous (crop first or pad first) and not supported");
            }
        }
        Known.Data d = k.get(x), fill = in.get(2) == null ? null : k.get(in.get(2));
        if (d == null || !x.shape().isFixed() || !y.isFixed() || IndexShapes.numel(y.sizes()) > Known.MAX_ELEMENTS
                || in.get(2) != null && (fill == null || !fill.isFixed())) {
            return IndexShapes.one(x.dtype(), y, null);
        }
        if (!mode.equals("constant")) {
            for (int i = 0; i < r; i++) {
                if (x.shape().sizes()[i] == 0 && pads[i] + pads[i + r] > 0) throw new GraphException("cannot " + mode + "-pad the empty dim " + i + " of " + x);
            }
        }
        long[] xs = x.shape().sizes(), ys = y.sizes(), st = new long[r], at = new long[r];
        for (int i = r - 1, s = 1; i >= 0; s *= (int) xs[i], i--) st[i] = s;
        int size = (int) IndexShapes.numel(ys);
        long[] ints = new long[size];
        String[] symbols = d.symbols() == null ? null : new String[size];
        long constant = fill == null ? 0 : fill.ints()[0];
        for (int o = 0; o < size; o++) {
            long from = 0;
            boolean outside = false;
            for (int i = 0; i < r && !outside; i++) {
                long j = at[i] - pads[i], len = xs[i];
                if (j < 0 || j >= len) {
                    switch (mode) {
                        case "reflect" -> {
                            long period = 2 * (len - 1);
                            j = period == 0 ? 0 : Math.floorMod(j, period);
                            if (j >= len) j = period - j;
                        }
                        case "edge" -> j = j < 0 ? 0 : len - 1;
                        case "wrap" -> j = Math.floorMod(j, len);
                        default -> outside = true;
                    }
                }
                from += j * st[i];
            }
            ints[o] = outside ? constant : d.ints()[(int) from];
            if (symbols != null && !outside) symbols[o] = d.symbols()[(int) from];
            for (int i = r - 1; i >= 0; i--) {   // the next output index, row-major
                if (++at[i] < ys[i]) break;
                at[i] = 0;
            }
        }
        return IndexShapes.one(x.dtype(), y, new Known.Data(x.dtype(), ys, ints, null, symbols));
    }

    /** ONNX Concat on {@code axis}: every other dim equal; the axis dims add up (to a multiple of one symbol at most). */
    static Shape concat(Node n, List<Value> in, Map<String, Tensor> constants) {
        Shape first = in.get(0).shape();
        int axis = Ops.axis(n.attributes().integer("axis"), first.rank(), "axis");
        Dim sum = Dim.of(0);
        for (int i = 0; i < in.size(); i++) {
            Value v = in.get(i);
            if (v == null) throw new GraphException("input " + i + " is absent");
            Shape s = v.shape();
            if (s.rank() != first.rank()) throw new GraphException("input " + i + " " + v + " has rank " + s.rank() + ", input 0 " + in.get(0) + " " + first.rank());
            for (int d = 0; d < s.rank(); d++) {
                if (d != axis && !s.dim(d).equals(first.dim(d))) {
                    throw new GraphException("inputs " + in.get(0) + " and " + v + " differ in dim " + d + " (concatenating on axis " + axis + ")");
                }
            }
            Dim next = add(sum, s.dim(axis));
            if (next == null) {
                throw new GraphException("cannot concatenate " + sum + " and " + s.dim(axis) + " on axis " + axis + " (input " + i + " " + v
                        + "): the sum is not a multiple of one symbol");
            }
            sum = next;
        }
        List<Dim> d = new ArrayList<>(first.dims());
        d.set(axis, sum);
        return new Shape(d);
    }

    /** NumPy broadcasting of {@code a} and {@code b}. */
    static Shape broadcast(Shape a, Shape b) {
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
        return new Shape(out);
    }

    /** Checks that {@code b} (named {@code what}) broadcasts into {@code target} without changing it (ONNX's unidirectional broadcasting). */
    static void broadcastInto(Shape target, Shape b, String what) {
        boolean ok = b.rank() <= target.rank();
        for (int i = 0; ok && i < b.rank(); i++) {
            Dim y = b.dim(b.rank() - 1 - i), x = target.dim(target.rank() - 1 - i);
            ok = y.equals(x) || y.equals(Dim.of(1));
        }
        if (!ok) throw new GraphException(what + " " + b + " does not broadcast into the output " + target);
    }

    /** NumPy matmul: a 1-D operand is a row (A) or a column (B) that is dropped again; the batch dims broadcast. */
    static Shape matmul(Shape a, Shape b) {
        if (a.rank() < 1 || b.rank() < 1) throw new GraphException("MatMul needs inputs of rank >= 1, got " + a + " and " + b);
        Shape a2 = a.rank() == 1 ? Shape.of(Dim.of(1), a.dim(0)) : a, b2 = b.rank() == 1 ? Shape.of(b.dim(0), Dim.of(1)) : b;
        Dim k = a2.dim(a2.rank() - 1), k2 = b2.dim(b2.rank() - 2);
        if (!k.equals(k2)) throw new GraphException("MatMul of " + a + " and " + b + ": inner dimensions " + k + " and " + k2 + " differ");
        Shape batch;
        try {
            batch = broadcast(new Shape(a2.dims().subList(0, a2.rank() - 2)), new Shape(b2.dims().subList(0, b2.rank() - 2)));
        } catch (GraphException e) {
            throw new GraphException("MatMul of " + a + " and " + b + ": the batch dims " + e.getMessage(), e);
        }
        List<Dim> d = new ArrayList<>(batch.dims());
        if (a.rank() > 1) d.add(a2.dim(a2.rank() - 2));
        if (b.rank() > 1) d.add(b2.dim(b2.rank() - 1));
        return new Shape(d);
    }

    /**
     * ONNX Reshape of {@code xv} to the value of {@code target} (known when shapes are inferred; its
     * entries may be symbolic, e.g. {@code [N, -1]} from a Shape/Gather/Concat chain): 0 copies the
     * input's dim (unless allowzero), one -1 is inferred from the element count.
     */
    static Shape reshape(Value xv, Value targetValue, Known known, boolean allowZero) {
        Known.Data target = known.get(targetValue);
        if (target == null || target.ints() == null || target.shape().length > 1) {
            throw new GraphException("shape '" + targetValue.name() + "' must be a constant (an initializer, a Constant node's output, or "
                    + "a 1-D I64 value computed from those and the input shapes), got " + targetValue);
        }
        Shape x = xv.shape();
        List<Dim> out = new ArrayList<>();
        int infer = -1;
        String text = target.elements();
        for (int i = 0; i < target.size(); i++) {
            long t = target.ints()[i];
            Dim sym = target.symbols() != null && target.symbols()[i] != null ? target.dim(i) : null;
            if (sym != null) {
                out.add(sym);
            } else if (t == -1) {
                if (infer >= 0) throw new GraphException("shape " + text + " has more than one -1");
                infer = i;
                out.add(null);
            } else if (t == 0 && !allowZero) {
                if (i >= x.rank()) throw new GraphException("shape " + text + " copies dim " + i + " of " + x + ", which has none");
                out.add(x.dim(i));
            } else if (t < 0) {
                throw new GraphException("shape " + text + " has a negative size other than -1");
            } else out.add(Dim.of(t));
        }
        Dim total = x.elements();
        if (total == null) throw new GraphException("cannot reshape " + x + ": more than one symbol");
        Dim known1 = Dim.of(1);
        for (Dim d : out) if (d != null && known1 != null) known1 = known1.times(d);
        if (known1 == null) throw new GraphException("cannot reshape " + x + " to " + text + ": two symbols would multiply");
        if (infer >= 0) {
            Dim rest = divide(total, known1);
            if (rest == null) {
                throw new GraphException("cannot reshape " + x + " (" + total + " elements) to " + text + ": " + total
                        + " is not a multiple of " + known1);
            }
            out.set(infer, rest);
        } else if (!total.equals(known1)) {
            throw new GraphException("cannot reshape " + x + " (" + total + " elements) to " + text + " (" + known1 + ")");
        }
        return new Shape(out);
    }

    /** {@code a / b} if exact (valid for every value of a symbol), else null. */
    private static Dim divide(Dim a, Dim b) {
        if (b.symbol() != null) {
            if (!b.symbol().equals(a.symbol()) || a.factor() % b.factor() != 0) return null;
            return Dim.of(a.factor() / b.factor());
        }
        if (b.factor() == 0 || a.factor() % b.factor() != 0) return null;
        return a.factor() == 0 ? Dim.of(0) : new Dim(a.factor() / b.factor(), a.symbol());
    }

    /** {@code a + b}, or null when the sum mixes a symbol with a fixed size or two symbols. */
    private static Dim add(Dim a, Dim b) {
        if (a.equals(Dim.of(0))) return b;
        if (b.equals(Dim.of(0))) return a;
        if (a.symbol() == null ? b.symbol() != null : !a.symbol().equals(b.symbol())) return null;
        return new Dim(Math.addExact(a.factor(), b.factor()), a.symbol());
    }
}
