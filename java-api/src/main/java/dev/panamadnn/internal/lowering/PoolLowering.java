package dev.panamadnn.internal.lowering;

import dev.panamadnn.internal.dnnl.PoolOps;
import java.util.ArrayList;
import java.util.List;

/**
 * A pooling on one input size in the terms {@code PoolOps.pooling} takes: the algorithm and, per
 * spatial axis, kernel, stride, 0-based dilation and left/right padding.
 *
 * <p>Windowed pooling (MaxPool, AvgPool): PyTorch's symmetric {@code padding} and {@code ceil_mode}
 * become {@code padLeft = padding} and {@code padRight = max(padding, (out - 1) * stride + reach - in
 * - padding)}, the right padding that makes oneDNN's floor-mode size formula give PyTorch's output
 * size ({@code reach = dilation * (kernel - 1) + 1}). Adaptive pooling whose input divides by its
 * output is the windowed pooling {@code kernel = stride = in / out} without padding.
 *
 * @param axes one per spatial axis, outermost first
 */
public record PoolLowering(PoolOps.Algorithm algorithm, List<Axis> axes) {
    /**
     * One spatial axis.
     *
     * @param dilate oneDNN's 0-based dilation (PyTorch's minus 1)
     */
    public record Axis(long in, long out, long kernel, long stride, long dilate, long padLeft, long padRight) {
        /** The extent of the dilated window: {@code (dilate + 1) * (kernel - 1) + 1}. */
        public long reach() {
            return (dilate + 1) * (kernel - 1) + 1;
        }

        /**
         * The first output whose window ends past {@code in + padLeft}, {@code out} if none. Only
         * ceil_mode's extra right padding makes such windows; where they exist PyTorch's
         * count_include_pad divisor (which counts the padding but not that overhang) differs from
         * oneDNN's (the full kernel). Windows only move right, so every later output overhangs too.
         */
        public long firstOverhanging() {
            // output o overhangs iff o * stride - padLeft + reach > in + padLeft
            long first = Math.floorDiv(in + 2 * padLeft - reach(), stride) + 1;
            return Math.clamp(first, 0, out);
        }

        /** Whether output {@code o}'s window has no tap inside the input (it lies wholly in the padding). */
        public boolean inPaddingOnly(long o) {
            long start = o * stride - padLeft;
            return firstTap(start, dilate + 1, kernel) >= endTap(start, dilate + 1, kernel, in);
        }
    }

    public PoolLowering {
        axes = List.copyOf(axes);
    }

    /**
     * The first tap {@code j} (of {@code kernel}, step {@code step}) of a window starting at {@code start} that lands at
     * or right of 0: {@code start + j * step >= 0}; {@code kernel} if none. With {@link #endTap}, the taps inside the
     * input are {@code [firstTap, endTap)}: computed, not searched, so a window of 2^31 taps costs nothing.
     */
    public static long firstTap(long start, long step, long kernel) {
        return start >= 0 ? 0 : Math.min(kernel, Math.ceilDiv(-start, step));
    }

    /** One past the last tap of the window ({@link #firstTap}) that lands left of {@code in}: {@code start + j * step < in}. */
    public static long endTap(long start, long step, long kernel, long in) {
        return in - 1 - start < 0 ? 0 : Math.min(kernel, Math.floorDiv(in - 1 - start, step) + 1);
    }

    /** oneDNN's algorithm for PyTorch's MaxPool ({@code max}) or AvgPool with or without {@code count_include_pad}. */
    public static PoolOps.Algorithm algorithm(boolean max, boolean countIncludePad) {
        return max ? PoolOps.Algorithm.MAX
                : countIncludePad ? PoolOps.Algorithm.AVG_INCLUDE_PADDING : PoolOps.Algorithm.AVG_EXCLUDE_PADDING;
    }

    /**
     * PyTorch's {@code pooling_output_shape}: {@code floor((in + 2 * padding - reach + (ceil ? stride - 1 : 0)) / stride) + 1},
     * and with ceil_mode one less if the last window would start in the right padding ({@code (out - 1) * stride >= in + padding}).
     * May be {@code <= 0} (the caller reports it).
     *
     * @param dilation PyTorch's, 1-based
     */
    public static long outputSize(long in, long kernel, long stride, long padding, long dilation, boolean ceilMode) {
        long out = Math.floorDiv(in + 2 * padding - dilation * (kernel - 1) - 1 + (ceilMode ? stride - 1 : 0), stride) + 1;
        if (ceilMode && (out - 1) * stride >= in + padding) out--;
        return out;
    }

