package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.internal.dnnl.ConvOps;
import dev.panamadnn.nn.ConvTranspose2d;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A transposed convolution with a stride past {@link ConvOps#MAX_DECONVOLUTION_STRIDE} compiles to the eager layer's
 * Java step (oneDNN's setup of such a deconvolution took seconds to minutes: scripts/fuzz --seed 41041 hung on it) and
 * gives the reference's values; at the limit it stays a oneDNN deconvolution.
 */
class DeconvolutionStrideLimitTest {
    static float[] run(CompiledModel plan, Tensor x) {
        try (Tensor y = plan.run(x)) {
            return y.toFloatArray();
        }
    }

    @Test
    void aStridePastTheLimitCompilesToTheReferenceStep() {
        for (int stride : new int[] {1025, 65536}) {
            try (ConvTranspose2d layer = ConvTranspose2d.builder(4, 2, 5, 2).stride(1, stride).padding(2, 1).build();
                 Tensor x = Tensor.zeros(1, 4, 10, 12)) {
                for (long i = 0; i < x.numel(); i++) x.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) Math.sin(i));
                try (CompiledModel plan = CompiledModel.compile(layer, 1, 4, 10, 12); Tensor want = layer.forwardReference(x)) {
                    List<String> steps = plan.steps();
                    assertTrue(steps.stream().anyMatch(s -> s.startsWith("java ")) && steps.stream().noneMatch(s -> s.startsWith("deconv ")),
                            "stride " + stride + ": " + steps);
                    assertArrayEquals(want.toFloatArray(), run(plan, x), 0f, "stride " + stride);
                }
            }
        }
    }

    @Test
    void aStrideAtTheLimitStaysOnOneDnn() {
        try (ConvTranspose2d layer = ConvTranspose2d.builder(4, 2, 5, 2).stride(1, (int) ConvOps.MAX_DECONVOLUTION_STRIDE).padding(2, 1).build();
             Tensor x = Tensor.zeros(1, 4, 10, 12)) {
            for (long i = 0; i < x.numel(); i++) x.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) Math.cos(i));
            try (CompiledModel plan = CompiledModel.compile(layer, 1, 4, 10, 12); Tensor want = layer.forwardReference(x)) {
                assertTrue(plan.steps().stream().noneMatch(s -> s.startsWith("java ")) && plan.steps().stream().anyMatch(s -> s.startsWith("deconv ")),
                        plan.steps().toString());
                float[] got = run(plan, x), ref = want.toFloatArray();
                for (int i = 0; i < ref.length; i++) assertTrue(Math.abs(got[i] - ref[i]) <= 1e-5, "element " + i + ": " + got[i] + " vs " + ref[i]);
            }
        }
    }
}
