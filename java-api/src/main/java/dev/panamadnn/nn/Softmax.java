package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveCache;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.internal.reference.SpecialValues;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * PyTorch's {@code nn.Softmax(dim)}: along dimension {@code dim} (negative counts from the end),
 * {@code y_i = e^(x_i - m) / sum_j e^(x_j - m)} with {@code m = max_j x_j}; subtracting the
 * maximum changes nothing mathematically and keeps {@code e^x} from overflowing.
 *
 * <p>Any input of rank r >= 1 with {@code -r <= dim < r} (a rank-0 input counts as rank 1);
 * the output has the input's shape. The input is viewed as {@code [outer, size(dim), inner]},
 * so one 3-D primitive serves every rank. Native path: oneDNN's softmax with the accurate
 * algorithm, one primitive per {@code (outer, size, inner)}, cached; {@link Backend#OPENBLAS}
 * runs it too (OpenBLAS has no softmax); a line whose maximum is NaN or infinite comes out all
 * NaN as in PyTorch (repaired in Java after oneDNN, see docs/numerics.md). Reference: plain loops in double. Thread-safe (see
 * {@link Layer}).
 */
public final class Softmax extends Layer {
    private final int dim;
    private final PrimitiveCache<View, Kernel> kernels = new PrimitiveCache<>();

    private record View(long outer, long size, long inner) {}

    private record Kernel(MemoryDescriptor desc, Primitive primitive) implements AutoCloseable {
        @Override
        public void close() {
            primitive.close();
            desc.close();
        }
    }

    /**
     * Softmax along {@code dim}; checked against the input's rank at each call.
     *
     * @param dim the dimension the softmax runs over (negative counts from the end)
     */
    public Softmax(int dim) {
        this.dim = dim;
    }

    /** {@return the {@code dim} setting this layer was built with (PyTorch's name)} */
    public int dim() {
        return dim;
    }

    @Override
    public long[] outputShape(long... inputShape) {
        checkShapeArgument(inputShape);
        axis(inputShape);
        return inputShape.clone();
    }

    /** The non-negative axis of {@code dim} for a shape, or an exception naming the valid range. */
    private int axis(long[] shape) {
        int rank = Math.max(1, shape.length);
        if (dim < -rank || dim >= rank) {
            throw new IllegalArgumentException(this + ": expected dim in [" + -rank + ", " + (rank - 1)
                    + "] for an input of rank " + shape.length + ", got " + dim + " (input shape " + Arrays.toString(shape) + ")");
        }
        return dim < 0 ? dim + rank : dim;
    }

    private View view(long[] shape) {
        if (shape.length == 0) return new View(1, 1, 1);
        int a = axis(shape);
        long outer = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= shape[i];
        for (int i = a + 1; i < shape.length; i++) inner *= shape[i];
        return new View(outer, shape[a], inner);
    }

    /**
     * ONNX's {@code Softmax} with {@code axis = dim} (one axis, as since opset 13). A rank-0 input,
     * which PyTorch treats as rank 1, is the default {@code Layer} node.
     */
    @Override
    public String lower(GraphBuilder graph, String input, String path) {
        Lowering.check(this, graph, input, path);
        if (graph.value(input).shape().rank() == 0) return super.lower(graph, input, path);
        return graph.node("Softmax", path, dev.panamadnn.graph.Attributes.of("axis", (long) dim), input);
    }

    @Override
    void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        View v = view(input.shape());
        into(input, out, backend, (x, y) -> reference(x, v, y.segment()), (x, y) -> {
            try (PrimitiveCache.Lease<Kernel> lease = kernels.acquire(v, this::createKernel)) {
                Kernel c = lease.value();
                c.primitive().execute(Args.src(c.desc(), x.segment()), Args.dst(c.desc(), y.segment()));
            }
            if (SpecialValues.anyNonFinite(x.segment(), x.numel())) repairNonFinite(x.segment(), v, y.segment());
        });
    }

    /**
     * PyTorch's softmax is NaN on a whole line whose maximum is NaN or infinite (x - max is NaN
     * there: NaN, inf - inf, or -inf - -inf); oneDNN's skips a NaN when it takes the maximum and
     * gives [NaN, 0, 0] for [NaN, 1, 2] or [inf, 1, 2]. Run only when the input has a NaN or an
     * infinity (a scan, cost in docs/numerics.md); -inf among finite values is right as it is (0).
     */
    private static void repairNonFinite(MemorySegment x, View v, MemorySegment y) {
        for (long o = 0; o < v.outer(); o++) {
            for (long in = 0; in < v.inner(); in++) {
                long base = o * v.size() * v.inner() + in;
                boolean nan = false, allNegativeInfinite = true;
                for (long s = 0; s < v.size(); s++) {
                    float e = x.getAtIndex(ValueLayout.JAVA_FLOAT, base + s * v.inner());
                    nan |= e != e || e == Float.POSITIVE_INFINITY;
                    allNegativeInfinite &= e == Float.NEGATIVE_INFINITY;
                }
                if (!nan && !allNegativeInfinite) continue;
                for (long s = 0; s < v.size(); s++) y.setAtIndex(ValueLayout.JAVA_FLOAT, base + s * v.inner(), Float.NaN);
            }
        }
    }

    private Kernel createKernel(View v) {
        MemoryDescriptor desc = MemoryDescriptor.f32(Ops.plain(3), v.outer(), v.size(), v.inner());
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = Ops.softmax(desc, 1, attr, "softmax (accurate) f32[" + v.outer() + ", "
                     + v.size() + ", " + v.inner() + "] along axis 1")) {
            return new Kernel(desc, Primitive.create(pd));
        } catch (RuntimeException e) {
            desc.close();
            throw e;
        }
    }

    /** For each (outer, inner) line: subtract the max, exponentiate, divide by the sum; in double. */
    private static void reference(float[] x, View v, MemorySegment y) {
        for (long o = 0; o < v.outer(); o++) {
            for (long in = 0; in < v.inner(); in++) {
                long base = o * v.size() * v.inner() + in;
                double max = Double.NEGATIVE_INFINITY;
                for (long s = 0; s < v.size(); s++) max = Math.max(max, x[(int) (base + s * v.inner())]);
                double sum = 0;
                for (long s = 0; s < v.size(); s++) sum += Math.exp(x[(int) (base + s * v.inner())] - max);
                for (long s = 0; s < v.size(); s++) {
                    long i = base + s * v.inner();
                    y.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (Math.exp(x[(int) i] - max) / sum));
                }
            }
        }
    }

    @Override
    void release() {
        kernels.close();
    }

    @Override
    public String toString() {
        return "Softmax(dim=" + dim + ")";
    }
}
