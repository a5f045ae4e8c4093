package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.nn.AdaptiveAvgPool2d;
import dev.panamadnn.nn.AvgPool2d;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The plans of a {@link PlanSet} hold each large constant once ({@link SharedConstants}): every plan computes bit for
 * bit what the same plan compiled alone computes, whichever plans were built, evicted or closed before it, including
 * Winograd steps whose transformed weights another plan prepared; and nothing is kept once the last plan using a
 * block is closed.
 */
class SharedConstantsTest {
    private static final long[] SAMPLE = {16, 12, 12};
    private static final CompileOptions OPTIONS = CompileOptions.defaults().withThreads(1);

    /** Two 3x3 convolutions of 16 -> 32 -> 32 channels (18 and 36 KiB of weights) and a 32 -> 300 linear layer (37 KiB). */
    private static Sequential cnn() {
        Sequential m = new Sequential(Conv2d.builder(16, 32, 3).padding(1).build(), new ReLU(), Conv2d.builder(32, 32, 3).padding(1).build(),
                new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(32, 300, true));
        CompiledModelTest.randomize(m, 7);
        return m;
    }

    /** The most constant bytes a plan compiled alone holds, at any of these batch sizes. */
    private static long largestAlone(dev.panamadnn.Module model, long... batches) {
        long most = 0;
        for (long n : batches) {
            try (CompiledModel one = CompiledModel.compile(model, OPTIONS, shape(n))) {
                most = Math.max(most, one.constantBytes());
            }
        }
        return most;
    }

    private static long[] shape(long batch) {
        return new long[] {batch, SAMPLE[0], SAMPLE[1], SAMPLE[2]};
    }

    /**
     * The set's result for a batch, and the result of the same plan compiled alone, equal bit for bit; both warmed up, so
     * that both run their Winograd steps (3x3 convolutions of 16 channels or more here), whose weights a plan prepares
     * after its first run, or at once in a set where another plan prepared them.
     */
    private static void assertAsCompiledAlone(PlanSet plans, dev.panamadnn.Module model, CompileOptions options, long batch) {
        long[] shape = shape(batch);
        try (Tensor x = CompiledModelTest.randomInput(50 + batch, shape);
             CompiledModel alone = CompiledModel.compile(model, options, shape).warmup()) {
            plans.warmup((int) batch);
            try (Tensor expected = alone.run(x); Tensor actual = plans.run(x)) {
                assertArrayEquals(expected.toFloatArray(), actual.toFloatArray(), "batch " + batch + ": the plan set vs the plan compiled alone");
            }
        }
    }

    @Test
    void plansOfFourBatchSizesHoldTheWeightsOnceAndComputeWhatPlansCompiledAloneDo() {
        try (Sequential model = cnn(); PlanSet plans = PlanSet.of(model, OPTIONS, SAMPLE)) {
            long alone = largestAlone(model, 1, 2, 5, 8);
            assertTrue(alone >= 4 * (9 * 16 * 32 + 9 * 32 * 32 + 32 * 300), "a plan's constants hold at least the weights: " + alone);
            for (long n : new long[] {1, 2, 5, 8}) assertAsCompiledAlone(plans, model, OPTIONS, n);
            for (int n : plans.cachedBatchSizes()) {
                try (Tensor x = CompiledModelTest.randomInput(1, shape(n)); Tensor y = plans.run(x)) {
                    assertEquals(n, y.shape()[0]);
                }
            }
            assertEquals(4, plans.plansBuilt());
            long set = plans.constantBytes();
            System.out.println("the largest plan alone: " + alone + " constant bytes; the set of 4 plans: " + set + " (" + plans.sharedBlocks()
                    + " shared blocks)");
            // Every weight here is read in one layout whatever the batch (and Winograd's transformed weights, at the sizes
            // that run Winograd, likewise), so 4 plans hold about what the largest holds: only the small biases are each plan's.
            assertTrue(set < alone + 3 * (alone / 10), "4 plans hold " + set + " bytes of constants, the largest alone " + alone);
            assertTrue(plans.sharedBlocks() >= 3, "the three weights are shared: " + plans.sharedBlocks() + " blocks");
        }
    }

