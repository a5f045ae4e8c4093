package dev.panamadnn.graph;

import dev.panamadnn.DataType;
import dev.panamadnn.graph.Known.Data;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The shape rules of the index, shape and dtype ops ONNX exports of PyTorch models use (opset 13
 * to 17 semantics): Shape, Gather, Unsqueeze, Squeeze, Concat, Slice, Split, Expand, Identity
 * here; Cast, ConstantOfShape, Range, Equal/Less/Greater, Where, Not, Add/Sub/Mul/Div on
 * integers and Reshape of an integer vector in {@link IndexArith}. Each gives its outputs' dtypes and shapes and, when every input it reads is known
 * ({@link Known}), the value: so a {@code Shape -> Gather -> Unsqueeze -> Concat -> Reshape}
 * chain gives Reshape a known shape (symbolic in the batch before the graph is bound, fixed after).
 */
final class IndexShapes {
    private IndexShapes() {}

    /** One output: its dtype, shape, and value if known (else null). */
    record Out(DataType dtype, Shape shape, Data value) {}

    // ---- ONNX TensorProto data types (Cast's "to", ConstantOfShape's value) ----
    static DataType fromOnnx(long code) {
        return switch ((int) code) {
            case 1 -> DataType.F32;
            case 2 -> DataType.U8;
            case 3 -> DataType.I8;
            case 4 -> DataType.U16;
            case 5 -> DataType.I16;
            case 6 -> DataType.I32;
            case 7 -> DataType.I64;
            case 9 -> DataType.BOOL;
            case 10 -> DataType.F16;
            default -> throw new GraphException("data type " + code + " is not supported (FLOAT=1, UINT8=2, INT8=3, UINT16=4, INT16=5, INT32=6, "
                    + "INT64=7, BOOL=9, FLOAT16=10)");
        };
    }

    private static boolean isInt(DataType t) {
        return t == DataType.I64 || t == DataType.I32;
    }

    static void require(Value v, String what, DataType... allowed) {
        if (!Arrays.asList(allowed).contains(v.dtype())) {
            throw new GraphException(what + " " + v + " must be " + (allowed.length == 1 ? allowed[0] : "one of " + Arrays.toString(allowed))
                    + ", got " + v.dtype());
        }
    }

    static List<Out> one(DataType t, Shape s, Data d) {
        return List.of(new Out(t, s, d));
    }

    static long numel(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    static long[] strides(long[] shape) {
        long[] st = new long[shape.length];
        long s = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            st[d] = s;
            s *= shape[d];
        }
        return st;
    }

    /** A data of {@code shape} whose element i is element {@code from[i]} of {@code src} (symbols kept). */
    static Data pick(Data src, DataType dtype, long[] shape, int[] from) {
        long[] ints = src.ints() == null ? null : new long[from.length];
        float[] floats = src.floats() == null ? null : new float[from.length];
        String[] sym = src.symbols() == null ? null : new String[from.length];
        for (int i = 0; i < from.length; i++) {
            if (ints != null) ints[i] = src.ints()[from[i]];
            if (floats != null) floats[i] = src.floats()[from[i]];
            if (sym != null) sym[i] = src.symbols()[from[i]];
        }
        return new Data(dtype, shape, ints, floats, sym);
    }

    static Data reshaped(Data d, long[] shape) {
        return d == null ? null : new Data(d.dtype(), shape, d.ints(), d.floats(), d.symbols());
    }

    // ---- the rules ----

    static List<Out> shape(Node n, List<Value> in, Known k) {
        Shape x = in.get(0).shape();
        int r = x.rank();
        long start = n.attributes().integer("start", 0), end = n.attributes().integer("end", r);
        int s = (int) Math.max(0, Math.min(r, start < 0 ? start + r : start)), e = (int) Math.max(0, Math.min(r, end < 0 ? end + r : end));
        int len = Math.max(0, e - s);
        long[] ints = new long[len];
        String[] sym = new String[len];
        for (int i = 0; i < len; i++) {
            Dim d = x.dim(s + i);
            ints[i] = d.factor();
            sym[i] = d.symbol();
        }
        return one(DataType.I64, Shape.of(len), new Data(DataType.I64, new long[] {len}, ints, null, sym));
    }

