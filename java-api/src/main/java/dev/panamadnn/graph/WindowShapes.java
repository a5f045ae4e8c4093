package dev.panamadnn.graph;

import dev.panamadnn.DataType;
import dev.panamadnn.graph.IndexShapes.Out;
import dev.panamadnn.graph.Known.Data;
import dev.panamadnn.internal.reference.MaxPoolTaps;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The shape rules of the windowed ops: {@code Conv}, {@code ConvTranspose}, {@code MaxPool} and
 * {@code AveragePool}, with ONNX's attributes (pads {@code [begin..., end...]}, 1-based
 * dilations). The batch passes through symbolically; channels and spatial dims must be fixed.
 */
final class WindowShapes {
    private WindowShapes() {}

    /**
     * Conv: {@code out = floor((in + pad_begin + pad_end - dilation*(k-1) - 1) / stride) + 1};
     * ConvTranspose: {@code out = stride*(in-1) + output_padding + dilation*(k-1) + 1 - pad_begin - pad_end}.
     * W is {@code [C_out, C_in/group, k...]} (Conv) or {@code [C_in, C_out/group, k...]} (ConvTranspose).
     */
    static Shape conv(Node n, List<Value> in, boolean transposed) {
        Value xv = in.get(0), wv = in.get(1);
        Shape x = xv.shape(), w = wv.shape();
        if (x.rank() < 3 || x.rank() > 5) throw new GraphException("X must be [N, C, spatial...] with 1 to 3 spatial dims, got " + xv);
        int spatial = x.rank() - 2;
        if (w.rank() != x.rank() || !w.isFixed()) throw new GraphException("W must be a fixed rank-" + x.rank() + " tensor, got " + wv);
        long[] ws = w.sizes();
        long group = n.attributes().integer("group", 1);
        if (group < 1) throw new GraphException("group must be >= 1, got " + group);
        long[] k = Arrays.copyOfRange(ws, 2, ws.length);
        long[] ks = n.attributes().integers("kernel_shape", k);
        if (!Arrays.equals(ks, k)) throw new GraphException("kernel_shape " + Arrays.toString(ks) + " disagrees with W " + wv);
        long[] s = ints(n, "strides", spatial, 1), d = ints(n, "dilations", spatial, 1), p = ints(n, "pads", 2 * spatial, 0);
        long[] op = transposed ? ints(n, "output_padding", spatial, 0) : new long[spatial];
        checkGeometry(k, s, d, p);
        Dim c = x.dim(1);
        if (!c.isFixed()) throw new GraphException("the channels of X " + xv + " must be fixed");
        long inC = transposed ? ws[0] : Math.multiplyExact(ws[1], group), outC = transposed ? Math.multiplyExact(ws[1], group) : ws[0];
        if (c.factor() != inC) {
            throw new GraphException("X " + xv + " has " + c.factor() + " channels but W " + wv + " (group " + group + ") expects " + inC);
        }
        if (inC % group != 0 || outC % group != 0) {
            throw new GraphException("channels " + inC + " -> " + outC + " are not divisible by group " + group);
        }
        if (in.size() > 2 && in.get(2) != null) Ops.perChannel(in.get(2), Dim.of(outC), 2);
        List<Dim> out = new ArrayList<>(List.of(x.dim(0), Dim.of(outC)));
        for (int i = 0; i < spatial; i++) {
            long xi = fixedSpatial(xv, i), extent = d[i] * (k[i] - 1) + 1, o;
            if (transposed) {
                if (op[i] < 0 || (op[i] >= s[i] && op[i] >= d[i])) {
                    throw new GraphException("output_padding " + Arrays.toString(op) + " must be >= 0 and smaller than the stride or the"
                            + " dilation (strides " + Arrays.toString(s) + ", dilations " + Arrays.toString(d) + ")");
                }
                o = (xi - 1) * s[i] - p[i] - p[i + spatial] + extent + op[i];
                if (o < 1) {
                    throw new GraphException("output size " + o + " < 1 on spatial dim " + i + " (input " + xi + ", kernel " + k[i]
                            + ", stride " + s[i] + ", pads " + p[i] + "/" + p[i + spatial] + ", dilation " + d[i] + ")");
                }
            } else {
                long span = xi + p[i] + p[i + spatial] - extent;
                if (span < 0) throw kernelTooLarge(i, k[i], d[i], extent, xi, p[i], p[i + spatial]);
                o = span / s[i] + 1;
            }
            out.add(Dim.of(o));
        }
        return new Shape(out);
    }

    /**
     * PyTorch's {@code pooling_output_shape} with ONNX's asymmetric pads:
     * {@code out = floor((in + pad_begin + pad_end - dilation*(k-1) - 1 + (ceil_mode ? stride-1 : 0)) / stride) + 1},
     * and with ceil_mode one less if the last window would start in the right padding
     * ({@code (out-1)*stride >= in + pad_begin}). With ceil_mode a window may hang past the end,
     * even one longer than the padded input (as PyTorch and ONNX allow).
     */
    static Shape pool(Node n, Value xv) {
        Shape x = Ops.rankAtLeast(xv, 3, "X");
        int spatial = x.rank() - 2;
        long[] k = n.attributes().integers("kernel_shape");
        if (k.length != spatial) throw new GraphException("kernel_shape " + Arrays.toString(k) + " must have " + spatial + " entries for " + xv);
        long[] s = ints(n, "strides", spatial, 1), d = ints(n, "dilations", spatial, 1), p = ints(n, "pads", 2 * spatial, 0);
        checkGeometry(k, s, d, p);
        boolean ceil = n.attributes().integer("ceil_mode", 0) != 0;
        List<Dim> out = new ArrayList<>(x.dims().subList(0, 2));
        for (int i = 0; i < spatial; i++) {
            long xi = fixedSpatial(xv, i), extent = d[i] * (k[i] - 1) + 1;
            if (p[i] >= extent || p[i + spatial] >= extent) {   // as ONNX Runtime: a window of padding alone has no maximum or average
                throw new GraphException("pads " + Arrays.toString(p) + " must be smaller than the kernel's extent " + extent + " on spatial dim " + i
                        + " (kernel " + k[i] + (d[i] == 1 ? "" : ", dilation " + d[i]) + "): a window would cover padding only");
            }
            long span = xi + p[i] + p[i + spatial] - extent;
            long o = Math.floorDiv(span + (ceil ? s[i] - 1 : 0), s[i]) + 1;
            if (ceil && (o - 1) * s[i] >= xi + p[i]) o--;
            if (o < 1) throw kernelTooLarge(i, k[i], d[i], extent, xi, p[i], p[i + spatial]);
            out.add(Dim.of(o));
        }
        return new Shape(out);
    }