    /** x [N, S, 64] times a 64 x 256 weight (64 KiB) plus a bias, as a graph at sequence length {@code s}. */
    private static dev.panamadnn.graph.Graph matmulAt(long s, Tensor w, Tensor bias) {
        dev.panamadnn.graph.GraphBuilder g = dev.panamadnn.graph.Graph.builder("seq" + s);
        String x = g.input("x", dev.panamadnn.graph.Shape.batched("N", s, 64));
        String y = g.node("Add", "y", dev.panamadnn.graph.Attributes.empty(),
                g.node("MatMul", "mm", dev.panamadnn.graph.Attributes.empty(), x, g.initializer("w", w)), g.initializer("b", bias));
        return g.output(y).build();
    }

    /**
     * Plan sets of one model at two sequence lengths, the second made sharing the first's constants: the weight is held
     * once for both (the sets' memory together is one weight, not two), each set computes bit for bit what it computes
     * alone, and the second keeps running, its weight kept, after the first is closed.
     */
    @Test
    void planSetsAtTwoSequenceLengthsShareTheirWeightsAndOutliveEachOther() {
        try (Tensor w = CompiledModelTest.randomInput(3, 64, 256); Tensor bias = CompiledModelTest.randomInput(103, 256);
             Tensor x5 = CompiledModelTest.randomInput(5, 2, 5, 64);
             Tensor x9 = CompiledModelTest.randomInput(9, 2, 9, 64);
             PlanSet alone9 = PlanSet.of(matmulAt(9, w, bias), OPTIONS, 2); Tensor expected9 = alone9.run(Map.of("x", x9)).values().iterator().next()) {
            PlanSet five = PlanSet.of(matmulAt(5, w, bias), OPTIONS, 2);
            PlanSet nine = PlanSet.of(matmulAt(9, w, bias), OPTIONS, 2, five.constantStore());
            try (nine) {
                try (five; Tensor y5 = five.run(Map.of("x", x5)).values().iterator().next(); Tensor y9 = nine.run(Map.of("x", x9)).values().iterator().next()) {
                    assertArrayEquals(expected9.toFloatArray(), y9.toFloatArray(), "the sharing set vs the same set alone");
                    assertEquals(2 * 5 * 256, y5.numel());
                    long shared = five.sharedConstantBytes(), weight = 64L * 256 * 4;
                    assertEquals(shared, nine.sharedConstantBytes(), "one store");
                    assertSame(five.constantStore(), nine.constantStore());
                    assertEquals(shared, five.constantStore().bytes());
                    assertTrue(shared >= weight && shared < 2 * weight, "the weight held once: " + shared + " bytes shared, weight " + weight);
                    long together = PlanSet.constantBytes(List.of(five, nine));
                    assertEquals(five.constantBytes() - shared + nine.constantBytes() - shared + shared, together);
                    assertTrue(together < 2 * weight, "both sets hold " + together + " bytes of constants, the weight is " + weight);
                    assertTrue(alone9.constantBytes() >= weight, "a set alone holds the weight itself: " + alone9.constantBytes());
                    assertEquals(alone9.constantBytes() + together, PlanSet.constantBytes(List.of(five, alone9, nine)),
                            "a set with its own store counted with it");
                    assertTrue(PlanSet.constantBytes(List.of(five, alone9)) >= 2 * weight, "two stores, two weights");
                }
                try (Tensor again = nine.run(Map.of("x", x9)).values().iterator().next()) {   // the first set is closed
                    assertArrayEquals(expected9.toFloatArray(), again.toFloatArray(), "after the set it shares with was closed");
                }
                assertTrue(nine.sharedConstantBytes() >= 64L * 256 * 4, "the weight stays while a plan reads it");
            }
            assertEquals(0, nine.sharedConstantBytes(), "freed with the last plan");
        }
    }

