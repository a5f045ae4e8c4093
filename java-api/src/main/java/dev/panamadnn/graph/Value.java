package dev.panamadnn.graph;

import dev.panamadnn.DataType;

/**
 * A named value of a {@link Graph}: a graph input, an initializer, or a node output, with its
 * data type and (possibly symbolic) shape.
 */
public record Value(String name, DataType dtype, Shape shape) {
    public Value {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("Value: a name is required, got '" + name + "'");
        if (dtype == null) throw new IllegalArgumentException("Value " + name + ": dtype must not be null");
        if (shape == null) throw new IllegalArgumentException("Value " + name + ": shape must not be null");
    }

    @Override
    public String toString() {
        return name + ": " + dtype.name().toLowerCase(java.util.Locale.ROOT) + shape;
    }
}
