package dev.panamadnn.graph;

import dev.panamadnn.DataType;
import dev.panamadnn.graph.Known.Data;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;

/**
 * Shape rules of the element-selecting and resampling ops (ONNX opset 13-17 semantics):
 * GatherElements, GatherND, ScatterElements, Tile, Resize, ArgMax/ArgMin, TopK. Index-like operands (GatherElements' indices,
 * Tile's repeats, Resize's scales and sizes) must be known when shapes are inferred for Tile and
 * Resize (they fix the output shape); GatherElements' indices are checked against the data when
 * known. No values are propagated: these ops compute on F32 activations.
 */
final class SelectShapes {
    private SelectShapes() {}

    /** GatherElements(data F32, indices I64/I32) axis: the output has the indices' shape. */
    static List<IndexShapes.Out> gatherElements(Node n, List<Value> in, Known k) {
        IndexShapes.require(in.get(0), "data", DataType.F32);
        elementIndices(n, in.get(0), in.get(1), k);
        return IndexShapes.one(DataType.F32, in.get(1).shape(), null);
    }

    /**
     * ScatterElements(data F32, indices I64/I32, updates F32) axis reduction (none, add, mul: ScatterElements-16): the
     * data's shape; updates of the indices' shape, which has the data's rank and is no larger off the axis.
     */
    static List<IndexShapes.Out> scatterElements(Node n, List<Value> in, Known k) {
        Value data = in.get(0), idx = in.get(1), updates = in.get(2);
        String reduction = n.attributes().string("reduction", "none");
        if (!List.of("none", "add", "mul").contains(reduction)) {
            throw new GraphException("reduction '" + reduction + "' is not supported (none, add, mul: ScatterElements-16)");
        }
        boolean integer = IndexArith.INTEGERS.contains(data.dtype());   // torch's pack_padded_sequence inverts its sort (I64)
        if (!integer) IndexShapes.require(data, "data", DataType.F32);
        IndexShapes.require(updates, "updates", integer ? data.dtype() : DataType.F32);
        elementIndices(n, data, idx, k);
        if (!updates.shape().equals(idx.shape())) throw new GraphException("updates " + updates + " must have the shape of indices " + idx);
        return IndexShapes.one(data.dtype(), data.shape(), integer ? scatterKnown(n, data, k.get(data), k.get(idx), k.get(updates)) : null);
    }

    /**
     * ScatterElements of known integer values (a copy of data with each update written at its index along the axis, in
     * order; add/mul combine, wrapping as the type does), or null when any operand is not known (then a plan refuses it).
     */
    private static Data scatterKnown(Node n, Value data, Data d, Data ix, Data up) {
        if (d == null || ix == null || up == null || !d.isFixed() || !ix.isFixed() || !up.isFixed() || !data.shape().isFixed()) return null;
        long[] x = data.shape().sizes(), is = ix.shape();
        int axis = Ops.axis(n.attributes().integer("axis", 0), x.length, "axis");
        String reduction = n.attributes().string("reduction", "none");
        long[] out = d.ints().clone();
        long[] at = new long[is.length];
        for (int e = 0; e < ix.size(); e++) {   // update e at its multi-index in indices, the axis coordinate replaced by its index
            long v = ix.ints()[e], j = v < 0 ? v + x[axis] : v, off = 0;
            for (int q = 0; q < x.length; q++) off = off * x[q] + (q == axis ? j : at[q]);
            long u = up.ints()[e];
            out[(int) off] = switch (reduction) {
                case "add" -> dev.panamadnn.internal.Integers.narrow(data.dtype(), out[(int) off] + u);
                case "mul" -> dev.panamadnn.internal.Integers.narrow(data.dtype(), out[(int) off] * u);
                default -> u;
            };
            for (int q = is.length - 1; q >= 0 && ++at[q] == is[q]; q--) at[q] = 0;
        }
        return new Data(data.dtype(), x, out, null, null);
    }

