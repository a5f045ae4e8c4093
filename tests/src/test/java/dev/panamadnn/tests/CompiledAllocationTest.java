package dev.panamadnn.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.nn.AdaptiveAvgPool2d;
import dev.panamadnn.nn.BasicBlock;
import dev.panamadnn.nn.BatchNorm2d;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * "Running a plan allocates nothing on the Java heap once warm", checked with the JVM's own
 * per-thread allocation counter (HotSpot's {@code com.sun.management.ThreadMXBean}); the native
 * side is covered by CompiledModelTest's object counters. Lives in this (class-path) module
 * because java-api's tests run inside the named module, which does not read jdk.management.
 */
class CompiledAllocationTest {
    @Test
    void warmRunsAllocateNothingOnTheHeap() {
        assertWarmRunsAllocateNothing(new long[] {1, 3, 8, 8}, false);
    }

    /** The same with the block's convolutions on the Winograd path (its Vector API transforms included). */
    @Test
    void warmWinogradRunsAllocateNothingOnTheHeap() {
        assertWarmRunsAllocateNothing(new long[] {2, 3, 16, 16}, true);
    }

    /** With 2 threads the Winograd transforms run on the OpenMP team through upcalls; the caller is team thread 0. */
    @Test
    void warmWinogradRunsOnAnOpenMpTeamAllocateNothingOnTheHeap() {
        assertWarmRunsAllocateNothing(new long[] {2, 3, 16, 16}, true, 2);
    }

    private static void assertWarmRunsAllocateNothing(long[] shape, boolean winograd) {
        assertWarmRunsAllocateNothing(shape, winograd, 1);
    }

    private static void assertWarmRunsAllocateNothing(long[] shape, boolean winograd, int threads) {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        try (Sequential m = new Sequential(Conv2d.builder(3, 16, 3).padding(1).bias(false).build(), new BatchNorm2d(16), new ReLU(),
                     new BasicBlock(16, 16), new AdaptiveAvgPool2d(1), new Flatten(), new Linear(16, 10, true));
             CompiledModel c = CompiledModel.compile(m, CompileOptions.defaults().withThreads(threads), shape).warmup(); Arena a = Arena.ofConfined()) {
            long winogradSteps = c.steps().stream().filter(s -> s.contains("winograd")).count();
            org.junit.jupiter.api.Assertions.assertEquals(winograd ? 2 : 0, winogradSteps, c.steps().toString());
            Tensor x = Tensor.allocate(a, DataType.F32, shape), out = Tensor.allocate(a, DataType.F32, c.outputShape());
            for (int i = 0; i < 10_000; i++) c.run(x, out);   // long enough for C2 to compile the whole path
            long least = Long.MAX_VALUE;
            for (int round = 0; round < 5; round++) {
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 500; i++) c.run(x, out);
                least = Math.min(least, mx.getCurrentThreadAllocatedBytes() - before);
            }
            System.out.println("heap bytes allocated by 500 warm runs (least of 5 rounds): " + least);
            assertEquals(0, least, "heap bytes allocated by 500 warm runs");
            // The instrument sees allocation: run(x) creates a Tensor object per call.
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 1000; i++) c.run(x).close();
            long allocating = mx.getCurrentThreadAllocatedBytes() - before;
            System.out.println("heap bytes allocated by 1000 run(x) calls (new output each): " + allocating);
            org.junit.jupiter.api.Assertions.assertTrue(allocating > 1000, "the counter must see run(x)'s allocations: " + allocating);
        }
    }
}
