package dev.panamadnn.nn;

import dev.panamadnn.Eltwise;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.GraphBuilder;
import java.lang.foreign.MemorySegment;

/**
 * The activation layers: {@code y = f(x)} element by element, any input shape, output of the
 * same shape. Native path: oneDNN's eltwise over the whole (contiguous) buffer, one primitive
 * per element count ({@link Eltwise}); reference: {@link Eltwise#reference}, in double.
 * {@link Backend#OPENBLAS} runs the oneDNN path (OpenBLAS has no such kernel). NaN, infinities
 * and values near the float range come out as in PyTorch on both paths (docs/numerics.md).
 */
abstract class ElementwiseLayer extends Layer {
    private final Activation activation;
    private final Eltwise kernel;

    ElementwiseLayer(Activation activation) {
        this.activation = activation;
        this.kernel = new Eltwise(activation.kind(), activation.alpha());
    }

    /** {@return the function this layer applies (also what {@link Linear} can fuse)} */
    public final Activation activation() {
        return activation;
    }

    @Override
    public final long[] outputShape(long... inputShape) {
        checkShapeArgument(inputShape);
        return inputShape.clone();
    }

    /** One node of the activation's op ({@link Activation}), named {@code path}. */
    @Override
    public final String lower(GraphBuilder graph, String input, String path) {
        Lowering.check(this, graph, input, path);
        return activation.lower(graph, input, path);
    }

    @Override
    final void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        into(input, out, backend,
                (x, y) -> Eltwise.reference(activation.kind(), activation.alpha(), MemorySegment.ofArray(x), y.segment()),
                (x, y) -> kernel.forward(x.segment(), y.segment()));
    }

    /** oneDNN's eltwise runs in place: {@code forward(x, x)} overwrites x. */
    @Override
    final boolean inPlaceCapable() {
        return true;
    }

    @Override
    final void release() {
        kernel.close();
    }

    @Override
    public final String toString() {
        return activation.toString();
    }
}
