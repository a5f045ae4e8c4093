package dev.panamadnn.graph;

/**
 * A graph that is malformed (a value undefined or defined twice, nodes out of topological order,
 * an unknown op) or inconsistent (shapes that do not fit an op). The message names the node, its
 * op and the mismatch.
 */
public final class GraphException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /**
     * An exception with {@code message}, which names the graph, the node and its op, and the mismatch.
     *
     * @param message what is wrong, naming the node
     */
    public GraphException(String message) {
        super(message);
    }

    /**
     * An exception with {@code message} caused by {@code cause} (e.g. a layer's refusal of a shape).
     *
     * @param message what is wrong, naming the node
     * @param cause the underlying failure
     */
    public GraphException(String message, Throwable cause) {
        super(message, cause);
    }
}
