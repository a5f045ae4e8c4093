package dev.panamadnn.compile;

import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Tile, GatherElements and GatherND (constant or run-time indices) (an index map over the output, computed
 * once, as {@link LowerIndex}'s Slice; with run-time indices the map but the indexed term), and Resize (nearest, linear, cubic; constant scales or
 * sizes) as Java steps over plain F32 buffers: the per-axis taps of the resampling (source index
 * and weight per output index) are computed once, and each output element is the weighted sum of
 * its taps' product over the axes (the interpolation is separable), in double. No allocation per run.
 */
final class LowerSelect {
    private LowerSelect() {}

    static Value lower(Compiler plan, Node n) {
        return switch (n.op()) {
            case "GatherElements" -> gatherElements(plan, n);
            case "Tile" -> tile(plan, n);
            case "Resize" -> resize(plan, n);
            case "ScatterND", "ScatterElements" -> scatter(plan, n);
            case "GatherND" -> gatherNd(plan, n);
            default -> null;
        };
    }

    /**
     * ScatterND and ScatterElements with constant indices: the output is {@code data} with the indexed slices or elements
     * replaced by {@code updates} (reduction none), or the updates added to or multiplied into them (add, mul: the
     * opset-16 forms), in the updates' order, so a duplicate index accumulates as ONNX's reference does; the destination
     * of every update element is computed once ({@link #targets}). Data and updates may each be a constant or computed at
     * run time (Swin's shifted-window mask: a zero map with constant slices written).
     */
    private static Value scatter(Compiler plan, Node n) {
        Tensor t = plan.graph.tensor(n.input(1));
        if (t == null) throw Compiler.unsupported(n, "the indices (input 1) must be a constant; indices computed at run time are not compiled");
        long[] x = LowerIndex.shape(plan, n.input(0)), is = plan.graph.shape(n.input(1)).sizes();
        int[] to;
        try {
            to = targets(n, x, is, LowerIndex.longs(t));
        } catch (IllegalArgumentException e) {
            throw Compiler.unsupported(n, e.getMessage());
        }
        boolean constData = plan.graph.isConstant(n.input(0)), constUpdates = plan.graph.isConstant(n.input(2));
        float[] data = constData ? plan.graph.floats(n.input(0)) : null, updates = constUpdates ? plan.graph.floats(n.input(2)) : null;
        List<Value> ins = new java.util.ArrayList<>();
        if (!constData) ins.add(LowerIndex.input(plan, n, 0));
        if (!constUpdates) ins.add(LowerIndex.input(plan, n, 2));
        if (ins.isEmpty()) throw Compiler.unsupported(n, "every input is a constant (it should have been folded)");
        long total = LowerIndex.prod(x, 0, x.length);
        String name = n.attributes().string("reduction", "none");
        Reduction reduction = reduction(name);
        int depth = (int) is[is.length - 1];   // ScatterND: in [1, rank], checked by scatterTargets
        String what = n.op().equals("ScatterND")
                ? "java scatter_nd " + n.name() + " (" + t.numel() / depth + " slices of " + LowerIndex.prod(x, depth, x.length)
                : "java scatter_elements " + n.name() + " (" + to.length + " elements on axis " + n.attributes().integer("axis", 0);
        return PlanOutputs.javaStep(plan, ins, List.of(x), (src, dst) -> {
            MemorySegment out = dst[0];
            if (data == null) MemorySegment.copy(src[0], 0, out, 0, total * 4);
            else MemorySegment.copy(data, 0, out, JAVA_FLOAT, 0, data.length);
            MemorySegment u = updates == null ? src[constData ? 0 : 1] : null;
            for (int i = 0; i < to.length; i++) {
                out.setAtIndex(JAVA_FLOAT, to[i], reduction.apply(out.getAtIndex(JAVA_FLOAT, to[i]), u != null ? u.getAtIndex(JAVA_FLOAT, i) : updates[i]));
            }
        }, what + (name.equals("none") ? "" : ", reduction " + name) + ")").get(0);
    }

