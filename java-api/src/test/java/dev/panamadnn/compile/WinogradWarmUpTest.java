package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Sequential;
import java.util.Arrays;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The Winograd transforms' JIT warm-up runs once per JVM, on a background thread that a plan's first
 * run starts; {@link Winograd#warmUpKernels()} (and so {@link CompiledModel#warmup()}) waits for it
 * instead of running a second one. Until it has finished, a Winograd step runs its direct convolution,
 * so neither {@code compile} nor the first run waits for the JIT.
 */
class WinogradWarmUpTest {
    @Test
    void backgroundWarmUpRunsOnceAndTheForegroundCallWaitsForIt() throws InterruptedException {
        Assumptions.assumeTrue(Winograd.available(), "needs --add-modules jdk.incubator.vector");
        for (int i = 0; i < 3; i++) Winograd.startWarmUp();   // later calls: no second thread
        assertTrue(warmUpThreads() <= 1, "at most one warm-up thread, found " + warmUpThreads());
        Winograd.warmUpKernels();
        assertTrue(WinogradKernels.isWarm(), "warmUpKernels() returns once the kernels are warm");
        Winograd.startWarmUp();   // already warm: starts nothing
        for (int i = 0; i < 100 && warmUpThreads() > 0; i++) Thread.sleep(10);   // the background thread exits right after the lock
        assertTrue(warmUpThreads() == 0, "no warm-up thread left once warm, found " + warmUpThreads());
    }

    /**
     * Before the warm-up a Winograd plan gives exactly the direct plan's result (its steps ran their direct
     * convolutions, not counted as guard fallbacks); {@code warmup()} waits for the kernels, and from then
     * on the same plan runs the Winograd arithmetic (close to the direct result, not bit for bit equal).
     */
    @Test
    void untilTheKernelsAreWarmWinogradStepsRunTheirDirectConvolution() {
        Assumptions.assumeTrue(Winograd.available(), "needs --add-modules jdk.incubator.vector");
        long[] shape = {2, 16, 13, 15};
        Sequential m = CompiledModelTest.winogradNet();
        CompiledModelTest.randomize(m, 41);
        try (m; CompiledModel wino = CompiledModel.compile(m, shape);
             CompiledModel direct = CompiledModel.compile(m, CompileOptions.defaults().withWinograd(false), shape);
             Tensor x = CompiledModelTest.randomInput(42, shape); Tensor expected = direct.run(x)) {
            assertTrue(wino.steps().stream().anyMatch(s -> s.contains("winograd")), wino.describe());
            WinogradKernels.forgetWarmUpForTest();   // as in a JVM that has not warmed them up yet
            try (Tensor cold = wino.run(x)) {
                assertArrayEquals(expected.toFloatArray(), cold.toFloatArray(), "before the warm-up: the direct convolutions' result");
            }
            wino.warmup();
            assertTrue(WinogradKernels.isWarm(), "warmup() returns once the kernels are warm");
            try (Tensor warm = wino.run(x)) {
                CompiledModelTest.assertClose(expected.toFloatArray(), warm.toFloatArray(), "Winograd vs direct");
                assertFalse(Arrays.equals(expected.toFloatArray(), warm.toFloatArray()), "after warmup(): still the direct result");
            }
            assertEquals(0, wino.winogradFallbacks(), "the runs before the warm-up are not guard fallbacks");
        }
    }

    private static long warmUpThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("panamadnn-winograd-warmup")).count();
    }
}