    /** GatherElements' and ScatterElements' indices: I64/I32, the data's rank, no larger off the axis, in range when known. */
    private static void elementIndices(Node n, Value data, Value idx, Known k) {
        IndexShapes.require(idx, "indices", DataType.I64, DataType.I32);
        Shape x = data.shape(), i = idx.shape();
        if (x.rank() < 1 || x.rank() != i.rank()) throw new GraphException("indices " + idx + " must have the rank of data " + data + " (>= 1)");
        int axis = Ops.axis(n.attributes().integer("axis", 0), x.rank(), "axis");
        for (int d = 0; d < x.rank(); d++) {
            if (d != axis && i.dim(d).isFixed() && x.dim(d).isFixed() && i.dim(d).size() > x.dim(d).size()) {
                throw new GraphException("indices " + idx + " are larger than data " + data + " in dim " + d);
            }
        }
        Data ix = k.get(idx);
        if (ix != null && ix.ints() != null && x.dim(axis).isFixed()) {
            long size = x.dim(axis).size();
            for (long v : ix.ints()) {
                if (v < -size || v >= size) throw new GraphException("index " + v + " is out of range for dim " + axis + " (" + size + ") of " + data);
            }
        }
    }

    /** Tile(input F32, repeats I64 known): each dim times its repeat. */
    static List<IndexShapes.Out> tile(Node n, List<Value> in, Known k) {
        Value x = in.get(0);
        IndexShapes.require(x, "input", DataType.F32);
        IndexShapes.require(in.get(1), "repeats", DataType.I64);
        long[] r = k.longs(in.get(1), "repeats");
        if (r.length != x.shape().rank()) throw new GraphException("repeats " + Arrays.toString(r) + " must have one entry per dim of " + x);
        List<Dim> dims = new ArrayList<>();
        for (int d = 0; d < r.length; d++) {
            if (r[d] < 1) throw new GraphException("repeats must be >= 1 (empty tensors are not supported), got " + Arrays.toString(r));
            dims.add(x.shape().dim(d).times(r[d]));
        }
        return IndexShapes.one(DataType.F32, new Shape(dims), null);
    }

    static final Set<String> RESIZE_MODES = Set.of("nearest", "linear", "cubic");
    static final Set<String> COORDINATE_MODES = Set.of("half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_half_pixel_for_nn",
            "tf_crop_and_resize");
    static final Set<String> NEAREST_MODES = Set.of("round_prefer_floor", "round_prefer_ceil", "floor", "ceil");

    /**
     * Resize(X F32, [roi], [scales F32 known], [sizes I64 known]) mode coordinate_transformation_mode
     * nearest_mode cubic_coeff_a exclude_outside: exactly one of scales and sizes; each output dim
     * {@code sizes[d]} or {@code floor(X[d] * scales[d])}. A symbolic dim must keep scale 1. roi is
     * read only by tf_crop_and_resize, which needs it known: 2 x rank F32 values, the starts then the ends.
     */
    static List<IndexShapes.Out> resize(Node n, List<Value> in, Known k) {
        Value x = in.get(0);
        IndexShapes.require(x, "X", DataType.F32);
        Attributes a = n.attributes();
        String mode = a.string("mode", "nearest"), coord = a.string("coordinate_transformation_mode", "half_pixel");
        if (!RESIZE_MODES.contains(mode)) throw new GraphException("mode '" + mode + "' is not one of " + RESIZE_MODES);
        if (!COORDINATE_MODES.contains(coord)) {
            throw new GraphException("coordinate_transformation_mode '" + coord + "' is not supported (supported: " + COORDINATE_MODES + ")");
        }
        String nearest = a.string("nearest_mode", "round_prefer_floor");
        if (!NEAREST_MODES.contains(nearest)) throw new GraphException("nearest_mode '" + nearest + "' is not one of " + NEAREST_MODES);
        double[] scales = scales(n, in, k);
        int rank = x.shape().rank();
        if (coord.equals("tf_crop_and_resize")) {
            Value roi = in.size() > 1 ? in.get(1) : null;
            Data r = roi == null ? null : k.get(roi);
            if (r == null || r.floats() == null || r.size() != 2 * rank) {
                throw new GraphException("tf_crop_and_resize needs roi (input 1) known: " + 2 * rank + " F32 values (starts, then ends) for "
                        + x + ", got " + (roi == null ? "none" : r == null ? roi + " (not known)" : r));
            }
        }
        List<Dim> dims = new ArrayList<>();
        Data sizes = in.size() > 3 && in.get(3) != null ? k.get(in.get(3)) : null;
        for (int d = 0; d < rank; d++) {
            Dim dim = x.shape().dim(d);
            if (sizes != null) {
                Dim size = sizes.dim(d);
                if (size == null || size.isFixed() && size.size() < 1) throw new GraphException("sizes must be >= 1, got " + sizes);
                if (!dim.isFixed() && !size.equals(dim)) {
                    throw new GraphException("dim " + d + " of " + x + " is symbolic: its size must stay " + dim + ", got " + size);
                }
                dims.add(size);
                continue;
            }
            if (!dim.isFixed()) {
                if (scales[d] != 1) throw new GraphException("dim " + d + " of " + x + " is symbolic: its scale must be 1, got " + scales[d]);
                dims.add(dim);
                continue;
            }
            long out = (long) Math.floor(dim.size() * scales[d]);
            if (out < 1) throw new GraphException("scale " + scales[d] + " of dim " + d + " of " + x + " gives an empty output");
            dims.add(Dim.of(out));
        }
        return IndexShapes.one(DataType.F32, new Shape(dims), null);
    }

