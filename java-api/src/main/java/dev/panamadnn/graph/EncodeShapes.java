package dev.panamadnn.graph;

import dev.panamadnn.DataType;
import dev.panamadnn.graph.Known.Data;
import dev.panamadnn.internal.Integers;
import java.util.ArrayList;
import java.util.List;

/**
 * Shape rules of the encoding, scanning and bit ops (ONNX opset 11-17 semantics): OneHot, CumSum, BitShift. Their values are
 * computed here when their inputs are known (a bound attention mask's CumSum, a constant's OneHot), exactly for
 * integers; otherwise a plan computes them at run time ({@code compile.LowerEncode}).
 */
final class EncodeShapes {
    private EncodeShapes() {}

    /** The dtypes OneHot reads its indices in: F32 (truncated toward zero, as ONNX casts non-integer indices) or an integer. */
    private static final java.util.Set<DataType> INDEX_TYPES = java.util.EnumSet.of(DataType.F32, DataType.I64, DataType.I32, DataType.I16,
            DataType.I8, DataType.U64, DataType.U32, DataType.U16, DataType.U8);

    /**
     * OneHot(indices, depth known: one value, values [off, on]) axis: the indices' shape with {@code depth} inserted at
     * {@code axis} (in [-rank - 1, rank]), dtype of values. An index in [-depth, depth) (a negative one counting from the
     * end) gives on at its position; any other gives a line of off (ONNX's rule).
     */
    static List<IndexShapes.Out> oneHot(Node n, List<Value> in, Known k) {
        Value idx = in.get(0), values = in.get(2);
        IndexShapes.require(idx, "indices", INDEX_TYPES.toArray(DataType[]::new));
        long depth = depth(in.get(1), k);
        if (values.shape().rank() != 1 || !values.shape().dim(0).equals(Dim.of(2))) {
            throw new GraphException("values must be [2] (off_value, on_value), got " + values);
        }
        int rank = idx.shape().rank();
        int axis = Ops.axis(n.attributes().integer("axis", -1), rank + 1, "axis");
        List<Dim> dims = new ArrayList<>(idx.shape().dims());
        dims.add(axis, Dim.of(depth));
        Shape s = new Shape(dims);
        Data ix = k.get(idx), v = k.get(values);
        if (ix == null || v == null || !s.isFixed() || IndexShapes.numel(s.sizes()) > Known.MAX_ELEMENTS) return IndexShapes.one(values.dtype(), s, null);
        long[] os = s.sizes();
        long inner = IndexShapes.numel(java.util.Arrays.copyOfRange(os, axis + 1, os.length));
        int size = (int) IndexShapes.numel(os);
        long[] ints = v.ints() == null ? null : new long[size];
        float[] floats = v.floats() == null ? null : new float[size];
        for (int o = 0; o < size; o++) {
            long a = o / (depth * inner), c = (o / inner) % depth, b = o % inner;
            int i = (int) (a * inner + b);
            long j = index(ix.real(i), depth);   // (a U64 index from 2^63, a negative long, read unsigned: out of range)
            int pick = j == c ? 1 : 0;
            if (ints != null) ints[o] = v.ints()[pick];
            else floats[o] = v.floats()[pick];
        }
        return IndexShapes.one(values.dtype(), s, new Data(values.dtype(), os, ints, floats, null));
    }

    /** An index of OneHot in [0, depth), or -1 (a line of off) for one outside [-depth, depth); a float truncated toward zero first. */
    static long index(double value, long depth) {
        if (Double.isNaN(value)) return -1;
        long v = (long) value;
        if (v < 0) v += depth;
        return v < 0 || v >= depth ? -1 : v;
    }

    /** OneHot's depth: one known value (any numeric dtype; a float truncated toward zero), at least 1. */
    private static long depth(Value d, Known k) {
        Data v = k.get(d);
        if (v == null || !v.isFixed() || v.size() != 1) {
            throw new GraphException("depth '" + d.name() + "' must be one known value (a constant, or a bound input), got " + d);
        }
        double depth = v.floats() != null ? v.floats()[0] : v.real(0);
        if (!(depth >= 1) || depth > Integer.MAX_VALUE) throw new GraphException("depth must be in [1, 2^31), got " + v);
        return (long) depth;
    }

