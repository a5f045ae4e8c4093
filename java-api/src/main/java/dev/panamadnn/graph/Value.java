package dev.panamadnn.graph;

import dev.panamadnn.DataType;
import java.util.Locale;

/**
 * A named value of a {@link Graph}: a graph input, an initializer, or a node output, with its
 * data type and (possibly symbolic) shape. Immutable.
 *
 * @param name  unique in its graph
 * @param dtype the element type
 * @param shape the dimensions, fixed or symbolic
 */
public record Value(String name, DataType dtype, Shape shape) {
    /** A value. @throws IllegalArgumentException if a component is null or the name empty */
    public Value {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("Value: a name is required, got '" + name + "'");
        if (dtype == null) throw new IllegalArgumentException("Value " + name + ": dtype must not be null");
        if (shape == null) throw new IllegalArgumentException("Value " + name + ": shape must not be null");
    }

    /** {@return the type without the name, e.g. {@code f32[N, 3, 224, 224]}} */
    public String type() {
        return dtype.name().toLowerCase(Locale.ROOT) + shape;
    }

    /** {@code name: type}, e.g. {@code input: f32[N, 3, 224, 224]}. */
    @Override
    public String toString() {
        return name + ": " + type();
    }
}
