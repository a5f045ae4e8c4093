package dev.panamadnn.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.nn.AdaptiveAvgPool2d;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * "Picking the plan for a cached batch size allocates nothing": warm {@link PlanSet#run(Tensor, Tensor)}
 * calls, alternating between three cached sizes, measured with the JVM's per-thread allocation
 * counter as CompiledAllocationTest measures a single plan.
 */
class PlanSetAllocationTest {
    @Test
    void warmRunsOfCachedBatchSizesAllocateNothingOnTheHeap() {
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long[] batches = {1, 2, 4};
        try (Sequential m = new Sequential(Conv2d.builder(3, 8, 3).padding(1).build(), new ReLU(), new AdaptiveAvgPool2d(1), new Flatten(),
                     new Linear(8, 5, true));
             PlanSet plans = PlanSet.of(m, CompileOptions.defaults().withThreads(1), 3, 8, 8).warmup(1, 2, 4);
             Arena a = Arena.ofConfined()) {
            Tensor[] in = new Tensor[batches.length], out = new Tensor[batches.length];
            for (int i = 0; i < batches.length; i++) {
                in[i] = Tensor.allocate(a, DataType.F32, batches[i], 3, 8, 8);
                out[i] = Tensor.allocate(a, DataType.F32, plans.outputShape(batches[i]));
            }
            for (int i = 0; i < 10_000; i++) plans.run(in[i % 3], out[i % 3]);   // long enough for C2 to compile the whole path
            long least = Long.MAX_VALUE;
            for (int round = 0; round < 5; round++) {
                long before = mx.getCurrentThreadAllocatedBytes();
                for (int i = 0; i < 600; i++) plans.run(in[i % 3], out[i % 3]);
                least = Math.min(least, mx.getCurrentThreadAllocatedBytes() - before);
            }
            System.out.println("heap bytes allocated by 600 warm plan-set runs over 3 batch sizes (least of 5 rounds): " + least);
            assertEquals(0, least, "heap bytes allocated by 600 warm runs");
            assertEquals(3, plans.plansBuilt(), plans.describe());
            // The instrument sees allocation: run(x) creates a Tensor object per call.
            long before = mx.getCurrentThreadAllocatedBytes();
            for (int i = 0; i < 1000; i++) plans.run(in[0]).close();
            long allocating = mx.getCurrentThreadAllocatedBytes() - before;
            assertTrue(allocating > 1000, "the counter must see run(x)'s allocations: " + allocating);
        }
    }
}
