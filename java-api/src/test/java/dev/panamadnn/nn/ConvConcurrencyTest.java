package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.panamadnn.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The same layer instances called from 16 threads at once give exactly (bit for bit) the
 * single-thread results: each call brings its own scratchpad and oneDNN memory objects, and the
 * primitives (created concurrently on first use, two input shapes) are shared.
 */
class ConvConcurrencyTest {
    private static final int THREADS = 16, CALLS = 8;

    @ParameterizedTest(name = "virtual threads: {0}")
    @ValueSource(booleans = {false, true})
    void sixteenThreadsGiveTheSingleThreadResults(boolean virtual) throws Exception {
        var rnd = new SplittableRandom(16);
        List<ConvNd> layers = List.of(
                Conv2d.builder(4, 8, 3).stride(2).padding(1).groups(2).build(),
                Conv1d.builder(3, 5, 3).dilation(2).causal().build(),
                ConvTranspose2d.builder(4, 6, 3).stride(2).padding(1).outputPadding(1).build(),
                ConvTranspose1d.builder(2, 4, 4).stride(3).groups(2).build());
        List<long[]> shapes = List.of(new long[] {2, 4, 9, 7}, new long[] {1, 3, 17}, new long[] {2, 4, 5, 6}, new long[] {3, 2, 7});
        List<long[]> otherShapes = List.of(new long[] {1, 4, 6, 6}, new long[] {2, 3, 5}, new long[] {1, 4, 3, 3}, new long[] {1, 2, 4});
        List<Tensor> inputs = new ArrayList<>();
        try {
            for (ConvNd layer : layers) ConvNativeVsReferenceTest.randomise(layer, rnd);
            for (int i = 0; i < layers.size(); i++) {
                inputs.add(ConvNativeVsReferenceTest.random(rnd, shapes.get(i)));
                inputs.add(ConvNativeVsReferenceTest.random(rnd, otherShapes.get(i)));
            }
            // Expected results computed on fresh layers with the same parameters would recompile;
            // computing them first on the same instances would warm the cache, so use a copy.
            float[][] expected = new float[inputs.size()][];
            List<ConvNd> fresh = List.of(copyOf(layers.get(0)), copyOf(layers.get(1)), copyOf(layers.get(2)), copyOf(layers.get(3)));
            try {
                for (int i = 0; i < inputs.size(); i++) {
                    try (Tensor y = fresh.get(i / 2).forward(inputs.get(i))) {
                        expected[i] = y.toFloatArray();
                    }
                }
            } finally {
                fresh.forEach(ConvNd::close);
            }
            ManyThreads.run(virtual, THREADS, thread -> {
                for (int call = 0; call < CALLS; call++) {
                    int i = (thread + call) % inputs.size();
                    try (Tensor y = layers.get(i / 2).forward(inputs.get(i))) {
                        assertArrayEquals(expected[i], y.toFloatArray(),
                                "thread " + thread + " call " + call + ": " + layers.get(i / 2) + " on " + inputs.get(i));
                    }
                }
            });
        } finally {
            inputs.forEach(Tensor::close);
            layers.forEach(ConvNd::close);
        }
    }

    private static ConvNd copyOf(ConvNd layer) {
        ConvNd copy = switch (layer) {
            case Conv2d c -> Conv2d.builder(4, 8, 3).stride(2).padding(1).groups(2).build();
            case Conv1d c -> Conv1d.builder(3, 5, 3).dilation(2).causal().build();
            case ConvTranspose2d c -> ConvTranspose2d.builder(4, 6, 3).stride(2).padding(1).outputPadding(1).build();
            case ConvTranspose1d c -> ConvTranspose1d.builder(2, 4, 4).stride(3).groups(2).build();
        };
        ConvGoldens.copy(layer.weight().toFloatArray(), copy.weight());
        ConvGoldens.copy(layer.bias().toFloatArray(), copy.bias());
        return copy;
    }
}
