package dev.panamadnn.compile;

import static dev.panamadnn.compile.CompiledModelTest.assertClose;
import static dev.panamadnn.compile.CompiledModelTest.randomInput;
import static dev.panamadnn.compile.CompiledModelTest.randomize;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.AdaptiveAvgPool1d;
import dev.panamadnn.nn.AdaptiveAvgPool2d;
import dev.panamadnn.nn.AdaptiveMaxPool2d;
import dev.panamadnn.nn.AvgPool1d;
import dev.panamadnn.nn.BatchNorm1d;
import dev.panamadnn.nn.Conv1d;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.ConvTranspose1d;
import dev.panamadnn.nn.ConvTranspose2d;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Folding;
import dev.panamadnn.nn.GELU;
import dev.panamadnn.nn.KMaxPool1d;
import dev.panamadnn.nn.LayerNorm;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.MaxPool1d;
import dev.panamadnn.nn.MaxPool2d;
import dev.panamadnn.nn.PaddingMode;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import dev.panamadnn.nn.Softmax;
import dev.panamadnn.nn.Tanh;
import dev.panamadnn.nn.WideConv1d;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Every layer family lowered to the graph and compiled, against its own eager forward (random
 * weights and batch-norm statistics; tolerance {@code 1e-4 * max|eager| + 1e-5}, see
 * {@link CompiledModelTest}); where the plan runs the very primitive eager does (unfused, plain
 * layouts), bit-exact. Each case also says what the plan lowered it to.
 */
class CompiledLayerFamiliesTest {
    private static void check(Module model, String what, String expectedStep, long... shape) {
        randomize(model, 11);
        try (model; Tensor x = randomInput(5, shape); Tensor eager = model.forward(x);
             CompiledModel c = CompiledModel.compile(model, shape); Tensor y = c.run(x)) {
            assertArrayEquals(eager.shape(), y.shape(), what);
            assertClose(eager.toFloatArray(), y.toFloatArray(), what);
            assertTrue(c.steps().stream().anyMatch(s -> s.contains(expectedStep)), what + ": expected a step with '" + expectedStep + "'\n"
                    + c.describe());
        }
    }

    @Test
    void oneDimensionalConvolutionAndPoolingRunAsTwoDimensionalPrimitives() {
        check(new Sequential(Conv1d.builder(4, 8, 3).padding(1).build(), new BatchNorm1d(8), new ReLU(), new MaxPool1d(2),
                Conv1d.builder(8, 8, 5).dilation(2).padding(4).groups(2).build(), new AvgPool1d(3, 2, 1), new Tanh()),
                "conv1d + bn1d + pools", "conv ", 3, 4, 20);
        check(new Sequential(Conv1d.builder(3, 6, 4).padding("same").build(), new GELU()), "conv1d padding same", "conv ", 2, 3, 11);
        check(new Sequential(Conv1d.builder(3, 6, 3).padding(1).paddingMode(PaddingMode.REPLICATE).build()), "conv1d replicate",
                "java pad", 2, 3, 9);
    }

    @Test
    void dcnnLayersRunTheirOwnKernelsInsideThePlan() {
        check(new Sequential(WideConv1d.builder(4, 6, 3).build(), new KMaxPool1d(5), new Folding(), new Tanh()),
                "wide conv + k-max + folding", "java ", 2, 4, 12);
    }

    @Test
    void transposedConvolutionsAreDeconvolutionsElseTheEagerLayer() {
        check(new Sequential(ConvTranspose2d.builder(4, 3, 3).stride(2).padding(1).outputPadding(1).build(), new ReLU()),
                "conv transpose 2d", "deconv ", 2, 4, 5, 6);
        check(new Sequential(ConvTranspose1d.builder(4, 6, 3).stride(2).groups(2).build()), "conv transpose 1d", "deconv ", 1, 4, 7);
        // output_padding 1 at stride 1 (dilation 2): the last output is one no tap reaches, which oneDNN does not compute
        check(new Sequential(ConvTranspose1d.builder(2, 3, 3).dilation(2).outputPadding(1).build()), "conv transpose 1d, bias-only tail",
                "java ", 2, 2, 6);
    }

    @Test
    void normalizationSoftmaxAndAdaptivePools() {
        check(new Sequential(Conv2d.builder(3, 6, 3).build(), new AdaptiveMaxPool2d(2, 3), new Flatten(), new LayerNorm(36),
                new Linear(36, 10, true), new Softmax(1)), "adaptive max + layernorm + softmax", "java ", 2, 3, 9, 11);
        check(new Sequential(Conv2d.builder(3, 4, 1).build(), new AdaptiveAvgPool2d(3, 2)), "adaptive avg, non-divisible", "java ", 1, 3, 7, 5);
        check(new Sequential(Conv2d.builder(3, 4, 1).build(), new AdaptiveAvgPool2d(2)), "adaptive avg, divisible", "avgpool ", 1, 3, 8, 6);
        check(new Sequential(Conv1d.builder(3, 4, 1).build(), new AdaptiveAvgPool1d(4)), "adaptive avg 1d", "avgpool ", 2, 3, 8);
    }

    @Test
    void linearOnThreeDimensionalInputAndDilatedPooling() {
        check(new Sequential(new Linear(6, 4, true), new ReLU()), "linear on [N, L, F]", "linear ", 2, 5, 6);
        check(new Sequential(Conv2d.builder(2, 4, 3).dilation(2).padding(2).build(),
                new MaxPool2d(new int[] {3, 2}, new int[] {2, 1}, new int[] {1, 1}, new int[] {2, 1}, true)), "dilated conv + pool",
                "maxpool ", 2, 2, 9, 8);
    }

    @Test
    void unfusedPlansRunTheEagerPrimitivesBitForBit() {
        for (Module m : List.<Module>of(new Sequential(new ReLU(), new Tanh(), new GELU()),
                new Sequential(new MaxPool2d(3, 2, 1), new AdaptiveAvgPool2d(2)))) {
            randomize(m, 3);
            long[] shape = {2, 3, 8, 8};
            try (m; Tensor x = randomInput(9, shape); Tensor eager = m.forward(x);
                 // fast_when_finite would run oneDNN's own relu for these finite inputs: the same values, but +0 (as
                 // PyTorch) where the eager NaN-keeping formulation gives -0 for a negative input, so not bit for bit
                 CompiledModel c = CompiledModel.compile(m, CompileOptions.unfused().withoutRule("fast_when_finite"), shape); Tensor y = c.run(x)) {
                assertArrayEquals(eager.toFloatArray(), y.toFloatArray(), c.describe());
            }
        }
    }
}