    /**
     * Resize's scale per dim: {@code scales}, or (sizes given) {@code sizes[d] / X[d]} as ONNX's reference
     * takes it; 1 for a symbolic dim of scale 1.
     */
    static double[] scales(Node n, List<Value> in, Known k) {
        Value x = in.get(0);
        int rank = x.shape().rank();
        Value s = in.size() > 2 ? in.get(2) : null, z = in.size() > 3 ? in.get(3) : null;
        if ((s == null) == (z == null)) throw new GraphException("exactly one of scales (input 2) and sizes (input 3) must be given");
        double[] out = new double[rank];
        if (s != null) {
            IndexShapes.require(s, "scales", DataType.F32);
            Data d = k.get(s);
            if (d == null || d.floats() == null) {
                throw new GraphException("scales '" + s.name() + "' must be known when shapes are inferred (a constant), got " + s);
            }
            if (d.floats().length != rank) throw new GraphException("scales must have one entry per dim of " + x + ", got " + d.floats().length);
            for (int i = 0; i < rank; i++) {
                float f = d.floats()[i];
                if (!(f > 0) || Float.isInfinite(f)) throw new GraphException("scales must be positive and finite, got " + Arrays.toString(d.floats()));
                out[i] = f;
            }
            return out;
        }
        IndexShapes.require(z, "sizes", DataType.I64);
        Data sizes = k.get(z);   // may hold the batch symbol (Shape -> Slice -> Concat, as torch exports F.interpolate(size=...))
        if (sizes == null || sizes.ints() == null) {
            throw new GraphException("sizes '" + z.name() + "' must be known when shapes are inferred (a constant, or computed from constants and dims)");
        }
        if (sizes.size() != rank || sizes.shape().length != 1) throw new GraphException("sizes must have one entry per dim of " + x + ", got " + sizes);
        for (int i = 0; i < rank; i++) {
            Dim size = sizes.dim(i);
            out[i] = size != null && size.isFixed() && x.shape().dim(i).isFixed() ? (double) size.size() / x.shape().dim(i).size() : 1;
        }
        return out;
    }

    /** ArgMax / ArgMin(data F32, I64 or I32) axis keepdims select_last_index: I64 indices along {@code axis}. */
    static List<IndexShapes.Out> argMinMax(Node n, List<Value> in, Known k) {
        Value x = in.get(0);
        IndexShapes.require(x, "data", DataType.F32, DataType.I64, DataType.I32);
        if (x.shape().rank() < 1) throw new GraphException("data " + x + " must have rank >= 1");
        int axis = Ops.axis(n.attributes().integer("axis", 0), x.shape().rank(), "axis");
        List<Dim> dims = new ArrayList<>(x.shape().dims());
        if (n.attributes().integer("keepdims", 1) != 0) dims.set(axis, Dim.of(1));
        else dims.remove(axis);
        if (dims.isEmpty()) throw new GraphException("the result would be a scalar (rank 0), which is not supported: use keepdims = 1");
        return IndexShapes.one(DataType.I64, new Shape(dims), null);
    }