    /**
     * Plans compiled alone at two fixed shapes ([2, 5, 64] and [3, 9, 64], no batch symbol) with one store: the weight
     * held once, each plan bit for bit what it computes alone, the second running after the first closed, nothing left
     * in the store after both.
     */
    @Test
    void plansOfFixedShapesGivenOneStoreShareTheirWeights() {
        ConstantStore store = new ConstantStore();
        try (Tensor w = CompiledModelTest.randomInput(4, 64, 256); Tensor bias = CompiledModelTest.randomInput(104, 256);
             Tensor x9 = CompiledModelTest.randomInput(19, 3, 9, 64);
             CompiledModel alone = CompiledModel.compile(matmulAt(9, w, bias), OPTIONS, Map.of("x", new long[] {3, 9, 64}));
             Tensor expected = alone.run(Map.of("x", x9)).values().iterator().next()) {
            CompiledModel five = CompiledModel.compile(matmulAt(5, w, bias), OPTIONS, Map.of("x", new long[] {2, 5, 64}), store);
            CompiledModel nine = CompiledModel.compile(matmulAt(9, w, bias), OPTIONS, Map.of("x", new long[] {3, 9, 64}), store);
            long weight = 64L * 256 * 4;
            try (nine) {
                try (five) {
                    assertSame(store, five.constantStore());
                    assertSame(store, nine.constantStore());
                    assertEquals(null, alone.constantStore());
                    assertTrue(store.bytes() >= weight && store.bytes() < 2 * weight, "the weight held once: " + store);
                    assertEquals(five.constantBytes() - five.sharedConstantBytes() + nine.constantBytes() - nine.sharedConstantBytes() + store.bytes(),
                            five.constantBytes() + nine.constantBytes() - store.bytes(), "both plans read every block of the store");
                }
                try (Tensor y = nine.run(Map.of("x", x9)).values().iterator().next()) {
                    assertArrayEquals(expected.toFloatArray(), y.toFloatArray(), "after the plan it shares with closed, as compiled alone");
                }
                assertTrue(store.bytes() >= weight, "kept while a plan reads it");
            }
            assertEquals(0, store.bytes(), "freed with the last plan");
            assertThrows(IllegalArgumentException.class, () -> CompiledModel.compile(matmulAt(5, w, bias), OPTIONS, Map.of("x", new long[] {2, 5, 64}),
                    (ConstantStore) null));
        }
    }

    @Test
    void evictedAndClosedPlansNeverFreeWhatAnotherPlanReadsAndNothingOutlivesTheLastPlan() {
        try (Sequential model = cnn()) {
            PlanSet plans = PlanSet.of(model, OPTIONS, SAMPLE, 1);
            try (plans) {
                assertAsCompiledAlone(plans, model, OPTIONS, 3);
                int blocks = plans.sharedBlocks();
                assertTrue(blocks >= 3, blocks + " shared blocks");
                assertAsCompiledAlone(plans, model, OPTIONS, 4);   // evicts (and closes) batch 3's plan
                assertEquals(1, plans.evictions());
                assertAsCompiledAlone(plans, model, OPTIONS, 4);
                assertAsCompiledAlone(plans, model, OPTIONS, 3);   // compiled again, sharing with nothing left over
                assertEquals(2, plans.evictions());
                assertEquals(blocks, plans.sharedBlocks(), "one plan, its own blocks only");
            }
            assertEquals(0, plans.sharedBlocks(), "blocks kept after the set closed");
            assertEquals(0, plans.constantBytes());
        }
    }

    @Test
    void twoLayersWithTheSameWeightsShareOneBlockInEachPlan() {
        long[] bytes = new long[2];
        for (int same = 0; same < 2; same++) {
            Conv2d a = Conv2d.builder(32, 32, 3).padding(1).build(), b = Conv2d.builder(32, 32, 3).padding(1).build();
            try (Sequential model = new Sequential(Conv2d.builder(16, 32, 3).padding(1).build(), a, new ReLU(), b, new AdaptiveAvgPool2d(1),
                    new Flatten())) {
                CompiledModelTest.randomize(model, 3);
                if (same == 1) MemorySegment.copy(a.weight().segment(), 0, b.weight().segment(), 0, a.weight().segment().byteSize());
                PlanSet plans = PlanSet.of(model, OPTIONS, SAMPLE);
                try (plans) {
                    for (long n : new long[] {1, 2, 1}) assertAsCompiledAlone(plans, model, OPTIONS, n);
                    bytes[same] = plans.constantBytes();
                }
                assertEquals(0, plans.sharedBlocks());
            }
        }
        assertTrue(bytes[0] - bytes[1] >= 4 * 9 * 32 * 32, "equal weights in two layers are held once: " + bytes[1] + " bytes, else " + bytes[0]);
    }

