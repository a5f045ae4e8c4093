package dev.panamadnn.nn;

import dev.panamadnn.internal.lowering.Padding;
import dev.panamadnn.internal.lowering.PoolLowering;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Plain-Java convolutions: the oracle the native path is tested against, and the "pure Java"
 * baseline. Everything is 2-D here (a 1-D layer is a 2-D one with height 1), row-major float
 * arrays in, sums in double. Obvious loops on purpose: they must be easy to trust, not fast.
 */
final class ConvReference {
    private ConvReference() {}

    /** Geometry of one call, all per (height, width); padding before = top/left. */
    record Geometry(int n, int in, int out, int groups, int ih, int iw, int oh, int ow, int kh, int kw, int sh, int sw,
                    int padTop, int padLeft, int dh, int dw) {}

    /**
     * Cross-correlation: y[n, o, r, c] = b[o] + sum over the group's input channels i and the
     * kernel (p, q) of x[n, i, r*sh - padTop + p*dh, c*sw - padLeft + q*dw] * w[o, i', p, q],
     * with w in PyTorch's layout [out, in/groups, kh, kw] and out-of-range x counting as 0.
     * Written into {@code y} (row-major [n, out, oh, ow] floats, native or heap: no Java array of
     * the output, which may pass what the heap holds), element indices as {@code long}.
     */
    static void convolution(Geometry g, float[] x, float[] w, float[] b, MemorySegment y) {
        int icg = g.in() / g.groups(), ocg = g.out() / g.groups();
        long at = 0;
        for (int n = 0; n < g.n(); n++)
            for (int o = 0; o < g.out(); o++) {
                int firstInput = (o / ocg) * icg;
                for (int r = 0; r < g.oh(); r++) {
                    // Only the taps that land inside the input, computed rather than searched: a kernel of 65,536 taps
                    // over 5 inputs (a wide convolution) visits 5 per output, not 65,536 (the skipped ones add nothing).
                    long top = (long) r * g.sh() - g.padTop();
                    int p0 = (int) PoolLowering.firstTap(top, g.dh(), g.kh()), p1 = (int) PoolLowering.endTap(top, g.dh(), g.kh(), g.ih());
                    for (int c = 0; c < g.ow(); c++) {
                        long left = (long) c * g.sw() - g.padLeft();
                        int q0 = (int) PoolLowering.firstTap(left, g.dw(), g.kw()), q1 = (int) PoolLowering.endTap(left, g.dw(), g.kw(), g.iw());
                        double sum = b == null ? 0 : b[o];
                        for (int i = 0; i < icg; i++)
                            for (int p = p0; p < p1; p++)
                                for (int q = q0; q < q1; q++) {
                                    int yy = (int) (top + (long) p * g.dh()), xx = (int) (left + (long) q * g.dw());
                                    sum += (double) x[((n * g.in() + firstInput + i) * g.ih() + yy) * g.iw() + xx]
                                            * w[((o * icg + i) * g.kh() + p) * g.kw() + q];
                                }
                        y.setAtIndex(ValueLayout.JAVA_FLOAT, at++, (float) sum);
                    }
                }
            }
    }

    /**
     * Transposed convolution, the adjoint of the above: every input element x[n, i, r, c] adds
     * x * w[i, o', p, q] to y[n, o, r*sh - padTop + p*dh, c*sw - padLeft + q*dw] for the group's
     * output channels o, with w in PyTorch's layout [in, out/groups, kh, kw]; positions outside
     * the output (cut by padding) are dropped, output_padding only enlarges oh/ow. Computed per
     * output element (the inputs that reach it: r*sh = yy + padTop - p*dh for a tap p, and
     * likewise for columns), summed in double over the group's input channels, then rows, then
     * columns, ascending, and rounded to float once with the bias, so the output needs no
     * accumulator array of its own (written into {@code y} like {@link #convolution}).
     */
    static void transposed(Geometry g, float[] x, float[] w, float[] b, MemorySegment y) {
        int icg = g.in() / g.groups(), ocg = g.out() / g.groups();
        // at most min(kernel, input) reach one output (each reaching row has its own tap)
        int rh = Math.min(g.kh(), g.ih()), rw = Math.min(g.kw(), g.iw());
        int[] rows = new int[rh], rowTaps = new int[rh], cols = new int[rw], colTaps = new int[rw];
        long at = 0;
        for (int n = 0; n < g.n(); n++)
            for (int o = 0; o < g.out(); o++) {
                int firstInput = (o / ocg) * icg, oo = o % ocg;
                for (int yy = 0; yy < g.oh(); yy++) {
                    int nr = reaching(yy + g.padTop(), g.sh(), g.dh(), g.ih(), g.kh(), rows, rowTaps);
                    for (int xx = 0; xx < g.ow(); xx++) {
                        int nc = reaching(xx + g.padLeft(), g.sw(), g.dw(), g.iw(), g.kw(), cols, colTaps);
                        double sum = 0;
                        for (int i = firstInput; i < firstInput + icg; i++)
                            for (int u = 0; u < nr; u++)
                                for (int v = 0; v < nc; v++) {
                                    sum += (double) x[((n * g.in() + i) * g.ih() + rows[u]) * g.iw() + cols[v]]
                                            * w[((i * ocg + oo) * g.kh() + rowTaps[u]) * g.kw() + colTaps[v]];
                                }
                        y.setAtIndex(ValueLayout.JAVA_FLOAT, at++, (float) (sum + (b == null ? 0 : b[o])));
                    }
                }
            }
    }

