package dev.panamadnn.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The shape rules of the math ops (ONNX opset 13-17 semantics): Clip's optional bounds, PRelu's
 * slope, the reductions' axes, InstanceNormalization's per-channel parameters. The element-wise
 * ops themselves use {@link TensorShapes#broadcast} (NumPy rules) or keep their input's shape.
 */
final class MathShapes {
    private MathShapes() {}

    /** Clip: X, [min], [max]; each bound, when given, a single value (rank 0 or {@code [1]}). */
    static Shape clip(List<Value> in) {
        for (int i = 1; i < 3; i++) {
            Value v = in.get(i);
            if (v != null && !(v.shape().rank() == 0 || v.shape().rank() == 1 && v.shape().dim(0).equals(Dim.of(1)))) {
                throw new GraphException("input " + i + " (" + (i == 1 ? "min" : "max") + ") must be a scalar, got " + v);
            }
        }
        return in.get(0).shape();
    }

    /** PRelu: the slope broadcasts into X (ONNX's unidirectional broadcasting); the output is X's shape. */
    static Shape prelu(List<Value> in) {
        TensorShapes.broadcastInto(in.get(0).shape(), in.get(1).shape(), "slope");
        return in.get(0).shape();
    }

    /** Max, Min (1 or 2 inputs here): the inputs broadcast against each other. */
    static Shape variadic(List<Value> in) {
        return in.get(1) == null ? in.get(0).shape() : TensorShapes.broadcast(in.get(0).shape(), in.get(1).shape());
    }

    /**
     * The axes a reduction reduces, sorted, in {@code [0, rank)}: the {@code axes} attribute or
     * the I64 constant input 1 (ReduceSum's from opset 13; accepted for every reduction, as
     * opset 18 does), never both. Empty (none given, or an empty list): every axis, or none with
     * {@code noop_with_empty_axes = 1}.
     */
    static int[] reduceAxes(Node n, List<Value> in, Known known) {
        int rank = in.get(0).shape().rank();
        long[] axes = n.attributes().integers("axes", null);
        if (in.get(1) != null) {
            if (axes != null) throw new GraphException("axes given both as an attribute and as input 1");
            axes = known.longs(in.get(1), "axes");
        }
        if (axes == null || axes.length == 0) {
            if (n.attributes().integer("noop_with_empty_axes", 0) != 0) return new int[0];
            int[] all = new int[rank];
            for (int i = 0; i < rank; i++) all[i] = i;
            return all;
        }
        boolean[] seen = new boolean[rank];
        for (long a : axes) {
            int i = Ops.axis(a, rank, "axes " + Arrays.toString(axes) + ": axis");
            if (seen[i]) throw new GraphException("axes " + Arrays.toString(axes) + " name dim " + i + " twice");
            seen[i] = true;
        }
        return java.util.stream.IntStream.range(0, rank).filter(i -> seen[i]).toArray();
    }

    /** A reduction's output: the reduced dims become 1 ({@code keepdims = 1}, the default) or are dropped. */
    static Shape reduce(Node n, List<Value> in, Known known) {
        Shape x = in.get(0).shape();
        int[] axes = reduceAxes(n, in, known);
        long keep = n.attributes().integer("keepdims", 1);
        if (keep != 0 && keep != 1) throw new GraphException("keepdims must be 0 or 1, got " + keep);
        List<Dim> d = new ArrayList<>();
        for (int i = 0; i < x.rank(); i++) {
            boolean reduced = Arrays.binarySearch(axes, i) >= 0;
            if (!reduced) d.add(x.dim(i));
            else if (keep == 1) d.add(Dim.of(1));
        }
        return new Shape(d);
    }

    /** InstanceNormalization: X {@code [N, C, D...]} (rank >= 3), scale and B {@code [C]}. */
    static Shape instanceNorm(List<Value> in) {
        Shape x = Ops.rankAtLeast(in.get(0), 3, "X");
        Ops.perChannel(in.get(1), x.dim(1), 1);
        Ops.perChannel(in.get(2), x.dim(1), 2);
        return x;
    }
}