    /**
     * TopK(X F32, K I64 known: one value) axis largest sorted: Values (F32) and Indices (I64), each X with dim
     * {@code axis} of size K. K in [1, X[axis]] (an empty output is not supported); K fixes the output shape, so it
     * must be known (a constant, or a bound input).
     */
    static List<IndexShapes.Out> topK(Node n, List<Value> in, Known k) {
        Value x = in.get(0);
        boolean integer = IndexArith.INTEGERS.contains(x.dtype());   // torch's pack_padded_sequence sorts the lengths (I64)
        if (!integer) IndexShapes.require(x, "X", DataType.F32);
        IndexShapes.require(in.get(1), "K", DataType.I64);
        if (x.shape().rank() < 1) throw new GraphException("X " + x + " must have rank >= 1");
        int axis = Ops.axis(n.attributes().integer("axis", -1), x.shape().rank(), "axis");
        long[] kk = k.longs(in.get(1), "K");
        if (kk.length != 1) throw new GraphException("K must hold one value, got " + Arrays.toString(kk));
        Dim size = x.shape().dim(axis);
        if (kk[0] < 1 || size.isFixed() && kk[0] > size.size()) {
            throw new GraphException("K must be in [1, " + size + "] (dim " + axis + " of " + x + "; an empty output is not supported), got " + kk[0]);
        }
        List<Dim> dims = new ArrayList<>(x.shape().dims());
        dims.set(axis, Dim.of(kk[0]));
        Shape s = new Shape(dims);
        Data[] known = integer ? topKnown(n, x, k.get(x), axis, (int) kk[0], s) : null;
        IndexShapes.Out values = new IndexShapes.Out(x.dtype(), s, known == null ? null : known[0]);
        return n.outputs().size() == 1 ? List.of(values) : List.of(values, new IndexShapes.Out(DataType.I64, s, known == null ? null : known[1]));
    }

    /**
     * TopK of known integer values: the k largest (or smallest) along the axis, sorted, equal values in index order (ONNX);
     * the values and their I64 indices, or null when the values are not known (a plan refuses integers computed at run time).
     */
    private static Data[] topKnown(Node n, Value x, Data d, int axis, int count, Shape out) {
        if (d == null || !d.isFixed() || !x.shape().isFixed()) return null;
        long[] xs = x.shape().sizes();
        long outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= xs[i];
        for (int i = axis + 1; i < xs.length; i++) inner *= xs[i];
        int size = (int) xs[axis];
        boolean largest = n.attributes().integer("largest", 1) != 0, unsigned = x.dtype() == DataType.U64;
        long[] values = new long[(int) (outer * count * inner)], indices = new long[values.length];
        Integer[] order = new Integer[size];
        long step = inner;
        for (long o = 0; o < outer; o++) {
            for (long i = 0; i < inner; i++) {
                long base = o * size * inner + i;
                for (int j = 0; j < size; j++) order[j] = j;
                Arrays.sort(order, (a, b) -> {   // stable: equal values keep their index order
                    long va = d.ints()[(int) (base + a * step)], vb = d.ints()[(int) (base + b * step)];
                    int c = unsigned ? Long.compareUnsigned(va, vb) : Long.compare(va, vb);
                    return largest ? -c : c;
                });
                for (int j = 0; j < count; j++) {
                    int at = (int) ((o * count + j) * inner + i);
                    values[at] = d.ints()[(int) (base + order[j] * inner)];
                    indices[at] = order[j];
                }
            }
        }
        return new Data[] {new Data(x.dtype(), out.sizes(), values, null, null), new Data(DataType.I64, out.sizes(), indices, null, null)};
    }