    /**
     * The input positions r (ascending) and kernel taps p with {@code r * stride + p * dilation == position}
     * (position = output index + padding before), 0 <= r < size and 0 <= p < taps; returns how many. Walks
     * whichever candidate range is shorter, the rows or the taps that could reach the position, so a huge stride
     * or kernel costs what reaches, not its length.
     */
    private static int reaching(int position, int stride, int dilation, int size, int taps, int[] inputs, int[] tapsOut) {
        long pos = position;
        long r0 = Math.max(0, Math.ceilDiv(pos - (long) (taps - 1) * dilation, stride)), r1 = Math.min(size - 1L, Math.floorDiv(pos, stride));
        long p1 = Math.min(taps - 1L, Math.floorDiv(pos, dilation)), p0 = Math.max(0, Math.ceilDiv(pos - (size - 1L) * stride, dilation));
        int count = 0;
        if (r1 - r0 <= p1 - p0) {
            for (long r = r0; r <= r1; r++) {
                long rest = pos - r * stride;
                if (rest % dilation != 0) continue;
                inputs[count] = (int) r;
                tapsOut[count++] = (int) (rest / dilation);
            }
        } else {
            for (long p = p1; p >= p0; p--) {   // a later tap reaches back to an earlier input
                long rest = pos - p * dilation;
                if (rest % stride != 0) continue;
                inputs[count] = (int) (rest / stride);
                tapsOut[count++] = (int) p;
            }
        }
        return count;
    }

    /**
     * Explicit border padding of [n, c, h, w] by (top, bottom, left, right) with a {@link PaddingMode} (zeros too, for
     * the geometries oneDNN mishandles, see ConvNd), over the reference's Java arrays; the caller has checked the sizes
     * (reflect: pad < size; circular: pad <= size).
     */
    static float[] pad(float[] x, int n, int c, int h, int w, PaddingMode mode, int top, int bottom, int left, int right) {
        float[] y = new float[n * c * (h + top + bottom) * (w + left + right)];
        pad(MemorySegment.ofArray(x), n, c, h, w, mode, top, bottom, left, right, MemorySegment.ofArray(y));
        return y;
    }

    /**
     * The same from native memory into native memory, with {@code long} sizes and no Java array: {@code x} holds
     * {@code [n, c, h, w]} contiguously, {@code y} receives {@code [n, c, h + top + bottom, w + left + right]}
     * ({@link Padding}: rows in bulk, so a large input costs no heap; a 282 MB input padded through two Java arrays
     * ran out of a 512 MB heap: scripts/fuzz --long --seed 5003 --threads 2 --family Conv2d --case 1573).
     */
    static void pad(MemorySegment x, long n, long c, long h, long w, PaddingMode mode, long top, long bottom, long left, long right,
                    MemorySegment y) {
        int m = switch (mode) {
            case ZEROS -> Padding.CONSTANT;   // explicit only for geometries oneDNN mishandles, see ConvNd
            case REFLECT -> Padding.REFLECT;
            case REPLICATE -> Padding.EDGE;
            case CIRCULAR -> Padding.WRAP;
        };
        Padding.pad(x, new long[] {n, c, h, w}, y, new long[] {n, c, h + top + bottom, w + left + right}, new long[] {0, 0, top, left}, m, 0f);
    }
}
