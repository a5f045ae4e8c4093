package dev.panamadnn.graph;

import static dev.panamadnn.graph.GraphTesting.f32;
import static dev.panamadnn.graph.GraphTesting.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The graph's building blocks are immutable and compare by value; a Graph hands out read-only views. */
class ValuesAndAttributesTest {
    @Test
    void dimsAreEqualByFactorAndSymbolAsRecordsAre() {
        assertEquals(Dim.of(3), new Dim(3, null));
        assertEquals(Dim.of(3).hashCode(), new Dim(3, null).hashCode());
        assertEquals(new Dim(12, "N"), new Dim(12, "N"));
        assertEquals(new Dim(12, "N").hashCode(), new Dim(12, "N").hashCode());
        assertNotEquals(Dim.of(12), new Dim(12, "N"));
        assertNotEquals(new Dim(12, "N"), new Dim(12, "B"));
        assertNotEquals(new Dim(2, "N"), new Dim(3, "N"));
        assertNotEquals(Dim.of(3), (Object) 3L);
        assertEquals(new Shape(List.of(Dim.symbol("N"), Dim.of(4))), new Shape(List.of(new Dim(1, "N"), Dim.of(4))));
    }

    @Test
    void attributesCopyArraysInAndOut() {
        long[] pads = {1, 1, 1, 1};
        Attributes a = Attributes.of("pads", pads, "scales", new double[] {0.5});
        pads[0] = 99;
        assertArrayEquals(new long[] {1, 1, 1, 1}, a.integers("pads"), "changing the caller's array after put");
        a.integers("pads")[1] = 99;
        a.reals("scales")[0] = 99;
        assertArrayEquals(new long[] {1, 1, 1, 1}, a.integers("pads"), "changing a returned array");
        assertArrayEquals(new double[] {0.5}, a.reals("scales"));
        assertThrows(UnsupportedOperationException.class, () -> a.names().remove("pads"));
    }

