package dev.panamadnn.nn;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.GraphBuilder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SequencedMap;

/**
 * PyTorch's {@code nn.Sequential}: the modules applied in order, each to the previous output.
 * Every child has a name, its index when built from a list ({@code Sequential(a, b)}) or the
 * given one when built from an ordered map (PyTorch's {@code Sequential(OrderedDict(...))}).
 * Parameters are the children's, prefixed with that name exactly as in a PyTorch state_dict:
 * {@code "0.weight"}, {@code "2.1.bias"} for a nested Sequential, {@code "layer1.0.conv1.weight"}
 * for named ones; the repr shows {@code (name): child} lines; the graph nodes of a child are
 * named under its path ({@link #lower}).
 *
 * <p>Before any native call, the input is checked against every child that is a {@link Layer}
 * or a convolution (shapes are propagated through their {@code outputShape}), so a mismatch deep
 * in the chain fails up front, naming the child ("module 2" for an index, else its name). The
 * backend passed to {@link #forward(Tensor, Backend)} is passed to every child that is a Layer;
 * convolutions run their reference for {@link Backend#REFERENCE} and oneDNN otherwise.
 *
 * <p>Intermediate outputs are freed as soon as the next one no longer needs them (a
 * {@link Flatten} view keeps its source alive until then); if the final output is a view of an
 * intermediate, it is copied so the caller owns what it gets. The Sequential owns its children:
 * {@link #close()} closes them. Thread-safe if every child is.
 */
public final class Sequential extends Layer {
    private final SequencedMap<String, Module> named;   // unmodifiable, in order
    private final List<Module> modules;

    /**
     * The children named by their index, {@code "0"}, {@code "1"}...
     *
     * @param modules the modules, run in order (owned by the Sequential from now on)
     * @throws IllegalArgumentException if there are no modules or one is null
     */
    public Sequential(Module... modules) {
        this(indexed(modules));
    }

    /**
     * The children under the given names, in the map's order (a {@link LinkedHashMap}, say), like
     * PyTorch's {@code Sequential(OrderedDict(...))}. The map is copied.
     *
     * @param modules the modules, run in order (owned by the Sequential from now on)
     * @throws IllegalArgumentException if there are no modules, a module is null, or a name is
     *                                  null, empty or contains a '.' (PyTorch's rules for a child's name)
     */
    public Sequential(SequencedMap<String, ? extends Module> modules) {
        if (modules == null || modules.isEmpty()) {
            throw new IllegalArgumentException("Sequential: expected at least one module, got none");
        }
        SequencedMap<String, Module> copy = new LinkedHashMap<>();
        for (Map.Entry<String, ? extends Module> e : modules.entrySet()) {
            String name = e.getKey();
            if (name == null || name.isEmpty() || name.contains(".")) {
                throw new IllegalArgumentException("Sequential: a module name must be non-empty and contain no '.', got "
                        + (name == null ? "null" : "'" + name + "'"));
            }
            if (e.getValue() == null) throw new IllegalArgumentException("Sequential: module '" + name + "' must not be null");
            copy.put(name, e.getValue());
        }
        this.named = Collections.unmodifiableSequencedMap(copy);
        this.modules = List.copyOf(copy.values());
    }

    private static SequencedMap<String, Module> indexed(Module[] modules) {
        if (modules == null || modules.length == 0) {
            throw new IllegalArgumentException("Sequential: expected at least one module, got none");
        }
        SequencedMap<String, Module> m = new LinkedHashMap<>();
        for (int i = 0; i < modules.length; i++) {
            if (modules[i] == null) throw new IllegalArgumentException("Sequential: module " + i + " must not be null");
            m.put(String.valueOf(i), modules[i]);
        }
        return m;
    }

    /** {@return the children, in order (unmodifiable)} */
    public List<Module> modules() {
        return modules;
    }

    /** {@return the children by name ({@code "0"}, {@code "1"}... when built from a list), in order (unmodifiable)} */
    public SequencedMap<String, Module> namedModules() {
        return named;
    }

