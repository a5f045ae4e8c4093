package dev.panamadnn.internal.reference;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Max pooling with the position of each maximum (ONNX MaxPool's {@code Indices}, PyTorch's
 * {@code return_indices=True}) as plain loops over a table computed once: for every output position of
 * one [spatial...] plane, the taps of its window that lie inside the input (padding is never a tap),
 * in window order (row-major over the kernel, as PyTorch's loops visit them).
 *
 * <p>The maximum is PyTorch's: starting from -inf at the window's first tap, a tap is taken when it is
 * greater or NaN, so the first of equal maxima wins and a NaN is the maximum (the last NaN, as
 * PyTorch's {@code val > maxval || isnan(val)}); ONNX Runtime also keeps the first of equal maxima.
 * The index is flat over the whole input {@code [N, C, spatial...]}: {@code plane * inSpatial + }
 * the tap's position in the plane, row-major (storage_order 0) or column-major (storage_order 1,
 * the spatial dims in reverse order: {@code h + w * H} in 2-D, as ONNX Runtime computes it).
 *
 * @param start     per output position o, its taps are {@code taps[start[o] .. start[o + 1])} (length outSpatial + 1)
 * @param taps      row-major positions in the plane, read
 * @param reported  the same positions as the index reports them (row- or column-major)
 * @param inSpatial the elements of one input plane
 */
public record MaxPoolTaps(int[] start, int[] taps, int[] reported, long inSpatial) {
    /** The most taps a table holds (4 bytes each, twice): beyond, the pooling is refused rather than allocated. */
    public static final long MAX_TAPS = 1L << 26;

    /**
     * The table for one plane of spatial sizes {@code in}, pooled to {@code out} (the shape rule's output
     * sizes, ceil_mode included) with ONNX's kernel, strides, 1-based dilations and the pads at the
     * beginning of each dim (the end pads only clip windows, as the input's end does).
     *
     * @throws IllegalArgumentException if a window has no tap inside the input (it lies wholly in the
     *     padding: PyTorch's index there points outside its window) or the table would exceed {@link #MAX_TAPS}
     */
    public static MaxPoolTaps of(long[] in, long[] out, long[] kernel, long[] strides, long[] dilations, long[] padBegin, boolean columnMajor) {
        int nd = in.length;
        long outSpatial = 1, window = 1, inSpatial = 1;
        for (int d = 0; d < nd; d++) {
            outSpatial = Math.multiplyExact(outSpatial, out[d]);
            window = Math.multiplyExact(window, kernel[d]);
            inSpatial = Math.multiplyExact(inSpatial, in[d]);
        }
        if (Math.multiplyExact(outSpatial, window) > MAX_TAPS || inSpatial > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("a window table of " + outSpatial + " outputs x " + window + " taps (input plane " + inSpatial
                    + ") is larger than " + MAX_TAPS);
        }
        long[] rowStride = new long[nd], colStride = new long[nd];
        for (int d = nd - 1, s = 1; d >= 0; s *= (int) in[d], d--) rowStride[d] = s;
        for (int d = 0, s = 1; d < nd; s *= (int) in[d], d++) colStride[d] = s;
        int[] start = new int[Math.toIntExact(outSpatial) + 1];
        int[] taps = new int[Math.toIntExact(outSpatial * window)], reported = new int[taps.length];
        int count = 0;
        long[] o = new long[nd], k = new long[nd];
        for (int p = 0; p < outSpatial; p++) {
            start[p] = count;
            Arrays.fill(k, 0);
            for (long j = 0; j < window; j++) {
                long row = 0, col = 0;
                boolean inside = true;
                for (int d = 0; d < nd && inside; d++) {
                    long i = o[d] * strides[d] - padBegin[d] + k[d] * dilations[d];
                    inside = i >= 0 && i < in[d];
                    row += i * rowStride[d];
                    col += i * colStride[d];
                }
                if (inside) {
                    taps[count] = (int) row;
                    reported[count++] = (int) (columnMajor ? col : row);
                }
                next(k, kernel);
            }
            if (count == start[p]) {
                throw new IllegalArgumentException("the window of output " + Arrays.toString(o) + " lies wholly in the padding (no index to report)");
            }
            next(o, out);
        }
        start[(int) outSpatial] = count;
        return new MaxPoolTaps(start, Arrays.copyOf(taps, count), Arrays.copyOf(reported, count), inSpatial);
    }

    /** The output positions of one plane. */
    public int outSpatial() {
        return start.length - 1;
    }

    /**
     * The slot (into {@link #taps} and {@link #reported}) of the maximum of output position {@code o}'s window
     * in the plane of F32 values at element {@code base} of {@code x}: PyTorch's rule (above).
     */
    public int argmax(MemorySegment x, long base, int o) {
        int best = start[o];
        float max = Float.NEGATIVE_INFINITY;
        for (int t = start[o]; t < start[o + 1]; t++) {
            float v = x.getAtIndex(ValueLayout.JAVA_FLOAT, base + taps[t]);
            if (v > max || Float.isNaN(v)) {
                max = v;
                best = t;
            }
        }
        return best;
    }

    /**
     * Pools {@code planes} planes of F32 values: the maxima into {@code values} and their flat indices
     * ({@code plane * inSpatial + reported}) into {@code indices}, both as F32 (exact while the input has at
     * most 2^24 elements; the caller checks), row-major over {@code [planes, outSpatial]}.
     */
    public void pool(MemorySegment x, long planes, MemorySegment values, MemorySegment indices) {
        int outs = outSpatial();
        for (long p = 0; p < planes; p++) {
            long base = p * inSpatial;
            for (int o = 0; o < outs; o++) {
                int t = argmax(x, base, o);
                values.setAtIndex(ValueLayout.JAVA_FLOAT, p * outs + o, x.getAtIndex(ValueLayout.JAVA_FLOAT, base + taps[t]));
                indices.setAtIndex(ValueLayout.JAVA_FLOAT, p * outs + o, base + reported[t]);
            }
        }
    }

    /** Advances the multi-index {@code at} over {@code shape}, row-major. */
    private static void next(long[] at, long[] shape) {
        for (int d = shape.length - 1; d >= 0; d--) {
            if (++at[d] < shape[d]) return;
            at[d] = 0;
        }
    }
}
