package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Sequential;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A plan's Winograd steps are prepared after compile (the transforms JIT-compiled once per JVM, the
 * plan's weights transformed): in the background after its first run, or on the caller's thread by
 * {@link CompiledModel#warmup()}. Until then they run their direct convolution, so neither {@code
 * compile} nor the first run waits for the JIT.
 */
class WinogradWarmUpTest {
    private static final long[] SHAPE = {2, 16, 13, 15};

    @BeforeEach
    void needsTheVectorApi() {
        Assumptions.assumeTrue(Winograd.available(), "needs --add-modules jdk.incubator.vector");
    }

    /**
     * Before it is prepared a Winograd plan gives exactly the direct plan's result (its steps ran their direct
     * convolutions, not counted as guard fallbacks); {@code warmup()} prepares it, and from then on the same
     * plan runs the Winograd arithmetic (close to the direct result, not bit for bit equal).
     */
    @Test
    void untilPreparedWinogradStepsRunTheirDirectConvolution() {
        Sequential m = CompiledModelTest.winogradNet();
        CompiledModelTest.randomize(m, 41);
        try (m; CompiledModel wino = CompiledModel.compile(m, SHAPE);
             CompiledModel direct = CompiledModel.compile(m, CompileOptions.defaults().withWinograd(false), SHAPE);
             Tensor x = CompiledModelTest.randomInput(42, SHAPE); Tensor expected = direct.run(x)) {
            assertTrue(wino.steps().stream().anyMatch(s -> s.contains("winograd")), wino.describe());
            try (Tensor cold = wino.run(x)) {   // a fresh plan: its preparation starts only after this run
                assertArrayEquals(expected.toFloatArray(), cold.toFloatArray(), "before the preparation: the direct convolutions' result");
            }
            wino.warmup();
            assertTrue(WinogradKernels.isWarm(), "warmup() returns once the kernels are warm");
            try (Tensor warm = wino.run(x)) {
                CompiledModelTest.assertClose(expected.toFloatArray(), warm.toFloatArray(), "Winograd vs direct");
                assertFalse(Arrays.equals(expected.toFloatArray(), warm.toFloatArray()), "after warmup(): still the direct result");
            }
            assertEquals(0, wino.winogradFallbacks(), "the runs before the preparation are not guard fallbacks");
        }
    }

    /** Without warmup(), the first run starts the preparation in the background, and the plan switches to Winograd by itself. */
    @Test
    void afterTheFirstRunThePlanSwitchesToWinogradInTheBackground() throws InterruptedException {
        Sequential m = CompiledModelTest.winogradNet();
        CompiledModelTest.randomize(m, 43);
        CompileOptions options = CompileOptions.defaults().withoutRule("fast_when_finite");   // its proof switches bits on its own
        try (m; CompiledModel wino = CompiledModel.compile(m, options, SHAPE);
             CompiledModel direct = CompiledModel.compile(m, options.withWinograd(false), SHAPE);
             Tensor x = CompiledModelTest.randomInput(44, SHAPE); Tensor expected = direct.run(x)) {
            float[] directResult = expected.toFloatArray(), y = directResult;
            long deadline = System.nanoTime() + 60_000_000_000L;
            while (Arrays.equals(directResult, y) && System.nanoTime() < deadline) {
                try (Tensor out = wino.run(x)) {
                    y = out.toFloatArray();
                }
                Thread.sleep(5);
            }
            assertFalse(Arrays.equals(directResult, y), "still the direct result 60 s after the first run");
            CompiledModelTest.assertClose(directResult, y, "Winograd vs direct");
            try (Tensor again = wino.run(x)) {
                assertArrayEquals(y, again.toFloatArray(), "once switched, the same result for the same input");
            }
        }
    }

    /**
     * The switch is per run: while the plan is prepared in the background, runs on 8 threads each give exactly the
     * all-direct result or exactly the all-Winograd one (a warmed-up plan's), never a mix of direct and Winograd steps.
     */
    @Test
    void concurrentRunsSeeEitherTheDirectOrTheWinogradPlanNeverAMix() throws Exception {
        Sequential m = CompiledModelTest.winogradNet();
        CompiledModelTest.randomize(m, 47);
        // without the fast ReLU's proof, which would switch the plan's last bits on its own (DeferredProofTest)
        CompileOptions options = CompileOptions.defaults().withoutRule("fast_when_finite");
        try (m; CompiledModel fresh = CompiledModel.compile(m, options, SHAPE);
             CompiledModel direct = CompiledModel.compile(m, options.withWinograd(false), SHAPE);
             CompiledModel warm = CompiledModel.compile(m, options, SHAPE).warmup();
             Tensor x = CompiledModelTest.randomInput(48, SHAPE); Tensor d = direct.run(x); Tensor w = warm.run(x)) {
            assertTrue(fresh.steps().stream().filter(s -> s.contains("winograd")).count() >= 2, fresh.describe());
            float[] allDirect = d.toFloatArray(), allWinograd = w.toFloatArray();
            assertFalse(Arrays.equals(allDirect, allWinograd));
            java.util.concurrent.atomic.AtomicReference<String> mixed = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.atomic.AtomicBoolean switched = new java.util.concurrent.atomic.AtomicBoolean();
            long deadline = System.nanoTime() + 60_000_000_000L;
            java.util.List<Thread> threads = new java.util.ArrayList<>();
            for (int t = 0; t < 8; t++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    while (!switched.get() && mixed.get() == null && System.nanoTime() < deadline) {
                        try (Tensor y = fresh.run(x)) {
                            float[] v = y.toFloatArray();
                            if (Arrays.equals(v, allWinograd)) switched.set(true);
                            else if (!Arrays.equals(v, allDirect)) mixed.compareAndSet(null, "a run gave neither the direct nor the Winograd result");
                        }
                    }
                }));
            }
            for (Thread t : threads) t.join();
            assertEquals(null, mixed.get());
            assertTrue(switched.get(), "the plan did not switch to Winograd within 60 s");
        }
    }

    /** Closing a plan whose background preparation is pending or running is safe, and the preparing thread ends. */
    @Test
    void closingAPlanWhileItIsBeingPreparedIsSafe() throws InterruptedException {
        Sequential m = CompiledModelTest.winogradNet();
        CompiledModelTest.randomize(m, 45);
        for (int i = 0; i < 5; i++) {
            CompiledModel wino = CompiledModel.compile(m, SHAPE);
            try (Tensor x = CompiledModelTest.randomInput(46, SHAPE)) {
                wino.run(x).close();   // schedules the preparation
                if (i > 0) Thread.sleep(i);
                wino.close();
            }
        }
        m.close();
        for (int i = 0; i < 1000 && preparingThreads() > 0; i++) Thread.sleep(10);
        assertEquals(0, preparingThreads(), "preparing threads left after their plans were closed");
    }

    private static long preparingThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("panamadnn-winograd-prepare")).count();
    }
}