    /**
     * The flat destination in data of shape {@code x} of each update element, in the updates' order, for ScatterND or
     * ScatterElements node {@code n} with indices of shape {@code indicesShape} (values {@code idx}).
     *
     * @throws IllegalArgumentException naming the index that is out of range
     */
    static int[] targets(Node n, long[] x, long[] indicesShape, long[] idx) {
        if (n.op().equals("ScatterND")) return scatterTargets(x, indicesShape, idx);
        int axis = (int) Math.floorMod(n.attributes().integer("axis", 0), (long) x.length);
        long[] st = LowerIndex.strides(x), at = new long[indicesShape.length];
        int[] to = new int[idx.length];
        for (int o = 0; o < to.length; o++) {
            long j = idx[o] < 0 ? idx[o] + x[axis] : idx[o];
            if (j < 0 || j >= x[axis]) throw new IllegalArgumentException("index " + idx[o] + " is out of range for dim " + axis + " (" + x[axis] + ")");
            long off = 0;
            for (int d = 0; d < x.length; d++) off += (d == axis ? j : at[d]) * st[d];
            to[o] = Math.toIntExact(off);
            step(at, indicesShape);
        }
        return to;
    }

    /** How a scatter combines the element an update lands on with the update. */
    @FunctionalInterface
    interface Reduction {
        float apply(float old, float update);
    }

    /** A scatter's {@code reduction}: none (the update replaces), add, mul (in float, as ONNX's reference on float32). */
    static Reduction reduction(String name) {
        return switch (name) {
            case "none" -> (old, update) -> update;
            case "add" -> (old, update) -> old + update;
            case "mul" -> (old, update) -> old * update;
            default -> throw new IllegalArgumentException("scatter reduction '" + name + "' is not supported (none, add, mul)");
        };
    }

    /**
     * For ScatterND over data of shape {@code x} with indices of shape {@code indicesShape} (values {@code idx}): the
     * flat destination of each update element, in the updates' order.
     *
     * @throws IllegalArgumentException naming the index that is out of range
     */
    static int[] scatterTargets(long[] x, long[] indicesShape, long[] idx) {
        int depth = (int) indicesShape[indicesShape.length - 1];
        if (depth < 1 || depth > x.length) throw new IllegalArgumentException("the indices' last dim " + depth + " must be in [1, " + x.length + "]");
        long slice = LowerIndex.prod(x, depth, x.length);
        long[] st = LowerIndex.strides(x);
        int count = idx.length / depth;
        int[] to = new int[Math.toIntExact(count * slice)];
        for (int c = 0; c < count; c++) {
            long at = 0;
            for (int i = 0; i < depth; i++) {
                long v = idx[c * depth + i], j = v < 0 ? v + x[i] : v;
                if (j < 0 || j >= x[i]) throw new IllegalArgumentException("index " + v + " is out of range for dim " + i + " (" + x[i] + ")");
                at += j * st[i];
            }
            for (int e = 0; e < slice; e++) to[(int) (c * slice + e)] = Math.toIntExact(at + e);
        }
        return to;
    }

