package dev.panamadnn.graph;

/**
 * A graph that is malformed (a value undefined or defined twice, nodes out of topological order,
 * an unknown op) or inconsistent (shapes that do not fit an op). The message names the node, its
 * op and the mismatch.
 */
public final class GraphException extends IllegalArgumentException {
    public GraphException(String message) {
        super(message);
    }

    public GraphException(String message, Throwable cause) {
        super(message, cause);
    }
}