    /**
     * A MaxPool / AvgPool on spatial size {@code in}, hyperparameters per axis in PyTorch's terms
     * (dilation 1-based, symmetric padding).
     *
     * @throws IllegalArgumentException if an output size is {@code <= 0} (layers check first, with their own message)
     */
    public static PoolLowering windowed(boolean max, boolean countIncludePad, long[] in, long[] kernel, long[] stride, long[] padding,
                                        long[] dilation, boolean ceilMode) {
        int nd = in.length;
        if (kernel.length != nd || stride.length != nd || padding.length != nd || dilation.length != nd) {
            throw new IllegalArgumentException("pooling: every per-axis array needs " + nd + " values");
        }
        List<Axis> axes = new ArrayList<>(nd);
        for (int i = 0; i < nd; i++) {
            long out = outputSize(in[i], kernel[i], stride[i], padding[i], dilation[i], ceilMode);
            if (out <= 0) throw new IllegalArgumentException("pooling: output size " + out + " <= 0 on spatial dim " + i);
            long reach = dilation[i] * (kernel[i] - 1) + 1;
            long padRight = Math.max(padding[i], (out - 1) * stride[i] + reach - in[i] - padding[i]);
            Axis axis = new Axis(in[i], out, kernel[i], stride[i], dilation[i] - 1, padding[i], padRight);
            axes.add(max ? clipped(axis) : axis);
        }
        return new PoolLowering(algorithm(max, countIncludePad), axes);
    }

    /** Max pooling kernels up to this many taps per axis are left as they are ({@link #clipped}). */
    static final long CLIP_ABOVE = 4096;

    /**
     * A max pooling axis whose kernel reaches past every input position any window can use (possible only with ceil_mode
     * and a stride as large: PyTorch accepts kernel 2^31 - 1 on a size-1 input) with the kernel cut to the taps a
     * window starting at {@code -padLeft} can land in the input with, and the right padding that keeps oneDNN's output
     * size: the same maximum for every output (padding taps never win), in time that does not grow with the kernel.
     * Only kernels over {@link #CLIP_ABOVE} taps (ordinary ones keep the geometry oneDNN has always been given), and
     * unchanged where no right padding of at least the left one would keep the output size.
     */
    static Axis clipped(Axis a) {
        long step = a.dilate() + 1;
        long useful = Math.floorDiv(a.in() - 1 + a.padLeft(), step) + 1;   // taps from -padLeft up to in - 1
        if (a.kernel() <= CLIP_ABOVE || useful >= a.kernel() || useful < 1) return a;
        long reach = step * (useful - 1) + 1;
        long padRight = Math.max(a.padLeft(), (a.out() - 1) * a.stride() + reach - a.in() - a.padLeft());
        // oneDNN's output size: floor((in + padLeft + padRight - reach) / stride) + 1 must stay out, and its windows must
        // not start past their reach (padding below the kernel)
        boolean keeps = Math.floorDiv(a.in() + a.padLeft() + padRight - reach, a.stride()) + 1 == a.out()
                && a.padLeft() < reach && padRight < reach;
        return keeps ? new Axis(a.in(), a.out(), useful, a.stride(), a.dilate(), a.padLeft(), padRight) : a;
    }

    /** Whether adaptive pooling from {@code in} to {@code out} along one axis has regular windows: {@code in % out == 0}. */
    public static boolean adaptiveIsWindowed(long in, long out) {
        return out >= 1 && in % out == 0;
    }

    /**
     * An adaptive pooling from {@code in} to {@code out} as a windowed one, {@code kernel = stride = in / out}
     * without padding, or null when some axis does not divide (its windows then vary in size, which
     * oneDNN's fixed-window pooling cannot express). Averages never see padding, so {@code avg_exclude_padding}.
     */
    public static PoolLowering adaptive(boolean max, long[] in, long[] out) {
        if (in.length != out.length) throw new IllegalArgumentException("pooling: " + in.length + " input sizes, " + out.length + " output sizes");
        List<Axis> axes = new ArrayList<>(in.length);
        for (int i = 0; i < in.length; i++) {
            if (!adaptiveIsWindowed(in[i], out[i])) return null;
            long k = in[i] / out[i];
            axes.add(new Axis(in[i], out[i], k, k, 0, 0, 0));
        }
        return new PoolLowering(algorithm(max, false), axes);
    }

    /** Whether some output window ends past the input plus the left padding ({@link Axis#firstOverhanging()}). */
    public boolean overhangs() {
        for (Axis a : axes) if (a.firstOverhanging() < a.out()) return true;
        return false;
    }

    public long[] inputSize() {
        return collect(IN);
    }

    public long[] outputSize() {
        return collect(OUT);
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

    private static final int IN = 0, OUT = 1, KERNEL = 2, STRIDE = 3, DILATE = 4, PAD_LEFT = 5, PAD_RIGHT = 6;   // the fields collect() reads

    /** Field {@code field} of every axis, by its index in the accessors above (no method reference: each costs a cold JVM a spun class). */
    private long[] collect(int field) {
        long[] v = new long[axes.size()];
        for (int i = 0; i < v.length; i++) {
            Axis a = axes.get(i);
            v[i] = switch (field) {
                case IN -> a.in();
                case OUT -> a.out();
                case KERNEL -> a.kernel();
                case STRIDE -> a.stride();
                case DILATE -> a.dilate();
                case PAD_LEFT -> a.padLeft();
                default -> a.padRight();
            };
        }
        return v;
    }
}
