package dev.panamadnn.compile;

import dev.panamadnn.Tensor;
import dev.panamadnn.nn.AdaptiveAvgPool2d;
import dev.panamadnn.nn.AvgPool2d;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The child JVM of {@link PlanSetSharingRaceTest}: {@code threads} threads run random batch sizes 1-6, {@code runs}
 * each, through a plan set that keeps two plans, so plans are evicted and built again all the time while their
 * shared weights and Winograd weights (3x3 convolutions of 16 and 32 channels; the test lowers Winograd's threshold)
 * are taken, prepared and released by the others. Each result is compared with the eager forward of its batch
 * (within {@link CompiledModelTest#assertClose}'s tolerance: a plan runs direct until its Winograd weights are
 * prepared). Prints one summary line; a use of freed memory would end this JVM, not the test suite.
 *
 * <pre>PlanSetSharingRaces THREADS RUNS</pre>
 */
public final class PlanSetSharingRaces {
    private PlanSetSharingRaces() {}

    public static void main(String[] args) throws Exception {
        int threads = Integer.parseInt(args[0]), runs = Integer.parseInt(args[1]);
        AtomicLong done = new AtomicLong(), mismatches = new AtomicLong(), failures = new AtomicLong();
        long evictions, blocksAfter;
        try (Sequential model = new Sequential(new AvgPool2d(1), Conv2d.builder(16, 32, 3).padding(1).build(), new ReLU(),
                Conv2d.builder(32, 32, 3).padding(1).build(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(32, 300, true))) {
            CompiledModelTest.randomize(model, 13);
            float[][] expected = new float[7][];
            Tensor[] inputs = new Tensor[7];
            for (int n = 1; n <= 6; n++) {
                inputs[n] = CompiledModelTest.randomInput(70 + n, n, 16, 12, 12);
                try (Tensor eager = model.forward(inputs[n])) {
                    expected[n] = eager.toFloatArray();
                }
            }
            PlanSet plans = PlanSet.of(model, CompileOptions.defaults().withThreads(1), new long[] {16, 12, 12}, 2);
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try (plans) {
                List<Future<?>> all = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    long seed = t;
                    all.add(pool.submit(() -> {
                        SplittableRandom random = new SplittableRandom(seed);
                        try {
                            for (int i = 0; i < runs; i++) {
                                int n = 1 + random.nextInt(6);
                                try (Tensor y = plans.run(inputs[n])) {
                                    if (!close(expected[n], y.toFloatArray())) mismatches.incrementAndGet();
                                }
                                done.incrementAndGet();
                            }
                        } catch (RuntimeException | Error e) {
                            failures.incrementAndGet();
                            e.printStackTrace();
                        }
                    }));
                }
                for (Future<?> f : all) f.get();
                evictions = plans.evictions();
            } finally {
                pool.shutdown();
                for (int n = 1; n <= 6; n++) inputs[n].close();
            }
            blocksAfter = plans.sharedBlocks();
        }
        System.out.println("sharing races: " + done + " runs, " + mismatches + " mismatches, " + failures + " failures, " + evictions
                + " evictions, " + blocksAfter + " blocks after close");
    }

    /** {@link CompiledModelTest#assertClose}'s tolerance, as a boolean. */
    private static boolean close(float[] expected, float[] actual) {
        if (expected.length != actual.length) return false;
        double max = 0, err = 0;
        for (float v : expected) max = Math.max(max, Math.abs(v));
        for (int i = 0; i < expected.length; i++) err = Math.max(err, Math.abs(expected[i] - actual[i]));
        return err <= 1e-4 * max + 1e-5;
    }
}
