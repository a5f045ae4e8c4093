package dev.panamadnn.nn;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.GraphException;
import dev.panamadnn.graph.Shape;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What {@link Residual}, {@link BasicBlock} and {@link Bottleneck} share: a main path of modules
 * applied in order, a shortcut (the input itself, or a module applied to it), their element-wise
 * sum ({@link Add}), then optionally a ReLU: {@code y = act(main(x) + shortcut(x))}.
 *
 * <p>Eager composition of the existing layers, each on the backend given to
 * {@link #forward(Tensor, Backend)} (convolutions run their reference for
 * {@link Backend#REFERENCE}); fusing the add and the ReLU as post-ops belongs to compiled
 * inference. Intermediates are freed as soon as they are used. The input is checked against the
 * whole block (shapes propagated through both branches) before any native call. The block owns
 * its children and closes them. Thread-safe if the children are (all of this package's are).
 */
abstract sealed class ShortcutBlock extends Layer permits Residual, BasicBlock, Bottleneck {
    private final String name;
    private final Map<String, Module> children;   // state_dict / repr order
    private final List<Module> mainPath;
    private final Module shortcut;                 // null: identity
    private final ReLU finalRelu;                  // null: none
    private final Add add = new Add();

    ShortcutBlock(String name, Map<String, Module> children, List<Module> mainPath, Module shortcut, ReLU finalRelu) {
        this.name = name;
        this.children = Collections.unmodifiableMap(new LinkedHashMap<>(children));
        this.mainPath = List.copyOf(mainPath);
        this.shortcut = shortcut;
        this.finalRelu = finalRelu;
    }

    /** The shortcut module (projection / downsample), or null for the identity. */
    Module shortcut() {
        return shortcut;
    }

    @Override
    public final Map<String, Tensor> parameters() {
        Map<String, Tensor> all = new LinkedHashMap<>();
        children.forEach((prefix, child) -> Modules.addParameters(all, prefix, child));
        return Collections.unmodifiableMap(all);
    }

    @Override
    public final long[] outputShape(long... inputShape) {
        long[] shape = checkShape(inputShape);
        if (shape == null) throw new UnsupportedOperationException(label() + ": cannot infer shapes through a module that is not a Layer");
        return shape;
    }

    @Override
    final long[] checkShape(long[] inputShape) {
        checkShapeArgument(inputShape);
        long[] main = inputShape;
        for (Module m : mainPath) main = step(m, main);
        long[] side = shortcut == null ? inputShape : step(shortcut, inputShape);
        if (main != null && side != null && !Arrays.equals(main, side)) {
            throw new IllegalArgumentException(label() + ": the main path gives " + Arrays.toString(main) + " but the "
                    + (shortcut == null ? "identity shortcut" : "shortcut") + " gives " + Arrays.toString(side) + " for input "
                    + Arrays.toString(inputShape) + (shortcut == null ? " (a projection/downsample is needed)" : ""));
        }
        return main == null ? null : main;
    }

    private long[] step(Module m, long[] shape) {
        String child = childName(m);
        try {
            return Modules.shape(m, shape);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(label() + ", " + child + ": " + e.getMessage(), e);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(label() + ", " + child + ": " + e.getMessage(), e);
        }
    }

    private String childName(Module m) {
        for (Map.Entry<String, Module> e : children.entrySet()) if (e.getValue() == m) return e.getKey();
        return "relu";
    }

    /** The block into a new tensor the caller owns (Layer's default: {@link #computeInto}); with shapes known only by running, as before. */
    @Override
    final Tensor compute(Tensor input, long[] outShape, Backend backend) {
        return outShape == null ? computeOwned(input, backend) : super.compute(input, outShape, backend);
    }

    /**
     * The block into {@code out}: the main path, the shortcut and (before a final ReLU) the sum in this call's
     * {@link Scratch} memory where a child is a layer of known output shape (no JDK handshake to free them).
     */
    @Override
    final void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        if (outShape == null) {
            super.computeInto(input, outShape, backend, out);
            return;
        }
        try (Scratch scratch = new Scratch()) {   // every intermediate freed when the block is done (a child's output may view its input)
            Tensor main = input;
            for (Module m : mainPath) main = scratch.temporary(m, main, backend);
            Tensor side = shortcut == null ? input : scratch.temporary(shortcut, input, backend);
            if (finalRelu == null) {
                add.forwardInto(main, side, out, backend);
            } else {
                Tensor sum = scratch.allocate(outShape);
                add.forwardInto(main, side, sum, backend);
                finalRelu.forwardInto(sum, out, backend);
            }
        }
    }

    /** The block with new tensors throughout (a child whose shapes are known only by running). */
    private Tensor computeOwned(Tensor input, Backend backend) {
        Tensor main = input, side = null, sum = null;
        try {
            for (Module m : mainPath) {
                Tensor next = Modules.forward(m, main, backend);
                if (main != input) main.close();
                main = next;
            }
            side = shortcut == null ? input : Modules.forward(shortcut, input, backend);
            sum = add.forward(main, side, backend);
            if (finalRelu == null) {
                Tensor y = sum;
                sum = null;
                return y;
            }
            return finalRelu.forward(sum, backend);
        } finally {
            if (main != input) main.close();
            if (side != null && side != input) side.close();
            if (sum != null) sum.close();
        }
    }

    /**
     * The main path's nodes, each child under its name ({@code <path>.conv1}, {@code <path>.bn1},
     * {@code <path>.relu}...; a module applied twice, like the blocks' ReLU, gets {@code _1},
     * {@code _2}: {@code layer1.0.relu_1}), the shortcut's ({@code <path>.downsample.0}...), an
     * {@code Add} named {@code <path>.add} (main path first, as in torchvision's forward), then
     * the final ReLU if any ({@code <path>.relu_1} in a BasicBlock). Without broadcasting, as
     * forward: both branches must give the same shape.
     */
    @Override
    public final String lower(GraphBuilder graph, String input, String path) {
        String main = input;
        for (Module m : mainPath) main = m.lower(graph, main, Lowering.join(path, childName(m)));
        String side = shortcut == null ? input : shortcut.lower(graph, input, Lowering.join(path, childName(shortcut)));
        Shape a = graph.value(main).shape(), b = graph.value(side).shape();
        if (!a.equals(b)) {
            throw new GraphException(Lowering.where(path) + " on " + graph.value(input) + ": " + label()
                    + ": the main path gives " + a + " but the " + (shortcut == null ? "identity shortcut" : "shortcut") + " gives " + b);
        }
        String sum = graph.node("Add", Lowering.join(path, "add"), Attributes.empty(), main, side);
        return finalRelu == null ? sum : finalRelu.lower(graph, sum, Lowering.join(path, childName(finalRelu)));
    }

    @Override
    final void release() {
        children.values().forEach(Module::close);
        if (finalRelu != null) finalRelu.close();
        add.close();
    }

    @Override
    final String label() {
        return name;
    }

    /** PyTorch's repr: one {@code (name): child} line per submodule. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(name).append("(\n");
        children.forEach((n, m) -> sb.append(Modules.child(n, m)));
        return sb.append(')').toString();
    }

    /** torchvision's downsample: {@code Sequential(conv1x1(inplanes, outplanes, stride), BatchNorm2d(outplanes))}. */
    static Sequential downsample(int inplanes, int outplanes, int stride) {
        return new Sequential(Conv2d.builder(inplanes, outplanes, 1).stride(stride).bias(false).build(), new BatchNorm2d(outplanes));
    }
}
