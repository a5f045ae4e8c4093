package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * PyTorch's {@code nn.Upsample(size, scale_factor, mode, align_corners)} (and so
 * {@code F.interpolate}) for {@code mode} "nearest" (input {@code [N, C, L]} or {@code [N, C, H, W]}),
 * "linear" ({@code [N, C, L]}) and "bilinear" ({@code [N, C, H, W]}). Exactly one of {@code size}
 * (the output's spatial sizes) and {@code scale_factor} is given, either as one value for every
 * spatial dimension or one per dimension; with a scale the output size is {@code floor(in * scale)}.
 *
 * <p>Sampling as PyTorch 1.13 does it, in f32: the source-to-destination ratio is {@code 1 / scale}
 * when a scale was given, else {@code in / out}; with {@code align_corners} it is
 * {@code (in - 1) / (out - 1)} (0 for an output of 1). Nearest takes source
 * {@code min(floor(dst * ratio), in - 1)} (PyTorch's legacy "nearest", not "nearest-exact"). Linear
 * modes take {@code src = ratio * dst} with {@code align_corners}, else
 * {@code max(ratio * (dst + 0.5) - 0.5, 0)} (the f32 ratio, the position arithmetic in double), and blend the two
 * neighbours {@code floor(src)} and the next (clamped), bilinear rows of columns.
 *
 * <p>PyTorch's shortcuts, which only differ from those rules when a scale is given: a linear dimension whose output
 * size equals its input's is copied ({@code x * 1 + x * 0}, so an infinity becomes NaN and its neighbours stay finite,
 * whatever the scale); 2-D nearest of an input with one channel (the one PyTorch 1.13 runs through its channels-last
 * kernel) copies a dimension whose output size equals its input's and takes {@code dst / 2} where it is twice the
 * input's, while 1-D nearest and 2-D nearest of several channels take the rule above (a model of these rules matched
 * torch 1.13 on 9,000 random configurations; {@code scripts/torch-probe} found them). {@code align_corners} may only
 * be set for linear modes (PyTorch's rule); unset it is False.
 *
 * <p>Both paths run these loops: oneDNN's resampling primitive is not bound here, and its nearest
 * rounds differently from PyTorch's legacy nearest. No parameters; not lowered to a graph yet
 * (it lowers to a {@code Layer} node running this forward). Thread-safe (see {@link Layer}).
 */
public final class Upsample extends Layer {
    private final String mode;
    private final long[] size;        // null when scale is given
    private final double[] scale;     // null when size is given
    private final Boolean alignCorners;

    /**
     * Upsampling to fixed spatial {@code size} (one value for every spatial dimension, or one per dimension).
     *
     * @param mode {@code nearest}, {@code linear} or {@code bilinear}
     * @param size the output size, or null when a scale is given
     * @param alignCorners PyTorch's {@code align_corners} (linear modes only)
     * @return the layer
     */
    public static Upsample size(String mode, Boolean alignCorners, long... size) {
        if (size == null || size.length == 0 || size.length > 2) {
            throw new IllegalArgumentException("Upsample: size must have 1 or 2 values, got " + (size == null ? "null" : Arrays.toString(size)));
        }
        for (long s : size) if (s < 1) throw new IllegalArgumentException("Upsample: size values must be >= 1, got " + Arrays.toString(size));
        return new Upsample(mode, size.clone(), null, alignCorners);
    }

    /**
     * Upsampling by {@code scale} (one factor for every spatial dimension, or one per dimension).
     *
     * @param mode {@code nearest}, {@code linear} or {@code bilinear}
     * @param scale the scale factors, or null when a size is given
     * @param alignCorners PyTorch's {@code align_corners} (linear modes only)
     * @return the layer
     */
    public static Upsample scale(String mode, Boolean alignCorners, double... scale) {
        if (scale == null || scale.length == 0 || scale.length > 2) {
            throw new IllegalArgumentException("Upsample: scale_factor must have 1 or 2 values, got " + (scale == null ? "null" : Arrays.toString(scale)));
        }
        for (double s : scale) {
            if (!(s > 0) || Double.isInfinite(s)) throw new IllegalArgumentException("Upsample: scale_factor must be finite and > 0, got " + Arrays.toString(scale));
        }
        return new Upsample(mode, null, scale.clone(), alignCorners);
    }

    /**
     * PyTorch's {@code F.interpolate(x, size, scale_factor, mode, align_corners)} for the modes above:
     * exactly one of {@code size} and {@code scale} non-null; a new tensor the caller owns.
     *
     * @param x the input, [N, C, ...]
     * @param size the output size, or null when a scale is given
     * @param scale the scale factors, or null when a size is given
     * @param mode {@code nearest}, {@code linear} or {@code bilinear}
     * @param alignCorners PyTorch's {@code align_corners} (linear modes only)
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException as {@link #size}, {@link #scale} and {@link #forward(Tensor, Backend)} do,
     *                                  or if both or neither of {@code size} and {@code scale} are given
     * @return a new tensor owned by the caller (close it)
     */
    public static Tensor interpolate(Tensor x, long[] size, double[] scale, String mode, Boolean alignCorners, Backend backend) {
        if ((size == null) == (scale == null)) {
            throw new IllegalArgumentException("interpolate: expected exactly one of size and scale_factor, got "
                    + (size == null ? "neither" : "both"));
        }
        try (Upsample u = size != null ? size(mode, alignCorners, size) : scale(mode, alignCorners, scale)) {
            return u.forward(x, backend);
        }
    }

    private Upsample(String mode, long[] size, double[] scale, Boolean alignCorners) {
        if (mode == null || !(mode.equals("nearest") || mode.equals("linear") || mode.equals("bilinear"))) {
            throw new IllegalArgumentException("Upsample: mode must be 'nearest', 'linear' or 'bilinear', got " + (mode == null ? "null" : "'" + mode + "'"));
        }
        if (mode.equals("nearest") && alignCorners != null) {
            throw new IllegalArgumentException("Upsample: align_corners option can only be set with the interpolating modes: linear | bilinear, got mode 'nearest'");
        }
        int want = mode.equals("linear") ? 1 : mode.equals("bilinear") ? 2 : -1;
        int given = size != null ? size.length : scale.length;
        if (want > 0 && given != 1 && given != want) {
            throw new IllegalArgumentException("Upsample: mode '" + mode + "' has " + want + " spatial dimension(s), got " + given + " sizes or scales");
        }
        this.mode = mode;
        this.size = size;
        this.scale = scale;
        this.alignCorners = alignCorners;
    }

    /** {@return the {@code mode} setting this layer was built with (PyTorch's name)} */
    public String mode() {
        return mode;
    }

    /** {@return the {@code alignCorners} setting this layer was built with (PyTorch's name)} */
    public boolean alignCorners() {
        return alignCorners != null && alignCorners;
    }

    @Override
    public long[] outputShape(long... inputShape) {
        checkShapeArgument(inputShape);
        int spatial = inputShape.length - 2;
        boolean ok = switch (mode) {
            case "linear" -> spatial == 1;
            case "bilinear" -> spatial == 2;
            default -> spatial == 1 || spatial == 2;
        };
        int given = size != null ? size.length : scale.length;
        if (!ok || (given != 1 && given != spatial)) {
            String want = mode.equals("linear") ? "[N, C, L]" : mode.equals("bilinear") ? "[N, C, H, W]"
                    : given == 2 ? "[N, C, H, W]" : "[N, C, L] or [N, C, H, W]";
            throw new IllegalArgumentException(this + ": expected an input " + want + ", got " + Arrays.toString(inputShape));
        }
        long[] out = inputShape.clone();
        for (int d = 0; d < spatial; d++) {
            long o = size != null ? size[given == 1 ? 0 : d] : (long) Math.floor(inputShape[d + 2] * scale[given == 1 ? 0 : d]);
            if (o < 1) {
                throw new IllegalArgumentException(this + ": the output size of spatial dimension " + d + " is " + o + " for input "
                        + Arrays.toString(inputShape) + ", expected >= 1");
            }
            out[d + 2] = o;
        }
        return out;
    }

    @Override
    void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        // Both paths run the Java loops on arrays: refuse what does not fit one, naming the layer.
        dev.panamadnn.internal.Sizes.arrayLength(label(), "the input " + Arrays.toString(input.shape()), input.numel());
        dev.panamadnn.internal.Sizes.arrayLength(label(), "the output " + Arrays.toString(outShape),
                dev.panamadnn.internal.Sizes.numel(label(), outShape));
        into(input, out, backend, (x, y) -> run(x, input.shape(), outShape, y.segment()),
                (x, y) -> run(x.toFloatArray(), input.shape(), outShape, y.segment()));
    }

    /** Per spatial dimension: the two source indices and weights of every output position. */
    private record Axis(int[] i0, int[] i1, float[] w0, float[] w1) {}

    /** {@code nearestShortcuts}: nearest copies an equal size and halves a doubled one (see the class comment). */
    private Axis axis(int d, long in, long out, boolean nearestShortcuts) {
        int[] i0 = new int[(int) out], i1 = new int[(int) out];
        float[] w0 = new float[(int) out], w1 = new float[(int) out];
        boolean ac = alignCorners();
        float ratio;
        if (ac) ratio = out > 1 ? (float) (in - 1) / (float) (out - 1) : 0f;
        else if (scale != null) ratio = (float) (1.0 / scale[scale.length == 1 ? 0 : d]);
        else ratio = (float) in / (float) out;
        for (int o = 0; o < out; o++) {
            if (mode.equals("nearest")) {
                i0[o] = i1[o] = nearestShortcuts && out == in ? o : nearestShortcuts && out == 2 * in ? o >> 1
                        : (int) Math.min((long) Math.floor((float) o * ratio), in - 1);
                w0[o] = 1f;
                continue;
            }
            if (out == in) {   // PyTorch copies a linear dimension of unchanged size, with the element itself as neighbour
                i0[o] = i1[o] = o;
                w0[o] = 1f;
                continue;
            }
            // The f32 ratio times the position in double: how PyTorch 1.13's CPU kernel lands (measured on its
            // outputs: with align_corners a ratio like 3/7 gives a source a hair past the last input, so a
            // last input of -inf blends to -inf, not to -inf * 0 = NaN; exact ratios give NaN there, as here).
            double src = ac ? (double) ratio * o : Math.max((double) ratio * (o + 0.5) - 0.5, 0);
            int lo = (int) Math.min((long) Math.floor(src), in - 1);
            double lambda = Math.min(Math.max(src - lo, 0), 1);
            i0[o] = lo;
            i1[o] = lo + (lo < in - 1 ? 1 : 0);
            w0[o] = (float) (1 - lambda);
            w1[o] = (float) lambda;
        }
        return new Axis(i0, i1, w0, w1);
    }

    private void run(float[] x, long[] in, long[] out, MemorySegment y) {
        long planes = in[0] * in[1];
        boolean nearest = mode.equals("nearest");
        if (in.length == 3) {
            int il = (int) in[2], ol = (int) out[2];
            Axis a = axis(0, il, ol, false);
            for (long p = 0; p < planes; p++) {
                int b = (int) (p * il);
                for (int o = 0; o < ol; o++) {
                    float v = nearest ? x[b + a.i0()[o]] : x[b + a.i0()[o]] * a.w0()[o] + x[b + a.i1()[o]] * a.w1()[o];
                    y.setAtIndex(ValueLayout.JAVA_FLOAT, p * ol + o, v);
                }
            }
            return;
        }
        int ih = (int) in[2], iw = (int) in[3], oh = (int) out[2], ow = (int) out[3];
        boolean oneChannel = in[1] == 1;
        Axis h = axis(0, ih, oh, oneChannel), w = axis(1, iw, ow, oneChannel);
        for (long p = 0; p < planes; p++) {
            int b = (int) (p * ih * iw);
            for (int r = 0; r < oh; r++) {
                int r0 = b + h.i0()[r] * iw, r1 = b + h.i1()[r] * iw;
                for (int c = 0; c < ow; c++) {
                    int c0 = w.i0()[c], c1 = w.i1()[c];
                    float v = nearest ? x[r0 + c0]
                            : (x[r0 + c0] * w.w0()[c] + x[r0 + c1] * w.w1()[c]) * h.w0()[r] + (x[r1 + c0] * w.w0()[c] + x[r1 + c1] * w.w1()[c]) * h.w1()[r];
                    y.setAtIndex(ValueLayout.JAVA_FLOAT, (p * oh + r) * ow + c, v);
                }
            }
        }
    }

    /** PyTorch's repr: {@code Upsample(scale_factor=2.0, mode=bilinear)} or {@code Upsample(size=(5, 7), mode=nearest)}. */
    @Override
    public String toString() {
        String what = size != null ? "size=" + (size.length == 1 ? String.valueOf(size[0]) : ConvNd.tuple(size))
                : "scale_factor=" + (scale.length == 1 ? Modules.pyFloat(scale[0]) : "(" + Modules.pyFloat(scale[0]) + ", " + Modules.pyFloat(scale[1]) + ")");
        return "Upsample(" + what + ", mode=" + mode + ")";   // PyTorch's repr leaves align_corners out
    }
}
