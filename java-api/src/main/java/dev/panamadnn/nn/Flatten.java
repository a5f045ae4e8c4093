package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * PyTorch's {@code nn.Flatten(start_dim=1, end_dim=-1)}: merges dimensions {@code start_dim}
 * to {@code end_dim} (inclusive; negative counts from the end) into one of their product, e.g.
 * {@code [N, C, H, W] -> [N, C*H*W]} with the defaults.
 *
 * <p>A contiguous input gives a view of the same memory (no copy; closing the view does
 * nothing, the input must stay alive); a strided one gives a contiguous copy the caller owns.
 * Every backend does the same. A rank-0 input counts as rank 1, as in PyTorch.
 */
public final class Flatten extends Layer {
    private final int startDim;
    private final int endDim;

    /** {@code Flatten(start_dim=1, end_dim=-1)}. */
    public Flatten() {
        this(1, -1);
    }

    /**
     * A {@code Flatten} with PyTorch's arguments of the same names.
     *
     * @param startDim the first dimension to flatten (negative counts from the end)
     * @param endDim the last dimension to flatten (negative counts from the end)
     * @throws IllegalArgumentException if both dims have the same sign and {@code startDim > endDim}
     *                                  (other combinations are checked against the input's rank)
     */
    public Flatten(int startDim, int endDim) {
        if ((startDim >= 0) == (endDim >= 0) && startDim > endDim) {
            throw new IllegalArgumentException("Flatten: start_dim must not come after end_dim, got start_dim="
                    + startDim + ", end_dim=" + endDim);
        }
        this.startDim = startDim;
        this.endDim = endDim;
    }

    @Override
    public long[] outputShape(long... inputShape) {
        checkShapeArgument(inputShape);
        long[] shape = inputShape.length == 0 ? new long[] {1} : inputShape;
        int rank = shape.length;
        int start = normalise("start_dim", startDim, shape);
        int end = normalise("end_dim", endDim, shape);
        if (start > end) {
            throw new IllegalArgumentException(this + ": start_dim must not come after end_dim, got " + start + " > " + end
                    + " for input shape " + Arrays.toString(inputShape));
        }
        long[] out = new long[rank - (end - start)];
        System.arraycopy(shape, 0, out, 0, start);
        long merged = 1;
        for (int i = start; i <= end; i++) merged = Math.multiplyExact(merged, shape[i]);
        out[start] = merged;
        System.arraycopy(shape, end + 1, out, start + 1, rank - end - 1);
        return out;
    }

    private int normalise(String name, int dim, long[] shape) {
        int rank = shape.length;
        if (dim < -rank || dim >= rank) {
            throw new IllegalArgumentException(this + ": expected " + name + " in [" + -rank + ", " + (rank - 1)
                    + "] for input shape " + Arrays.toString(shape) + ", got " + dim);
        }
        return dim < 0 ? dim + rank : dim;
    }

    /**
     * ONNX's {@code Flatten} (axis 1) where it gives PyTorch's result, i.e. {@code start_dim} is 1
     * and {@code end_dim} the last dim of an input of rank >= 2 (the output is then 2-D); an
     * {@code Identity} when nothing merges; else a {@code Reshape} to PyTorch's shape (its
     * constant gives the fixed sizes and -1 for the batch). ONNX's Flatten always makes a 2-D
     * output, so {@code start_dim} 0 (1-D output) or an {@code end_dim} before the last dim is a
     * Reshape.
     */
    @Override
    public String lower(GraphBuilder graph, String input, String path) {
        Lowering.check(this, graph, input, path);
        Shape x = graph.value(input).shape();
        if (x.rank() == 0) return Lowering.reshape(graph, input, path, Shape.of(1));
        int start = startDim < 0 ? startDim + x.rank() : startDim, end = endDim < 0 ? endDim + x.rank() : endDim;
        if (start == 1 && end == x.rank() - 1) return graph.node("Flatten", path, Attributes.of("axis", 1L), input);
        if (start == end) return graph.node("Identity", path, Attributes.empty(), input);
        Dim merged = new Shape(x.dims().subList(start, end + 1)).elements();
        if (merged == null) {
            throw Lowering.misfit(this, graph, input, path, "cannot merge two symbolic dimensions");
        }
        List<Dim> out = new ArrayList<>(x.dims().subList(0, start));
        out.add(merged);
        out.addAll(x.dims().subList(end + 1, x.rank()));
        return Lowering.reshape(graph, input, path, new Shape(out));
    }

    @Override
    Tensor compute(Tensor input, long[] outShape, Backend backend) {
        if (input.isContiguous()) return input.reshape(outShape);
        return Tensor.of(input.toFloatArray(), outShape);
    }

    @Override
    public String toString() {
        return "Flatten(start_dim=" + startDim + ", end_dim=" + endDim + ")";
    }
}