    static List<Out> identity(Node n, List<Value> in, Known k) {
        return one(in.get(0).dtype(), in.get(0).shape(), k.get(in.get(0)));
    }

    /** {@code Embedding}: a 2-D F32 table looked up by integer indices of any shape, each in [0, rows) (PyTorch's rule). */
    static List<Out> embedding(Node n, List<Value> in, Known k) {
        Value table = in.get(0), idx = in.get(1);
        if (table.dtype() != DataType.F32 || table.shape().rank() != 2) throw new GraphException("the table " + table + " must be f32 [rows, dim]");
        require(idx, "indices", DataType.I64, DataType.I32);
        Data ix = k.get(idx);
        if (ix != null && table.shape().dim(0).isFixed()) {
            long rows = table.shape().dim(0).size();
            for (long i : ix.ints()) {
                if (i < 0 || i >= rows) throw new GraphException("index " + i + " is out of range: an Embedding takes indices in [0, " + rows + ")");
            }
        }
        return gather(n, in, k);
    }

    static List<Out> gather(Node n, List<Value> in, Known k) {
        Value data = in.get(0), idx = in.get(1);
        require(idx, "indices", DataType.I64, DataType.I32);
        Shape x = data.shape();
        if (x.rank() < 1) throw new GraphException("data " + data + " must have rank >= 1");
        int axis = Ops.axis(n.attributes().integer("axis", 0), x.rank(), "axis");
        List<Dim> out = new ArrayList<>(x.dims().subList(0, axis));
        out.addAll(idx.shape().dims());
        out.addAll(x.dims().subList(axis + 1, x.rank()));
        Shape shape = new Shape(out);
        Data d = k.get(data), ix = k.get(idx);
        if (ix != null && x.dim(axis).isFixed()) {
            long size = x.dim(axis).size();
            for (long i : ix.ints()) {
                if (i < -size || i >= size) throw new GraphException("index " + i + " is out of range for dim " + axis + " (" + size + ") of " + data);
            }
        }
        if (d == null || ix == null || !shape.isFixed()) return one(data.dtype(), shape, null);
        long[] xs = x.sizes(), os = shape.sizes();
        long outer = numel(Arrays.copyOfRange(xs, 0, axis)), inner = numel(Arrays.copyOfRange(xs, axis + 1, xs.length));
        int[] from = new int[(int) numel(os)];
        int o = 0;
        for (long a = 0; a < outer; a++) {
            for (long i : ix.ints()) {
                long j = i < 0 ? i + xs[axis] : i;
                for (long b = 0; b < inner; b++) from[o++] = (int) ((a * xs[axis] + j) * inner + b);
            }
        }
        return one(data.dtype(), shape, pick(d, data.dtype(), os, from));
    }

    static List<Out> unsqueeze(Node n, List<Value> in, Known k) {
        Shape x = in.get(0).shape();
        long[] axes = k.longs(in.get(1), "axes");
        int r = x.rank() + axes.length;
        boolean[] newAxis = new boolean[r];
        for (long a : axes) {
            int ax = Ops.axis(a, r, "axes entry");
            if (newAxis[ax]) throw new GraphException("axes " + Arrays.toString(axes) + " repeat an axis");
            newAxis[ax] = true;
        }
        List<Dim> out = new ArrayList<>();
        int j = 0;
        for (int i = 0; i < r; i++) out.add(newAxis[i] ? Dim.of(1) : x.dim(j++));
        Shape s = new Shape(out);
        return one(in.get(0).dtype(), s, s.isFixed() ? reshaped(k.get(in.get(0)), s.sizes()) : null);
    }

