package dev.panamadnn.compile;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.Compiler.Value;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Node;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * GatherElements and Tile with constant indices / repeats (an index map over the output, computed
 * once, as {@link LowerIndex}'s Slice), and Resize (nearest, linear, cubic; constant scales or
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
            default -> null;
        };
    }

    private static Value gatherElements(Compiler plan, Node n) {
        Tensor t = plan.graph.tensor(n.input(1));
        if (t == null) throw Compiler.unsupported(n, "the indices (input 1) must be a constant (or a bound input); indices computed at run time are not compiled");
        long[] x = LowerIndex.shape(plan, n.input(0)), y = LowerIndex.out(plan, n, 0);
        int axis = (int) Math.floorMod(n.attributes().integer("axis", 0), (long) x.length);
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
        int[][][] index = new int[rank][][];
        double[][][] weight = new double[rank][][];
        for (int d = 0; d < rank; d++) {
            ResizeTaps taps = ResizeTaps.of(mode, Math.toIntExact(x[d]), Math.toIntExact(y[d]), scales[d]);
            index[d] = taps.index();
            weight[d] = taps.weight();
        }
        long[] inStride = LowerIndex.strides(x), outStride = LowerIndex.strides(y);
        long count = LowerIndex.prod(y, 0, rank);
        Kernel k = new Kernel(index, weight, inStride, outStride, y);
        return PlanOutputs.javaStep(plan, List.of(LowerIndex.input(plan, n, 0)), List.of(y), (src, dst) -> {
            for (long o = 0; o < count; o++) dst[0].setAtIndex(JAVA_FLOAT, o, (float) k.sum(0, o, 0, src[0]));
        }, "java resize " + n.name() + " (" + mode + ")").get(0);
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
