package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.nn.BatchNorm2d;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import org.junit.jupiter.api.Test;

/**
 * A plan keeps its weights in native memory only: the compiler's rewritten graph, whose folded constants (a
 * convolution's weights with its batch norm folded in) are heap arrays, is dropped once the steps are built. Plans
 * kept it for their life until 2026-12-05 (VGG-11-BN: 74 MB of heap per plan).
 */
class PlanHeapTest {
    @Test
    void aPlanHoldsNoHeapCopyOfItsFoldedWeights() {
        // Two 512 -> 512 3x3 convolutions with batch norm: 2 x 9.4 MB of folded weights.
        try (Sequential model = new Sequential(Conv2d.builder(512, 512, 3).padding(1).bias(false).build(), new BatchNorm2d(512), new ReLU(),
                Conv2d.builder(512, 512, 3).padding(1).bias(false).build(), new BatchNorm2d(512))) {
            CompiledModelTest.randomize(model, 9);
            long before = heapAfterGc();
            try (CompiledModel plan = CompiledModel.compile(model, CompileOptions.defaults().withWinograd(false), 1, 512, 4, 4)) {
                long held = heapAfterGc() - before;
                assertTrue(plan.rulesFired().stream().anyMatch(r -> r.startsWith("fold_batch_norm")), plan.rulesFired().toString());
                assertTrue(held < 4 << 20, "the plan holds " + held + " bytes of heap (18.9 MB of folded weights)");
                try (Tensor x = CompiledModelTest.randomInput(3, 1, 512, 4, 4); Tensor y = plan.run(x); Tensor eager = model.forward(x)) {
                    CompiledModelTest.assertClose(eager.toFloatArray(), y.toFloatArray(), "the plan vs eager");
                }
            }
        }
    }

    /**
     * Compiling makes no heap copy of a model's weights: a batch norm's factors are applied by the weight reorder
     * ({@link PlanGraph#addScaled}) and initializers reach the reorder by a Java copy of their own memory into native
     * staging ({@link PlanGraph#source}). Until 2026-12-07 every convolution's weights were copied into a Java array
     * first (18.9 MB here; 47 MB for ResNet-18, faulted in on a cold start). Measured on the compiling thread, after a
     * first compile of the same model (classes loaded).
     */
    @Test
    void compilingMakesNoHeapCopyOfTheWeights() {
        // A 512 -> 512 3x3 convolution with batch norm and one with a bias: 2 x 9.4 MB of weights.
        try (Sequential model = new Sequential(Conv2d.builder(512, 512, 3).padding(1).bias(false).build(), new BatchNorm2d(512), new ReLU(),
                Conv2d.builder(512, 512, 3).padding(1).build())) {
            CompiledModelTest.randomize(model, 10);
            CompileOptions options = CompileOptions.defaults().withWinograd(false);
            try (CompiledModel first = CompiledModel.compile(model, options, 1, 512, 4, 4)) {
                assertTrue(first.rulesFired().stream().anyMatch(r -> r.startsWith("fold_batch_norm")), first.rulesFired().toString());
            }
            long before = allocatedByThisThread();
            try (CompiledModel plan = CompiledModel.compile(model, options, 1, 512, 4, 4)) {
                long allocated = allocatedByThisThread() - before;
                assertTrue(allocated < 4 << 20, "compiling allocated " + allocated + " bytes of heap (2 x 9.4 MB of weights)");
                try (Tensor x = CompiledModelTest.randomInput(4, 1, 512, 4, 4); Tensor y = plan.run(x); Tensor eager = model.forward(x)) {
                    CompiledModelTest.assertClose(eager.toFloatArray(), y.toFloatArray(), "the plan vs eager");
                }
            }
        }
    }

    /**
     * {@code com.sun.management.ThreadMXBean.getCurrentThreadAllocatedBytes()}, reflectively: the tests run on the class
     * path, but are compiled as a patch of the library's module, which does not read {@code jdk.management}.
     */
    private static long allocatedByThisThread() {
        try {
            Object bean = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
            return (long) Class.forName("com.sun.management.ThreadMXBean").getMethod("getCurrentThreadAllocatedBytes").invoke(bean);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("no per-thread allocation count in this JVM", e);
        }
    }

    private static long heapAfterGc() {
        System.gc();
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }
}
