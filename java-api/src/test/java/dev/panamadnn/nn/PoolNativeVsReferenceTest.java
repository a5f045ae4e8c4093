package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panamadnn.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Native against reference on random configurations and inputs (fixed seeds). Max pooling and
 * adaptive pooling over non-divisible sizes (where the native path is the same Java loops) must
 * agree bit for bit; average pooling within 1e-6 + 1e-6 * |ref| (means of at most 25 O(1) f32
 * values summed in a different order: a few ulps, against O(0.1) for a wrong window/divisor).
 */
class PoolNativeVsReferenceTest {
    private static final double ABS = 1e-6, REL = 1e-6;

    static Tensor random(SplittableRandom rnd, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextDouble() * 4 - 2);
        return Tensor.of(v, shape);
    }

    /** A random windowed pooling layer (one of the four) with a valid configuration. */
    static PoolNd randomWindowed(SplittableRandom rnd) {
        int kind = rnd.nextInt(4);
        boolean twoD = kind % 2 == 1, ceil = rnd.nextBoolean(), include = rnd.nextBoolean();
        int[] k = new int[twoD ? 2 : 1], s = new int[k.length], p = new int[k.length], d = new int[k.length];
        for (int i = 0; i < k.length; i++) {
            k[i] = 1 + rnd.nextInt(5);
            s[i] = 1 + rnd.nextInt(4);
            p[i] = rnd.nextInt(k[i] / 2 + 1);
            d[i] = kind < 2 ? 1 + rnd.nextInt(3) : 1;
        }
        return switch (kind) {
            case 0 -> new MaxPool1d(k[0], s[0], p[0], d[0], ceil);
            case 1 -> new MaxPool2d(k, s, p, d, ceil);
            case 2 -> new AvgPool1d(k[0], s[0], p[0], ceil, include);
            default -> new AvgPool2d(k, s, p, ceil, include);
        };
    }

    /** A random input shape the layer accepts: batched or not, each spatial size >= its effective kernel. */
    static long[] randomShape(SplittableRandom rnd, PoolNd layer) {
        int[] k = layer.kernelSize();
        int nd = k.length;
        long[] dil = layer.dilationValues();
        boolean batched = rnd.nextBoolean();
        long[] shape = new long[nd + (batched ? 2 : 1)];
        int at = 0;
        if (batched) shape[at++] = 1 + rnd.nextInt(3);
        shape[at++] = 1 + rnd.nextInt(4);
        for (int i = 0; i < nd; i++) shape[at++] = dil[i] * (k[i] - 1) + 1 + rnd.nextInt(12);
        return shape;
    }

    @Test
    void windowedPoolingAgreesOnRandomConfigurations() {
        var rnd = new SplittableRandom(2024);
        for (int trial = 0; trial < 150; trial++) {
            try (PoolNd layer = randomWindowed(rnd)) {
                long[] shape = randomShape(rnd, layer);
                try (Tensor x = random(rnd, shape)) {
                    compare(layer, x, layer.toString().startsWith("Max"), "trial " + trial);
                }
            }
        }
    }

    @Test
    void adaptivePoolingAgreesOnRandomConfigurations() {
        var rnd = new SplittableRandom(77);
        for (int trial = 0; trial < 90; trial++) {
            int kind = trial % 3;
            int oh = 1 + rnd.nextInt(6), ow = 1 + rnd.nextInt(6);
            long ih = 1 + rnd.nextInt(13), iw = 1 + rnd.nextInt(13);
            if (rnd.nextBoolean()) {   // make half of them divisible, so the oneDNN path runs too
                ih = (long) oh * (1 + rnd.nextInt(3));
                iw = (long) ow * (1 + rnd.nextInt(3));
            }
            try (AdaptivePoolNd layer = kind == 0 ? new AdaptiveAvgPool1d(ow)
                    : kind == 1 ? new AdaptiveAvgPool2d(oh, ow) : new AdaptiveMaxPool2d(oh, ow);
                 Tensor x = kind == 0 ? random(rnd, 2, 3, iw) : random(rnd, 2, 3, ih, iw)) {
                compare(layer, x, kind == 2, "trial " + trial);
            }
        }
    }

    @Test
    void stridedViewInputGivesTheContiguousResult() {
        var rnd = new SplittableRandom(5);
        try (MaxPool2d max = new MaxPool2d(3, 2, 1); AvgPool2d avg = new AvgPool2d(3, 2, 1, true, true);
             Tensor big = random(rnd, 2, 3, 11, 16); Tensor view = big.slice(3, 2, 13);
             Tensor copy = Tensor.of(view.toFloatArray(), view.shape())) {
            for (PoolLayer layer : new PoolLayer[] {max, avg}) {
                try (Tensor a = layer.forward(view); Tensor b = layer.forward(copy); Tensor r = layer.forwardReference(view)) {
                    assertArrayEquals(b.toFloatArray(), a.toFloatArray(), layer + ": strided view vs contiguous copy");
                    compareArrays(layer + " view", b.toFloatArray(), r.toFloatArray(), layer == max);
                }
            }
        }
    }

    @Test
    void everyBackendRuns() {
        var rnd = new SplittableRandom(9);
        try (AvgPool1d layer = new AvgPool1d(3, 2, 1); Tensor x = random(rnd, 2, 3, 10)) {
            float[] ref = null;
            for (Backend b : Backend.values()) {
                try (Tensor y = layer.forward(x, b)) {
                    if (ref == null) ref = y.toFloatArray();
                    else compareArrays(layer + " on " + b, ref, y.toFloatArray(), false);
                }
            }
        }
    }

    @Test
    void maxPoolingUsesTheOneDnnPrimitive() {
        try (MaxPool2d layer = new MaxPool2d(3, 2, 1)) {
            String impl = layer.implementation(1, 3, 8, 8);
            assertEquals(false, impl.isEmpty(), "implementation name");
        }
    }

    private static void compare(PoolLayer layer, Tensor x, boolean exact, String what) {
        try (Tensor n = layer.forward(x); Tensor r = layer.forwardReference(x)) {
            assertArrayEquals(r.shape(), n.shape(), what + " " + layer + ": shapes");
            compareArrays(what + " " + layer + " on " + java.util.Arrays.toString(x.shape()), r.toFloatArray(), n.toFloatArray(),
                    exact);
        }
    }

    private static void compareArrays(String what, float[] ref, float[] got, boolean exact) {
        assertEquals(ref.length, got.length, what + ": lengths");
        for (int i = 0; i < ref.length; i++) {
            boolean ok = exact ? Float.compare(ref[i], got[i]) == 0 : Math.abs(got[i] - ref[i]) <= ABS + REL * Math.abs(ref[i]);
            if (!ok) fail(what + ": element " + i + " native " + got[i] + ", reference " + ref[i]);
        }
    }
}
