package dev.panamadnn.benchmarks.purejava;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.Conv2d;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** VectorConv2d against the oracle, our Conv2d layer's plain-Java reference path. */
class VectorConv2dTest {
    @ParameterizedTest(name = "{0}->{1} k={2} stride={3} pad={4} N={5} {6}x{7} threads={8}")
    @CsvSource({
        "3, 8, 3, 1, 1, 2, 9, 7, 1",     // 'same' 3x3, batch 2 (per-image offsets)
        "3, 8, 3, 1, 1, 2, 9, 7, 2",
        "4, 6, 3, 2, 1, 1, 10, 11, 2",   // strided 3x3 (ResNet's downsampling)
        "5, 7, 1, 1, 0, 2, 6, 5, 2",     // 1x1 stride 1: no im2col, batch 2
        "4, 4, 1, 2, 0, 1, 8, 8, 2",     // strided 1x1 (ResNet's shortcut)
        "3, 5, 7, 2, 3, 1, 17, 17, 2",   // ResNet's stem, smaller
        "2, 3, 5, 1, 2, 1, 4, 6, 3",     // padding wider than the overlap on a small input
        "16, 33, 3, 1, 0, 1, 12, 12, 2", // no padding, Cout not a multiple of the micro-tile
    })
    void matchesTheLayerReference(int cin, int cout, int k, int stride, int padding, int n, int h, int w, int threads) {
        var rnd = new SplittableRandom(cin * 131L + cout * 17L + k * 7L + stride + padding);
        float[] x = new float[n * cin * h * w];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextDouble(-1, 1);
        try (Conv2d layer = Conv2d.builder(cin, cout, k).stride(stride).padding(padding).build();
             Tensor input = Tensor.of(x, n, cin, h, w);
             Tensor expected = layer.forward(input, Backend.REFERENCE);
             VectorConv2d conv = new VectorConv2d(cin, cout, k, stride, padding, threads)) {
            int ho = conv.outSize(h), wo = conv.outSize(w);
            float[] y = new float[n * cout * ho * wo];
            conv.forward(x, n, h, w, layer.weight().toFloatArray(), layer.bias().toFloatArray(), y);
            float[] ref = expected.toFloatArray();
            assertTrue(ref.length == y.length, "output size: reference " + ref.length + ", VectorConv2d " + y.length);
            double tol = 1e-5 * cin * k * k + 1e-6;   // float sums of cin*k*k products in another order
            for (int i = 0; i < y.length; i++) {
                double err = Math.abs(y[i] - ref[i]) / (1 + Math.abs(ref[i]));
                int at = i;
                assertTrue(err <= tol, () -> "output " + at + " (channel " + at / (ho * wo) % cout + ", pixel " + at % (ho * wo)
                        + "): VectorConv2d " + y[at] + ", reference " + ref[at]);
            }
        }
    }
}