    /**
     * GatherND: each index tuple picks a slice of its batch's data, copied. Constant indices: the slices' offsets computed
     * once (an index out of range refused when compiling). Indices computed at run time (held as exact F32 values) or an
     * I64/I32 graph input: the offsets computed each run, an index out of range an IllegalArgumentException naming the node
     * before that slice is read. The data may be held integer values too (moved exactly).
     */
    private static Value gatherNd(Compiler plan, Node n) {
        long[] x = LowerIndex.shape(plan, n.input(0)), is = LowerIndex.shape(plan, n.input(1)), y = LowerIndex.out(plan, n, 0);
        int b = (int) n.attributes().integer("batch_dims", 0), m = (int) is[is.length - 1];
        long slice = LowerIndex.prod(x, b + m, x.length), tuples = LowerIndex.prod(is, 0, is.length - 1);
        long per = tuples / LowerIndex.prod(x, 0, b), batch = LowerIndex.prod(x, b, x.length);
        long[] st = LowerIndex.strides(x);
        String what = "java gather_nd " + n.name() + " (" + tuples + " slices of " + slice + ")", label = n.label(), name = n.input(1);
        Tensor t = plan.graph.tensor(name);
        if (t != null) {
            long[] idx = LowerIndex.longs(t), from = new long[Math.toIntExact(tuples)];
            for (int k = 0; k < from.length; k++) {
                from[k] = (k / per) * batch;
                for (int j = 0; j < m; j++) {
                    long v = idx[k * m + j], size = x[b + j];
                    if (v < -size || v >= size) throw Compiler.unsupported(n, "index " + v + " is out of range for dim " + (b + j) + " (" + size + ") of the data");
                    from[k] += (v < 0 ? v + size : v) * st[b + j];
                }
            }
            return PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0)), List.of(y), (src, dst) -> {
                for (int k = 0; k < from.length; k++) MemorySegment.copy(src[0], from[k] * 4, dst[0], k * slice * 4, slice * 4);
            }, what).get(0);
        }
        RunTimeIntegers ids = RunTimeIntegers.of(plan, n, 1);
        return PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0), ids.value()), List.of(y), (src, dst) -> {
            for (long k = 0; k < tuples; k++) {
                long at = (k / per) * batch;
                for (int j = 0; j < m; j++) {
                    long e = k * m + j, size = x[b + j];
                    long v = ids.get(src[1], e);
                    if (v < -size || v >= size) {
                        throw new IllegalArgumentException("CompiledModel: node " + label + ": index " + v + " (element " + e + " of indices '" + name
                                + "') is out of range for dim " + (b + j) + " (" + size + ") of the data");
                    }
                    at += (v < 0 ? v + size : v) * st[b + j];
                }
                MemorySegment.copy(src[0], at * 4, dst[0], k * slice * 4, slice * 4);
            }
        }, what + ", indices computed at run time").get(0);
    }

    /**
     * GatherElements (torch.gather): output element o reads the data at o's multi-index with the {@code axis} coordinate
     * replaced by index o. Constant indices: the map computed once (an index out of range refused when compiling).
     * Indices computed at run time (torch.gather by an argsort or topk, held as exact F32 values) or an I64/I32 graph
     * input: each output's offset but the axis term computed once, the index read each run, one out of range an
     * IllegalArgumentException naming the node before anything is read.
     */
    private static Value gatherElements(Compiler plan, Node n) {
        Tensor t = plan.graph.tensor(n.input(1));
        long[] x = LowerIndex.shape(plan, n.input(0)), y = LowerIndex.out(plan, n, 0);
        int axis = (int) Math.floorMod(n.attributes().integer("axis", 0), (long) x.length);
        if (t == null) return gatherElementsAtRunTime(plan, n, x, y, axis);
        long[] idx = LowerIndex.longs(t), st = LowerIndex.strides(x);
        long[] from = new long[idx.length];
        long[] at = new long[y.length];
        for (int o = 0; o < from.length; o++) {
            long j = idx[o] < 0 ? idx[o] + x[axis] : idx[o];
            if (j < 0 || j >= x[axis]) throw Compiler.unsupported(n, "index " + idx[o] + " is out of range for dim " + axis + " (" + x[axis] + ")");
            long off = 0;
            for (int d = 0; d < y.length; d++) off += (d == axis ? j : at[d]) * st[d];
            from[o] = off;
            step(at, y);
        }
        return LowerIndex.mapped(plan, n, LowerIndex.input(plan, n, 0), y, from, "java gather_elements " + n.name() + " on axis " + axis);
    }

    private static Value gatherElementsAtRunTime(Compiler plan, Node n, long[] x, long[] y, int axis) {
        long[] st = LowerIndex.strides(x);
        long[] base = new long[Math.toIntExact(LowerIndex.prod(y, 0, y.length))];   // offset of output o with its axis coordinate 0
        long[] at = new long[y.length];
        for (int o = 0; o < base.length; o++) {
            long off = 0;
            for (int d = 0; d < y.length; d++) if (d != axis) off += at[d] * st[d];
            base[o] = off;
            step(at, y);
        }
        long size = x[axis], stride = st[axis];
        String label = n.label(), name = n.input(1);
        RunTimeIntegers ids = RunTimeIntegers.of(plan, n, 1);
        return PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0), ids.value()), List.of(y), (src, dst) -> {
            for (int o = 0; o < base.length; o++) {   // every index checked before any element is read
                long v = ids.get(src[1], o);
                if (v < -size || v >= size) {
                    throw new IllegalArgumentException("CompiledModel: node " + label + ": index " + v + " (element " + o + " of indices '" + name
                            + "') is out of range for dim " + axis + " (" + size + ") of the data");
                }
            }
            for (int o = 0; o < base.length; o++) {
                long v = ids.get(src[1], o);
                dst[0].setAtIndex(JAVA_FLOAT, o, src[0].getAtIndex(JAVA_FLOAT, base[o] + (v < 0 ? v + size : v) * stride));
            }
        }, "java gather_elements " + n.name() + " on axis " + axis + ", indices computed at run time").get(0);
    }

    private static Value tile(Compiler plan, Node n) {
        long[] x = LowerIndex.shape(plan, n.input(0)), y = LowerIndex.out(plan, n, 0), st = LowerIndex.strides(x);
        long[] from = new long[Math.toIntExact(LowerIndex.prod(y, 0, y.length))];
        long[] at = new long[y.length];
        for (int o = 0; o < from.length; o++) {
            long off = 0;
            for (int d = 0; d < y.length; d++) off += (at[d] % x[d]) * st[d];
            from[o] = off;
            step(at, y);
        }
        return LowerIndex.mapped(plan, n, LowerIndex.input(plan, n, 0), y, from, "java tile " + n.name());
    }

    /** Advances the multi-index {@code at} over {@code shape} (row-major). */
    private static void step(long[] at, long[] shape) {
        for (int d = shape.length - 1; d >= 0; d--) {
            if (++at[d] < shape[d]) return;
            at[d] = 0;
        }
    }

    private static Value resize(Compiler plan, Node n) {
        long[] x = LowerIndex.shape(plan, n.input(0)), y = LowerIndex.out(plan, n, 0);
        double[] scales = new double[x.length];
        if (n.inputs().size() > 2 && n.input(2) != null && !n.input(2).isEmpty()) {
            if (!plan.graph.isConstant(n.input(2))) throw Compiler.unsupported(n, "scales (input 2) must be a constant");
            float[] s = plan.graph.floats(n.input(2));
            for (int d = 0; d < x.length; d++) scales[d] = s[d];
        } else {
            for (int d = 0; d < x.length; d++) scales[d] = (double) y[d] / x[d];   // sizes given: ONNX's reference takes out / in
        }
        Attributes a = n.attributes();
        ResizeTaps.Mode mode = new ResizeTaps.Mode(a.string("mode", "nearest"), a.string("coordinate_transformation_mode", "half_pixel"),
                a.string("nearest_mode", "round_prefer_floor"), a.real("cubic_coeff_a", -0.75), a.integer("exclude_outside", 0) != 0);
        int rank = x.length;
        boolean crop = mode.coordinates().equals("tf_crop_and_resize");
        float[] roi = crop ? plan.graph.floats(n.input(1)) : null;   // [starts..., ends...], known (SelectShapes checked)
        int[][][] index = new int[rank][][];
        double[][][] weight = new double[rank][][];
        boolean[][] outside = new boolean[rank][];
        for (int d = 0; d < rank; d++) {
            ResizeTaps taps = crop ? ResizeTaps.of(mode, Math.toIntExact(x[d]), Math.toIntExact(y[d]), scales[d], roi[d], roi[rank + d])
                    : ResizeTaps.of(mode, Math.toIntExact(x[d]), Math.toIntExact(y[d]), scales[d]);
            index[d] = taps.index();
            weight[d] = taps.weight();
            outside[d] = taps.outside();
        }
        long[] inStride = LowerIndex.strides(x), outStride = LowerIndex.strides(y);
        long count = LowerIndex.prod(y, 0, rank);
        Kernel k = new Kernel(index, weight, inStride, outStride, y);
        if (crop) {   // an output whose coordinate on any axis falls outside the input is the extrapolation value (TF's CropAndResize)
            float extrapolation = (float) a.real("extrapolation_value", 0);
            return PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0)), List.of(y), (src, dst) -> {
                for (long o = 0; o < count; o++) {
                    boolean out = false;
                    for (int d = 0; d < rank && !out; d++) out = outside[d][(int) ((o / outStride[d]) % y[d])];
                    dst[0].setAtIndex(JAVA_FLOAT, o, out ? extrapolation : (float) k.sum(0, o, 0, src[0]));
                }
            }, "java resize " + n.name() + " (" + mode + ")").get(0);
        }
        if (planes(index, weight, x, y)) {   // only the last two axes resample (an image's H and W): rows, then columns
            Planes pl = new Planes(index[rank - 2], weight[rank - 2], index[rank - 1], weight[rank - 1], x[rank - 2], x[rank - 1],
                    LowerIndex.prod(y, 0, rank - 2));
            long[] scratch = {2 * x[rank - 2] * y[rank - 1]};   // a plan buffer of x's rows resampled along W, in double
            return PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0)), List.of(y, scratch), (src, dst) -> pl.run(src[0], dst[0], dst[1]),
                    "java resize " + n.name() + " (" + mode + ")").get(0);
        }
        return PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0)), List.of(y), (src, dst) -> {
            for (long o = 0; o < count; o++) dst[0].setAtIndex(JAVA_FLOAT, o, (float) k.sum(0, o, 0, src[0]));
        }, "java resize " + n.name() + " (" + mode + ")").get(0);
    }

    /** Whether every axis but the last two keeps its size with the identity taps (rank 2 or more). */
    private static boolean planes(int[][][] index, double[][][] weight, long[] x, long[] y) {
        if (x.length < 2) return false;
        for (int d = 0; d < x.length - 2; d++) {
            if (x[d] != y[d]) return false;
            for (int o = 0; o < y[d]; o++) {
                if (index[d][o].length != 1 || index[d][o][0] != o || weight[d][o][0] != 1) return false;
            }
        }
        return true;
    }

    /**
     * Resampling of {@code planes} planes {@code [inH, inW]} over their two axes: output {@code (i, j)} is
     * {@code sum_t wRow[i][t] * (sum_u wCol[j][u] * src[row[i][t], col[j][u]])} in double, the order {@link Kernel#sum}
     * adds in (so the same bits). Separable: each input row is first resampled along W into {@code scratch} (doubles),
     * then each output row blends its source rows there, a contiguous pass.
     */
    private record Planes(int[][] row, double[][] wRow, int[][] col, double[][] wCol, long inH, long inW, long planes) {
        void run(MemorySegment src, MemorySegment dst, MemorySegment scratch) {
            int outW = col.length, outH = row.length;
            for (long p = 0; p < planes; p++) {
                long in = p * inH * inW, out = p * outH * (long) outW;
                for (long r = 0; r < inH; r++) {
                    long at = in + r * inW, to = r * outW;
                    for (int j = 0; j < outW; j++) {
                        int[] cj = col[j];
                        double[] wj = wCol[j];
                        double v = 0;
                        for (int u = 0; u < cj.length; u++) v += wj[u] * src.getAtIndex(JAVA_FLOAT, at + cj[u]);
                        scratch.setAtIndex(JAVA_DOUBLE, to + j, v);
                    }
                }
                for (int i = 0; i < outH; i++) {
                    int[] ri = row[i];
                    double[] wi = wRow[i];
                    long o = out + (long) i * outW;
                    if (ri.length == 2) {   // linear: two source rows (a loop the JIT vectorizes)
                        long r0 = (long) ri[0] * outW, r1 = (long) ri[1] * outW;
                        double w0 = wi[0], w1 = wi[1];
                        for (int j = 0; j < outW; j++) {
                            double s = 0d + w0 * scratch.getAtIndex(JAVA_DOUBLE, r0 + j);   // 0 + first tap, as the general loop (-0 to +0)
                            dst.setAtIndex(JAVA_FLOAT, o + j, (float) (s + w1 * scratch.getAtIndex(JAVA_DOUBLE, r1 + j)));
                        }
                        continue;
                    }
                    for (int j = 0; j < outW; j++) {
                        double s = 0;
                        for (int t = 0; t < ri.length; t++) s += wi[t] * scratch.getAtIndex(JAVA_DOUBLE, (long) ri[t] * outW + j);
                        dst.setAtIndex(JAVA_FLOAT, o + j, (float) s);
                    }
                }
            }
        }
    }

    /** The taps of each axis and the strides: output element {@code o} is the sum over its taps' product. */
    private record Kernel(int[][][] index, double[][][] weight, long[] inStride, long[] outStride, long[] out) {
        double sum(int d, long o, long srcOffset, MemorySegment src) {
            if (d == index.length) return src.getAtIndex(JAVA_FLOAT, srcOffset);
            int od = (int) ((o / outStride[d]) % out[d]);
            int[] ix = index[d][od];
            double[] w = weight[d][od];
            double s = 0;
            for (int t = 0; t < ix.length; t++) s += w[t] * sum(d + 1, o, srcOffset + ix[t] * inStride[d], src);
            return s;
        }
    }
}