    static List<Out> squeeze(Node n, List<Value> in, Known k) {
        Shape x = in.get(0).shape();
        boolean[] drop = new boolean[x.rank()];
        if (in.size() > 1 && in.get(1) != null) {
            for (long a : k.longs(in.get(1), "axes")) {
                int ax = Ops.axis(a, x.rank(), "axes entry");
                if (!x.dim(ax).equals(Dim.of(1))) throw new GraphException("cannot squeeze dim " + ax + " of " + in.get(0) + ": it is not 1");
                drop[ax] = true;
            }
        } else {
            for (int i = 0; i < x.rank(); i++) {
                if (!x.dim(i).isFixed()) throw new GraphException("Squeeze without axes of " + in.get(0) + ": dim " + i + " is symbolic; give axes");
                drop[i] = x.dim(i).factor() == 1;
            }
        }
        List<Dim> out = new ArrayList<>();
        for (int i = 0; i < x.rank(); i++) if (!drop[i]) out.add(x.dim(i));
        Shape s = new Shape(out);
        return one(in.get(0).dtype(), s, s.isFixed() ? reshaped(k.get(in.get(0)), s.sizes()) : null);
    }

    /** Known fixed values of {@code in} concatenated along the node's axis into {@code s}; null if any is unknown or too large. */
    private static Data concatValues(Node n, List<Value> in, Known k, Shape s, DataType t) {
        if (!s.isFixed() || numel(s.sizes()) > Known.MAX_ELEMENTS) return null;
        long[] out = s.sizes();
        int r = out.length, axis = (int) Math.floorMod(n.attributes().integer("axis"), (long) r);
        List<Data> parts = new ArrayList<>();
        for (Value v : in) {
            Data d = k.get(v);
            if (d == null || !d.isFixed() || !v.shape().isFixed()) return null;
            parts.add(d);
        }
        long outer = 1, inner = 1;
        for (int i = 0; i < axis; i++) outer *= out[i];
        for (int i = axis + 1; i < r; i++) inner *= out[i];
        int total = (int) numel(out), o = 0;
        long[] ints = t == DataType.F32 ? null : new long[total];
        float[] floats = t == DataType.F32 ? new float[total] : null;
        for (long b = 0; b < outer; b++) {   // per outer index, each part's block of (its axis size x inner) elements in turn
            for (int p = 0; p < parts.size(); p++) {
                Data d = parts.get(p);
                int block = (int) (in.get(p).shape().sizes()[axis] * inner);
                for (int e = 0; e < block; e++, o++) {
                    int from = (int) (b * block + e);
                    if (ints != null) ints[o] = d.ints()[from];
                    else floats[o] = d.floats()[from];
                }
            }
        }
        return new Data(t, out, ints, floats, null);
    }

    static List<Out> concat(Node n, List<Value> in, Known k) {
        DataType t = in.get(0).dtype();
        for (int i = 1; i < in.size(); i++) {
            if (in.get(i) != null && in.get(i).dtype() != t) throw new GraphException("input " + i + " " + in.get(i) + " must be " + t + " as input 0");
        }
        Shape s = TensorShapes.concat(n, in, null);
        if (s.rank() != 1) return one(t, s, concatValues(n, in, k, s, t));   // e.g. Swin's [49, 49, 2] scatter indices
        List<Data> parts = new ArrayList<>();
        int total = 0;
        for (Value v : in) {
            Data d = k.get(v);
            if (d == null) return one(t, s, null);
            parts.add(d);
            total += d.size();
        }
        int[] from = new int[total];
        long[] ints = t == DataType.F32 ? null : new long[total];
        float[] floats = t == DataType.F32 ? new float[total] : null;
        String[] sym = new String[total];
        int o = 0;
        for (Data d : parts) {
            for (int i = 0; i < d.size(); i++, o++) {
                if (ints != null) ints[o] = d.ints()[i];
                else floats[o] = d.floats()[i];
                sym[o] = d.symbols() == null ? null : d.symbols()[i];
            }
        }
        return one(t, s, new Data(t, new long[] {total}, ints, floats, sym));
    }

