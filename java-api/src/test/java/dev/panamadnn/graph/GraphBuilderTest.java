package dev.panamadnn.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import org.junit.jupiter.api.Test;

class GraphBuilderTest {
    @Test
    void convReluWithSymbolicBatchAndItsBinding() {
        try (Tensor w = Tensor.zeros(8, 3, 3, 3); Tensor b = Tensor.zeros(8)) {
            GraphBuilder g = Graph.builder("tiny");
            String x = g.input("input", Shape.batched("N", 3, 32, 32));
            String c = g.node("Conv", "conv", Attributes.of("strides", new long[] {2, 2}, "pads", new long[] {1, 1, 1, 1}),
                    x, g.initializer("conv.weight", w), g.initializer("conv.bias", b));
            String r = g.node("Relu", "relu", Attributes.empty(), c);
            Graph graph = g.output(r).build();
            // torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)(torch.zeros(1, 3, 32, 32)).shape == [1, 8, 16, 16]
            assertEquals(Shape.of(Dim.symbol("N"), Dim.of(8), Dim.of(16), Dim.of(16)), graph.value("relu").shape());
            assertEquals(Shape.of(5, 8, 16, 16), graph.bind(new long[] {5, 3, 32, 32}).value("relu").shape());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> graph.bind(new long[] {5, 4, 32, 32}));
            assertTrue(e.getMessage().contains("dim 1"), e.getMessage());
            // the dump shows the parameters a node reads relative to its name: conv.weight as .weight
            assertTrue(graph.toString().contains("  conv  Conv  input, .weight, .bias  f32[N, 8, 16, 16]"), graph.toString());
        }
    }

    @Test
    void repeatedNodeNamesAreMadeUnique() {
        GraphBuilder g = Graph.builder("twice");
        String x = g.input("input", Shape.of(2, 3));
        String a = g.node("Relu", "relu", Attributes.empty(), x);
        String b = g.node("Relu", "relu", Attributes.empty(), a);
        assertEquals("relu_1", b);
    }

    /** What an importer does to give a graph output the model's name where an intermediate took it (onnx's Importer). */
    @Test
    void renameMovesAValueAndItsReadersAndIdentityNamesAnOutput() {
        try (Tensor w = Tensor.zeros(3)) {
            GraphBuilder g = Graph.builder("names");
            String x = g.input("x", Shape.of(2, 3));
            String y = g.node("Relu", "y", Attributes.empty(), x);        // a composition's first node takes "y"
            String y1 = g.node("Neg", "y", Attributes.empty(), y);         // ... its last computes "y_1"
            assertEquals("y_1", y1);
            g.rename("y", g.uniqueName("y"));
            assertTrue(!g.hasValue("y") && g.hasValue("y_2"));
            assertEquals("y", g.identity("y", y1));
            Graph graph = g.output("y").build();
            assertEquals(java.util.List.of("Relu", "Neg", "Identity"), graph.nodes().stream().map(Node::op).toList());
            assertEquals(java.util.List.of("y_2"), graph.nodes().get(1).inputs());   // the reader follows the rename
            assertEquals(java.util.List.of("y"), graph.outputs());
            String k = g.initializer("k", w);
            GraphException e = assertThrows(GraphException.class, () -> g.rename(k, "k2"));
            assertTrue(e.getMessage().contains("cannot rename 'k'"), e.getMessage());
            assertThrows(GraphException.class, () -> g.rename("y_1", "x"));   // taken
        }
    }
}
