package dev.panamadnn.benchmarks.purejava;

import java.util.Arrays;

/**
 * A well-optimised pure-Java Conv2d, the "best Java" convolution baseline: im2col into a reused
 * buffer (spread over the threads, contiguous copies where the stride is 1), then one
 * {@link VectorGemm} per image, {@code Y[Cout, Ho*Wo] = W[Cout, Cin*kH*kW] * cols[Cin*kH*kW, Ho*Wo]},
 * with the bias written into Y first. A 1x1 convolution with stride 1 and no padding needs no
 * im2col: the image already is the {@code [Cin, H*W]} matrix.
 *
 * <p>Layouts are PyTorch's, row-major: input {@code [N, Cin, H, W]}, weight
 * {@code [Cout, Cin, k, k]}, bias {@code [Cout]} (or null), output {@code [N, Cout, Ho, Wo]} with
 * {@code Ho = (H + 2 * padding - k) / stride + 1}. Square kernel, one stride and one zero padding
 * for both axes, no dilation, no groups: what the ResNet shapes of the benchmarks need. Not
 * thread-safe (it owns its im2col buffer and its GEMM); close it to stop the pool.
 */
public final class VectorConv2d implements AutoCloseable {
    private final int cin, cout, k, stride, padding;
    private final VectorGemm gemm;
    private float[] cols = new float[0];

    /** @param threads worker threads (>= 1) for im2col and the GEMM */
    public VectorConv2d(int cin, int cout, int k, int stride, int padding, int threads) {
        if (cin < 1 || cout < 1 || k < 1 || stride < 1 || padding < 0) {
            throw new IllegalArgumentException("VectorConv2d: expected cin, cout, k, stride >= 1 and padding >= 0, got cin=" + cin
                    + " cout=" + cout + " k=" + k + " stride=" + stride + " padding=" + padding);
        }
        this.cin = cin;
        this.cout = cout;
        this.k = k;
        this.stride = stride;
        this.padding = padding;
        this.gemm = new VectorGemm(threads);
    }

    /** Output height (or width) for an input of {@code size}. */
    public int outSize(int size) {
        return (size + 2 * padding - k) / stride + 1;
    }

    /** {@code y = conv(x, weight) + bias} for a batch of {@code n} images of {@code h x w}. */
    public void forward(float[] x, int n, int h, int w, float[] weight, float[] bias, float[] y) {
        int ho = outSize(h), wo = outSize(w), pixels = ho * wo, rows = cin * k * k;
        if (ho < 1 || wo < 1) throw new IllegalArgumentException("VectorConv2d: input " + h + "x" + w + " is smaller than the kernel");
        if (x.length < (long) n * cin * h * w || weight.length < (long) cout * rows || y.length < (long) n * cout * pixels
                || (bias != null && bias.length < cout)) {
            throw new IllegalArgumentException("VectorConv2d: array too short for N=" + n + " " + cin + "x" + h + "x" + w + " -> "
                    + cout + "x" + ho + "x" + wo);
        }
        boolean direct = k == 1 && stride == 1 && padding == 0;
        if (!direct && cols.length < rows * pixels) cols = new float[rows * pixels];
        for (int img = 0; img < n; img++) {
            int xOff = img * cin * h * w, yOff = img * cout * pixels;
            for (int o = 0; o < cout; o++) {
                Arrays.fill(y, yOff + o * pixels, yOff + (o + 1) * pixels, bias == null ? 0f : bias[o]);
            }
            if (direct) {
                gemm.sgemm(false, false, cout, pixels, rows, 1f, weight, 0, rows, x, xOff, pixels, 1f, y, yOff, pixels);
            } else {
                im2col(x, xOff, h, w, ho, wo);
                gemm.sgemm(false, false, cout, pixels, rows, 1f, weight, 0, rows, cols, 0, pixels, 1f, y, yOff, pixels);
            }
        }
    }

    /** cols[(c*k + i)*k + j][oy*wo + ox] = x[c][oy*stride - padding + i][ox*stride - padding + j], 0 outside. */
    private void im2col(float[] x, int xOff, int h, int w, int ho, int wo) {
        int rows = cin * k * k, pixels = ho * wo;
        int chunks = Math.min(rows, 4 * gemm.threads());
        gemm.forEach(chunks, chunk -> {
            for (int r = rows * chunk / chunks; r < rows * (chunk + 1) / chunks; r++) {
                int c = r / (k * k), i = r / k % k, j = r % k;
                int dst = r * pixels, plane = xOff + c * h * w;
                for (int oy = 0; oy < ho; oy++, dst += wo) {
                    int iy = oy * stride - padding + i;
                    if (iy < 0 || iy >= h) {
                        Arrays.fill(cols, dst, dst + wo, 0f);
                        continue;
                    }
                    int src = plane + iy * w;
                    if (stride == 1) {
                        // ix = ox - padding + j is in [0, w) for ox in [lo, hi): one copy, zeros around it.
                        int lo = Math.max(0, padding - j), hi = Math.min(wo, w + padding - j);
                        if (hi <= lo) {
                            Arrays.fill(cols, dst, dst + wo, 0f);
                            continue;
                        }
                        Arrays.fill(cols, dst, dst + lo, 0f);
                        System.arraycopy(x, src + lo - padding + j, cols, dst + lo, hi - lo);
                        Arrays.fill(cols, dst + hi, dst + wo, 0f);
                    } else {
                        for (int ox = 0; ox < wo; ox++) {
                            int ix = ox * stride - padding + j;
                            cols[dst + ox] = ix >= 0 && ix < w ? x[src + ix] : 0f;
                        }
                    }
                }
            }
        });
    }

    @Override
    public void close() {
        gemm.close();
    }
}
