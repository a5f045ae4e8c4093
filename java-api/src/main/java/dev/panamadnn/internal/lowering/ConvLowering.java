package dev.panamadnn.internal.lowering;

import java.util.ArrayList;
import java.util.List;
import java.util.function.ToLongFunction;

/**
 * A convolution or deconvolution (transposed convolution) on one input size, in the terms
 * {@code ConvOps.convolution} / {@code deconvolution} take: per spatial axis the stride, the
 * 0-based dilation, the left and right padding, and the sizes. PyTorch's {@code output_padding} has
 * no oneDNN counterpart: a deconvolution's right padding shrinks by it instead (it may go negative).
 * oneDNN needs {@code padRight > -stride}; output padding beyond that only adds outputs no kernel tap
 * reaches (pure bias, possible when output_padding < dilation), so oneDNN computes without them
 * (right padding 0) and the caller appends that {@link Axis#tail()} ({@link ConvSpec.Axis#oneDnnPadRight()}).
 *
 * @param axes one per spatial axis of {@code spec}, outermost first
 */
public record ConvLowering(ConvSpec spec, List<Axis> axes) {
    /**
     * One spatial axis.
     *
     * @param out    PyTorch's output size
     * @param dilate oneDNN's 0-based dilation (PyTorch's minus 1)
     * @param tail   trailing outputs oneDNN does not compute (bias only), 0 unless transposed
     */
    public record Axis(long in, long out, long kernel, long stride, long dilate, long padLeft, long padRight, long tail) {
        /** The output size oneDNN computes: {@code out - tail}. */
        public long computedOut() {
            return out - tail;
        }
    }

    public ConvLowering {
        axes = List.copyOf(axes);
    }

    static ConvLowering of(Object who, ConvSpec spec, long[] inputSize) {
        long[] out = spec.outputSize(who, inputSize);
        List<Axis> axes = new ArrayList<>(out.length);
        for (int i = 0; i < out.length; i++) {
            ConvSpec.Axis a = spec.axes().get(i);
            if (out[i] <= 0) {
                throw new IllegalArgumentException(who + ": output size " + out[i] + " <= 0 on spatial dim " + i + " for input size "
                        + inputSize[i]);
            }
            axes.add(new Axis(inputSize[i], out[i], a.kernel(), a.stride(), a.dilation() - 1, a.padBefore(), a.oneDnnPadRight(), a.tail()));
        }
        return new ConvLowering(spec, axes);
    }

    /** See {@link ConvSpec#weightDims()}. */
    public long[] weightDims() {
        return spec.weightDims();
    }

    public long[] inputSize() {
        return collect(Axis::in);
    }

    /** PyTorch's output size per axis. */
    public long[] outputSize() {
        return collect(Axis::out);
    }

    /** The output size oneDNN computes per axis (PyTorch's minus the {@link Axis#tail()}). */
    public long[] computedOutputSize() {
        return collect(Axis::computedOut);
    }

    public long[] kernel() {
        return collect(Axis::kernel);
    }

    public long[] strides() {
        return collect(Axis::stride);
    }

    /** oneDNN's 0-based dilation per axis. */
    public long[] dilates() {
        return collect(Axis::dilate);
    }

    public long[] padLeft() {
        return collect(Axis::padLeft);
    }

    public long[] padRight() {
        return collect(Axis::padRight);
    }

    public long[] tail() {
        return collect(Axis::tail);
    }

    private long[] collect(ToLongFunction<Axis> field) {
        return axes.stream().mapToLong(field).toArray();
    }
}
