package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.panamadnn.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same DCNN layer instances (k-max fixed and dynamic, folding, wide convolution, and a whole
 * DCNN stack) called from 16 threads at once give exactly the single-thread results, on inputs
 * of several lengths (so dynamic k differs per call and conv primitives are created concurrently).
 */
class DcnnConcurrencyTest {
    private static final int THREADS = 16, CALLS = 12;

    private static Sequential dcnn() {
        return new Sequential(WideConv1d.builder(4, 6, 3).build(), KMaxPool1d.dynamic(3, 1, 2), new Tanh(),
                WideConv1d.depthwise(6, 2), new Folding(), new KMaxPool1d(3));
    }

    private static List<Layer> layers() {
        return List.of(new KMaxPool1d(3), KMaxPool1d.dynamic(2, 1, 3), new Folding(), WideConv1d.depthwise(4, 3), dcnn());
    }

    @ParameterizedTest(name = "virtual threads: {0}")
    @ValueSource(booleans = {false, true})
    void sixteenThreadsGiveTheSingleThreadResults(boolean virtual) throws Exception {
        var rnd = new SplittableRandom(16);
        List<Layer> layers = layers(), fresh = layers();
        for (int i = 0; i < layers.size(); i++) {   // same random parameters in both sets
            for (var e : layers.get(i).parameters().entrySet()) {
                float[] v = new float[(int) e.getValue().numel()];
                for (int j = 0; j < v.length; j++) v[j] = (float) rnd.nextDouble(-0.5, 0.5);
                ConvGoldens.copy(v, e.getValue());
                ConvGoldens.copy(v, fresh.get(i).parameters().get(e.getKey()));
            }
        }
        List<Tensor> inputs = new ArrayList<>();
        List<Integer> layerOf = new ArrayList<>();
        try {
            for (int i = 0; i < layers.size(); i++) {
                for (long s : new long[] {7, 12, 20}) {
                    long[] shape = i == 2 ? new long[] {2, 6, s} : new long[] {2, 4, s};
                    float[] x = new float[(int) (shape[0] * shape[1] * shape[2])];
                    for (int j = 0; j < x.length; j++) x[j] = i == 0 ? rnd.nextInt(4) : (float) rnd.nextGaussian();   // ties for k-max
                    inputs.add(Tensor.of(x, shape));
                    layerOf.add(i);
                }
            }
            float[][] expected = new float[inputs.size()][];
            for (int i = 0; i < inputs.size(); i++) {
                try (Tensor y = fresh.get(layerOf.get(i)).forward(inputs.get(i))) {
                    expected[i] = y.toFloatArray();
                }
            }
            ManyThreads.run(virtual, THREADS, thread -> {
                for (int call = 0; call < CALLS; call++) {
                    int i = (thread + call) % inputs.size();
                    Layer layer = layers.get(layerOf.get(i));
                    try (Tensor y = layer.forward(inputs.get(i))) {
                        assertArrayEquals(expected[i], y.toFloatArray(), "thread " + thread + " call " + call + ": " + layer
                                + " on " + inputs.get(i));
                    }
                }
            });
        } finally {
            inputs.forEach(Tensor::close);
            layers.forEach(Layer::close);
            fresh.forEach(Layer::close);
        }
    }
}
