package dev.panamadnn.graph;

import static dev.panamadnn.graph.GraphTesting.assertGraphError;
import static dev.panamadnn.graph.GraphTesting.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.Module;
import dev.panamadnn.nn.AdaptiveAvgPool2d;
import dev.panamadnn.nn.Conv1d;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.MaxPool2d;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@code Layer} nodes (a dev.panamadnn.nn layer run by its own kernel) infer their shape from the
 * layer's {@code outputShape}, with the batch kept symbolic. Expectations from
 * {@code scripts/goldens/generate_graph_shapes.py}: the PyTorch twin of each layer at N = 2 and 3.
 */
class LayerShapesTest {
    /** The output shape of {@code Graph.lower(module, input)}, also checked against binding N = 5. */
    private static Shape lowered(Module module, String input) {
        Graph g = Graph.lower(module, shape(input));
        Shape out = g.value(g.outputs().get(0)).shape();
        assertEquals(out.bind(Map.of("N", 5L)), g.bind(Map.of("N", 5L)).value(g.outputs().get(0)).shape(), module + " bound to N = 5");
        return out;
    }

    @Test
    void conv2d() {
        // layer_conv2d: nn.Conv2d(3, 8, 3, stride=2, padding=1)(zeros(n,3,31,31))
        try (Conv2d conv = Conv2d.builder(3, 8, 3).stride(2).padding(1).build()) {
            assertEquals(shape("[N, 8, 16, 16]"), lowered(conv, "[N, 3, 31, 31]"));
        }
    }

    @Test
    void maxPoolCeilMode() {
        // layer_maxpool2d_ceil: nn.MaxPool2d(3, 2, 1, ceil_mode=True)(zeros(n,4,10,10))
        try (MaxPool2d pool = new MaxPool2d(3, 2, 1, 1, true)) {
            assertEquals(shape("[N, 4, 6, 6]"), lowered(pool, "[N, 4, 10, 10]"));
        }
    }

    @Test
    void flattenKeepsTheBatchOrFoldsIt() {
        // layer_flatten: nn.Flatten()(zeros(n,4,3,5)); layer_flatten_from_0: nn.Flatten(0, -1)(zeros(n,4,3))
        try (Flatten f = new Flatten(); Flatten all = new Flatten(0, -1)) {
            assertEquals(shape("[N, 60]"), lowered(f, "[N, 4, 3, 5]"));
            assertEquals(shape("[12*N]"), lowered(all, "[N, 4, 3]"));
        }
    }

    @Test
    void linear() {
        // layer_linear: nn.Linear(12, 7)(zeros(n,12))
        try (Linear l = new Linear(12, 7, true)) {
            assertEquals(shape("[N, 7]"), lowered(l, "[N, 12]"));
        }
    }

    @Test
    void sequential() {
        // layer_sequential: nn.Sequential(Conv2d(3,4,3), ReLU(), AdaptiveAvgPool2d((2,2)), Flatten(), Linear(16,5))(zeros(n,3,9,9))
        try (Sequential s = new Sequential(new Conv2d(3, 4, 3), new ReLU(), new AdaptiveAvgPool2d(2, 2), new Flatten(),
                new Linear(16, 5, true))) {
            assertEquals(shape("[N, 5]"), lowered(s, "[N, 3, 9, 9]"));
        }
    }

    @Test
    void aLayerThatIsNotLinearInTheSymbolIsRefused() {
        // A symbolic length through a strided 1x1 convolution: out = floor((L - 1) / 2) + 1 is 1 at L = 1 and at L = 2, so two
        // probes would take it for a fixed 1; at L = 3 it is 2.
        try (Conv1d conv = Conv1d.builder(2, 2, 1).stride(2).build()) {
            GraphBuilder b = Graph.builder("len");
            String x = b.input("x", Shape.of(Dim.of(1), Dim.of(2), Dim.symbol("L")));
            assertGraphError(() -> b.node("Layer", "conv", Attributes.of("module", conv), x), "conv (Layer)", "at L = 3 the output is [1, 2, 2]",
                    "not proportional to L");
        }
    }

    @Test
    void aLayerThatRefusesAProbeSizeNamesIt() {
        // kernel 3 over a symbolic length: L = 1 is too short, so the graph is not valid for every L
        try (Conv1d conv = new Conv1d(2, 2, 3)) {
            GraphBuilder b = Graph.builder("len");
            String x = b.input("x", Shape.of(Dim.of(1), Dim.of(2), Dim.symbol("L")));
            assertGraphError(() -> b.node("Layer", "conv", Attributes.of("module", conv), x), "conv (Layer)", "Conv1d", "at L = 1");
        }
    }

    @Test
    void aModuleThatIsNotALayer() {
        try (Sequential s = new Sequential(new ReLU())) {
            Module opaque = new Module() {
                @Override
                public dev.panamadnn.Tensor forward(dev.panamadnn.Tensor input) {
                    return s.forward(input);
                }

                @Override
                public Map<String, dev.panamadnn.Tensor> parameters() {
                    return Map.of();
                }

                @Override
                public void close() {}
            };
            GraphBuilder b = Graph.builder("opaque");
            String x = b.input("x", Shape.batched("N", 3));
            assertGraphError(() -> b.node("Layer", "m", Attributes.of("module", opaque), x), "m (Layer)", "is not a Layer");
        }
    }
}
