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

    private static long heapAfterGc() {
        System.gc();
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }
}
