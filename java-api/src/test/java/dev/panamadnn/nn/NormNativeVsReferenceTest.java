package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.panamadnn.Tensor;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The oneDNN path against the plain-Java reference on random parameters and inputs (fixed
 * seeds). Tolerance 1e-5 + 1e-4 * |ref|, for the reasons given in {@link NormResidualGoldenTest};
 * Add is exact (one f32 addition per element on both paths).
 */
class NormNativeVsReferenceTest {
    private static final double ABS = 1e-5, REL = 1e-4;

    private static void agree(Supplier<? extends Layer> make, long[] shape, long seed) {
        var rnd = new SplittableRandom(seed);
        try (Layer layer = make.get(); Tensor x = NormTesting.random(rnd, shape)) {
            NormTesting.randomise(layer, rnd);
            try (Tensor y = layer.forward(x); Tensor r = layer.forwardReference(x)) {
                assertArrayEquals(r.shape(), y.shape());
                NormTesting.compare(layer.label() + " on " + java.util.Arrays.toString(shape), y.toFloatArray(), r.toFloatArray(), ABS, REL);
            }
        }
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {1, 2, 3, 4, 5, 6, 7, 8})
    void batchNormAndLayerNorm(long seed) {
        var rnd = new SplittableRandom(seed * 31);
        int c = 1 + rnd.nextInt(9), n = 1 + rnd.nextInt(4);
        boolean affine = rnd.nextBoolean();
        double eps = rnd.nextBoolean() ? 1e-5 : 1e-3;
        agree(() -> new BatchNorm1d(c, eps, affine), new long[] {n, c}, seed);
        agree(() -> new BatchNorm1d(c, eps, affine), new long[] {n, c, 1 + rnd.nextInt(17)}, seed);
        agree(() -> new BatchNorm2d(c, eps, affine), new long[] {n, c, 1 + rnd.nextInt(9), 1 + rnd.nextInt(9)}, seed);
        long a = 1 + rnd.nextInt(7), b = 1 + rnd.nextInt(7);
        agree(() -> new LayerNorm(new long[] {b}, eps, affine), new long[] {n, a, b}, seed);
        agree(() -> new LayerNorm(new long[] {a, b}, eps, affine), new long[] {n, a, b}, seed);
        agree(() -> new LayerNorm(new long[] {a, b}, eps, affine), new long[] {a, b}, seed);
    }

    @ParameterizedTest(name = "seed {0}")
    @ValueSource(longs = {11, 12, 13, 14})
    void blocks(long seed) {
        var rnd = new SplittableRandom(seed);
        int n = 1 + rnd.nextInt(3), h = 3 + rnd.nextInt(6), w = 3 + rnd.nextInt(6), planes = 2 + rnd.nextInt(5);
        int stride = 1 + rnd.nextInt(2);
        agree(() -> new BasicBlock(planes, planes), new long[] {n, planes, h, w}, seed);
        agree(() -> new BasicBlock(3, planes, stride, BasicBlock.downsample(3, planes, stride)), new long[] {n, 3, h, w}, seed);
        agree(() -> new Bottleneck(5, planes, stride, Bottleneck.downsample(5, planes * 4, stride), 2, 64, 1 + rnd.nextInt(2)),
                new long[] {n, 5, h, w}, seed);
        agree(() -> new Bottleneck(planes * 4, planes), new long[] {n, planes * 4, h, w}, seed);
        agree(() -> new Residual(new Sequential(new Linear(6, 6, true), new ReLU())), new long[] {n, 6}, seed);
        agree(() -> new Residual(Conv2d.builder(3, 4, 3).stride(stride).padding(1).build(), Conv2d.builder(3, 4, 1).stride(stride).build()),
                new long[] {n, 3, h, w}, seed);
    }

    @Test
    void addIsExactOnBothPaths() {
        var rnd = new SplittableRandom(99);
        try (Add add = new Add(); Tensor a = NormTesting.random(rnd, 3, 5, 7); Tensor b = NormTesting.random(rnd, 3, 5, 7);
             Tensor y = add.forward(a, b); Tensor r = add.forwardReference(a, b)) {
            float[] av = a.toFloatArray(), bv = b.toFloatArray(), want = new float[av.length];
            for (int i = 0; i < want.length; i++) want[i] = av[i] + bv[i];
            assertArrayEquals(want, y.toFloatArray());
            assertArrayEquals(want, r.toFloatArray());
        }
    }

    @Test
    void stridedViewInputsAreCopiedForTheNativePath() {
        var rnd = new SplittableRandom(5);
        try (Tensor base = NormTesting.random(rnd, 2, 3, 6, 4); BatchNorm2d bn = new BatchNorm2d(3)) {
            NormTesting.randomise(bn, rnd);
            Tensor view = base.slice(2, 1, 5);   // [2, 3, 4, 4], not contiguous
            try (Tensor y = bn.forward(view); Tensor r = bn.forwardReference(view)) {
                NormTesting.compare("BatchNorm2d on a strided view", y.toFloatArray(), r.toFloatArray(), ABS, REL);
            }
        }
    }

    @Test
    void parameterWritesTakeEffectAtTheNextCall() {
        try (BatchNorm1d bn = new BatchNorm1d(2); Tensor x = Tensor.of(new float[] {1, 2}, 1, 2)) {
            try (Tensor y = bn.forward(x)) {
                NormTesting.compare("defaults", y.toFloatArray(), new float[] {(float) (1 / Math.sqrt(1 + 1e-5)), (float) (2 / Math.sqrt(1 + 1e-5))}, 1e-6, 0);
            }
            bn.runningMean().setFloat(1f, 0);
            bn.bias().setFloat(10f, 1);
            try (Tensor y = bn.forward(x)) {
                NormTesting.compare("after writes", y.toFloatArray(), new float[] {0f, (float) (10 + 2 / Math.sqrt(1 + 1e-5))}, 1e-5, 0);
            }
        }
    }

}
