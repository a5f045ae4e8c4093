package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.panamadnn.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** {@link Folding}'s row kernel against the element-wise reference (bit for bit: one add each). */
class FoldingTest {
    @Test
    void sumsRowsTwoByTwo() {
        float[] x = {1, 2, 3, /**/ 10, 20, 30, /**/ 100, 200, 300, /**/ 1000, 2000, 3000};
        try (Folding f = new Folding(); Tensor in = Tensor.of(x, 1, 4, 3)) {
            for (Backend b : Backend.values()) {
                try (Tensor y = f.forward(in, b)) {
                    assertArrayEquals(new long[] {1, 2, 3}, y.shape());
                    assertArrayEquals(new float[] {11, 22, 33, 1100, 2200, 3300}, y.toFloatArray(), b.name());
                }
            }
        }
    }

    @Test
    void nativeMatchesReferenceOnRandomInputs() {
        var rnd = new SplittableRandom(42);
        try (Folding f = new Folding()) {
            for (int trial = 0; trial < 100; trial++) {
                int n = 1 + rnd.nextInt(3), c = 2 * (1 + rnd.nextInt(5)), s = 1 + rnd.nextInt(30);
                float[] x = new float[n * c * s];
                for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                long[] shape = trial % 3 == 0 ? new long[] {n * c, s} : new long[] {n, c, s};
                try (Tensor in = Tensor.of(x, shape); Tensor a = f.forward(in); Tensor r = f.forwardReference(in)) {
                    assertArrayEquals(r.shape(), a.shape(), "trial " + trial);
                    assertArrayEquals(r.toFloatArray(), a.toFloatArray(), "trial " + trial + " on " + in);
                }
            }
        }
    }

    @Test
    void stridedInputIsRead() {
        var rnd = new SplittableRandom(3);
        float[] x = new float[2 * 6 * 8];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        try (Folding f = new Folding(); Tensor full = Tensor.of(x, 2, 6, 8)) {
            Tensor view = full.slice(1, 1, 5);   // [2, 4, 8], rows 1..4
            try (Tensor contiguous = Tensor.of(view.toFloatArray(), view.shape()); Tensor a = f.forward(view);
                 Tensor b = f.forward(contiguous); Tensor r = f.forwardReference(view)) {
                assertArrayEquals(b.toFloatArray(), a.toFloatArray());
                assertArrayEquals(r.toFloatArray(), a.toFloatArray());
            }
        }
    }
}