    /**
     * GatherND(data, indices I64) batch_dims b: with {@code m = indices.shape[-1]} in [1, rank - b] and the first b dims
     * of data and indices equal, the output is {@code indices.shape[:-1] + data.shape[b + m:]}, each index tuple picking a
     * slice of its batch's data (a negative index counts from the end). Computed here when both are known (any dtype);
     * known indices are checked against the data.
     */
    static List<IndexShapes.Out> gatherNd(Node n, List<Value> in, Known k) {
        Value data = in.get(0), idx = in.get(1);
        IndexShapes.require(idx, "indices", DataType.I64);
        Shape x = data.shape(), i = idx.shape();
        long b = n.attributes().integer("batch_dims", 0);
        if (x.rank() < 1 || i.rank() < 1) throw new GraphException("data " + data + " and indices " + idx + " must have rank >= 1");
        if (b < 0 || b >= Math.min(x.rank(), i.rank())) {
            throw new GraphException("batch_dims " + b + " must be in [0, " + (Math.min(x.rank(), i.rank()) - 1) + "] for data " + data + " and indices " + idx);
        }
        Dim last = i.dim(i.rank() - 1);
        if (!last.isFixed() || last.size() < 1 || last.size() > x.rank() - b) {
            throw new GraphException("the indices' last dim (" + last + ") must be fixed, in [1, " + (x.rank() - b) + "] (data " + data + ", batch_dims " + b + ")");
        }
        int m = (int) last.size(), bd = (int) b;
        for (int d = 0; d < bd; d++) {
            if (!x.dim(d).equals(i.dim(d))) throw new GraphException("batch dim " + d + " differs: data " + data + ", indices " + idx);
        }
        List<Dim> dims = new ArrayList<>(i.dims().subList(0, i.rank() - 1));
        dims.addAll(x.dims().subList(bd + m, x.rank()));
        Shape s = new Shape(dims);
        Data dx = k.get(data), ix = k.get(idx);
        if (ix == null || !x.isFixed() || !i.isFixed()) return IndexShapes.one(data.dtype(), s, null);
        long[] xs = x.sizes();
        long[] st = IndexShapes.strides(xs);
        long slice = IndexShapes.numel(Arrays.copyOfRange(xs, bd + m, xs.length)), per = ix.size() / m / IndexShapes.numel(Arrays.copyOf(xs, bd));
        int[] from = new int[Math.toIntExact(ix.size() / m * slice)];
        for (int t = 0, o = 0; t < ix.size() / m; t++) {
            long at = (t / per) * (bd == 0 ? 0 : st[bd - 1]);
            for (int j = 0; j < m; j++) {
                long v = ix.ints()[t * m + j], size = xs[bd + j];
                if (v < -size || v >= size) throw new GraphException("index " + v + " is out of range for dim " + (bd + j) + " (" + size + ") of " + data);
                at += (v < 0 ? v + size : v) * st[bd + j];
            }
            for (long e = 0; e < slice; e++) from[o++] = (int) (at + e);
        }
        return IndexShapes.one(data.dtype(), s, dx == null || !s.isFixed() ? null : IndexShapes.pick(dx, data.dtype(), s.sizes(), from));
    }

    /**
     * MaxUnpool(X F32 [N, C, D...], I I64 of X's shape, [output_shape known]) kernel_shape strides pads: the output
     * {@code output_shape}, else per spatial dim {@code (X - 1) * stride - pad_begin - pad_end + kernel}; I holds flat
     * indices into the whole output (as MaxPool's Indices output gives them), checked against it when known.
     */
    static List<IndexShapes.Out> maxUnpool(Node n, List<Value> in, Known k) {
        Value x = in.get(0), idx = in.get(1);
        IndexShapes.require(x, "X", DataType.F32);
        IndexShapes.require(idx, "I", DataType.I64);
        if (!x.shape().isFixed() || x.shape().rank() < 3) throw new GraphException("X must be [N, C, D1, ...] with fixed dims, got " + x);
        if (!idx.shape().equals(x.shape())) throw new GraphException("I " + idx + " must have X's shape " + x.shape());
        long[] xs = x.shape().sizes();
        int spatial = xs.length - 2;
        long[] kernel = n.attributes().integers("kernel_shape", null);
        if (kernel == null || kernel.length != spatial) throw new GraphException("kernel_shape must give " + spatial + " sizes for " + x);
        long[] strides = n.attributes().integers("strides", null), pads = n.attributes().integers("pads", null);
        if (strides != null && strides.length != spatial) throw new GraphException("strides must give " + spatial + " values, got " + Arrays.toString(strides));
        if (pads != null && pads.length != 2 * spatial) throw new GraphException("pads must give " + 2 * spatial + " values, got " + Arrays.toString(pads));
        long[] out = new long[xs.length];
        if (in.size() > 2 && in.get(2) != null) {
            out = k.longs(in.get(2), "output_shape");
            if (out.length != xs.length || out[0] != xs[0] || out[1] != xs[1]) {
                throw new GraphException("output_shape " + Arrays.toString(out) + " must be [" + xs[0] + ", " + xs[1] + ", ...] of rank " + xs.length);
            }
        } else {
            out[0] = xs[0];
            out[1] = xs[1];
            for (int d = 0; d < spatial; d++) {
                out[d + 2] = (xs[d + 2] - 1) * (strides == null ? 1 : strides[d]) - (pads == null ? 0 : pads[d] + pads[d + spatial]) + kernel[d];
            }
        }
        for (long d : out) if (d < 1) throw new GraphException("the output shape " + Arrays.toString(out) + " of " + x + " is empty");
        Data ix = k.get(idx);
        long total = IndexShapes.numel(out);
        if (ix != null) {
            for (long v : ix.ints()) if (v < 0 || v >= total) throw new GraphException("index " + v + " is outside the output " + Arrays.toString(out));
        }
        return IndexShapes.one(DataType.F32, Shape.of(out), null);
    }

