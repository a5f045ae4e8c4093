package dev.panamadnn.nn;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.GraphException;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * What the layers' {@code lower} methods share: names under a module path, checking the input
 * against the layer's own {@code outputShape} first (so a misfit is reported in the layer's
 * words, with every rule eager {@code forward} applies), the unbatched-input wrapping, and
 * reshapes to a shape known only up to the batch symbol.
 */
final class Lowering {
    private Lowering() {}

    /** {@code path.name}, or {@code name} at the model root: a child's path, an initializer's name. */
    static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
    }

    /**
     * The layer's output shape for the graph value {@code input} with every symbol bound to 1,
     * through the layer's own checks.
     *
     * @throws GraphException naming the path, the value and the layer's complaint, if it does not fit
     */
    static long[] check(Layer layer, GraphBuilder graph, String input, String path) {
        Shape shape = graph.value(input).shape();
        long[] probe = new long[shape.rank()];
        for (int i = 0; i < probe.length; i++) probe[i] = shape.dim(i).factor();   // a symbol bound to 1
        try {
            return layer.outputShape(probe);
        } catch (IllegalArgumentException e) {
            throw new GraphException(where(path) + " on " + graph.value(input) + ": " + e.getMessage(), e);
        }
    }

    /** A misfit the layer's own checks cannot see (e.g. two symbolic dims to merge), named like {@link #check}'s. */
    static GraphException misfit(Layer layer, GraphBuilder graph, String input, String path, String why) {
        return new GraphException(where(path) + " on " + graph.value(input) + ": " + layer + ": " + why);
    }

    static String where(String path) {
        return path.isEmpty() ? "the model root" : path;
    }

    /**
     * {@code op} applied to {@code input} of rank {@code batchedRank} ({@code [N, C, spatial...]}),
     * or, for an unbatched input one rank lower, to it reshaped to a batch of one and the result
     * reshaped back (PyTorch's unbatched convolution and pooling). Returns the output's name.
     */
    static String batched(GraphBuilder graph, String input, String path, int batchedRank, UnaryOperator<String> op) {
        Shape x = graph.value(input).shape();
        if (x.rank() == batchedRank) return op.apply(input);
        List<Dim> one = new ArrayList<>(x.dims());
        one.add(0, Dim.of(1));
        String y = op.apply(reshape(graph, input, join(path, "unsqueeze"), new Shape(one)));
        Shape out = graph.value(y).shape();
        return reshape(graph, y, join(path, "squeeze"), new Shape(out.dims().subList(1, out.rank())));
    }

    /**
     * A {@code Reshape} of {@code input} to {@code target}, whose shape constant gives every fixed
     * size and -1 for the one symbolic dim (the batch), so the node holds for every batch size.
     */
    static String reshape(GraphBuilder graph, String input, String name, Shape target) {
        long[] sizes = new long[target.rank()];
        boolean inferred = false;
        for (int i = 0; i < sizes.length; i++) {
            Dim d = target.dim(i);
            if (d.isFixed()) {
                sizes[i] = d.factor();
            } else if (!inferred) {
                sizes[i] = -1;
                inferred = true;
            } else {
                throw new GraphException(name + ": cannot reshape " + graph.value(input) + " to " + target
                        + ": more than one dimension depends on a symbol");
            }
        }
        String shape = graph.constant(graph.uniqueName(join(name, "shape")), sizes);
        return graph.node("Reshape", name, Attributes.empty(), input, shape);
    }
}
