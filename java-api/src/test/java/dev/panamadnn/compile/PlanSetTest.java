package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.AdaptiveAvgPool2d;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Plans for any batch size on a small CNN (conv, ReLU, global average pool, flatten, linear; random
 * weights, seed 42): which plans get built, LRU eviction that never closes a plan under a running
 * call, one build for many first callers, failures not cached, results equal to a plan compiled
 * directly for the shape (bit for bit: the same primitives, one intra-op thread) and to the eager
 * forward within {@link CompiledModelTest#assertClose}'s tolerance, and misuse messages.
 */
class PlanSetTest {
    private static final long[] SAMPLE = {3, 8, 8};
    private static final CompileOptions OPTIONS = CompileOptions.defaults().withThreads(1);

    private final Sequential model = smallCnn();
    /** Every plan the counting builder compiled, in order. */
    private final List<CompiledModel> compiled = Collections.synchronizedList(new ArrayList<>());
    private final AtomicInteger compiles = new AtomicInteger();

    static Sequential smallCnn() {
        Sequential m = new Sequential(Conv2d.builder(3, 8, 3).padding(1).build(), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(),
                new Linear(8, 5, true));
        CompiledModelTest.randomize(m, 42);
        return m;
    }

    @AfterEach
    void closeModel() {
        model.close();
    }

    /** A plan set whose builder counts compiles and keeps the plans, so a test can see which are closed. */
    private PlanSet counting(int maxPlans) {
        return new PlanSet(model, OPTIONS, SAMPLE, maxPlans, shape -> {
            compiles.incrementAndGet();
            CompiledModel c = CompiledModel.compile(model, OPTIONS, shape);
            compiled.add(c);
            return c;
        });
    }

    private static Tensor input(long batch) {
        return CompiledModelTest.randomInput(100 + batch, batch, SAMPLE[0], SAMPLE[1], SAMPLE[2]);
    }

    private static boolean isClosed(CompiledModel plan) {
        try {
            plan.warmup();
            return false;
        } catch (IllegalStateException e) {
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            return true;
        }
    }

    private static CompiledModel planFor(List<CompiledModel> plans, long batch) {
        return plans.stream().filter(p -> p.inputShape()[0] == batch).reduce((a, b) -> b).orElseThrow();
    }

    @Test
    void sizes1_3_16_1BuildThreePlansWithTheResultsOfDirectPlansAndOfTheEagerForward() {
        try (PlanSet plans = PlanSet.of(model, OPTIONS, SAMPLE)) {
            assertEquals(PlanSet.DEFAULT_MAX_PLANS, plans.maxPlans());
            for (long n : new long[] {1, 3, 16, 1}) {
                try (Tensor x = input(n); Tensor y = plans.run(x); CompiledModel direct = CompiledModel.compile(model, OPTIONS, x.shape());
                     Tensor expected = direct.run(x); Tensor eager = model.forward(x)) {
                    assertArrayEquals(new long[] {n, 5}, y.shape());
                    assertArrayEquals(expected.toFloatArray(), y.toFloatArray(), "batch " + n + ": the plan set vs a plan compiled for the shape");
                    CompiledModelTest.assertClose(eager.toFloatArray(), y.toFloatArray(), "batch " + n + " vs eager");
                }
            }
            assertEquals(3, plans.plansBuilt());
            assertArrayEquals(new int[] {1, 3, 16}, plans.cachedBatchSizes());
            assertEquals(0, plans.evictions());
            String d = plans.describe();
            System.out.println(d);
            assertTrue(d.startsWith("PlanSet(Sequential, input [N, 3, 8, 8], 3 of 8 plans): 3 built, 0 evicted, constants "), d);
            assertTrue(d.contains("batch 16: [16, 3, 8, 8] -> [16, 5]"), d);
        }
    }

    @Test
    void contextBytesAreThoseOfThePlanForTheBatchBuiltWithoutARun() {
        try (PlanSet plans = counting(4)) {
            long one = plans.contextBytes(1), eight = plans.contextBytes(8);
            assertEquals(2, compiles.get(), "one plan per size, built for the question");
            assertEquals(planFor(compiled, 1).contextBytes(), one);
            assertEquals(planFor(compiled, 8).contextBytes(), eight);
            try (CompiledModel direct = CompiledModel.compile(model, OPTIONS, 8, SAMPLE[0], SAMPLE[1], SAMPLE[2])) {
                assertEquals(direct.contextBytes(), eight, "as a plan compiled for [8, ...] alone");
            }
            assertTrue(eight > one, "activations grow with the batch: " + one + " vs " + eight);
            assertEquals(one, plans.contextBytes(1));
            assertEquals(2, compiles.get(), "cached");
            assertThrows(IllegalArgumentException.class, () -> plans.contextBytes(0));
        }
    }

    @Test
    void runIntoAnOutputPicksThePlanByTheInputsBatch() {
        try (PlanSet plans = PlanSet.of(model, OPTIONS, SAMPLE); Tensor x = input(4); Tensor out = Tensor.zeros(plans.outputShape(4));
             Tensor expected = model.forward(x)) {
            assertArrayEquals(new long[] {4, 5}, plans.outputShape(4));
            assertEquals(0, plans.plansBuilt(), "a layer's output shape needs no plan");
            plans.run(x, out);
            CompiledModelTest.assertClose(expected.toFloatArray(), out.toFloatArray(), "run(in, out) batch 4");
            assertEquals(1, plans.plansBuilt());
        }
    }

    @Test
    void evictionWithMaxTwoClosesTheLeastRecentlyUsedPlan() {
        try (PlanSet plans = counting(2)) {
            for (long n : new long[] {1, 3, 16}) {
                try (Tensor x = input(n)) {
                    plans.run(x).close();
                }
            }
            assertArrayEquals(new int[] {3, 16}, plans.cachedBatchSizes());
            assertEquals(1, plans.evictions());
            assertTrue(isClosed(planFor(compiled, 1)), "the evicted plan is closed");
            assertFalse(isClosed(planFor(compiled, 3)));
            try (Tensor x = input(3)) {
                plans.run(x).close();   // 3 is now more recent than 16
            }
            try (Tensor x = input(1)) {
                plans.run(x).close();   // built again; evicts 16
            }
            assertArrayEquals(new int[] {1, 3}, plans.cachedBatchSizes());
            assertEquals(4, plans.plansBuilt());
            assertEquals(4, compiles.get());
            assertEquals(2, plans.evictions());
            assertTrue(isClosed(planFor(compiled, 16)));
        }
        assertTrue(compiled.stream().allMatch(PlanSetTest::isClosed), "close() closes every plan");
    }

    /**
     * A run holds its plan (the test hook parks it after the lease is taken, before the plan runs)
     * while another thread's new batch size evicts that plan: the plan stays open, the held run
     * completes with the right result, and the plan is closed when it returns.
     */
    @Test
    void aRunInFlightDuringEvictionCompletesAndThenItsPlanIsClosed() throws Exception {
        try (PlanSet plans = counting(1); Tensor x1 = input(1); Tensor x2 = input(2); Tensor expected = model.forward(x1)) {
            plans.warmup(1);
            CompiledModel first = compiled.get(0);
            CountDownLatch leased = new CountDownLatch(1), proceed = new CountDownLatch(1);
            plans.onLeased = plan -> {
                if (plan == first && leased.getCount() > 0) {
                    leased.countDown();
                    await(proceed);
                }
            };
            AtomicReference<float[]> result = new AtomicReference<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread held = Thread.ofPlatform().start(() -> {
                try (Tensor y = plans.run(x1)) {
                    result.set(y.toFloatArray());
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            assertTrue(leased.await(30, TimeUnit.SECONDS));
            plans.run(x2).close();   // maxPlans 1: evicts the plan the held run is about to use
            assertEquals(1, plans.evictions());
            assertArrayEquals(new int[] {2}, plans.cachedBatchSizes());
            assertFalse(isClosed(first), "evicted while a run holds it: still open");
            proceed.countDown();
            held.join();
            if (failure.get() != null) throw new AssertionError("the held run failed", failure.get());
            assertArrayEquals(planResult(first.inputShape(), x1), result.get(), "the held run's result");
            CompiledModelTest.assertClose(expected.toFloatArray(), result.get(), "held run vs eager");
            assertTrue(isClosed(first), "closed by the last run out");
        }
    }

    private float[] planResult(long[] shape, Tensor x) {
        try (CompiledModel direct = CompiledModel.compile(model, OPTIONS, shape); Tensor y = direct.run(x)) {
            return y.toFloatArray();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) throw new AssertionError("latch timed out");
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /** 16 threads (8 platform, 8 virtual) ask for the same new batch size at once: one compile, one plan, equal results. */
    @Test
    void sixteenThreadsFirstUseOfANewSizeBuildItOnce() throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        try (PlanSet plans = new PlanSet(model, OPTIONS, SAMPLE, 8, shape -> {
            compiles.incrementAndGet();
            pause(200);   // a slow compile: every thread arrives while it runs
            return CompiledModel.compile(model, OPTIONS, shape);
        }); Tensor x = input(4)) {
            float[] expected = planResult(x.shape(), x);
            Map<Integer, float[]> results = new HashMap<>();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 16; t++) {
                int id = t;
                Runnable body = () -> {
                    try {
                        start.await();
                        try (Tensor y = plans.run(x)) {
                            float[] v = y.toFloatArray();
                            synchronized (results) {
                                results.put(id, v);
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                };
                threads.add(t < 8 ? Thread.ofPlatform().start(body) : Thread.ofVirtual().start(body));
            }
            start.countDown();
            for (Thread t : threads) t.join();
            if (failure.get() != null) throw new AssertionError("a thread failed", failure.get());
            assertEquals(1, compiles.get(), "compiles for 16 first callers");
            assertEquals(1, plans.plansBuilt());
            assertEquals(16, results.size());
            for (float[] v : results.values()) assertArrayEquals(expected, v);
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * A failing compile reaches every caller waiting for it, with its kind and cause, and is not
     * cached: the next call compiles again and succeeds.
     */
    @Test
    void aFailedBuildReachesEveryWaiterAndIsNotCached() throws Exception {
        AtomicInteger attempts = new AtomicInteger();
        try (PlanSet plans = new PlanSet(model, OPTIONS, SAMPLE, 8, shape -> {
            if (attempts.incrementAndGet() == 1) {
                pause(200);
                throw new UnsupportedOperationException("no plan today for " + java.util.Arrays.toString(shape));
            }
            return CompiledModel.compile(model, OPTIONS, shape);
        }); Tensor x = input(2)) {
            CountDownLatch start = new CountDownLatch(1);
            List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try {
                        start.await();
                        plans.run(x).close();
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                }));
            }
            start.countDown();
            for (Thread t : threads) t.join();
            assertEquals(1, attempts.get(), "one compile for all 8 callers");
            assertEquals(8, failures.size(), "every caller sees the failure");
            for (Throwable e : failures) {
                assertSame(UnsupportedOperationException.class, e.getClass(), e.toString());
                assertTrue(e.getMessage().startsWith("PlanSet(Sequential, input [N, 3, 8, 8], 0 of 8 plans): building the plan for input"
                        + " [2, 3, 8, 8] failed: no plan today for [2, 3, 8, 8]"), e.getMessage());
                assertEquals("no plan today for [2, 3, 8, 8]", e.getCause().getMessage());
            }
            assertEquals(0, plans.plansBuilt());
            assertEquals(0, plans.cachedBatchSizes().length);
            try (Tensor y = plans.run(x); Tensor expected = model.forward(x)) {
                CompiledModelTest.assertClose(expected.toFloatArray(), y.toFloatArray(), "after the failure");
            }
            assertEquals(2, attempts.get());
            assertEquals(1, plans.plansBuilt());
        }
    }

    /** A refusal of the shape keeps its kind (IllegalArgumentException) and the compiler's message as the cause. */
    @Test
    void aRefusedShapeStaysAnIllegalArgumentWithTheCompilersMessageAsCause() {
        try (PlanSet plans = new PlanSet(model, OPTIONS, SAMPLE, 8, shape -> {
            throw new IllegalArgumentException("Conv2d(3, 8): stand-in refusal for " + java.util.Arrays.toString(shape));
        }); Tensor x = input(1)) {
            var e = assertThrows(IllegalArgumentException.class, () -> plans.run(x));
            assertTrue(e.getMessage().contains("building the plan for input [1, 3, 8, 8] failed: Conv2d(3, 8): stand-in refusal"), e.getMessage());
            assertTrue(e.getCause().getMessage().startsWith("Conv2d(3, 8)"));
        }
    }

    @Test
    void tensorsOfAnotherThreadsConfinedArenaAreRefusedByName() throws Exception {
        try (PlanSet plans = counting(2); java.lang.foreign.Arena confined = java.lang.foreign.Arena.ofConfined()) {
            Tensor x = Tensor.allocate(confined, dev.panamadnn.DataType.F32, 2, 3, 8, 8);
            plans.run(x).close();   // the owning thread may run it
            Throwable[] failure = new Throwable[1];
            Thread other = new Thread(() -> {
                try {
                    plans.run(x).close();
                } catch (Throwable t) {
                    failure[0] = t;
                }
            });
            other.start();
            other.join();
            assertTrue(failure[0] instanceof IllegalArgumentException, String.valueOf(failure[0]));   // was a bare WrongThreadException
            assertTrue(failure[0].getMessage().contains("input 'input': its memory belongs to a confined arena of another thread"),
                    failure[0].getMessage());
        }
    }

    @Test
    void misuseIsRefusedBeforeAnyPlanIsBuilt() {
        try (PlanSet plans = counting(2); Tensor wrongSample = Tensor.zeros(2, 3, 9, 8); Tensor wrongRank = Tensor.zeros(3, 8, 8);
             Tensor x = input(2); Tensor wrongOut = Tensor.zeros(3, 5)) {
            var e = assertThrows(IllegalArgumentException.class, () -> plans.run(wrongSample));
            assertEquals("PlanSet(Sequential, input [N, 3, 8, 8], 0 of 2 plans): expected input shape [N, 3, 8, 8] (any batch N >= 1),"
                    + " got [2, 3, 9, 8]", e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> plans.run(wrongRank));
            assertTrue(e.getMessage().endsWith("got [3, 8, 8]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> plans.run((Tensor) null));
            assertTrue(e.getMessage().contains("input must not be null"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> plans.run(x, wrongOut));
            assertTrue(e.getMessage().contains("expected output shape [2, 5] for an input of batch 2, got [3, 5]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> plans.run(x, null));
            assertTrue(e.getMessage().contains("output must not be null"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> plans.warmup(0));
            assertTrue(e.getMessage().contains("expected a batch size from 1 to 2147483647 (2^31 - 1), got 0"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> plans.outputShape(1L << 31));
            assertTrue(e.getMessage().contains("got 2147483648"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> plans.warmup(1, 2, 3));
            assertTrue(e.getMessage().contains("warmup of 3 batch sizes [1, 2, 3]") && e.getMessage().contains("maxPlans = 2"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> plans.warmup());
            assertTrue(e.getMessage().contains("got none"), e.getMessage());
            assertEquals(0, compiles.get(), "no plan was built for a refused call");
        }
    }

    @Test
    void badArgumentsToOf() {
        var e = assertThrows(IllegalArgumentException.class, () -> PlanSet.of(null, OPTIONS, SAMPLE));
        assertTrue(e.getMessage().contains("model"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PlanSet.of(model, null, SAMPLE));
        assertTrue(e.getMessage().contains("options"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PlanSet.of(model, OPTIONS));
        assertTrue(e.getMessage().contains("shape of one sample"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PlanSet.of(model, OPTIONS, 3, 0, 8));
        assertTrue(e.getMessage().contains("[3, 0, 8]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PlanSet.of(model, OPTIONS, SAMPLE, 0));
        assertTrue(e.getMessage().contains("maxPlans from 1 to 1024, got 0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> PlanSet.of(model, OPTIONS, 4, 8, 8));
        assertTrue(e.getMessage().contains("Conv2d") && e.getMessage().contains("4"), "names the layer: " + e.getMessage());
        try (Sequential flattensTheBatch = new Sequential(Conv2d.builder(3, 4, 3).padding(1).build(), new Flatten(0, -1))) {
            e = assertThrows(IllegalArgumentException.class, () -> PlanSet.of(flattensTheBatch, OPTIONS, SAMPLE));
            assertTrue(e.getMessage().contains("keeps the batch dimension") && e.getMessage().contains("[512]"), e.getMessage());
        }
    }

    /** A graph whose first output does not keep the batch first (a sequence-first [T, N, C]): refused by of(), not at the first run. */
    @Test
    void aGraphWhoseFirstOutputMovesTheBatchIsRefusedWhenTheSetIsMade() {
        dev.panamadnn.graph.GraphBuilder g = dev.panamadnn.graph.Graph.builder("time first");
        String x = g.input("x", dev.panamadnn.graph.Shape.batched("N", 3, 2));
        g.output(g.node("Transpose", "t", dev.panamadnn.graph.Attributes.of("perm", new long[] {1, 0, 2}), x));
        dev.panamadnn.graph.Graph moved = g.build();
        var e = assertThrows(IllegalArgumentException.class, () -> PlanSet.of(moved, OPTIONS, 4));
        assertTrue(e.getMessage().contains("PlanSet(time first)") && e.getMessage().contains("[3, N, 2]")
                && e.getMessage().contains("keeps the batch dimension first"), e.getMessage());
        dev.panamadnn.graph.GraphBuilder kept = dev.panamadnn.graph.Graph.builder("batch first");   // the same op, the batch kept: accepted
        String y = kept.input("x", dev.panamadnn.graph.Shape.batched("N", 3, 2));
        kept.output(kept.node("Transpose", "t", dev.panamadnn.graph.Attributes.of("perm", new long[] {0, 2, 1}), y));
        try (PlanSet set = PlanSet.of(kept.build(), OPTIONS, 4); Tensor in = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 1, 3, 2)) {
            Map<String, Tensor> out = set.run(Map.of("x", in));
            try {
                assertArrayEquals(new float[] {1, 3, 5, 2, 4, 6}, out.values().iterator().next().toFloatArray());
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }

    @Test
    void closeClosesEveryPlanAndLaterCallsNameThePlanSet() {
        PlanSet plans = counting(4).warmup(1, 2);
        assertEquals(2, plans.plansBuilt());
        assertTrue(compiled.stream().allMatch(p -> p.contextCount() >= 1), "warmup created a context in each plan");
        plans.close();
        assertTrue(compiled.stream().allMatch(PlanSetTest::isClosed));
        try (Tensor x = input(1)) {
            var e = assertThrows(IllegalStateException.class, () -> plans.run(x));
            assertEquals("PlanSet(Sequential, input [N, 3, 8, 8], 0 of 4 plans) is closed", e.getMessage());
            assertThrows(IllegalStateException.class, () -> plans.warmup(1));
        }
        plans.close();   // idempotent
    }

    /** close() while a run holds its plan: waits for the run, which completes; the plan is closed after. */
    @Test
    void closeWaitsForARunInFlight() throws Exception {
        PlanSet plans = counting(2).warmup(3);
        CountDownLatch leased = new CountDownLatch(1), proceed = new CountDownLatch(1);
        plans.onLeased = plan -> {
            leased.countDown();
            await(proceed);
        };
        try (Tensor x = input(3)) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            AtomicReference<float[]> result = new AtomicReference<>();
            Thread run = Thread.ofPlatform().start(() -> {
                try (Tensor y = plans.run(x)) {
                    result.set(y.toFloatArray());
                } catch (Throwable e) {
                    failure.set(e);
                }
            });
            assertTrue(leased.await(30, TimeUnit.SECONDS));
            Thread closer = Thread.ofPlatform().start(plans::close);
            closer.join(200);
            assertTrue(closer.isAlive(), "close() waits for the run in flight");
            assertFalse(isClosed(compiled.get(0)));
            proceed.countDown();
            run.join();
            closer.join();
            if (failure.get() != null) throw new AssertionError("the run failed", failure.get());
            assertArrayEquals(planResult(x.shape(), x), result.get());
            assertTrue(isClosed(compiled.get(0)));
        }
    }

    /**
     * 8 threads (half virtual) run random batch sizes 1-4 through a set of 2 plans, so plans are
     * evicted while other threads run them: every run completes (none sees its plan closed) with the
     * result of a plan compiled directly for its shape.
     */
    @Test
    void concurrentRunsOfManySizesThroughFewPlans() throws Exception {
        long[] batches = {1, 2, 3, 4};
        List<Tensor> inputs = new ArrayList<>();
        List<float[]> expected = new ArrayList<>();
        for (long n : batches) {
            Tensor x = input(n);
            inputs.add(x);
            expected.add(planResult(x.shape(), x));
        }
        try (PlanSet plans = counting(2)) {
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                long seed = 7 + t;
                Runnable body = () -> {
                    SplittableRandom r = new SplittableRandom(seed);
                    try {
                        start.await();
                        for (int i = 0; i < 25; i++) {
                            int b = r.nextInt(batches.length);
                            try (Tensor y = plans.run(inputs.get(b))) {
                                assertArrayEquals(expected.get(b), y.toFloatArray(), "batch " + batches[b]);
                            }
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                };
                threads.add(t % 2 == 0 ? Thread.ofPlatform().start(body) : Thread.ofVirtual().start(body));
            }
            start.countDown();
            for (Thread t : threads) t.join();
            if (failure.get() != null) throw new AssertionError("a thread failed", failure.get());
            assertTrue(plans.cachedBatchSizes().length <= 2);
            assertEquals(plans.plansBuilt(), compiles.get());
            assertEquals(plans.plansBuilt() - plans.cachedBatchSizes().length, plans.evictions());
            System.out.println("200 runs of 4 sizes through 2 plans: " + plans.plansBuilt() + " plans built, " + plans.evictions() + " evicted");
        } finally {
            inputs.forEach(Tensor::close);
        }
        long open = compiled.stream().filter(p -> !isClosed(p)).count();
        assertEquals(0, open, "every plan closed after the set");
    }

    /** A model that is not a Layer states no output shape: the first plan tells it. */
    @Test
    void aModuleThatIsNotALayerLearnsItsOutputShapeFromTheFirstPlan() {
        Module wrapper = new Module() {
            public Tensor forward(Tensor input) {
                return model.forward(input);
            }

            public Map<String, Tensor> parameters() {
                return model.parameters();
            }

            public void close() {}
        };
        try (PlanSet plans = new PlanSet(wrapper, OPTIONS, SAMPLE, 8, shape -> CompiledModel.compile(model, OPTIONS, shape));
             Tensor x = input(2); Tensor wrongOut = Tensor.zeros(2, 6)) {
            var e = assertThrows(IllegalArgumentException.class, () -> plans.run(x, wrongOut));
            assertTrue(e.getMessage().contains("output"), "the plan checks the output: " + e.getMessage());
            assertArrayEquals(new int[] {2}, plans.cachedBatchSizes(), "that run built the plan for batch 2 first");
            assertArrayEquals(new long[] {5, 5}, plans.outputShape(5));
            assertArrayEquals(new int[] {2}, plans.cachedBatchSizes(), "known from the first plan: no plan built for batch 5");
            e = assertThrows(IllegalArgumentException.class, () -> plans.run(x, wrongOut));
            assertTrue(e.getMessage().contains("expected output shape [2, 5] for an input of batch 2, got [2, 6]"), e.getMessage());
        }
    }

    @Test
    void aGraphWithASymbolicBatchGetsAPlanPerSize() {
        try (dev.panamadnn.nn.Sequential m = new dev.panamadnn.nn.Sequential(dev.panamadnn.nn.Conv2d.builder(3, 4, 3).padding(1).build(),
                new dev.panamadnn.nn.ReLU(), new dev.panamadnn.nn.AdaptiveAvgPool2d(1), new dev.panamadnn.nn.Flatten())) {
            CompiledModelTest.randomize(m, 3);
            var graph = dev.panamadnn.graph.Graph.lower(m, dev.panamadnn.graph.Shape.batched("N", 3, 6, 6));
            try (PlanSet plans = PlanSet.of(graph, CompileOptions.defaults(), 4)) {
                for (long n : new long[] {1, 5, 1}) {
                    try (Tensor x = CompiledModelTest.randomInput(n, n, 3, 6, 6); Tensor y = plans.run(x); Tensor eager = m.forward(x)) {
                        CompiledModelTest.assertClose(eager.toFloatArray(), y.toFloatArray(), "graph plan set, batch " + n);
                    }
                }
                org.junit.jupiter.api.Assertions.assertEquals(2, plans.plansBuilt());
            }
            var fixed = dev.panamadnn.graph.Graph.lower(m, dev.panamadnn.graph.Shape.of(2, 3, 6, 6));
            var e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> PlanSet.of(fixed, CompileOptions.defaults(), 4));
            org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("symbolic batch"), e.getMessage());
        }
    }
}
