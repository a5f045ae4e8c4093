package dev.panamadnn.nn;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * PyTorch's {@code nn.Sequential}: the modules applied in order, each to the previous output.
 * Parameters are the children's, prefixed with their index exactly as in a PyTorch
 * state_dict: {@code "0.weight"}, {@code "2.1.bias"} for a nested Sequential, ...
 *
 * <p>Before any native call, the input is checked against every child that is a {@link Layer}
 * or a convolution (shapes are propagated through their {@code outputShape}), so a mismatch deep
 * in the chain fails up front, naming the child's index. The backend passed to
 * {@link #forward(Tensor, Backend)} is passed to every child that is a Layer; convolutions run
 * their reference for {@link Backend#REFERENCE} and oneDNN otherwise.
 *
 * <p>Intermediate outputs are freed as soon as the next one no longer needs them (a
 * {@link Flatten} view keeps its source alive until then); if the final output is a view of an
 * intermediate, it is copied so the caller owns what it gets. The Sequential owns its children:
 * {@link #close()} closes them. Thread-safe if every child is.
 */
public final class Sequential extends Layer {
    private final List<Module> modules;

    /** @throws IllegalArgumentException if there are no modules or one is null */
    public Sequential(Module... modules) {
        if (modules == null || modules.length == 0) {
            throw new IllegalArgumentException("Sequential: expected at least one module, got none");
        }
        for (int i = 0; i < modules.length; i++) {
            if (modules[i] == null) throw new IllegalArgumentException("Sequential: module " + i + " must not be null");
        }
        this.modules = List.of(modules);
    }

    /** The children, in order (unmodifiable). */
    public List<Module> modules() {
        return modules;
    }

    @Override
    public Map<String, Tensor> parameters() {
        Map<String, Tensor> all = new LinkedHashMap<>();
        for (int i = 0; i < modules.size(); i++) {
            for (Map.Entry<String, Tensor> e : modules.get(i).parameters().entrySet()) all.put(i + "." + e.getKey(), e.getValue());
        }
        return Collections.unmodifiableMap(all);
    }

    /**
     * The output shape, propagated through every child.
     *
     * @throws IllegalArgumentException      if a child rejects its input shape (the message names the child's index)
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
        for (int i = 0; i < modules.size(); i++) {
            try {
                shape = Modules.shape(modules.get(i), shape);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(label() + ", module " + i + ": " + e.getMessage(), e);
            } catch (IllegalStateException e) {
                throw new IllegalStateException(label() + ", module " + i + ": " + e.getMessage(), e);
            }
            if (shape == null) return null;
        }
        return shape;
    }

    @Override
    Tensor compute(Tensor input, long[] outShape, Backend backend) {
        Tensor current = input;
        List<Tensor> owned = new ArrayList<>();   // intermediates we made that `current` may still view
        try {
            for (Module m : modules) {
                Tensor next = Modules.forward(m, current, backend);
                if (current != input) owned.add(current);
                if (!sharesMemory(next, owned)) closeAll(owned);
                current = next;
            }
            if (owned.isEmpty()) return current;
            Tensor copy = Tensor.of(current.toFloatArray(), current.shape());   // the caller must own the result
            closeAll(owned);
            return copy;
        } catch (RuntimeException | Error e) {
            if (current != input) current.close();
            closeAll(owned);
            throw e;
        }
    }

    private static boolean sharesMemory(Tensor t, List<Tensor> others) {
        for (Tensor o : others) if (o.isAlive() && t.segment().scope().equals(o.segment().scope())) return true;
        return false;
    }

    private static void closeAll(List<Tensor> tensors) {
        tensors.forEach(Tensor::close);
        tensors.clear();
    }

    @Override
    void release() {
        modules.forEach(Module::close);
    }

    @Override
    String label() {
        return "Sequential(" + modules.size() + (modules.size() == 1 ? " module)" : " modules)");
    }

    /** PyTorch's repr: one {@code (i): child} line per module, nested ones indented. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("Sequential(\n");
        for (int i = 0; i < modules.size(); i++) {
            sb.append("  (").append(i).append("): ").append(modules.get(i).toString().replace("\n", "\n  ")).append('\n');
        }
        return sb.append(')').toString();
    }
}
