package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * The Winograd transforms' JIT warm-up can start in the background at the first Winograd
 * convolution a compile meets; the compiler's own {@link Winograd#warmUpKernels()} then waits for
 * it instead of running a second one, and returns with the kernels warm.
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

    private static long warmUpThreads() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.getName().equals("panamadnn-winograd-warmup")).count();
    }
}
