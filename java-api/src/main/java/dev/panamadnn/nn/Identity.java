package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.GraphBuilder;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * PyTorch's {@code nn.Identity()}: {@code y = x}, any shape. Returns a copy the caller owns (so
 * every layer's output is the caller's to close); no parameters. Lowers to the graph's
 * {@code Identity} op. Thread-safe (see {@link Layer}). Also the body of {@link Dropout}.
 */
public sealed class Identity extends Layer permits Dropout {
    /** A module that returns its input unchanged (as a new tensor the caller owns). */
    public Identity() {}

    @Override
    public final long[] outputShape(long... inputShape) {
        checkShapeArgument(inputShape);
        return inputShape.clone();
    }

    @Override
    public final String lower(GraphBuilder graph, String input, String path) {
        Lowering.check(this, graph, input, path);
        return graph.node("Identity", path, Attributes.empty(), input);
    }

    @Override
    final void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        into(input, out, backend, (x, y) -> {
            MemorySegment dst = y.segment();
            for (int i = 0; i < x.length; i++) dst.setAtIndex(ValueLayout.JAVA_FLOAT, i, x[i]);
        }, (x, y) -> MemorySegment.copy(x.segment(), 0, y.segment(), 0, y.segment().byteSize()));
    }

    @Override
    public String toString() {
        return "Identity()";
    }
}
