package dev.panamadnn.nn;

/**
 * Plain-Java convolutions: the oracle the native path is tested against, and the "pure Java"
 * baseline. Everything is 2-D here (a 1-D layer is a 2-D one with height 1), row-major float
 * arrays, sums in double. Obvious loops on purpose: they must be easy to trust, not fast.
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
     */
    static float[] convolution(Geometry g, float[] x, float[] w, float[] b) {
        int icg = g.in() / g.groups(), ocg = g.out() / g.groups();
        float[] y = new float[g.n() * g.out() * g.oh() * g.ow()];
        for (int n = 0; n < g.n(); n++)
            for (int o = 0; o < g.out(); o++) {
                int firstInput = (o / ocg) * icg;
                for (int r = 0; r < g.oh(); r++)
                    for (int c = 0; c < g.ow(); c++) {
                        double sum = b == null ? 0 : b[o];
                        for (int i = 0; i < icg; i++)
                            for (int p = 0; p < g.kh(); p++)
                                for (int q = 0; q < g.kw(); q++) {
                                    int yy = r * g.sh() - g.padTop() + p * g.dh();
                                    int xx = c * g.sw() - g.padLeft() + q * g.dw();
                                    if (yy < 0 || yy >= g.ih() || xx < 0 || xx >= g.iw()) continue;
                                    sum += (double) x[((n * g.in() + firstInput + i) * g.ih() + yy) * g.iw() + xx]
                                            * w[((o * icg + i) * g.kh() + p) * g.kw() + q];
                                }
                        y[((n * g.out() + o) * g.oh() + r) * g.ow() + c] = (float) sum;
                    }
            }
        return y;
    }

    /**
     * Transposed convolution as the scatter it is: every input element x[n, i, r, c] adds
     * x * w[i, o', p, q] to y[n, o, r*sh - padTop + p*dh, c*sw - padLeft + q*dw] for the group's
     * output channels o, with w in PyTorch's layout [in, out/groups, kh, kw]; positions outside
     * the output (cut by padding) are dropped. output_padding only enlarges oh/ow.
     */
    static float[] transposed(Geometry g, float[] x, float[] w, float[] b) {
        int icg = g.in() / g.groups(), ocg = g.out() / g.groups();
        double[] acc = new double[g.n() * g.out() * g.oh() * g.ow()];
        for (int n = 0; n < g.n(); n++)
            for (int i = 0; i < g.in(); i++) {
                int firstOutput = (i / icg) * ocg;
                for (int r = 0; r < g.ih(); r++)
                    for (int c = 0; c < g.iw(); c++) {
                        double v = x[((n * g.in() + i) * g.ih() + r) * g.iw() + c];
                        for (int o = 0; o < ocg; o++)
                            for (int p = 0; p < g.kh(); p++)
                                for (int q = 0; q < g.kw(); q++) {
                                    int yy = r * g.sh() - g.padTop() + p * g.dh();
                                    int xx = c * g.sw() - g.padLeft() + q * g.dw();
                                    if (yy < 0 || yy >= g.oh() || xx < 0 || xx >= g.ow()) continue;
                                    acc[((n * g.out() + firstOutput + o) * g.oh() + yy) * g.ow() + xx]
                                            += v * w[((i * ocg + o) * g.kh() + p) * g.kw() + q];
                                }
                    }
            }
        float[] y = new float[acc.length];
        int plane = g.oh() * g.ow();
        for (int k = 0; k < acc.length; k++) y[k] = (float) (acc[k] + (b == null ? 0 : b[(k / plane) % g.out()]));
        return y;
    }

    /**
     * Explicit border padding of [n, c, h, w] by (top, bottom, left, right) with a non-zero
     * {@link PaddingMode}; the caller has checked the sizes (reflect: pad < size; circular:
     * pad <= size).
     */
    static float[] pad(float[] x, int n, int c, int h, int w, PaddingMode mode, int top, int bottom, int left, int right) {
        int ph = h + top + bottom, pw = w + left + right;
        float[] y = new float[n * c * ph * pw];
        for (int plane = 0; plane < n * c; plane++)
            for (int r = 0; r < ph; r++)
                for (int col = 0; col < pw; col++) {
                    int sr = source(r - top, h, mode), sc = source(col - left, w, mode);
                    y[(plane * ph + r) * pw + col] = sr < 0 || sc < 0 ? 0f : x[(plane * h + sr) * w + sc];
                }
        return y;
    }

    private static int source(int i, int size, PaddingMode mode) {
        if (i >= 0 && i < size) return i;
        return switch (mode) {
            case REFLECT -> i < 0 ? -i : 2 * (size - 1) - i;
            case REPLICATE -> i < 0 ? 0 : size - 1;
            case CIRCULAR -> Math.floorMod(i, size);
            case ZEROS -> -1;   // a zero (explicit only for geometries oneDNN mishandles, see ConvNd)
        };
    }
}
