package dev.panamadnn.nn;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.internal.lowering.PoolLowering;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * Adaptive pooling shared by {@link AdaptiveAvgPool1d}, {@link AdaptiveAvgPool2d} and
 * {@link AdaptiveMaxPool2d}: the output size is fixed and each output {@code i} of {@code out}
 * along an axis of size {@code in} pools the input range
 * {@code [floor(i*in/out), ceil((i+1)*in/out))} (PyTorch's rule; windows may differ in size and
 * overlap when {@code in % out != 0}, and {@code out > in} is allowed). Output size 1 is global pooling.
 *
 * <p>Native path: when every pooled axis divides ({@code in % out == 0}) the windows are regular,
 * {@code kernel = stride = in/out} without padding ({@link PoolLowering#adaptive}), and a oneDNN
 * pooling primitive computes them.
 * Otherwise oneDNN's fixed-window pooling cannot express the varying windows, and the native path
 * runs the same plain-Java loops as the reference (so both paths agree exactly there). Max
 * pooling's NaN and -inf are repaired after the primitive ({@link PoolReference#repairMax}).
 */
abstract sealed class AdaptivePoolNd extends PoolLayer permits AdaptiveAvgPool1d, AdaptiveAvgPool2d, AdaptiveMaxPool1d, AdaptiveMaxPool2d {
    private final boolean max;
    private final long[] outputSize;
    private final PoolPrimitives primitives;

    AdaptivePoolNd(String name, int nd, boolean max, int[] outputSize) {
        super(name, nd);
        this.max = max;
        if (outputSize == null || outputSize.length != nd) {
            throw new IllegalArgumentException(name + ": expected " + nd + " value" + (nd == 1 ? "" : "s")
                    + " for output_size, got " + Arrays.toString(outputSize));
        }
        this.outputSize = new long[nd];
        for (int i = 0; i < nd; i++) {
            if (outputSize[i] < 1) {
                throw new IllegalArgumentException(name + ": expected output_size >= 1, got " + Arrays.toString(outputSize));
            }
            this.outputSize[i] = outputSize[i];
        }
        // Only asked for sizes pool() found windowed, so never null.
        primitives = new PoolPrimitives(name, (ih, iw) -> PoolLowering.adaptive(max, new long[] {ih, iw}, spatialOutput(ih, iw, null)));
    }

    @Override
    final long[] spatialOutput(long ih, long iw, long[] inputShape) {
        return nd == 2 ? outputSize.clone() : new long[] {1, outputSize[0]};
    }

    @Override
    final void poolReference(MemorySegment x, long n, long c, long ih, long iw, long oh, long ow, MemorySegment y) {
        PoolReference.adaptive(max, x, n * c, ih, iw, oh, ow, y);
    }

    @Override
    final void pool(MemorySegment x, long n, long c, long ih, long iw, long oh, long ow, MemorySegment y) {
        if (!PoolLowering.adaptiveIsWindowed(ih, oh) || !PoolLowering.adaptiveIsWindowed(iw, ow)) {
            PoolReference.adaptive(max, x, n * c, ih, iw, oh, ow, y);   // varying windows: see the class comment
            return;
        }
        primitives.run(n, c, ih, iw, x, y);
        if (max) {
            PoolReference.repairMax(x, n * c, ih, iw, y, oh, ow, (p, oy, ox) -> PoolReference.adaptive(true, x, p, ih, iw, oh, ow, oy, ox));
        }
    }

    /**
     * {@code AdaptiveAvgPool} / {@code AdaptiveMaxPool} (ours: PyTorch's windows) with
     * output_size; an unbatched input runs as a batch of one.
     */
    @Override
    public final String lower(GraphBuilder graph, String input, String path) {
        Lowering.check(this, graph, input, path);
        Attributes a = Attributes.of("output_size", outputSize);
        return Lowering.batched(graph, input, path, nd + 2, x -> graph.node(max ? "AdaptiveMaxPool" : "AdaptiveAvgPool", path, a, x));
    }

    /** {@return the {@code outputSize} setting this layer was built with (PyTorch's name)} */
    public final int[] outputSize() {
        return Arrays.stream(outputSize).mapToInt(Math::toIntExact).toArray();
    }

    @Override
    void release() {
        primitives.close();
    }

    /** PyTorch's repr, e.g. {@code AdaptiveAvgPool2d(output_size=(5, 7))}. */
    @Override
    public final String toString() {
        return name + "(output_size=" + show(outputSize) + ")";
    }
}
