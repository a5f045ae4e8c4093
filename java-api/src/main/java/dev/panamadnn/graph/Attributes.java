package dev.panamadnn.graph;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The typed attributes of a {@link Node}, named as in ONNX ({@code kernel_shape}, {@code strides},
 * {@code pads}, {@code dilations}, {@code group}, {@code epsilon}, {@code alpha}, {@code axis}...).
 * A value is an integer ({@code long}), a float ({@code double}), a string, an integer list
 * ({@code long[]}), a float list ({@code double[]}), a {@link Tensor} (a constant), or, for the
 * {@code Layer} op only, the {@link Module} it runs. Immutable: arrays are copied in and out.
 */
public final class Attributes {
    private static final Attributes EMPTY = new Attributes(Map.of());
    private final Map<String, Object> values;

    private Attributes(Map<String, Object> values) {
        this.values = values;
    }

    /**
     * No attributes.
     *
     * @return the empty attribute set
     */
    public static Attributes empty() {
        return EMPTY;
    }

    /**
     * Attributes from name/value pairs, e.g. {@code of("axis", 1L)}.
     *
     * @param namesAndValues alternating names and values
     * @return the attributes
     */
    public static Attributes of(Object... namesAndValues) {
        if (namesAndValues.length % 2 != 0) {
            throw new IllegalArgumentException("Attributes.of: expected name/value pairs, got " + namesAndValues.length + " arguments");
        }
        Builder b = builder();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            if (!(namesAndValues[i] instanceof String name)) {
                throw new IllegalArgumentException("Attributes.of: argument " + i + " must be a name, got " + namesAndValues[i]);
            }
            b.put(name, namesAndValues[i + 1]);
        }
        return b.build();
    }

    /** {@return an empty builder} */
    public static Builder builder() {
        return new Builder();
    }

    /** {@return a builder holding these attributes, to add or replace some} */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.values.putAll(values);
        return b;
    }

    /**
     * {@return whether the attribute {@code name} is set}
     *
     * @param name the attribute name
     */
    public boolean has(String name) {
        return values.containsKey(name);
    }

    /** {@return the names of the attributes set, in the order they were put (read-only)} */
    public Set<String> names() {
        return Collections.unmodifiableSet(values.keySet());
    }

    /**
     * {@return an integer attribute. @throws IllegalArgumentException if it is missing or not an integer}
     *
     * @param name the attribute name
     */
    public long integer(String name) {
        return get(name, Long.class, "an integer");
    }

    /**
     * {@return an integer attribute, or {@code otherwise} if absent. @throws IllegalArgumentException if it is not an integer}
     *
     * @param name the attribute name
     * @param otherwise the value if the attribute is absent
     */
    public long integer(String name, long otherwise) {
        return has(name) ? integer(name) : otherwise;
    }

    /**
     * {@return a float attribute (an integer one is read as a float). @throws IllegalArgumentException if it is missing or not a number}
     *
     * @param name the attribute name
     */
    public double real(String name) {
        Object v = values.get(name);
        if (v instanceof Long l) return l;   // ONNX writers sometimes store 0 for a float
        return get(name, Double.class, "a float");
    }

    /**
     * {@return a float attribute, or {@code otherwise} if absent. @throws IllegalArgumentException if it is not a number}
     *
     * @param name the attribute name
     * @param otherwise the value if the attribute is absent
     */
    public double real(String name, double otherwise) {
        return has(name) ? real(name) : otherwise;
    }

    /**
     * {@return a string attribute. @throws IllegalArgumentException if it is missing or not a string}
     *
     * @param name the attribute name
     */
    public String string(String name) {
        return get(name, String.class, "a string");
    }

    /**
     * {@return a string attribute, or {@code otherwise} if absent. @throws IllegalArgumentException if it is not a string}
     *
     * @param name the attribute name
     * @param otherwise the value if the attribute is absent
     */
    public String string(String name, String otherwise) {
        return has(name) ? string(name) : otherwise;
    }

    /**
     * {@return a copy of an integer-list attribute. @throws IllegalArgumentException if it is missing or not an integer list}
     *
     * @param name the attribute name
     */
    public long[] integers(String name) {
        return get(name, long[].class, "an integer list").clone();
    }

    /**
     * {@return a copy of an integer-list attribute, or {@code otherwise} (may be null, returned as is) if absent}
     *
     * @param name the attribute name
     * @param otherwise the value if the attribute is absent
     */
    public long[] integers(String name, long[] otherwise) {
        return has(name) ? integers(name) : otherwise;
    }

    /**
     * {@return a copy of a float-list attribute. @throws IllegalArgumentException if it is missing or not a float list}
     *
     * @param name the attribute name
     */
    public double[] reals(String name) {
        return get(name, double[].class, "a float list").clone();
    }

    /**
     * {@return a tensor attribute (shared, not copied: a {@code Constant}'s value). @throws IllegalArgumentException if missing or not a tensor}
     *
     * @param name the attribute name
     */
    public Tensor tensor(String name) {
        return get(name, Tensor.class, "a tensor");
    }

    /**
     * {@return a module attribute (a {@code Layer} node's layer). @throws IllegalArgumentException if missing or not a module}
     *
     * @param name the attribute name
     */
    public Module module(String name) {
        return get(name, Module.class, "a module");
    }

    private <T> T get(String name, Class<T> type, String what) {
        Object v = values.get(name);
        if (v == null) throw new IllegalArgumentException("attribute '" + name + "' is missing (expected " + what + ")");
        if (!type.isInstance(v)) {
            throw new IllegalArgumentException("attribute '" + name + "' must be " + what + ", got " + describe(v));
        }
        return type.cast(v);
    }

    private static String describe(Object v) {
        if (v instanceof long[] a) return "integers " + Arrays.toString(a);
        if (v instanceof double[] a) return "floats " + Arrays.toString(a);
        if (v instanceof Tensor t) return "tensor " + Arrays.toString(t.shape());
        if (v instanceof Module m) return m.getClass().getSimpleName();
        if (v instanceof String s) return "'" + s + "'";
        if (v instanceof Double d) return "float " + d;
        if (v instanceof Long l) return "integer " + l;
        return String.valueOf(v);
    }

    /** Equal when the same names map to equal values (arrays by content, tensors and modules by identity). */
    @Override
    public boolean equals(Object o) {
        if (this == o) return true;
        if (!(o instanceof Attributes other) || !values.keySet().equals(other.values.keySet())) return false;
        for (Map.Entry<String, Object> e : values.entrySet()) {
            if (!Objects.deepEquals(e.getValue(), other.values.get(e.getKey()))) return false;
        }
        return true;
    }

    @Override
    public int hashCode() {
        int h = 0;
        for (Map.Entry<String, Object> e : values.entrySet()) h += e.getKey().hashCode() ^ Arrays.deepHashCode(new Object[] {e.getValue()});
        return h;
    }

    /** {@code name=value, ...}, lists as {@code [1, 2]}, a tensor as {@code tensor f32[2, 3]}, a module by its one-line repr. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(k).append('=').append(show(v)));
        return sb.toString();
    }

    private static String show(Object v) {
        if (v instanceof long[] a) return Arrays.toString(a);
        if (v instanceof double[] a) return Arrays.toString(a);
        if (v instanceof Tensor t) return "tensor " + t.dtype().name().toLowerCase(java.util.Locale.ROOT) + Arrays.toString(t.shape());
        if (v instanceof Module m) return repr(m);
        if (v instanceof String s) return "'" + s + "'";
        return String.valueOf(v);
    }

    /** A module's repr on one line, at most {@value #REPR_LENGTH} characters (a Sequential's is many lines). */
    static String repr(Module m) {
        String r = String.valueOf(m).strip().replaceAll("\\s*\\R\\s*", " ");
        return r.length() <= REPR_LENGTH ? r : r.substring(0, REPR_LENGTH - 3) + "...";
    }

    private static final int REPR_LENGTH = 100;

    /** Collects attributes; {@code int}s become {@code long}s, {@code float}s {@code double}s, {@code int[]} {@code long[]}. */
    public static final class Builder {
        private final Map<String, Object> values = new LinkedHashMap<>();

        private Builder() {}

        /**
         * Sets {@code name} to {@code value} (replacing it if set); arrays are copied.
         *
         * @param name the attribute name
         * @param value the value (Long, Double, String, long[], double[], Tensor or Module)
         * @throws IllegalArgumentException if the name is empty or the value of no supported type
         * @return this builder
         */
        public Builder put(String name, Object value) {
            if (name == null || name.isEmpty()) throw new IllegalArgumentException("Attributes: a name is required");
            values.put(name, normalize(name, value));
            return this;
        }

        /**
         * Puts {@code value} unless it is null.
         *
         * @param name the attribute name
         * @param value the value (Long, Double, String, long[], double[], Tensor or Module)
         * @return this builder
         */
        public Builder putIfPresent(String name, Object value) {
            return value == null ? this : put(name, value);
        }

        /**
         * Removes {@code name} if set.
         *
         * @param name the attribute name
         * @return this builder
         */
        public Builder remove(String name) {
            values.remove(name);
            return this;
        }

        /** {@return the attributes put so far (later changes to this builder do not affect them)} */
        public Attributes build() {
            return values.isEmpty() ? EMPTY : new Attributes(Collections.unmodifiableMap(new LinkedHashMap<>(values)));
        }

        private static Object normalize(String name, Object v) {
            if (v instanceof Integer i) return (long) i;
            if (v instanceof Long || v instanceof Double || v instanceof String || v instanceof Tensor || v instanceof Module) return v;
            if (v instanceof Float f) return (double) f;
            if (v instanceof Boolean b) return b ? 1L : 0L;
            if (v instanceof long[] a) return a.clone();
            if (v instanceof int[] a) return Arrays.stream(a).asLongStream().toArray();
            if (v instanceof double[] a) return a.clone();
            if (v instanceof float[] a) {
                double[] d = new double[a.length];
                for (int i = 0; i < a.length; i++) d[i] = a[i];
                return d;
            }
            throw new IllegalArgumentException("attribute '" + name + "': unsupported value " + (v == null ? "null" : v.getClass().getSimpleName())
                    + " (expected an integer, float, string, integer or float list, Tensor or Module)");
        }
    }
}