    @Override
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> all = new LinkedHashMap<>();
        named.forEach((name, child) -> Modules.addParameters(all, name, child));
        return Collections.unmodifiableMap(all);
    }

    /**
     * The output shape, propagated through every child.
     *
     * @throws IllegalArgumentException      if a child rejects its input shape (the message names the child)
     * @throws UnsupportedOperationException if a child is not a {@link Layer}, whose shapes are unknown
     */
    @Override
    public long[] outputShape(long... inputShape) {
        long[] shape = checkShape(inputShape);
        if (shape == null) throw new UnsupportedOperationException(label() + ": cannot infer shapes through a module that is not a Layer");
        return shape;
    }

    /** Propagates the shape through the children (Layers and convolutions); null once a child is neither. */
    @Override
    long[] checkShape(long[] inputShape) {
        checkShapeArgument(inputShape);
        long[] shape = inputShape;
        int i = 0;
        for (Map.Entry<String, Module> child : named.entrySet()) {
            String who = child.getKey().equals(String.valueOf(i)) ? "module " + i : child.getKey();
            i++;
            try {
                shape = Modules.shape(child.getValue(), shape);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(label() + ", " + who + ": " + e.getMessage(), e);
            } catch (IllegalStateException e) {
                throw new IllegalStateException(label() + ", " + who + ": " + e.getMessage(), e);
            }
            if (shape == null) return null;
        }
        return shape;
    }

    /** A first child that is not a {@link Layer} (an {@link Embedding} taking I64 or I32 ids) checks the input's dtype itself. */
    @Override
    boolean takesAnyInputType() {
        Module first = modules.get(0);
        return first instanceof Layer layer ? layer.takesAnyInputType() : true;
    }

    /** Each child in order, its nodes named under {@code path.name} (e.g. {@code layer1.0.conv1}). */
    @Override
    public String lower(GraphBuilder graph, String input, String path) {
        String x = input;
        for (Map.Entry<String, Module> child : named.entrySet()) x = child.getValue().lower(graph, x, Lowering.join(path, child.getKey()));
        return x;
    }

    /**
     * Every module in order; the intermediates in this call's {@link Scratch} memory where a child is a layer of known
     * output shape (no JDK handshake to free them), the last module's output a new tensor the caller owns.
     */
    @Override
    Tensor compute(Tensor input, long[] outShape, Backend backend) {
        List<Tensor> kept = new ArrayList<>();   // intermediates the result may still view
        try (Scratch scratch = new Scratch()) {
            Tensor current = runFirst(modules.size() - 1, input, backend, kept, scratch);
            if (current != input) kept.add(current);
            Tensor y;
            try {
                y = Modules.forward(modules.get(modules.size() - 1), current, backend);
            } catch (RuntimeException | Error e) {
                release(kept, scratch);
                throw e;
            }
            if (!sharesMemory(y, kept)) {
                release(kept, scratch);
                return y;
            }
            try {
                return Tensor.of(y.toFloatArray(), y.shape());   // a view of an intermediate: the caller must own the result
            } finally {
                y.close();
                release(kept, scratch);
            }
        }
    }

    /** Every module but the last as in {@link #compute}; the last, when it is a layer, writes {@code out} itself. */
    @Override
    void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        if (!(modules.get(modules.size() - 1) instanceof Layer last)) {
            super.computeInto(input, outShape, backend, out);
            return;
        }
        List<Tensor> kept = new ArrayList<>();
        try (Scratch scratch = new Scratch()) {
            Tensor current = runFirst(modules.size() - 1, input, backend, kept, scratch);
            try {
                last.forwardInto(current, out, backend);
            } finally {
                if (current != input) kept.add(current);   // a view of the input or of an intermediate: closing it does nothing
                release(kept, scratch);
            }
        }
    }

    /**
     * The first {@code count} modules on {@code input} ({@link Scratch#forward}): their result, with the intermediates that
     * result may still view (a Flatten's input, say) left in {@code kept} for the caller to release; on failure everything
     * made is released.
     */
    private Tensor runFirst(int count, Tensor input, Backend backend, List<Tensor> kept, Scratch scratch) {
        Tensor current = input;
        try {
            for (int i = 0; i < count; i++) {
                Tensor next = scratch.forward(modules.get(i), current, backend);
                if (current != input) kept.add(current);
                if (!sharesMemory(next, kept)) release(kept, scratch);
                current = next;
            }
            return current;
        } catch (RuntimeException | Error e) {
            if (current != input) kept.add(current);
            release(kept, scratch);
            throw e;
        }
    }

    /** Frees each of {@code tensors}: this call's scratch memory at once, an owned tensor by closing it. */
    private static void release(List<Tensor> tensors, Scratch scratch) {
        for (Tensor t : tensors) {
            if (scratch.holds(t)) scratch.free(t);
            else t.close();
        }
        tensors.clear();
    }

    private static boolean sharesMemory(Tensor t, List<Tensor> others) {
        for (Tensor o : others) if (o.isAlive() && t.segment().scope().equals(o.segment().scope())) return true;
        return false;
    }

    @Override
    void release() {
        modules.forEach(Module::close);
    }

    @Override
    String label() {
        return "Sequential(" + modules.size() + (modules.size() == 1 ? " module)" : " modules)");
    }

    /** PyTorch's repr: one {@code (name): child} line per module, nested ones indented. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Sequential(\n");
        named.forEach((name, child) -> sb.append(Modules.child(name, child)));
        return sb.append(')').toString();
    }
}
