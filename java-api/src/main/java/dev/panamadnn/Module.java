package dev.panamadnn;

import dev.panamadnn.graph.GraphBuilder;
import java.util.Map;

/**
 * A layer or a composition of layers, named and behaving like its PyTorch counterpart.
 *
 * <p>Parameters are exposed under PyTorch {@code state_dict} names ({@code "weight"},
 * {@code "bias"}, {@code "0.weight"} inside a Sequential, ...) so that a PyTorch checkpoint maps
 * one to one. A module owns its parameter tensors and frees them on {@link #close()}.
 * Thread safety: {@link #forward} may be called from many threads at once.
 */
public interface Module extends AutoCloseable {

    /**
     * Eager inference on {@code input}; returns a new tensor owned by the caller (close it).
     *
     * @param input the input tensor (not closed)
     * @throws IllegalArgumentException if the input's rank, sizes or dtype do not fit, naming
     *                                  the module, the expected and the actual value
     * @throws IllegalStateException    if the input's memory or this module was freed
     * @return a new tensor owned by the caller (close it)
     */
    Tensor forward(Tensor input);

    /**
     * Parameters (and buffers such as running statistics) by state_dict name, in PyTorch's order.
     *
     * @return the parameters and buffers by {@code state_dict} name (the module's own tensors: do not close them)
     */
    Map<String, Tensor> parameters();

    /**
     * Adds this module's computation on {@code input} to {@code graph} and returns the name of its
     * output value: one or more nodes named under {@code path} (the module's place in the model,
     * e.g. {@code layer1.0.conv1}; empty for the root), its parameters as initializers under their
     * state_dict names (prefixed by {@code path}), shared with this module, not copied. This is how
     * a model becomes a {@link dev.panamadnn.graph.Graph} ({@link dev.panamadnn.graph.Graph#lower})
     * and so how it is compiled. Every module of this library implements it; a layer run by a Java
     * kernel only becomes a {@code Layer} node that calls its {@code forward}.
     *
     * @param graph the graph being built
     * @param input the name of the input value in {@code graph}
     * @param path  the module's place in the model, e.g. {@code layer1.0.conv1}; empty for the root
     * @throws UnsupportedOperationException if the module cannot be expressed as a graph
     * @throws dev.panamadnn.graph.GraphException if the input's shape does not fit the module
     * @return the name of the value holding this module's output in {@code graph}
     */
    default String lower(GraphBuilder graph, String input, String path) {
        throw new UnsupportedOperationException(getClass().getName() + " at " + (path.isEmpty() ? "the model root" : path)
                + " cannot be lowered to a graph: implement Module.lower, emitting its nodes (its children's lower, or graph ops)");
    }

    /** Frees the parameters and any native objects; idempotent. */
    @Override
    void close();
}
