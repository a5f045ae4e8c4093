package dev.panamadnn.tests;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.natives.ThreadControl;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * A plan's intra-op thread count holds for every primitive in it, checked by CPU time: the
 * process's against the calling thread's while the plan runs. Regression: the weight reorders
 * during compilation run eagerly, which set the compiling thread's OpenMP team to the global
 * count, so every primitive created after the first one was sized for the global count; a plan
 * compiled for 1 thread still ran on every core. Lives in this (class-path) module because
 * java-api's tests run inside the named module, which does not read jdk.management.
 */
class CompiledThreadCountTest {
    @Test
    void aOneThreadPlanRunsOnTheCallingThreadOnly() {
        int cores = Runtime.getRuntime().availableProcessors();
        Assumptions.assumeTrue(cores >= 2, "needs 2 cores to tell 1 thread from several");
        // A oneDNN on TBB (scripts/build-natives --cpu-runtime tbb) has no call that caps its threads (docs/natives.md).
        Assumptions.assumeTrue(ThreadControl.openmp(), "oneDNN is not on OpenMP: a plan's thread count is not enforced");
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        int before = ThreadControl.threads();
        ThreadControl.setThreads(cores);   // a global count other than the plan's (restored below when there was one)
        long[] shape = {1, 32, 56, 56};
        Module[] layers = new Module[8];
        for (int i = 0; i < layers.length; i += 2) {
            layers[i] = Conv2d.builder(32, 32, 3).padding(1).build();
            layers[i + 1] = new ReLU();
        }
        try (Sequential net = new Sequential(layers); Tensor x = Tensor.zeros(shape);
             // warmup(): prepares the Winograd steps now, not on a background thread whose CPU time the ratios would count
             CompiledModel one = CompiledModel.compile(net, CompileOptions.defaults().withThreads(1), shape).warmup();
             CompiledModel all = CompiledModel.compile(net, CompileOptions.defaults().withThreads(cores), shape).warmup();
             Tensor y = Tensor.zeros(one.outputShape())) {
            for (int i = 0; i < 20; i++) {
                one.run(x, y);
                all.run(x, y);
            }
            // Process CPU counts every thread of this JVM: a JIT compilation or a collection left over from the tests before
            // (CI ran this one after 40 others: 1.52 once) inflates one window; a plan's own second thread would inflate
            // every window. So the least of up to three windows.
            double oneRatio = cpuRatio(os, threads, () -> one.run(x, y));
            for (int attempt = 1; attempt < 3 && oneRatio >= 1.5; attempt++) oneRatio = Math.min(oneRatio, cpuRatio(os, threads, () -> one.run(x, y)));
            double allRatio = cpuRatio(os, threads, () -> all.run(x, y));
            assertTrue(oneRatio < 1.5, "1-thread plan: process CPU / calling-thread CPU = " + oneRatio + ", expected about 1");
            assertTrue(allRatio > 1.5, cores + "-thread plan: process CPU / calling-thread CPU = " + allRatio + ", expected about "
                    + cores + " (else this test cannot tell the two apart)");
        } finally {
            if (before > 0) ThreadControl.setThreads(before);
        }
    }

    /** Process CPU time over the calling thread's while {@code run} repeats for 300 ms of the thread's CPU time. */
    private static double cpuRatio(com.sun.management.OperatingSystemMXBean os, ThreadMXBean threads, Runnable run) {
        long p0 = os.getProcessCpuTime(), t0 = threads.getCurrentThreadCpuTime();
        do {
            run.run();
        } while (threads.getCurrentThreadCpuTime() - t0 < 300_000_000L);
        return (double) (os.getProcessCpuTime() - p0) / (threads.getCurrentThreadCpuTime() - t0);
    }
}
