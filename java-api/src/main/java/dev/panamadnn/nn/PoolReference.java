package dev.panamadnn.nn;

import dev.panamadnn.internal.lowering.PoolLowering;
import dev.panamadnn.internal.reference.SpecialValues;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Plain-Java pooling over contiguous planes {@code [planes, ih, iw]} (planes = batch x channels;
 * 1-D layers have ih = 1): the oracle. Written with PyTorch's own index rules and arithmetic so
 * the two can be compared line by line: max propagates NaN and gives -inf for a window with no
 * input; averages sum in float, row by row, then divide, as PyTorch's CPU kernels do, so they
 * overflow to infinity exactly where PyTorch's do (a double sum would give 2e38 for the mean of
 * 3e38 and 3e38 where PyTorch gives inf).
 */
final class PoolReference {
    private PoolReference() {}

    /** One window's configuration, PyTorch's meaning (dilation 1-based, symmetric padding). */
    record Window(boolean max, boolean countIncludePad, long kh, long kw, long sh, long sw, long ph, long pw, long dh,
                  long dw) {}

    /** Every output of a windowed (Max/Avg) pooling. */
    static void windows(MemorySegment x, long planes, long ih, long iw, long oh, long ow, Window w, MemorySegment y) {
        for (long p = 0; p < planes; p++)
            for (long oy = 0; oy < oh; oy++)
                for (long ox = 0; ox < ow; ox++)
                    y.setAtIndex(ValueLayout.JAVA_FLOAT, (p * oh + oy) * ow + ox, window(x, p, ih, iw, oy, ox, w));
    }

    /** Output (oy, ox) of plane {@code p}. */
    static float window(MemorySegment x, long p, long ih, long iw, long oy, long ox, Window w) {
        long y0 = oy * w.sh() - w.ph(), x0 = ox * w.sw() - w.pw();
        if (w.max()) {
            double m = Double.NEGATIVE_INFINITY;
            // only the taps inside the input (padding never wins), found by arithmetic: a kernel may be 2^31 - 1 long
            long yEnd = PoolLowering.endTap(y0, w.dh(), w.kh(), ih), xEnd = PoolLowering.endTap(x0, w.dw(), w.kw(), iw);
            for (long ky = PoolLowering.firstTap(y0, w.dh(), w.kh()); ky < yEnd; ky++)
                for (long kx = PoolLowering.firstTap(x0, w.dw(), w.kw()); kx < xEnd; kx++) {
                    long iy = y0 + ky * w.dh(), ix = x0 + kx * w.dw();
                    double v = at(x, p, ih, iw, iy, ix);
                    if (v > m || Double.isNaN(v)) m = v;
                }
            return (float) m;
        }
        // PyTorch's avg_pool2d: the divisor with count_include_pad counts the padding (up to
        // in + padding) but not the overhang a ceil_mode window may have past it.
        long y1 = Math.min(y0 + w.kh(), ih + w.ph()), x1 = Math.min(x0 + w.kw(), iw + w.pw());
        long padded = (y1 - y0) * (x1 - x0);
        y0 = Math.max(y0, 0);
        x0 = Math.max(x0, 0);
        y1 = Math.min(y1, ih);
        x1 = Math.min(x1, iw);
        float sum = 0;
        for (long iy = y0; iy < y1; iy++)
            for (long ix = x0; ix < x1; ix++) sum += at(x, p, ih, iw, iy, ix);
        long divisor = w.countIncludePad() ? padded : (y1 - y0) * (x1 - x0);
        return sum / divisor;
    }

    /**
     * Adaptive pooling with PyTorch's index rule: output i of n along an axis of size in covers
     * [floor(i*in/n), ceil((i+1)*in/n)), so windows may differ in size and overlap.
     */
    static void adaptive(boolean max, MemorySegment x, long planes, long ih, long iw, long oh, long ow, MemorySegment y) {
        for (long p = 0; p < planes; p++)
            for (long oy = 0; oy < oh; oy++)
                for (long ox = 0; ox < ow; ox++)
                    y.setAtIndex(ValueLayout.JAVA_FLOAT, (p * oh + oy) * ow + ox, adaptive(max, x, p, ih, iw, oh, ow, oy, ox));
    }

    /** Output (oy, ox) of plane {@code p} of an adaptive pooling. */
    static float adaptive(boolean max, MemorySegment x, long p, long ih, long iw, long oh, long ow, long oy, long ox) {
        long y0 = start(oy, ih, oh), y1 = end(oy, ih, oh), x0 = start(ox, iw, ow), x1 = end(ox, iw, ow);
        float acc = max ? Float.NEGATIVE_INFINITY : 0;
        for (long iy = y0; iy < y1; iy++)
            for (long ix = x0; ix < x1; ix++) {
                float v = at(x, p, ih, iw, iy, ix);
                if (!max) acc += v;
                else if (v > acc || Float.isNaN(v)) acc = v;
            }
        return max ? acc : acc / ((y1 - y0) * (x1 - x0));
    }

    /** Computes output (oy, ox) of plane p. */
    @FunctionalInterface
    interface Output {
        float at(long p, long oy, long ox);
    }

    /**
     * Puts right what oneDNN's max pooling gets wrong, after it ran: it skips NaN (PyTorch's
     * maximum is NaN when the window holds one) and starts from -FLT_MAX, so a window of only
     * -inf, or only padding, gives -3.4028235E38 where PyTorch gives -inf. Two scans (the input
     * for NaN, the output for -FLT_MAX) find the rare case; then every output of each plane
     * concerned is recomputed with {@code reference}. The scans' cost is in docs/numerics.md.
     */
    static void repairMax(MemorySegment x, long planes, long ih, long iw, MemorySegment y, long oh, long ow, Output reference) {
        long inPlane = ih * iw, outPlane = oh * ow;
        if (!SpecialValues.anyNaN(x, planes * inPlane) && !SpecialValues.anyBitwiseEqual(y, planes * outPlane, -Float.MAX_VALUE)) {
            return;
        }
        for (long p = 0; p < planes; p++) {
            MemorySegment xp = x.asSlice(p * inPlane * Float.BYTES, inPlane * Float.BYTES);
            MemorySegment yp = y.asSlice(p * outPlane * Float.BYTES, outPlane * Float.BYTES);
            if (!SpecialValues.anyNaN(xp, inPlane) && !SpecialValues.anyBitwiseEqual(yp, outPlane, -Float.MAX_VALUE)) continue;
            for (long oy = 0; oy < oh; oy++)
                for (long ox = 0; ox < ow; ox++) y.setAtIndex(ValueLayout.JAVA_FLOAT, (p * oh + oy) * ow + ox, reference.at(p, oy, ox));
        }
    }

    static long start(long i, long in, long out) {
        return Math.floorDiv(i * in, out);
    }

    static long end(long i, long in, long out) {
        return Math.ceilDiv((i + 1) * in, out);
    }

    private static float at(MemorySegment x, long p, long ih, long iw, long iy, long ix) {
        return x.getAtIndex(ValueLayout.JAVA_FLOAT, (p * ih + iy) * iw + ix);
    }
}
