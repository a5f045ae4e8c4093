package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A Pad of zeros everywhere (torch 1.13 writes one before every AvgPool2d) compiles to nothing: the
 * plan has no pad step and gives bit for bit what the same graph without the Pad gives; a Pad with
 * a non-zero amount becomes the pooling's own counted padding ({@code fold_pad}), or, with that rule off, a step.
 */
class ZeroPadTest {
    private static Graph graph(long[] pads) {
        SplittableRandom r = new SplittableRandom(5);
        float[] w = new float[8 * 3 * 3 * 3];
        for (int i = 0; i < w.length; i++) w[i] = (float) r.nextDouble(-1, 1);
        GraphBuilder g = Graph.builder("zero-pad");
        String x = g.input("input", Shape.batched("N", 3, 8, 8));
        String c = g.node("Conv", "conv", Attributes.of("pads", new long[] {1, 1, 1, 1}), x, g.initializer("conv.weight", Tensor.of(w, 8, 3, 3, 3)));
        String p = pads == null ? c : g.node("Pad", "pad", Attributes.of("mode", "constant"), c, g.constant("pads", pads));
        return g.output(g.node("AveragePool", "pool", Attributes.of("kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2}), p)).build();
    }

    @Test
    void aPadOfZerosIsItsInput() {
        long[] shape = {2, 3, 8, 8};
        float[] in = new float[2 * 3 * 8 * 8];
        for (int i = 0; i < in.length; i++) in[i] = (i % 17) / 8f - 1;
        try (CompiledModel padded = CompiledModel.compile(graph(new long[8]), CompileOptions.defaults(), shape);
             CompiledModel plain = CompiledModel.compile(graph(null), CompileOptions.defaults(), shape);
             CompiledModel realPad = CompiledModel.compile(graph(new long[] {0, 0, 0, 1, 0, 0, 0, 1}), CompileOptions.defaults(), shape);
             CompiledModel padStep = CompiledModel.compile(graph(new long[] {0, 0, 0, 1, 0, 0, 0, 1}), CompileOptions.defaults().withoutRule("fold_pad"),
                     shape);
             Tensor x = Tensor.of(in, shape); Tensor a = padded.run(x); Tensor b = plain.run(x); Tensor c = realPad.run(x); Tensor d = padStep.run(x)) {
            assertFalse(padded.steps().stream().anyMatch(s -> s.contains("pad")), padded.describe());
            assertArrayEquals(b.toFloatArray(), a.toFloatArray());
            // a real zero padding before the pooling becomes the pooling's own (counted) padding: fold_pad; as a step without it
            assertTrue(realPad.rulesFired().contains("fold_pad: pad into pool (pads [0, 1, 0, 1])"), realPad.describe());
            assertFalse(realPad.steps().stream().anyMatch(s -> s.startsWith("java pad")), realPad.describe());
            assertTrue(padStep.steps().stream().anyMatch(s -> s.startsWith("java pad")), padStep.describe());
            assertArrayEquals(d.toFloatArray(), c.toFloatArray(), 1e-6f);
        }
    }

    /** Reflect (or wrap) with a dim cropped at one end and padded at the other is refused, as for integer data. */
    @Test
    void reflectThatCropsOneEndAndPadsTheOtherIsRefused() {
        GraphBuilder g = Graph.builder("crop-reflect");
        String x = g.input("input", Shape.batched("N", 3, 8, 8));
        g.output(g.node("Pad", "pad", Attributes.of("mode", "reflect"), g.node("Relu", "relu", Attributes.empty(), x),
                g.constant("pads", 0, 0, -2, 0, 0, 0, 3, 0)));
        UnsupportedOperationException e = org.junit.jupiter.api.Assertions.assertThrows(UnsupportedOperationException.class,
                () -> CompiledModel.compile(g.build(), CompileOptions.defaults(), 1, 3, 8, 8).close());
        assertTrue(e.getMessage().contains("pad") && e.getMessage().contains("crop one end of dim 2"), e.getMessage());
    }
}