    /** GridSample(X F32 [N, C, H, W], grid F32 [N, Ho, Wo, 2]) mode padding_mode align_corners: [N, C, Ho, Wo]. */
    static List<IndexShapes.Out> gridSample(Node n, List<Value> in, Known k) {
        Value x = in.get(0), grid = in.get(1);
        IndexShapes.require(x, "X", DataType.F32);
        IndexShapes.require(grid, "grid", DataType.F32);
        Shape xs = x.shape(), gs = grid.shape();
        if (xs.rank() != 4 || gs.rank() != 4 || !gs.dim(3).equals(Dim.of(2)) || !xs.dim(0).equals(gs.dim(0))) {
            throw new GraphException("X must be [N, C, H, W] and grid [N, Ho, Wo, 2] with the same N, got " + x + " and " + grid);
        }
        String mode = n.attributes().string("mode", "bilinear"), padding = n.attributes().string("padding_mode", "zeros");
        if (!Set.of("bilinear", "nearest", "bicubic").contains(mode)) throw new GraphException("mode '" + mode + "' is not one of bilinear, nearest, bicubic");
        if (!Set.of("zeros", "border", "reflection").contains(padding)) {
            throw new GraphException("padding_mode '" + padding + "' is not one of zeros, border, reflection");
        }
        return IndexShapes.one(DataType.F32, Shape.of(xs.dim(0), xs.dim(1), gs.dim(1), gs.dim(2)), null);
    }

    /** RoiAlign(X F32 [N, C, H, W], rois F32 [R, 4], batch_indices I64 [R]): [R, C, output_height, output_width]. */
    static List<IndexShapes.Out> roiAlign(Node n, List<Value> in, Known k) {
        Value x = in.get(0), rois = in.get(1), idx = in.get(2);
        IndexShapes.require(x, "X", DataType.F32);
        IndexShapes.require(rois, "rois", DataType.F32);
        IndexShapes.require(idx, "batch_indices", DataType.I64, DataType.I32);
        Shape r = rois.shape();
        if (x.shape().rank() != 4 || r.rank() != 2 || !r.dim(1).equals(Dim.of(4)) || idx.shape().rank() != 1 || !idx.shape().dim(0).equals(r.dim(0))) {
            throw new GraphException("X must be [N, C, H, W], rois [R, 4] and batch_indices [R], got " + x + ", " + rois + " and " + idx);
        }
        long oh = n.attributes().integer("output_height", 1), ow = n.attributes().integer("output_width", 1);
        if (oh < 1 || ow < 1) throw new GraphException("output_height and output_width must be >= 1, got " + oh + " and " + ow);
        String mode = n.attributes().string("mode", "avg"), coords = n.attributes().string("coordinate_transformation_mode", "half_pixel");
        if (!Set.of("avg", "max").contains(mode)) throw new GraphException("mode '" + mode + "' is not one of avg, max");
        if (!Set.of("half_pixel", "output_half_pixel").contains(coords)) {
            throw new GraphException("coordinate_transformation_mode '" + coords + "' is not one of half_pixel, output_half_pixel");
        }
        if (n.attributes().integer("sampling_ratio", 0) < 0) throw new GraphException("sampling_ratio must be >= 0");
        return IndexShapes.one(DataType.F32, Shape.of(r.dim(0), x.shape().dim(1), Dim.of(oh), Dim.of(ow)), null);
    }
}
