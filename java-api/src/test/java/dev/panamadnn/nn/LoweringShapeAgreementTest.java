package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphException;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The graph's shape rules ({@code dev.panamadnn.graph.Ops}) against the layers' own outputShape
 * over random hyperparameters and inputs (fixed seed): where the layer accepts a shape, its graph
 * on that shape with a symbolic batch infers the same output at N = 1 and 3; where the layer
 * refuses it, lowering fails with a GraphException. Small sizes, so edge cases (a kernel larger
 * than the input, ceil_mode windows past the padding, reflect padding as wide as the input,
 * windows wholly in the padding, unbatched inputs) come up often.
 */
class LoweringShapeAgreementTest {
    private static final int ROUNDS = 400;

    /** {@code batched}: the first dim of {@code shape} is the batch, symbolic in the graph. */
    private static void agree(Supplier<Layer> make, boolean batched, long... shape) {
        Layer layer;
        try {
            layer = make.get();
        } catch (IllegalArgumentException e) {
            return;   // hyperparameters the layer refuses: nothing to lower
        }
        try (layer) {
            long[] expected;
            try {
                expected = layer.outputShape(shape);
            } catch (IllegalArgumentException e) {
                assertThrows(GraphException.class, () -> Graph.lower(layer, Shape.of(shape)),
                        layer + " refuses " + Arrays.toString(shape) + " (" + e.getMessage() + "), its lowering must too");
                return;
            }
            Graph g = Graph.lower(layer, batched ? symbolic(shape) : Shape.of(shape));
            for (long n : new long[] {1, 3}) {
                long[] in = shape.clone(), out = expected.clone();
                if (batched) {
                    in[0] = n;
                    out = layer.outputShape(in);
                }
                assertArrayEquals(out, g.bind(in).value(g.outputs().get(0)).shape().sizes(),
                        layer + " on " + Arrays.toString(in) + ":\n" + g);
            }
        }
    }

    /** {@code shape} with its first dim the batch symbol N. */
    private static Shape symbolic(long[] shape) {
        List<Dim> d = new ArrayList<>();
        d.add(Dim.symbol("N"));
        for (int i = 1; i < shape.length; i++) d.add(Dim.of(shape[i]));
        return new Shape(d);
    }

    @Test
    void shapeRulesAgreeWithTheLayers() {
        SplittableRandom r = new SplittableRandom(12);
        for (int i = 0; i < ROUNDS; i++) {
            int k = r.nextInt(1, 5), s = r.nextInt(1, 4), p = r.nextInt(0, 3), d = r.nextInt(1, 3), in = r.nextInt(1, 9);
            int before = r.nextInt(0, 4), after = r.nextInt(0, 4), g = r.nextInt(1, 3), outPad = r.nextInt(0, 3);
            boolean ceil = r.nextBoolean(), includePad = r.nextBoolean();
            PaddingMode mode = PaddingMode.values()[r.nextInt(PaddingMode.values().length)];
            agree(() -> new MaxPool2d(k, s, p, d, ceil), true, 2, 3, in, in + 1);
            agree(() -> new AvgPool2d(k, s, p, ceil, includePad), true, 2, 3, in + 1, in);
            agree(() -> new MaxPool1d(k, s, p, d, ceil), true, 2, 3, in);
            agree(() -> new AvgPool1d(k, s, p, ceil, includePad), false, 3, in);
            agree(() -> new AdaptiveAvgPool2d(k, s), true, 2, 3, in, in + 2);
            agree(() -> new AdaptiveMaxPool2d(k), false, 3, in, in);
            agree(() -> new AdaptiveAvgPool1d(k), true, 2, 3, in);
            agree(() -> Conv1d.builder(2 * g, 2 * g, k).stride(s).padding(new int[] {before}, new int[] {after}).dilation(d).groups(g)
                    .build(), true, 2, 2 * g, in);
            agree(() -> Conv2d.builder(2, 3, k).stride(s).padding(p).dilation(d).paddingMode(mode).build(), true, 2, 2, in, in + 2);
            agree(() -> Conv1d.builder(2, 3, k).padding("same").dilation(d).paddingMode(mode).build(), true, 2, 2, in);
            agree(() -> Conv1d.builder(2, 3, k).causal().dilation(d).build(), false, 2, in);
            agree(() -> ConvTranspose1d.builder(2, 4, k).stride(s).padding(p).dilation(d).outputPadding(outPad).groups(g).build(),
                    true, 2, 2, in);
            agree(() -> ConvTranspose2d.builder(2, 4, k).stride(s).padding(p).dilation(d).outputPadding(outPad).build(), false, 2, in, in);
            agree(() -> WideConv1d.builder(2, 4, k).groups(g).build(), true, 2, 2, in);
            agree(() -> new Flatten(r.nextInt(-4, 4), r.nextInt(-4, 4)), true, 2, 3, in);
            agree(() -> new Linear(in, 3, true), true, 2, 4, in);
            agree(() -> new Linear(4, 3, false), false, in);
            agree(() -> new Softmax(r.nextInt(-3, 3)), true, 2, 3, in);
            agree(() -> new BatchNorm1d(3), true, 2, 3, in);
            agree(() -> new LayerNorm(in), true, 2, 3, in);
        }
    }
}
