package dev.panamadnn.nn;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.internal.lowering.PoolLowering;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The windowed pooling shared by {@link MaxPool1d}, {@link MaxPool2d}, {@link AvgPool1d} and
 * {@link AvgPool2d}: PyTorch's hyperparameters, validated as PyTorch does, and both paths.
 *
 * <p>Output size per spatial dimension (PyTorch's {@code pooling_output_shape}):
 * {@code out = floor((in + 2*padding - dilation*(kernel-1) - 1 + (ceil_mode ? stride-1 : 0)) / stride) + 1},
 * and with {@code ceil_mode} one less if the last window would start in the right padding,
 * i.e. if {@code (out-1)*stride >= in + padding}.
 *
 * <p>Native path: a oneDNN pooling primitive per input shape, its geometry from {@link
 * PoolLowering#windowed}: PyTorch's symmetric padding and ceil_mode become oneDNN's {@code
 * padding_l = padding} and {@code padding_r = max(padding, (out-1)*stride + dilation*(kernel-1) + 1
 * - in - padding)}; dilation becomes 0-based. {@code count_include_pad} picks {@code
 * avg_include_padding} or {@code avg_exclude_padding}. One difference is repaired in Java: with
 * {@code ceil_mode} and {@code count_include_pad}, PyTorch's divisor counts the padding but not the part of the last window that hangs past
 * {@code in + padding}, whereas oneDNN divides by the full kernel; those border outputs (the last
 * row and/or column at most) are recomputed with the reference formula after the primitive.
 * Max pooling's NaN and -inf are repaired likewise ({@link PoolReference#repairMax}).
 */
abstract sealed class PoolNd extends PoolLayer permits MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d {
    private final boolean max;
    private final long[] kernel, stride, padding, dilation;
    /** The same lifted to 2-D: a 1-D layer's height axis has kernel 1, stride 1, no padding, dilation 1. */
    private final long[] kernel2d, stride2d, padding2d, dilation2d;
    private final boolean ceilMode, countIncludePad;
    private final PoolPrimitives primitives;

    /** Per-dimension arrays have {@code nd} entries; a null stride means the kernel size. */
    PoolNd(String name, int nd, boolean max, int[] kernel, int[] stride, int[] padding, int[] dilation, boolean ceilMode,
           boolean countIncludePad) {
        super(name, nd);
        this.max = max;
        this.kernel = perDim("kernel_size", kernel, 1);
        this.stride = stride == null ? this.kernel.clone() : perDim("stride", stride, 1);
        this.padding = perDim("padding", padding, 0);
        this.dilation = perDim("dilation", dilation, 1);
        this.ceilMode = ceilMode;
        this.countIncludePad = countIncludePad;
        for (int i = 0; i < nd; i++) {
            if (this.padding[i] > this.kernel[i] / 2) {
                throw new IllegalArgumentException(name + ": expected padding at most half of kernel_size (<= "
                        + this.kernel[i] / 2 + "), got padding=" + show(this.padding) + " and kernel_size=" + show(this.kernel));
            }
        }
        kernel2d = lift(this.kernel, 1);
        stride2d = lift(this.stride, 1);
        padding2d = lift(this.padding, 0);
        dilation2d = lift(this.dilation, 1);
        primitives = new PoolPrimitives(name, this::lowering);
    }

    private long[] lift(long[] v, long fill) {
        return nd == 2 ? v : new long[] {fill, v[0]};
    }

    private long[] perDim(String what, int[] values, int min) {
        if (values == null) throw new IllegalArgumentException(name + ": " + what + " must not be null");
        if (values.length != nd) {
            throw new IllegalArgumentException(name + ": expected " + nd + " value" + (nd == 1 ? "" : "s") + " for " + what
                    + ", got " + values.length + " (" + Arrays.toString(values) + ")");
        }
        long[] out = new long[nd];
        for (int i = 0; i < nd; i++) {
            if (values[i] < min) {
                throw new IllegalArgumentException(name + ": expected " + what + " >= " + min + ", got " + Arrays.toString(values));
            }
            out[i] = values[i];
        }
        return out;
    }

    @Override
    final long[] spatialOutput(long ih, long iw, long[] inputShape) {
        long[] in = {ih, iw}, out = new long[2];
        for (int a = 0; a < 2; a++) {
            out[a] = PoolLowering.outputSize(in[a], kernel2d[a], stride2d[a], padding2d[a], dilation2d[a], ceilMode);
        }
        if (out[0] <= 0 || out[1] <= 0) {
            long[] effective = new long[nd];
            for (int i = 0; i < nd; i++) effective[i] = dilation[i] * (kernel[i] - 1) + 1;
            throw new IllegalArgumentException(label() + ": kernel larger than padded input: expected an output size >= 1, got "
                    + (nd == 2 ? "(" + out[0] + ", " + out[1] + ")" : out[1]) + " for input shape " + Arrays.toString(inputShape)
                    + " (effective kernel " + show(effective) + ", padding " + show(padding) + ")");
        }
        return out;
    }

    private PoolReference.Window window() {
        return new PoolReference.Window(max, countIncludePad, kernel2d[0], kernel2d[1], stride2d[0], stride2d[1], padding2d[0],
                padding2d[1], dilation2d[0], dilation2d[1]);
    }

    /** oneDNN's geometry for an input of {@code ih x iw} (already validated by {@link #spatialOutput}). */
    private PoolLowering lowering(long ih, long iw) {
        return PoolLowering.windowed(max, countIncludePad, new long[] {ih, iw}, kernel2d, stride2d, padding2d, dilation2d, ceilMode);
    }

    @Override
    final void poolReference(MemorySegment x, long n, long c, long ih, long iw, long oh, long ow, MemorySegment y) {
        PoolReference.windows(x, n * c, ih, iw, oh, ow, window(), y);
    }

    @Override
    final void pool(MemorySegment x, long n, long c, long ih, long iw, long oh, long ow, MemorySegment y) {
        PoolReference.Window w = window();
        PoolLowering l = primitives.run(n, c, ih, iw, x, y);
        if (max) {
            PoolReference.repairMax(x, n * c, ih, iw, y, oh, ow, (p, oy, ox) -> PoolReference.window(x, p, ih, iw, oy, ox, w));
            return;
        }
        // Outputs whose window hangs past in + padding (ceil_mode only): PyTorch's divisor excludes that overhang.
        if (!countIncludePad || !l.overhangs()) return;
        long firstRow = l.axes().get(0).firstOverhanging(), firstCol = l.axes().get(1).firstOverhanging();
        for (long p = 0; p < n * c; p++)
            for (long oy = 0; oy < oh; oy++)
                for (long ox = oy >= firstRow ? 0 : firstCol; ox < ow; ox++)
                    y.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, (p * oh + oy) * ow + ox,
                            PoolReference.window(x, p, ih, iw, oy, ox, w));
    }

    /**
     * ONNX's {@code MaxPool} (kernel_shape, strides, pads {@code [p..., p...]}, dilations,
     * ceil_mode) or {@code AveragePool} (kernel_shape, strides, pads, ceil_mode,
     * count_include_pad, always given since ONNX's default is 0 and PyTorch's 1). Both with
     * PyTorch's ceil_mode rules: the last window starts inside the input or its left padding, and
     * with count_include_pad the divisor counts the padding but not the overhang past it. An
     * unbatched input runs as a batch of one.
     */
    @Override
    public final String lower(GraphBuilder graph, String input, String path) {
        Lowering.check(this, graph, input, path);
        long[] pads = new long[2 * nd];
        System.arraycopy(padding, 0, pads, 0, nd);
        System.arraycopy(padding, 0, pads, nd, nd);
        Attributes.Builder a = Attributes.builder().put("kernel_shape", kernel).put("strides", stride).put("pads", pads);
        if (max) a.put("dilations", dilation);
        a.put("ceil_mode", ceilMode ? 1L : 0L);
        if (!max) a.put("count_include_pad", countIncludePad ? 1L : 0L);
        Attributes attributes = a.build();
        return Lowering.batched(graph, input, path, nd + 2, x -> graph.node(max ? "MaxPool" : "AveragePool", path, attributes, x));
    }

    /** The oneDNN implementation for an input shape (for reports and tests). */
    final String implementation(long... inputShape) {
        outputShape(inputShape);   // validates
        long[] v = view(inputShape);
        return primitives.implementation(v[0], v[1], v[2], v[3]);
    }

    /** {@return the {@code kernelSize} setting this layer was built with (PyTorch's name)} */
    public final int[] kernelSize() {
        return ints(kernel);
    }

    /** {@return the {@code stride} setting this layer was built with (PyTorch's name)} */
    public final int[] stride() {
        return ints(stride);
    }

    /** {@return the {@code padding} setting this layer was built with (PyTorch's name)} */
    public final int[] padding() {
        return ints(padding);
    }

    /** {@return the {@code ceilMode} setting this layer was built with (PyTorch's name)} */
    public final boolean ceilMode() {
        return ceilMode;
    }

    final long[] dilationValues() {
        return dilation;
    }

    final boolean countIncludePadValue() {
        return countIncludePad;
    }

    private static int[] ints(long[] v) {
        return Arrays.stream(v).mapToInt(Math::toIntExact).toArray();
    }

    @Override
    void release() {
        primitives.close();
    }

    /**
     * PyTorch's repr: MaxPool shows kernel_size, stride, padding, dilation, ceil_mode; AvgPool
     * shows kernel_size, stride, padding (AvgPool1d as 1-tuples) and, unlike PyTorch, also
     * ceil_mode / count_include_pad when they are not the defaults, so the repr identifies the layer.
     */
    @Override
    public final String toString() {
        if (max) {
            return name + "(kernel_size=" + show(kernel) + ", stride=" + show(stride) + ", padding=" + show(padding)
                    + ", dilation=" + show(dilation) + ", ceil_mode=" + (ceilMode ? "True" : "False") + ")";
        }
        StringBuilder s = new StringBuilder(name).append("(kernel_size=").append(avgShow(kernel)).append(", stride=")
                .append(avgShow(stride)).append(", padding=").append(avgShow(padding));
        if (ceilMode) s.append(", ceil_mode=True");
        if (!countIncludePad) s.append(", count_include_pad=False");
        return s.append(')').toString();
    }

    private String avgShow(long[] v) {
        return nd == 1 ? "(" + v[0] + ",)" : show(v);
    }
}