    /** ONNX Slice: per axis, clamped start/end (negative from the end), step != 0. Returns {start, end, step} per axis of x. */
    static long[][] sliceRanges(Node n, List<Value> in, Known k) {
        Shape x = in.get(0).shape();
        long[] starts = k.longs(in.get(1), "starts"), ends = k.longs(in.get(2), "ends");
        long[] axes = in.size() > 3 && in.get(3) != null ? k.longs(in.get(3), "axes") : null;
        long[] steps = in.size() > 4 && in.get(4) != null ? k.longs(in.get(4), "steps") : null;
        if (ends.length != starts.length || axes != null && axes.length != starts.length || steps != null && steps.length != starts.length) {
            throw new GraphException("starts, ends, axes and steps must have the same length, got " + starts.length + ", " + ends.length
                    + (axes == null ? "" : ", " + axes.length) + (steps == null ? "" : ", " + steps.length));
        }
        long[][] ranges = new long[x.rank()][];
        for (int i = 0; i < starts.length; i++) {
            int ax = Ops.axis(axes == null ? i : axes[i], x.rank(), "axes entry");
            if (ranges[ax] != null) throw new GraphException("axis " + ax + " is sliced twice");
            long step = steps == null ? 1 : steps[i];
            if (step == 0) throw new GraphException("steps must not be 0");
            Dim dim = x.dim(ax);
            if (!dim.isFixed()) {
                if (step == 1 && (starts[i] == 0 || starts[i] < -Long.MAX_VALUE / 2) && ends[i] >= Integer.MAX_VALUE) continue;   // all of it
                throw new GraphException("cannot slice the symbolic dim " + ax + " of " + in.get(0) + " (bind the graph first)");
            }
            long size = dim.size();
            long s = Ops.sliceStart(starts[i], size, step), e = ends[i] < 0 ? ends[i] + size : ends[i];
            e = step > 0 ? Math.max(0, Math.min(size, e)) : Math.max(-1, Math.min(size - 1, e));
            long[] r = {s, e, step};
            // One element: step 1, so no stride downstream multiplies a step as large as 2^62 (or Long.MIN_VALUE).
            ranges[ax] = sliceLength(r) == 1 ? new long[] {s, s + 1, 1} : r;
        }
        return ranges;
    }

    /** The elements a clamped range {start, end, step} takes; start and end lie in [-1, size], so only the step can be huge. */
    static long sliceLength(long[] r) {
        long s = r[0], e = r[1], step = r[2];
        long distance = step > 0 ? e - s : s - e;
        if (distance <= 0) return 0;
        return 1 + (step > 0 ? (distance - 1) / step : -((distance - 1) / step));   // no -step: Long.MIN_VALUE has no negation
    }

    static List<Out> slice(Node n, List<Value> in, Known k) {
        for (int i = 1; i < in.size(); i++) if (in.get(i) != null) require(in.get(i), "input " + i, DataType.I64, DataType.I32);
        Shape x = in.get(0).shape();
        long[][] ranges = sliceRanges(n, in, k);
        List<Dim> out = new ArrayList<>();
        for (int d = 0; d < x.rank(); d++) out.add(ranges[d] == null ? x.dim(d) : Dim.of(sliceLength(ranges[d])));
        Shape s = new Shape(out);
        Data d = k.get(in.get(0));
        if (d == null || !s.isFixed()) return one(in.get(0).dtype(), s, null);
        long[] xs = x.sizes(), os = s.sizes(), st = strides(xs);
        int[] from = new int[(int) numel(os)];
        long[] idx = new long[os.length];
        for (int o = 0; o < from.length; o++) {
            long at = 0;
            for (int a = 0; a < os.length; a++) at += (ranges[a] == null ? idx[a] : ranges[a][0] + idx[a] * ranges[a][2]) * st[a];
            from[o] = (int) at;
            for (int a = os.length - 1; a >= 0; a--) {
                if (++idx[a] < os[a]) break;
                idx[a] = 0;
            }
        }
        return one(in.get(0).dtype(), s, pick(d, in.get(0).dtype(), os, from));
    }

