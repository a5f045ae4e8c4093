package dev.panamadnn.graph;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The dimensions of a {@link Value}, each fixed or symbolic ({@link Dim}). Immutable.
 *
 * @param dims the dimensions, outermost first (copied)
 */
public record Shape(List<Dim> dims) {
    /** A shape of {@code dims}, copied. @throws IllegalArgumentException if dims or one of them is null */
    public Shape {
        if (dims == null) throw new IllegalArgumentException("Shape: dims must not be null");
        for (Dim d : dims) if (d == null) throw new IllegalArgumentException("Shape: a dim must not be null, got " + dims);
        dims = List.copyOf(dims);
    }

    /**
     * {@return a fixed shape}
     *
     * @param sizes fixed sizes
     */
    public static Shape of(long... sizes) {
        List<Dim> d = new ArrayList<>(sizes.length);
        for (long s : sizes) d.add(Dim.of(s));
        return new Shape(d);
    }

    /**
     * {@return a shape of the given dimensions}
     *
     * @param dims the dimensions
     */
    public static Shape of(Dim... dims) {
        return new Shape(Arrays.asList(dims));
    }

    /**
     * {@code [symbol, rest...]}: a shape whose first dimension (the batch) is symbolic.
     *
     * @param symbol the batch symbol, e.g. {@code N}
     * @param rest the fixed sizes after it
     * @return the shape {@code [symbol, rest...]}
     */
    public static Shape batched(String symbol, long... rest) {
        List<Dim> d = new ArrayList<>(rest.length + 1);
        d.add(Dim.symbol(symbol));
        for (long s : rest) d.add(Dim.of(s));
        return new Shape(d);
    }

    /** {@return the number of dimensions} */
    public int rank() {
        return dims.size();
    }

    /**
     * Dimension {@code i} (0 is the outermost).
     *
     * @param i the dimension index
     * @return dimension {@code i}
     */
    public Dim dim(int i) {
        return dims.get(i);
    }

    /** {@return whether every dimension is fixed} */
    public boolean isFixed() {
        for (Dim d : dims) if (!d.isFixed()) return false;
        return true;
    }

    /** {@return the sizes of a fixed shape. @throws IllegalStateException if a dimension is symbolic} */
    public long[] sizes() {
        long[] s = new long[dims.size()];
        for (int i = 0; i < s.length; i++) {
            if (!dims.get(i).isFixed()) throw new IllegalStateException("Shape " + this + " is symbolic in dim " + i);
            s[i] = dims.get(i).factor();
        }
        return s;
    }

    /**
     * The shape with every symbol in {@code bindings} replaced by its size ({@code 12*N} with
     * N = 2 becomes 24); symbols not in {@code bindings} stay.
     *
     * @param bindings a size for each symbol to fix
     * @return the shape with those symbols replaced by sizes
     */
    public Shape bind(Map<String, Long> bindings) {
        List<Dim> out = new ArrayList<>(dims.size());
        for (Dim d : dims) {
            Long v = d.symbol() == null ? null : bindings.get(d.symbol());
            out.add(v == null ? d : Dim.of(Math.multiplyExact(d.factor(), v)));
        }
        return new Shape(out);
    }

    /** {@return the product of all dimensions, or null if it has more than one symbol} */
    public Dim elements() {
        Dim n = Dim.of(1);
        for (Dim d : dims) {
            n = n.times(d);
            if (n == null) return null;
        }
        return n;
    }

    /** {@code [N, 3, 224, 224]}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.size(); i++) sb.append(i == 0 ? "" : ", ").append(dims.get(i));
        return sb.append(']').toString();
    }
}
