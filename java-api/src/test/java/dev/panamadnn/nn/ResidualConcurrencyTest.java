package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.panamadnn.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same block instances (BasicBlock with downsample, Bottleneck with groups, LayerNorm) called
 * from 16 threads at once, platform or virtual, give exactly (bit for bit) the results of a
 * single thread on a fresh instance with the same parameters; primitives are created
 * concurrently on first use for two input shapes each.
 */
class ResidualConcurrencyTest {
    private static final int THREADS = 16, CALLS = 6;

    @ParameterizedTest(name = "virtual threads: {0}")
    @ValueSource(booleans = {false, true})
    void sixteenThreadsGiveTheSingleThreadResults(boolean virtual) throws Exception {
        List<Supplier<Layer>> makers = List.of(
                () -> new BasicBlock(4, 8, 2, BasicBlock.downsample(4, 8, 2)),
                () -> new Bottleneck(8, 4, 1, Bottleneck.downsample(8, 16, 1), 2, 64, 1),
                () -> new LayerNorm(5, 6));
        List<long[][]> shapes = List.of(new long[][] {{2, 4, 9, 7}, {1, 4, 6, 6}}, new long[][] {{2, 8, 5, 5}, {1, 8, 7, 4}},
                new long[][] {{3, 5, 6}, {5, 6}});
        List<Layer> layers = new ArrayList<>();
        List<Tensor> inputs = new ArrayList<>();
        try {
            float[][] expected = new float[6][];
            for (int l = 0; l < makers.size(); l++) {
                Layer layer = makers.get(l).get();
                layers.add(layer);
                NormTesting.randomise(layer, new SplittableRandom(40 + l));
                try (Layer fresh = makers.get(l).get()) {
                    NormTesting.randomise(fresh, new SplittableRandom(40 + l));
                    for (int s = 0; s < 2; s++) {
                        Tensor x = NormTesting.random(new SplittableRandom(100 * l + s), shapes.get(l)[s]);
                        inputs.add(x);
                        try (Tensor y = fresh.forward(x)) {
                            expected[2 * l + s] = y.toFloatArray();
                        }
                    }
                }
            }
            ManyThreads.run(virtual, THREADS, thread -> {
                for (int call = 0; call < CALLS; call++) {
                    int i = (thread + call) % inputs.size();
                    try (Tensor y = layers.get(i / 2).forward(inputs.get(i))) {
                        assertArrayEquals(expected[i], y.toFloatArray(), "thread " + thread + " call " + call + " input " + i);
                    }
                }
            });
        } finally {
            layers.forEach(Layer::close);
            inputs.forEach(Tensor::close);
        }
    }
}