    /** ONNX Split: sizes from the {@code split} input, else {@code num_outputs} (or the node's output count) equal parts, the last smaller. */
    static long[] splitSizes(Node n, List<Value> in, Known k, Shape x, int axis) {
        int parts = n.outputs().size();
        if (in.size() > 1 && in.get(1) != null) {
            long[] split = k.longs(in.get(1), "split");
            if (split.length != parts) throw new GraphException("split " + Arrays.toString(split) + " must have one size per output (" + parts + ")");
            long sum = 0;
            for (long v : split) {
                if (v < 0) throw new GraphException("split " + Arrays.toString(split) + " has a negative size");
                sum += v;
            }
            if (!x.dim(axis).equals(Dim.of(sum))) throw new GraphException("split " + Arrays.toString(split) + " must add up to dim " + axis + " of " + x);
            return split;
        }
        long num = n.attributes().integer("num_outputs", parts);
        if (num != parts) throw new GraphException("num_outputs " + num + " but the node has " + parts + " outputs");
        if (!x.dim(axis).isFixed()) throw new GraphException("cannot split the symbolic dim " + axis + " of " + x);
        long size = x.dim(axis).size(), chunk = (size + parts - 1) / parts;
        long[] sizes = new long[parts];
        for (int i = 0; i < parts; i++) sizes[i] = Math.max(0, Math.min(chunk, size - i * chunk));
        if (chunk * (parts - 1) >= size && parts > 1) throw new GraphException("cannot split dim " + axis + " (" + size + ") into " + parts + " parts");
        return sizes;
    }

    static List<Out> split(Node n, List<Value> in, Known k) {
        Shape x = in.get(0).shape();
        int axis = Ops.axis(n.attributes().integer("axis", 0), x.rank(), "axis");
        long[] sizes = splitSizes(n, in, k, x, axis);
        Data data = k.get(in.get(0));   // known (a shape vector, torch's repeat_interleave counts): each part's values too
        boolean known = data != null && x.isFixed();
        List<Out> outs = new ArrayList<>();
        long start = 0;
        for (long s : sizes) {
            List<Dim> d = new ArrayList<>(x.dims());
            d.set(axis, Dim.of(s));
            Shape part = new Shape(d);
            Data value = null;
            if (known) {
                long[] xs = x.sizes();
                long outer = 1, inner = 1;
                for (int i = 0; i < axis; i++) outer *= xs[i];
                for (int i = axis + 1; i < xs.length; i++) inner *= xs[i];
                int[] from = new int[Math.toIntExact(outer * s * inner)];
                int o = 0;
                for (long a = 0; a < outer; a++) {
                    for (long b = 0; b < s; b++) for (long c = 0; c < inner; c++) from[o++] = (int) ((a * xs[axis] + start + b) * inner + c);
                }
                value = pick(data, in.get(0).dtype(), part.sizes(), from);
            }
            outs.add(new Out(in.get(0).dtype(), part, value));
            start += s;
        }
        return outs;
    }

    static List<Out> expand(Node n, List<Value> in, Known k) {
        require(in.get(1), "shape", DataType.I64);
        Data d = k.get(in.get(1));
        if (d == null) throw new GraphException("the shape '" + in.get(1).name() + "' must be known when shapes are inferred, got " + in.get(1));
        List<Dim> dims = new ArrayList<>();
        for (int i = 0; i < d.size(); i++) {
            Dim dim = d.dim(i);
            if (dim == null) throw new GraphException("shape " + d + " has a negative size");
            dims.add(dim);
        }
        Shape s = TensorShapes.broadcast(in.get(0).shape(), new Shape(dims));
        return one(in.get(0).dtype(), s, broadcastValue(k.get(in.get(0)), in.get(0).shape(), s));
    }

    /** {@code d} (of shape {@code from}) broadcast to {@code to}, or null if unknown or not fixed. */
    private static Data broadcastValue(Data d, Shape from, Shape to) {
        if (d == null || !to.isFixed() || !from.isFixed() || numel(to.sizes()) > Known.MAX_ELEMENTS) return null;
        return pick(d, d.dtype(), to.sizes(), broadcastIndex(from.sizes(), to.sizes()));
    }

    /** For each element of {@code to}, the index of the element of {@code from} (NumPy broadcasting) it reads. */
    static int[] broadcastIndex(long[] from, long[] to) {
        int r = to.length, off = r - from.length;
        long[] st = strides(from);
        int[] idx = new int[(int) numel(to)];
        long[] at = new long[r];
        for (int o = 0; o < idx.length; o++) {
            long i = 0;
            for (int a = off; a < r; a++) if (from[a - off] != 1) i += at[a] * st[a - off];
            idx[o] = (int) i;
            for (int a = r - 1; a >= 0; a--) {
                if (++at[a] < to[a]) break;
                at[a] = 0;
            }
        }
        return idx;
    }
}
