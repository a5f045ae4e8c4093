package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.panamadnn.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * One layer instance called from 16 platform threads and then 16 virtual threads at once (all
 * released together, several calls each) gives bit for bit the single-thread result, on each
 * backend. Exact equality is right: every call runs the same kernel on the same shape, so the
 * same summation order.
 */
class ConcurrencyTest {
    private static final int THREADS = 16, CALLS = 4;

    static Stream<Arguments> layers() {
        Supplier<Layer> linear = () -> new Linear(96, 80, true, Activation.gelu("tanh"));
        Supplier<Layer> softmax = () -> new Softmax(1);
        Supplier<Layer> mlp = () -> new Sequential(new Flatten(), new Linear(48, 32, true), new SiLU(), new Linear(32, 8, false),
                new Softmax(-1));
        List<Arguments> all = new ArrayList<>();
        for (Backend b : Backend.values()) {
            all.add(Arguments.of("Linear+GELU", linear, new long[] {33, 96}, b));
            all.add(Arguments.of("Softmax", softmax, new long[] {5, 77, 3}, b));
            all.add(Arguments.of("MLP", mlp, new long[] {9, 4, 12}, b));
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} on {3}")
    @MethodSource("layers")
    void sixteenThreadsAtOnceGiveTheSingleThreadResult(String name, Supplier<Layer> make, long[] shape, Backend backend)
            throws Exception {
        try (Layer layer = make.get(); Tensor x = NativeVsReferenceTest.random(shape, 21)) {
            NativeVsReferenceTest.randomiseParameters(layer, 22);
            float[] expected;
            try (Tensor y = layer.forward(x, backend)) {
                expected = y.toFloatArray();
            }
            for (ExecutorService pool : List.of(Executors.newFixedThreadPool(THREADS), Executors.newVirtualThreadPerTaskExecutor())) {
                try (pool) {
                    CountDownLatch start = new CountDownLatch(1);
                    List<Future<List<float[]>>> results = new ArrayList<>();
                    for (int t = 0; t < THREADS; t++) {
                        results.add(pool.submit(() -> {
                            start.await();
                            List<float[]> outs = new ArrayList<>();
                            for (int c = 0; c < CALLS; c++) {
                                try (Tensor y = layer.forward(x, backend)) {
                                    outs.add(y.toFloatArray());
                                }
                            }
                            return outs;
                        }));
                    }
                    start.countDown();
                    for (int t = 0; t < THREADS; t++) {
                        for (float[] got : results.get(t).get()) {
                            assertArrayEquals(expected, got, name + " on " + backend + ": thread " + t + " of " + pool
                                    + " differs from the single-thread result");
                        }
                    }
                }
            }
        }
    }
}