    /**
     * CumSum(x F32 or integer, axis known: one I32/I64 value) exclusive reverse: x's shape and dtype. An integer x known
     * here is summed here, exactly (I64: an overflow is an error, as the shape arithmetic's; the narrower types wrap),
     * e.g. the position ids HF text models compute from a bound attention mask; F32 sums are a plan's.
     */
    static List<IndexShapes.Out> cumSum(Node n, List<Value> in, Known k) {
        Value x = in.get(0);
        if (x.dtype() != DataType.F32 && !IndexArith.INTEGERS.contains(x.dtype())) {
            throw new GraphException("x " + x + " must be F32 or an integer type " + IndexArith.INTEGERS + ", got " + x.dtype());
        }
        IndexShapes.require(in.get(1), "axis", DataType.I64, DataType.I32);
        if (x.shape().rank() < 1) throw new GraphException("x " + x + " must have rank >= 1");
        int axis = axis(in.get(1), x.shape().rank(), k);
        Data d = k.get(x);
        if (d == null || d.ints() == null || !d.isFixed() || !x.shape().isFixed()) return IndexShapes.one(x.dtype(), x.shape(), null);
        long[] xs = x.shape().sizes();
        long size = xs[axis], inner = IndexShapes.numel(java.util.Arrays.copyOfRange(xs, axis + 1, xs.length)), outer = d.size() / (size * inner);
        boolean exclusive = n.attributes().integer("exclusive", 0) != 0, reverse = n.attributes().integer("reverse", 0) != 0;
        long[] out = new long[d.size()];
        for (long a = 0; a < outer; a++) {
            for (long b = 0; b < inner; b++) {
                long sum = 0;
                for (long s = 0; s < size; s++) {
                    int at = (int) ((a * size + (reverse ? size - 1 - s : s)) * inner + b);
                    long v = d.ints()[at];
                    if (!exclusive) sum = add(x.dtype(), sum, v);
                    out[at] = sum;
                    if (exclusive) sum = add(x.dtype(), sum, v);
                }
            }
        }
        return IndexShapes.one(x.dtype(), x.shape(), new Data(x.dtype(), xs, out, null, null));
    }

    private static long add(DataType t, long a, long b) {
        if (t != DataType.I64) return Integers.narrow(t, a + b);   // U64: a long's own wrap, as its bits
        try {
            return Math.addExact(a, b);
        } catch (ArithmeticException e) {
            throw new GraphException("the I64 sum overflows: " + a + " + " + b);
        }
    }

    /** CumSum's axis: one known I32/I64 value in [-rank, rank). */
    static int axis(Value a, int rank, Known k) {
        Data v = k.get(a);
        if (v == null || !v.isFixed() || v.size() != 1 || a.shape().rank() > 1) {
            throw new GraphException("axis '" + a.name() + "' must be one known value (a constant, or a bound input), got " + a);
        }
        return Ops.axis(v.ints()[0], rank, "axis");
    }

    /** The dtypes of BitShift (ONNX's: the unsigned integers). */
    private static final java.util.Set<DataType> UNSIGNED = java.util.EnumSet.of(DataType.U8, DataType.U16, DataType.U32, DataType.U64);

    /**
     * BitShift(X, Y of one unsigned integer type, broadcast) direction LEFT | RIGHT: each X shifted by Y bits, computed
     * here when both are known (a plan computes on F32 only), as numpy.left_shift / right_shift (ONNX's reference): the
     * bits shifted out of the type are lost, a shift by the type's width or more gives 0.
     */
    static List<IndexShapes.Out> bitShift(Node n, List<Value> in, Known k) {
        Value x = in.get(0), y = in.get(1);
        IndexShapes.require(x, "X", UNSIGNED.toArray(DataType[]::new));
        if (y.dtype() != x.dtype()) throw new GraphException("Y " + y + " must be " + x.dtype() + " as X");
        String direction = n.attributes().string("direction");
        if (!direction.equals("LEFT") && !direction.equals("RIGHT")) throw new GraphException("direction must be 'LEFT' or 'RIGHT', got '" + direction + "'");
        Shape s = TensorShapes.broadcast(x.shape(), y.shape());
        DataType t = x.dtype();
        Data a = k.get(x), b = k.get(y);
        if (a == null || b == null || !s.isFixed() || IndexShapes.numel(s.sizes()) > Known.MAX_ELEMENTS) return IndexShapes.one(t, s, null);
        long[] os = s.sizes();
        int[] ia = IndexShapes.broadcastIndex(x.shape().sizes(), os), ib = IndexShapes.broadcastIndex(y.shape().sizes(), os);
        int bits = (int) t.byteSize() * 8;
        long[] ints = new long[ia.length];
        for (int o = 0; o < ints.length; o++) {
            long v = a.ints()[ia[o]], by = b.ints()[ib[o]];   // (U64 values from 2^63 are negative longs: read unsigned)
            boolean out = by < 0 || by >= bits;
            ints[o] = out ? 0 : Integers.narrow(t, direction.equals("LEFT") ? v << by : v >>> by);
        }
        return IndexShapes.one(t, s, new Data(t, os, ints, null, null));
    }
}
