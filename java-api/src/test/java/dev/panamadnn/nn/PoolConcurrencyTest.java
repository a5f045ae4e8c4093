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
 * The same pooling layer instances called from 16 threads at once (platform or virtual) give
 * bit for bit the single-thread results. Primitives are created concurrently on first use (two
 * input shapes per layer); the set includes the ceil_mode + count_include_pad border repair and
 * a non-divisible adaptive pooling (the Java path).
 */
class PoolConcurrencyTest {
    private static final int THREADS = 16, CALLS = 6;

    @ParameterizedTest(name = "virtual threads: {0}")
    @ValueSource(booleans = {false, true})
    void sixteenThreadsGiveTheSingleThreadResults(boolean virtual) throws Exception {
        List<Supplier<PoolLayer>> configs = List.of(
                () -> new MaxPool2d(3, 2, 1, 2, true),
                () -> new AvgPool2d(3, 2, 1, true, true),
                () -> new AvgPool1d(4, 3, 2, false, false),
                () -> new MaxPool1d(3, 2, 1),
                () -> new AdaptiveAvgPool2d(3, 4),
                () -> new AdaptiveMaxPool2d(2, 3));
        List<long[]> shapes = List.of(new long[] {2, 3, 11, 13}, new long[] {2, 3, 10, 11}, new long[] {2, 4, 17},
                new long[] {3, 19}, new long[] {2, 3, 7, 9}, new long[] {2, 3, 8, 9});
        List<long[]> otherShapes = List.of(new long[] {3, 9, 9}, new long[] {1, 2, 8, 8}, new long[] {1, 2, 9},
                new long[] {2, 2, 8}, new long[] {1, 2, 6, 8}, new long[] {2, 5, 7});
        var rnd = new SplittableRandom(16);
        List<PoolLayer> layers = new ArrayList<>();
        List<Tensor> inputs = new ArrayList<>();
        try {
            for (int i = 0; i < configs.size(); i++) {
                layers.add(configs.get(i).get());
                inputs.add(PoolNativeVsReferenceTest.random(rnd, shapes.get(i)));
                inputs.add(PoolNativeVsReferenceTest.random(rnd, otherShapes.get(i)));
            }
            // Expected results from separate instances, so the shared ones start with an empty cache.
            float[][] expected = new float[inputs.size()][];
            for (int i = 0; i < inputs.size(); i++) {
                try (PoolLayer fresh = configs.get(i / 2).get(); Tensor y = fresh.forward(inputs.get(i))) {
                    expected[i] = y.toFloatArray();
                }
            }
            ManyThreads.run(virtual, THREADS, thread -> {
                for (int call = 0; call < CALLS; call++) {
                    for (int j = 0; j < inputs.size(); j++) {
                        int i = (j + thread + call) % inputs.size();   // threads start on different layers/shapes
                        try (Tensor y = layers.get(i / 2).forward(inputs.get(i))) {
                            assertArrayEquals(expected[i], y.toFloatArray(),
                                    "thread " + thread + ", call " + call + ": " + layers.get(i / 2));
                        }
                    }
                }
            });
        } finally {
            layers.forEach(PoolLayer::close);
            inputs.forEach(Tensor::close);
        }
    }
}