    @Test
    void eightSizesBuiltAtOnceByEightThreadsShareTheirWeights() throws Exception {
        try (Sequential model = cnn()) {
            PlanSet plans = PlanSet.of(model, OPTIONS, SAMPLE);
            ExecutorService pool = Executors.newFixedThreadPool(8);
            try (plans) {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<?>> done = new ArrayList<>();
                for (int n = 1; n <= 8; n++) {
                    int batch = n;
                    done.add(pool.submit(() -> {
                        start.await();
                        plans.warmup(batch);
                        return null;
                    }));
                }
                start.countDown();
                for (Future<?> f : done) f.get();
                assertEquals(8, plans.plansBuilt());
                for (long n = 1; n <= 8; n++) assertAsCompiledAlone(plans, model, OPTIONS, n);
                long alone = largestAlone(model, 1, 2, 3, 4, 5, 6, 7, 8);
                assertTrue(plans.constantBytes() < alone * 3 / 2, "8 plans hold " + plans.constantBytes() + " bytes, the largest alone " + alone);
            } finally {
                pool.shutdown();
            }
            assertEquals(0, plans.sharedBlocks());
        }
    }

    /**
     * Winograd (32 channels: this module's tests lower the threshold to 16): the second plan takes the first one's transformed
     * weights, already prepared by its warmup, and runs Winograd from its first run with them; the transformed weights
     * outlive the first plan's eviction.
     */
    @Test
    void winogradWeightsPreparedByOnePlanServeTheNextAndOutliveIt() {
        try (Sequential model = new Sequential(new AvgPool2d(1), Conv2d.builder(16, 32, 3).padding(1).build(), new ReLU(),
                Conv2d.builder(32, 32, 3).padding(1).build())) {
            CompiledModelTest.randomize(model, 11);
            CompileOptions options = CompileOptions.defaults();
            long[] sample = {16, 24, 20};
            PlanSet plans = PlanSet.of(model, options, sample, 2);
            try (plans) {
                plans.warmup(2);
                long afterOne = plans.constantBytes();
                plans.warmup(3);
                for (long n : new long[] {2, 3}) {
                    long[] shape = {n, 16, 24, 20};
                    try (Tensor x = CompiledModelTest.randomInput(90 + n, shape); CompiledModel alone = CompiledModel.compile(model, options, shape).warmup();
                         Tensor expected = alone.run(x); Tensor actual = plans.run(x)) {
                        assertEquals(2, alone.steps().stream().filter(s -> s.contains("winograd")).count(), alone.steps().toString());
                        assertArrayEquals(expected.toFloatArray(), actual.toFloatArray(), "batch " + n);
                    }
                }
                assertTrue(plans.constantBytes() < afterOne * 3 / 2, "two plans hold " + plans.constantBytes() + " bytes, one " + afterOne);
                long[] shape4 = {4, 16, 24, 20};
                try (Tensor x = CompiledModelTest.randomInput(94, shape4); CompiledModel alone = CompiledModel.compile(model, options, shape4).warmup();
                     Tensor expected = alone.run(x)) {
                    plans.warmup(4);   // evicts batch 2's plan, which made the shared weights
                    assertEquals(1, plans.evictions());
                    try (Tensor actual = plans.run(x)) {
                        assertArrayEquals(expected.toFloatArray(), actual.toFloatArray(), "batch 4 after the eviction");
                    }
                }
                try (Tensor x = CompiledModelTest.randomInput(93, 3, 16, 24, 20);
                     CompiledModel alone = CompiledModel.compile(model, options, 3, 16, 24, 20).warmup();
                     Tensor expected = alone.run(x); Tensor actual = plans.run(x)) {
                    assertArrayEquals(expected.toFloatArray(), actual.toFloatArray(), "batch 3 after batch 2's eviction");
                }
            }
            assertEquals(0, plans.sharedBlocks());
        }
    }
}
