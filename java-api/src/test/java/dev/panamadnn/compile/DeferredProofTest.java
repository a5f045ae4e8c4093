package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.MaxPool2d;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * {@link DeferredProof}: {@code fast_when_finite}'s proof after a plan's first run. A fresh plan's runs take the
 * NaN-keeping activations (ReLU as {@code elu(0)}: -0.0 for a negative input) until the proof, on a thread of its own,
 * publishes the fast variants (oneDNN's own {@code relu}: +0.0), all at once: every run, of a plain plan and of one run
 * as two halves side by side, gives the one result or the other, never a mix; the plan settles on the proven one, and
 * then reports what the rule proved; {@code warmup()} proves on the caller's thread; closing a plan while its proof runs
 * is safe; a proof whose weights were closed first proves nothing and the plan keeps working.
 */
class DeferredProofTest {
    private static final long[] SHAPE = {2, 3, 24, 24};

    /** Conv -> ReLU -> conv -> ReLU -> max pool -> linear -> ReLU: fast variants of convolutions, a linear layer and a max pool's mask. */
    private static Sequential net(long seed) {
        Sequential m = new Sequential(Conv2d.builder(3, 16, 3).padding(1).build(), new ReLU(), Conv2d.builder(16, 16, 3).padding(1).build(),
                new ReLU(), new MaxPool2d(2), new Flatten(), new Linear(16 * 12 * 12, 10, true), new ReLU());
        CompiledModelTest.randomize(m, seed);
        return m;
    }

    /** The result of {@code plan}'s run on {@code x}, as floats. */
    private static float[] run(CompiledModel plan, Tensor x) {
        try (Tensor y = plan.run(x)) {
            return y.toFloatArray();
        }
    }

    private static long fastReports(CompiledModel plan) {
        return plan.rulesFired().stream().filter(r -> r.startsWith(FiniteBounds.NAME + ":")).count();
    }

    @Test
    void everyRunIsTheUnprovenOrTheProvenPlanNeverAMix() throws Exception {
        for (int threads : new int[] {1, 2}) {   // 2 threads at batch 2: the plan runs as two single-threaded halves (split_batch)
            CompileOptions options = CompileOptions.defaults().withWinograd(false).withThreads(threads);
            try (Sequential m = net(61); Tensor x = CompiledModelTest.randomInput(62, SHAPE);
                 CompiledModel unproven = CompiledModel.compile(m, options.withoutRule(FiniteBounds.NAME), SHAPE);
                 CompiledModel proven = CompiledModel.compile(m, options, SHAPE).warmup();
                 CompiledModel fresh = CompiledModel.compile(m, options, SHAPE)) {
                assertEquals(threads == 2, fresh.rulesFired().stream().anyMatch(r -> r.startsWith(BatchSplit.NAME)), fresh.describe());
                assertEquals(0, fastReports(fresh), "nothing proven before the first run\n" + fresh.describe());
                assertFalse(fresh.describe().contains("fast when"), fresh.describe());
                float[] before = run(unproven, x), after = run(proven, x);
                assertTrue(fastReports(proven) >= 3, proven.describe());
                assertTrue(proven.describe().contains("fast when") && proven.describe().contains("skipped when"), proven.describe());
                assertFalse(Arrays.equals(before, after), "the two forms differ (the sign of a zero ReLU output)");
                for (int i = 0; i < before.length; i++) assertEquals(before[i], after[i], 0f, "equal but for the sign of zero at " + i);
                AtomicReference<String> mixed = new AtomicReference<>();
                AtomicBoolean switched = new AtomicBoolean();
                long deadline = System.nanoTime() + 60_000_000_000L;
                List<Thread> runners = new ArrayList<>();
                for (int t = 0; t < 6; t++) {
                    runners.add(Thread.ofPlatform().start(() -> {
                        while (!switched.get() && mixed.get() == null && System.nanoTime() < deadline) {
                            float[] v = run(fresh, x);
                            if (Arrays.equals(v, after)) switched.set(true);
                            else if (!Arrays.equals(v, before)) mixed.compareAndSet(null, "a run gave neither the unproven nor the proven result");
                        }
                    }));
                }
                for (Thread t : runners) t.join();
                assertEquals(null, mixed.get(), "threads " + threads);
                assertTrue(switched.get(), "the plan did not take its proven variants within 60 s (threads " + threads + ")");
                assertEquals(fastReports(proven), fastReports(fresh), fresh.describe());
                assertArrayEquals(after, run(fresh, x), "settled");
                assertTrue(fresh.fastRuns() > 0);
            }
        }
    }

    @Test
    void warmupProvesOnTheCallersThread() {
        try (Sequential m = net(63); CompiledModel plan = CompiledModel.compile(m, CompileOptions.defaults().withWinograd(false), SHAPE)) {
            assertEquals(0, fastReports(plan));
            plan.warmup();
            assertTrue(fastReports(plan) >= 3, plan.describe());
            plan.warmup();   // once only
            assertTrue(fastReports(plan) >= 3, plan.describe());
        }
    }

    /** At compile, as before, with the property off: the proof is part of the plan from its first run on. */
    @Test
    void theOldBehaviourWithThePropertyOff() {
        System.setProperty(DeferredProof.PROPERTY, "false");
        try (Sequential m = net(64); CompiledModel plan = CompiledModel.compile(m, CompileOptions.defaults().withWinograd(false), SHAPE)) {
            assertTrue(fastReports(plan) >= 3, plan.describe());
            assertTrue(plan.describe().contains("fast when"), plan.describe());
        } finally {
            System.clearProperty(DeferredProof.PROPERTY);
        }
    }

    /** Weights closed before the proof reads them: nothing proven, the plan runs on (its own copies) with the NaN-keeping forms. */
    @Test
    void aProofWhoseWeightsWereClosedProvesNothing() throws Exception {
        CompileOptions options = CompileOptions.defaults().withWinograd(false);
        float[] expected;
        try (Sequential m = net(65); Tensor x = CompiledModelTest.randomInput(66, SHAPE);
             CompiledModel unproven = CompiledModel.compile(m, options.withoutRule(FiniteBounds.NAME), SHAPE)) {
            expected = run(unproven, x);
        }
        Sequential m = net(65);
        try (Tensor x = CompiledModelTest.randomInput(66, SHAPE); CompiledModel plan = CompiledModel.compile(m, options, SHAPE)) {
            m.close();   // before the first run: the proof (after it) finds the weights closed
            for (int i = 0; i < 20; i++) assertArrayEquals(expected, run(plan, x), "run " + i);
            plan.warmup();   // waits for the proof: it ended without proving anything
            assertEquals(0, fastReports(plan), plan.describe());
            assertArrayEquals(expected, run(plan, x));
        }
    }

    /** Closing plans whose proofs are pending or running: no failure, and the proving threads end. */
    @Test
    void closingAPlanWhileItsProofRunsIsSafe() throws InterruptedException {
        try (Sequential m = net(67); Tensor x = CompiledModelTest.randomInput(68, SHAPE)) {
            for (int i = 0; i < 20; i++) {
                CompiledModel plan = CompiledModel.compile(m, CompileOptions.defaults().withWinograd(false), SHAPE);
                run(plan, x);   // starts the proof
                if (i % 4 > 0) Thread.sleep(i % 4);
                plan.close();
            }
        }
        for (int i = 0; i < 1000 && provingThreads() > 0; i++) Thread.sleep(10);
        assertEquals(0, provingThreads());
    }

    private static long provingThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("panamadnn-fast-proof")).count();
    }
}