    /**
     * MaxPool: Y ({@link #pool}'s shape, X's dtype) and, when asked for, Indices (I64, the same shape: flat indices into
     * X); storage_order must be 0 (row-major) or 1 (column-major). X is F32, or U8/I8 (ONNX's MaxPool-12 types): those
     * are pooled here when their values are known (constants, bound inputs; every such value is exact in F32, so the
     * maximum is the same one), with the same kernel as a plan's ({@link MaxPoolTaps}); a plan computes no U8/I8 values.
     */
    static List<Out> maxPool(Node n, List<Value> in, Known k) {
        Value x = in.get(0);
        IndexShapes.require(x, "X", DataType.F32, DataType.U8, DataType.I8);
        long order = n.attributes().integer("storage_order", 0);
        if (order != 0 && order != 1) throw new GraphException("storage_order must be 0 (row-major) or 1 (column-major), got " + order);
        Shape y = pool(n, x);
        Data d = x.dtype() == DataType.F32 ? null : k.get(x);
        long[][] pooled = d == null || !x.shape().isFixed() || IndexShapes.numel(y.sizes()) > Known.MAX_ELEMENTS ? null
                : pooledIntegers(n, x.shape().sizes(), y.sizes(), d.ints(), order == 1);
        Out values = new Out(x.dtype(), y, pooled == null ? null : Data.ints(x.dtype(), y.sizes(), pooled[0]));
        if (n.outputs().size() == 1) return List.of(values);
        return List.of(values, new Out(DataType.I64, y, pooled == null ? null : Data.ints(DataType.I64, y.sizes(), pooled[1])));
    }

    /** The maxima of known integer values {@code v} of shape {@code xs} pooled to {@code ys}, and their flat indices. */
    private static long[][] pooledIntegers(Node n, long[] xs, long[] ys, long[] v, boolean columnMajor) {
        int spatial = xs.length - 2;
        MaxPoolTaps taps;
        try {
            taps = MaxPoolTaps.of(Arrays.copyOfRange(xs, 2, xs.length), Arrays.copyOfRange(ys, 2, ys.length), n.attributes().integers("kernel_shape"),
                    ints(n, "strides", spatial, 1), ints(n, "dilations", spatial, 1), Arrays.copyOf(ints(n, "pads", 2 * spatial, 0), spatial),
                    columnMajor);
        } catch (IllegalArgumentException e) {
            throw new GraphException(e.getMessage());
        }
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = v[i];   // U8/I8: exact
        MemorySegment x = MemorySegment.ofArray(f);
        int outs = taps.outSpatial();
        long planes = xs[0] * xs[1];
        long[] values = new long[Math.toIntExact(planes * outs)], indices = new long[values.length];
        for (int p = 0; p < planes; p++) {
            long base = p * taps.inSpatial();
            for (int o = 0; o < outs; o++) {
                int t = taps.argmax(x, base, o);
                values[p * outs + o] = v[(int) (base + taps.taps()[t])];
                indices[p * outs + o] = base + taps.reported()[t];
            }
        }
        return new long[][] {values, indices};
    }

    private static void checkGeometry(long[] k, long[] s, long[] d, long[] p) {
        for (int i = 0; i < k.length; i++) {
            if (k[i] < 1 || s[i] < 1 || d[i] < 1 || p[i] < 0 || p[i + k.length] < 0) {
                throw new GraphException("kernel, strides and dilations must be >= 1 and pads >= 0, got kernel " + Arrays.toString(k)
                        + ", strides " + Arrays.toString(s) + ", dilations " + Arrays.toString(d) + ", pads " + Arrays.toString(p));
            }
        }
    }

    private static long fixedSpatial(Value x, int i) {
        Dim d = x.shape().dim(2 + i);
        if (!d.isFixed()) throw new GraphException("spatial dim " + i + " of X " + x + " must be fixed");
        return d.factor();
    }

    private static GraphException kernelTooLarge(int i, long k, long d, long extent, long in, long padBegin, long padEnd) {
        return new GraphException("kernel " + k + (d == 1 ? "" : " (dilation " + d + ", extent " + extent + ")")
                + " is larger than the padded input " + (in + padBegin + padEnd) + " (" + in + " + pads " + padBegin + "/" + padEnd
                + ") on spatial dim " + i);
    }

    /** The attribute {@code name} with {@code count} entries, or {@code count} times {@code otherwise} if absent. */
    static long[] ints(Node n, String name, int count, long otherwise) {
        long[] v = n.attributes().integers(name, null);
        if (v == null) {
            v = new long[count];
            Arrays.fill(v, otherwise);
        } else if (v.length != count) {
            throw new GraphException(name + " " + Arrays.toString(v) + " must have " + count + " entries");
        }
        return v;
    }
}
