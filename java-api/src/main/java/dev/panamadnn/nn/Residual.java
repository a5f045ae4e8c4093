package dev.panamadnn.nn;

import dev.panamadnn.Module;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A residual connection: {@code Residual(f)} computes {@code y = f(h) + h}; the projection form
 * {@code Residual(f, projection)} computes {@code y = projection(h) + f(h)} for when f changes the
 * shape, the projection (W2 in {@code h_k = W1·f(h) + W2·h}) typically a 1x1 {@link Conv2d} with
 * the same stride as f, or a {@link Linear} without bias. The output has f's output shape, which
 * must equal h's (identity) or the projection's; checked before any native call.
 *
 * <p>State_dict names: {@code f.*} and {@code projection.*}, what PyTorch gives a module with
 * attributes {@code self.f} and {@code self.projection} (the equivalent class the golden
 * generator defines), registered in that order; {@code Residual(Linear)} has {@code f.weight, f.bias}.
 * Owns f and the projection (closes them). See {@link ShortcutBlock} for execution and threads.
 */
public final class Residual extends ShortcutBlock {
    private final Module f;

    /**
     * {@code y = f(h) + h}.
     *
     * @param f the residual branch
     */
    public Residual(Module f) {
        this(f, null, true);
    }

    /**
     * {@code y = projection(h) + f(h)}.
     *
     * @param f the residual branch
     * @param projection the shortcut's projection
     */
    public Residual(Module f, Module projection) {
        this(f, projection, false);
    }

    private Residual(Module f, Module projection, boolean identity) {
        super("Residual", children(f, projection, identity), List.of(f), projection, null);
        this.f = f;
    }

    private static Map<String, Module> children(Module f, Module projection, boolean identity) {
        if (f == null) throw new IllegalArgumentException("Residual: f must not be null");
        if (!identity && projection == null) {
            throw new IllegalArgumentException("Residual: projection must not be null (use Residual(f) for the identity shortcut)");
        }
        if (f == projection) throw new IllegalArgumentException("Residual: f and projection must be different modules");
        Map<String, Module> m = new LinkedHashMap<>();
        m.put("f", f);
        if (projection != null) m.put("projection", projection);
        return m;
    }

    /** {@return the residual function f} */
    public Module f() {
        return f;
    }

    /** {@return the projection, or null for the identity shortcut} */
    public Module projection() {
        return shortcut();
    }
}
