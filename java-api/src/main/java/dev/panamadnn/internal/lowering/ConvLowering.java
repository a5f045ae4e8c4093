package dev.panamadnn.internal.lowering;

import java.util.ArrayList;
import java.util.List;

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
        return collect(IN);
    }

    /** PyTorch's output size per axis. */
    public long[] outputSize() {
        return collect(OUT);
    }

    /** The output size oneDNN computes per axis (PyTorch's minus the {@link Axis#tail()}). */
    public long[] computedOutputSize() {
        return collect(COMPUTED_OUT);
    }

    public long[] kernel() {
        return collect(KERNEL);
    }

    public long[] strides() {
        return collect(STRIDE);
    }

    /** oneDNN's 0-based dilation per axis. */
    public long[] dilates() {
        return collect(DILATE);
    }

    public long[] padLeft() {
        return collect(PAD_LEFT);
    }

    public long[] padRight() {
        return collect(PAD_RIGHT);
    }

    public long[] tail() {
        return collect(TAIL);
    }

    private static final int IN = 0, OUT = 1, COMPUTED_OUT = 2, KERNEL = 3, STRIDE = 4, DILATE = 5, PAD_LEFT = 6, PAD_RIGHT = 7, TAIL = 8;   // the fields collect() reads

    /** Field {@code field} of every axis, by its index in the accessors above (no method reference: each costs a cold JVM a spun class). */
    private long[] collect(int field) {
        long[] v = new long[axes.size()];
        for (int i = 0; i < v.length; i++) {
            Axis a = axes.get(i);
            v[i] = switch (field) {
                case IN -> a.in();
                case OUT -> a.out();
                case COMPUTED_OUT -> a.computedOut();
                case KERNEL -> a.kernel();
                case STRIDE -> a.stride();
                case DILATE -> a.dilate();
                case PAD_LEFT -> a.padLeft();
                case PAD_RIGHT -> a.padRight();
                default -> a.tail();
            };
        }
        return v;
    }
}
