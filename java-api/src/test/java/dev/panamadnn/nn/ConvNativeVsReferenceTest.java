package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panamadnn.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The oneDNN path against the plain-Java reference on random configurations and inputs.
 * Tolerance 1e-5 + 1e-4 * |reference|, as for the goldens: at most 8 * 5 * 5 = 200 products of
 * values below 1 per output, summed in another order (the reference sums in double).
 */
class ConvNativeVsReferenceTest {
    private static final int CONFIGS = 40;

    @ParameterizedTest
    @ValueSource(strings = {"Conv1d", "Conv2d", "ConvTranspose1d", "ConvTranspose2d"})
    void nativeMatchesReferenceOnRandomConfigurations(String layerName) {
        var rnd = new SplittableRandom(layerName.hashCode());
        int tried = 0;
        for (int config = 0; config < CONFIGS; config++) {
            boolean two = layerName.endsWith("2d"), transposed = layerName.startsWith("ConvTranspose");
            int groups = 1 + rnd.nextInt(3);
            int in = groups * (1 + rnd.nextInt(3)), out = groups * (1 + rnd.nextInt(3));
            int k = 1 + rnd.nextInt(4), stride = 1 + rnd.nextInt(3), dilation = 1 + rnd.nextInt(2), pad = rnd.nextInt(3);
            int op = transposed ? rnd.nextInt(Math.max(stride, dilation)) : 0;
            boolean bias = rnd.nextBoolean();
            long[] shape = two ? new long[] {1 + rnd.nextInt(2), in, 3 + rnd.nextInt(6), 3 + rnd.nextInt(6)}
                    : new long[] {1 + rnd.nextInt(3), in, 3 + rnd.nextInt(10)};
            ConvNdBuilder<?> b = switch (layerName) {
                case "Conv1d" -> Conv1d.builder(in, out, k);
                case "Conv2d" -> Conv2d.builder(in, out, k, 1 + rnd.nextInt(3));
                case "ConvTranspose1d" -> ConvTranspose1d.builder(in, out, k).outputPadding(op);
                default -> ConvTranspose2d.builder(in, out, k, k).outputPadding(op, 0);
            };
            b.stride(stride).dilation(dilation).padding(pad).groups(groups).bias(bias);
            String config0 = layerName + " config " + config;
            try (ConvNd layer = build(b)) {
                randomise(layer, rnd);
                long[] outShape;
                try {
                    outShape = layer.outputShape(shape);
                } catch (IllegalArgumentException tooSmall) {
                    continue;   // output size <= 0 for this draw: covered by ConvValidationTest
                }
                tried++;
                try (Tensor x = random(rnd, shape); Tensor yNative = layer.forward(x); Tensor yRef = layer.forwardReference(x)) {
                    assertArrayEquals(outShape, yNative.shape(), config0);
                    assertArrayEquals(outShape, yRef.shape(), config0);
                    float[] got = yNative.toFloatArray(), want = yRef.toFloatArray();
                    for (int i = 0; i < want.length; i++) {
                        if (Math.abs(got[i] - want[i]) > 1e-5 + 1e-4 * Math.abs(want[i])) {
                            fail(config0 + " " + layer + " on " + x + ": element " + i + " native " + got[i] + ", reference " + want[i]);
                        }
                    }
                }
            }
        }
        assertTrue(tried >= CONFIGS / 2, layerName + ": only " + tried + " of " + CONFIGS + " random configurations were valid");
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void causalOutputNeverSeesTheFuture(boolean nativePath) {
        var rnd = new SplittableRandom(3);
        try (Conv1d conv = Conv1d.builder(2, 3, 3).dilation(2).causal().build(); Tensor x = random(rnd, 1, 2, 12)) {
            randomise(conv, rnd);
            try (Tensor before = nativePath ? conv.forward(x) : conv.forwardReference(x)) {
                assertArrayEquals(new long[] {1, 3, 12}, before.shape(), "causal stride 1 keeps the length");
                int t = 6;
                for (int c = 0; c < 2; c++) for (int later = t + 1; later < 12; later++) x.setFloat(100f, 0, c, later);
                try (Tensor after = nativePath ? conv.forward(x) : conv.forwardReference(x)) {
                    for (int o = 0; o < 3; o++)
                        for (int s = 0; s <= t; s++) {
                            assertEquals(before.getFloat(0, o, s), after.getFloat(0, o, s), 0f,
                                    "output " + s + " of channel " + o + " changed when only inputs > " + t + " did");
                        }
                    assertTrue(before.getFloat(0, 0, t + 1) != after.getFloat(0, 0, t + 1), "output t+1 must see input t+1");
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void stridedViewInputGivesTheSameResultAsAContiguousCopy(boolean nativePath) {
        var rnd = new SplittableRandom(4);
        try (Conv2d conv = Conv2d.builder(3, 2, 3).padding(1).build(); Tensor big = random(rnd, 2, 3, 6, 9)) {
            Tensor view = big.slice(3, 2, 8);   // [2, 3, 6, 6], not contiguous
            try (Tensor copy = Tensor.of(view.toFloatArray(), view.shape());
                 Tensor a = nativePath ? conv.forward(view) : conv.forwardReference(view);
                 Tensor b = nativePath ? conv.forward(copy) : conv.forwardReference(copy)) {
                assertArrayEquals(b.toFloatArray(), a.toFloatArray());
            }
        }
    }

    @Test
    void weightsWrittenAfterTheFirstForwardNeedWeightsChanged() {
        var rnd = new SplittableRandom(6);
        try (ConvTranspose2d deconv = ConvTranspose2d.builder(2, 4, 3).stride(2).groups(2).build(); Tensor x = random(rnd, 1, 2, 4, 5)) {
            randomise(deconv, rnd);
            try (Tensor first = deconv.forward(x)) {
                randomise(deconv, rnd);
                try (Tensor stale = deconv.forward(x)) {
                    assertArrayEquals(first.toFloatArray(), stale.toFloatArray(), "weights are read once per input shape");
                }
                deconv.weightsChanged();
                try (Tensor fresh = deconv.forward(x); Tensor want = deconv.forwardReference(x)) {
                    float[] got = fresh.toFloatArray(), ref = want.toFloatArray();
                    for (int i = 0; i < ref.length; i++) assertEquals(ref[i], got[i], 1e-5 + 1e-4 * Math.abs(ref[i]), "element " + i);
                }
            }
        }
    }

    /**
     * Kernel 2, dilation 3, padding 1: on length 2 the taps are spaced wider than the input, so the
     * layer pads explicitly to length 4 and gives oneDNN no padding; on length 4 oneDNN pads itself.
     * Both reach the primitive cache as a padded length of 4, and the cache once keyed on that size
     * alone, so the second call ran the first's primitive ([-1.79, 0, 0] against [-0.90, -1.79, -1.50]).
     */
    @Test
    void theSamePaddedSizeFromExplicitAndFromNativePaddingGetsItsOwnPrimitive() {
        var rnd = new SplittableRandom(11);
        try (Conv1d conv = Conv1d.builder(1, 1, 2).dilation(3).padding(1).build(); Tensor shortInput = random(rnd, 1, 1, 2);
             Tensor longInput = random(rnd, 1, 1, 4)) {
            for (Tensor x : new Tensor[] {shortInput, longInput, shortInput}) {
                try (Tensor got = conv.forward(x); Tensor want = conv.forwardReference(x)) {
                    float[] g = got.toFloatArray(), r = want.toFloatArray();
                    assertEquals(r.length, g.length, "output length on input length " + x.dim(2));
                    for (int i = 0; i < r.length; i++) {
                        assertEquals(r[i], g[i], 1e-5 + 1e-4 * Math.abs(r[i]), "element " + i + " on input length " + x.dim(2));
                    }
                }
            }
        }
    }

    static ConvNd build(ConvNdBuilder<?> b) {
        return switch (b) {
            case Conv1d.Builder x -> x.build();
            case Conv2d.Builder x -> x.build();
            case ConvTranspose1d.Builder x -> x.build();
            case ConvTranspose2d.Builder x -> x.build();
            default -> throw new IllegalStateException();
        };
    }

    static Tensor random(SplittableRandom rnd, long... shape) {
        Tensor t = Tensor.zeros(shape);
        float[] v = new float[(int) t.numel()];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextDouble(-1, 1);
        ConvGoldens.copy(v, t);
        return t;
    }

    static void randomise(ConvNd layer, SplittableRandom rnd) {
        for (Tensor p : layer.parameters().values()) {
            float[] v = new float[(int) p.numel()];
            for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextDouble(-1, 1);
            ConvGoldens.copy(v, p);
        }
    }
}
