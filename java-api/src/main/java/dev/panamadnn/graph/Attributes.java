package dev.panamadnn.graph;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
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

    public static Attributes empty() {
        return EMPTY;
    }

    /** Attributes from name/value pairs, e.g. {@code of("axis", 1L)}. */
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

    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding these attributes, to add or replace some. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.values.putAll(values);
        return b;
    }

    public boolean has(String name) {
        return values.containsKey(name);
    }

    public Set<String> names() {
        return Collections.unmodifiableSet(values.keySet());
    }

    public long integer(String name) {
        return get(name, Long.class, "an integer");
    }

    public long integer(String name, long otherwise) {
        return has(name) ? integer(name) : otherwise;
    }

    public double real(String name) {
        Object v = values.get(name);
        if (v instanceof Long l) return l;   // ONNX writers sometimes store 0 for a float
        return get(name, Double.class, "a float");
    }

    public double real(String name, double otherwise) {
        return has(name) ? real(name) : otherwise;
    }

    public String string(String name) {
        return get(name, String.class, "a string");
    }

    public String string(String name, String otherwise) {
        return has(name) ? string(name) : otherwise;
    }

    public long[] integers(String name) {
        return get(name, long[].class, "an integer list").clone();
    }

    /** The list, or {@code otherwise} (may be null) if absent. */
    public long[] integers(String name, long[] otherwise) {
        return has(name) ? integers(name) : otherwise;
    }

    public double[] reals(String name) {
        return get(name, double[].class, "a float list").clone();
    }

    public Tensor tensor(String name) {
        return get(name, Tensor.class, "a tensor");
    }

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
        return String.valueOf(v);
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        values.forEach((k, v) -> sb.append(sb.isEmpty() ? "" : ", ").append(k).append('=').append(
                v instanceof long[] a ? Arrays.toString(a) : v instanceof double[] a ? Arrays.toString(a)
                        : v instanceof Tensor t ? "tensor" + Arrays.toString(t.shape()) : v instanceof Module m ? m.getClass().getSimpleName()
                        : String.valueOf(v)));
        return sb.toString();
    }

    /** Collects attributes; {@code int}s become {@code long}s, {@code float}s {@code double}s, {@code int[]} {@code long[]}. */
    public static final class Builder {
        private final Map<String, Object> values = new LinkedHashMap<>();

        public Builder put(String name, Object value) {
            if (name == null || name.isEmpty()) throw new IllegalArgumentException("Attributes: a name is required");
            values.put(name, normalize(name, value));
            return this;
        }

        /** Puts {@code value} unless it is null. */
        public Builder putIfPresent(String name, Object value) {
            return value == null ? this : put(name, value);
        }

        public Builder remove(String name) {
            values.remove(name);
            return this;
        }

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