    @Test
    void attributesNormalizeJavaTypes() {
        Attributes a = Attributes.of("group", 2, "alpha", 0.25f, "ceil_mode", true, "kernel_shape", new int[] {3, 3}, "w", new float[] {1.5f});
        assertEquals(2L, a.integer("group"));
        assertEquals(0.25, a.real("alpha"));
        assertEquals(1L, a.integer("ceil_mode"));
        assertArrayEquals(new long[] {3, 3}, a.integers("kernel_shape"));
        assertArrayEquals(new double[] {1.5}, a.reals("w"));
        assertEquals(3.0, Attributes.of("beta", 3L).real("beta"), "an integer read as a float (ONNX writers store 0 for 0.0)");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Attributes.of("x", new Object()));
        assertTrue(e.getMessage().contains("attribute 'x': unsupported value Object"), e.getMessage());
    }

    @Test
    void aBuilderDoesNotChangeWhatItBuilt() {
        Attributes.Builder b = Attributes.builder().put("axis", 1);
        Attributes first = b.build();
        b.put("axis", 2).put("epsilon", 1e-5);
        assertEquals(1L, first.integer("axis"));
        assertEquals(List.of("axis"), List.copyOf(first.names()));
        Attributes second = first.toBuilder().put("axis", 3).build();
        assertEquals(1L, first.integer("axis"));
        assertEquals(3L, second.integer("axis"));
    }

    @Test
    void attributesAndNodesCompareByValue() {
        Attributes a = Attributes.of("pads", new long[] {1, 1}, "alpha", 0.5, "mode", "reflect");
        Attributes b = Attributes.of("pads", new long[] {1, 1}, "alpha", 0.5, "mode", "reflect");
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertNotEquals(a, Attributes.of("pads", new long[] {1, 2}, "alpha", 0.5, "mode", "reflect"));
        assertEquals(new Node("p", "Pad", List.of("x", "pads"), List.of("p"), a), new Node("p", "Pad", List.of("x", "pads"), List.of("p"), b));
        assertEquals(Attributes.empty(), Attributes.builder().build());
        assertEquals("pads=[1, 1], alpha=0.5, mode='reflect'", a.toString());
    }

    @Test
    void nodesAndShapesCopyTheirLists() {
        List<String> inputs = new ArrayList<>(List.of("x"));
        Node n = new Node("relu", "Relu", inputs, List.of("relu"), null);
        inputs.add("y");
        assertEquals(List.of("x"), n.inputs());
        assertEquals(Attributes.empty(), n.attributes(), "null attributes mean none");
        assertNull(n.input(1), "beyond the list: absent");
        Dim[] dims = {Dim.symbol("N"), Dim.of(3)};
        Shape s = Shape.of(dims);
        dims[1] = Dim.of(4);
        assertEquals("[N, 3]", s.toString());
        assertThrows(UnsupportedOperationException.class, () -> s.dims().add(Dim.of(1)));
        assertEquals("relu (Relu)", n.label());
        assertEquals(List.of("x2"), n.withInputs(List.of("x2")).inputs());
    }

    @Test
    void dims() {
        assertEquals("12*N", Dim.symbol("N").times(12).toString());
        assertEquals(Dim.of(0), Dim.symbol("N").times(0));
        assertEquals(new Dim(6, "N"), Dim.of(2).times(new Dim(3, "N")));
        assertNull(Dim.symbol("N").times(Dim.symbol("M")), "N*M is not representable");
        assertEquals(new Dim(60, "N"), Shape.batched("N", 3, 4, 5).elements());
        assertEquals(Shape.of(24, 3), Shape.of(new Dim(12, "N"), Dim.of(3)).bind(Map.of("N", 2L)));
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Dim.symbol("N").size());
        assertTrue(e.getMessage().contains("bind N first"), e.getMessage());
        for (String bad : new String[] {"", "2N", "N M", "N*2", "-N"}) {
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> Dim.symbol(bad), bad);
            assertTrue(ex.getMessage().contains("must be a name"), ex.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> Dim.of(-1));
        assertThrows(IllegalArgumentException.class, () -> new Dim(0, "N"));
    }

    @Test
    void aGraphIsReadOnlyAndIndependentOfItsArguments() {
        try (Tensor w = Tensor.zeros(3)) {
            List<Value> inputs = new ArrayList<>(List.of(f32("x", "[N, 3]")));
            List<Node> nodes = new ArrayList<>(List.of(node("add", "Add", List.of("x", "w"), "add"), node("relu", "Relu", List.of("add"), "relu")));
            Map<String, Tensor> init = new LinkedHashMap<>(Map.of("w", w));
            List<String> outputs = new ArrayList<>(List.of("relu"));
            Graph g = Graph.of("g", inputs, nodes, init, outputs);
            inputs.clear();
            nodes.clear();
            init.clear();
            outputs.add("add");
            assertEquals(1, g.inputs().size());
            assertEquals(2, g.nodes().size());
            assertEquals(1, g.initializers().size());
            assertEquals(List.of("relu"), g.outputs());
            assertThrows(UnsupportedOperationException.class, () -> g.nodes().clear());
            assertThrows(UnsupportedOperationException.class, () -> g.inputs().clear());
            assertThrows(UnsupportedOperationException.class, () -> g.outputs().clear());
            assertThrows(UnsupportedOperationException.class, () -> g.initializers().clear());
            assertThrows(UnsupportedOperationException.class, () -> g.values().clear());
            assertThrows(UnsupportedOperationException.class, () -> g.consumers("x").clear());
        }
    }

    @Test
    void valuesInDefinitionOrderAndTheirProducersAndConsumers() {
        try (Tensor w = Tensor.zeros(3)) {
            GraphBuilder b = Graph.builder("order");
            String x = b.input("x", Shape.batched("N", 3));
            String wn = b.initializer("w", w);
            String add = b.node("Add", "add", Attributes.empty(), x, wn);
            String relu = b.node("Relu", "relu", Attributes.empty(), add);
            String mul = b.node("Mul", "mul", Attributes.empty(), add, relu);
            Graph g = b.output(mul).build();
            assertEquals(List.of("x", "w", "add", "relu", "mul"), List.copyOf(g.values().keySet()), "inputs, initializers, then node outputs");
            assertEquals(new Value("w", DataType.F32, Shape.of(3)), g.value("w"));
            assertNull(g.producer("x"));
            assertEquals("relu", g.producer("relu").name());
            assertEquals(List.of("relu", "mul"), g.consumers("add").stream().map(Node::name).toList());
            assertEquals(List.of(), g.consumers("mul"));
            assertTrue(g.isOutput("mul"));
            assertEquals(3, g.parameterCount());
            GraphException e = assertThrows(GraphException.class, () -> g.value("nope"));
            assertTrue(e.getMessage().contains("graph order: no value named 'nope'"), e.getMessage());
        }
    }

    @Test
    void theOpSetIsListed() {
        assertTrue(Ops.names().containsAll(List.of("Conv", "ConvTranspose", "BatchNormalization", "LayerNormalization", "MaxPool",
                "AveragePool", "GlobalAveragePool", "AdaptiveAvgPool", "AdaptiveMaxPool", "Relu", "Softmax", "Flatten", "Gemm", "MatMul",
                "Add", "Sub", "Mul", "Div", "Concat", "Reshape", "Transpose", "Pad", "Constant", "Layer")), Ops.names().toString());
        assertThrows(UnsupportedOperationException.class, () -> Ops.names().clear());
    }
}
