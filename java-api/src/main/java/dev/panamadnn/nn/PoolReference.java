package dev.panamadnn.nn;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Plain-Java pooling over contiguous planes {@code [planes, ih, iw]} (planes = batch x channels;
 * 1-D layers have ih = 1): the oracle. Sums in double; max propagates NaN as PyTorch does.
 * Written with PyTorch's own index rules so the two can be compared line by line.
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
            for (long ky = 0; ky < w.kh(); ky++)
                for (long kx = 0; kx < w.kw(); kx++) {
                    long iy = y0 + ky * w.dh(), ix = x0 + kx * w.dw();
                    if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;   // padding never wins
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
        double sum = 0;
        for (long iy = y0; iy < y1; iy++)
            for (long ix = x0; ix < x1; ix++) sum += at(x, p, ih, iw, iy, ix);
        long divisor = w.countIncludePad() ? padded : (y1 - y0) * (x1 - x0);
        return (float) (sum / divisor);
    }

    /**
     * Adaptive pooling with PyTorch's index rule: output i of n along an axis of size in covers
     * [floor(i*in/n), ceil((i+1)*in/n)), so windows may differ in size and overlap.
     */
    static void adaptive(boolean max, MemorySegment x, long planes, long ih, long iw, long oh, long ow, MemorySegment y) {
        for (long p = 0; p < planes; p++)
            for (long oy = 0; oy < oh; oy++) {
                long y0 = start(oy, ih, oh), y1 = end(oy, ih, oh);
                for (long ox = 0; ox < ow; ox++) {
                    long x0 = start(ox, iw, ow), x1 = end(ox, iw, ow);
                    double acc = max ? Double.NEGATIVE_INFINITY : 0;
                    for (long iy = y0; iy < y1; iy++)
                        for (long ix = x0; ix < x1; ix++) {
                            double v = at(x, p, ih, iw, iy, ix);
                            if (!max) acc += v;
                            else if (v > acc || Double.isNaN(v)) acc = v;
                        }
                    float out = (float) (max ? acc : acc / ((y1 - y0) * (x1 - x0)));
                    y.setAtIndex(ValueLayout.JAVA_FLOAT, (p * oh + oy) * ow + ox, out);
                }
            }
    }

    static long start(long i, long in, long out) {
        return Math.floorDiv(i * in, out);
    }

    static long end(long i, long in, long out) {
        return Math.ceilDiv((i + 1) * in, out);
    }

    private static double at(MemorySegment x, long p, long ih, long iw, long iy, long ix) {
        return x.getAtIndex(ValueLayout.JAVA_FLOAT, (p * ih + iy) * iw + ix);
    }
}
