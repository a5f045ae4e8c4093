package dev.panamadnn.benchmarks;

import java.util.SplittableRandom;

/**
 * The geometry of a {@code conv2d} {@link LayerSpec} as {@link DnnlBindingBenchmark} runs it
 * (Conv2d with bias, padding k/2 on every side, dilation 1), its seeded inputs, and one output
 * element from plain loops, so that the FFM and the JNI setup can each check their primitive
 * computes the convolution before it is timed.
 */
record ConvSpot(long n, long in, long out, long k, long stride, long pad, long size, long outSize) {
    static ConvSpot of(LayerSpec s) {
        if (!s.kind().equals("conv2d")) throw new IllegalArgumentException("expected a conv2d shape, got " + s.spec());
        long pad = s.k() / 2;
        return new ConvSpot(s.batch(), s.cin(), s.cout(), s.k(), s.stride(), pad, s.size(),
                (s.size() + 2 * pad - s.k()) / s.stride() + 1);
    }

    float[] input() {
        return random(n * in * size * size, 1);
    }

    float[] weights() {
        return random(out * in * k * k, 2);
    }

    float[] bias() {
        return random(out, 3);
    }

    long outputs() {
        return n * out * outSize * outSize;
    }

    private static float[] random(long count, long seed) {
        var rnd = new SplittableRandom(seed);
        float[] a = new float[Math.toIntExact(count)];
        for (int i = 0; i < a.length; i++) a[i] = (float) rnd.nextDouble(-1, 1);
        return a;
    }

    /** Output element {@code index} of nchw y = conv(x, w [out, in, k, k]) + b, in double. */
    double expected(float[] x, float[] w, float[] b, long index) {
        long ox = index % outSize, oy = index / outSize % outSize, c = index / (outSize * outSize) % out;
        long img = index / (outSize * outSize * out);
        double sum = b[(int) c];
        for (long ic = 0; ic < in; ic++)
            for (long ky = 0; ky < k; ky++)
                for (long kx = 0; kx < k; kx++) {
                    long iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                    if (iy < 0 || iy >= size || ix < 0 || ix >= size) continue;
                    sum += (double) x[(int) (((img * in + ic) * size + iy) * size + ix)] * w[(int) (((c * in + ic) * k + ky) * k + kx)];
                }
        return sum;
    }

    /** Compares 16 spread-out outputs read by {@code actual} with {@link #expected}; throws naming the first that differs. */
    void check(String who, float[] x, float[] w, float[] b, java.util.function.LongToDoubleFunction actual) {
        for (long t = 0; t < 16; t++) {
            long i = t * 2654435761L % outputs();
            double want = expected(x, w, b, i), got = actual.applyAsDouble(i);
            // f32 sums of in*k*k terms, each below 1 in magnitude, in another order: ~6e-8 rounding per
            // term at most; 1e-6 per term is a wide margin that still catches a wrong tap or padding.
            if (Math.abs(got - want) > 1e-6 * (1 + in * k * k)) {
                throw new IllegalStateException(who + ": output[" + i + "] = " + got + ", plain loops give " + want);
            }
        }
    }
}
