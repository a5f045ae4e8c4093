package dev.panamadnn.graph;

import static dev.panamadnn.graph.GraphTesting.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** {@link Graph#bind}: concrete shapes for the inputs bind every symbol and re-infer every shape. */
class GraphBindTest {
    private Tensor weight;
    private Graph graph;

    /** conv (3 -> 8, 3x3, stride 2, pad 1) -> relu -> flatten(axis 0) on [N, 3, 32, 32], plus a [2*N, 3] side input added to a constant row. */
    @BeforeEach
    void build() {
        weight = Tensor.zeros(8, 3, 3, 3);
        GraphBuilder b = Graph.builder("bind");
        String x = b.input("image", Shape.batched("N", 3, 32, 32));
        String side = b.input("pairs", Shape.of(new Dim(2, "N"), Dim.of(3)));
        String c = b.node("Conv", "conv", Attributes.of("strides", new long[] {2, 2}, "pads", new long[] {1, 1, 1, 1}), x,
                b.initializer("conv.weight", weight));
        String r = b.node("Relu", "relu", Attributes.empty(), c);
        String f = b.node("Flatten", "flatten", Attributes.of("axis", 0), r);
        String s = b.node("Add", "add", Attributes.empty(), side, b.input("row", Shape.of(3)));
        graph = b.output(f, s).build();
    }

    @AfterEach
    void free() {
        weight.close();
    }

    @Test
    void concreteShapesBindEverySymbol() {
        Graph g = graph.bind(new long[] {5, 3, 32, 32}, new long[] {10, 3}, new long[] {3});
        // torch.nn.Conv2d(3, 8, 3, stride=2, padding=1)(torch.zeros(5, 3, 32, 32)).shape == [5, 8, 16, 16]; flattened 1 x 10240
        assertEquals(Shape.of(5, 8, 16, 16), g.value("relu").shape());
        assertEquals(Shape.of(1, 10240), g.value("flatten").shape());
        assertEquals(Shape.of(10, 3), g.value("add").shape());
        assertEquals(Set.of(), g.symbols());
        for (Value v : g.values().values()) assertTrue(v.shape().isFixed(), v + " is still symbolic");
        assertSame(weight, g.initializers().get("conv.weight"), "binding shares the initializers, it does not copy them");
        assertEquals(Set.of("N"), graph.symbols(), "the symbolic graph is unchanged");
    }

    @Test
    void bindByName() {
        Graph g = graph.bind(Map.of("N", 4L));
        assertEquals(shape("[1, 8192]"), g.value("flatten").shape());
        assertEquals(shape("[8, 3]"), g.value("add").shape());
    }

    @Test
    void wrongNumberOfShapes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> graph.bind(new long[] {5, 3, 32, 32}));
        assertTrue(e.getMessage().contains("expected 3 input shape(s)") && e.getMessage().contains("got 1"), e.getMessage());
    }

    @Test
    void wrongRank() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> graph.bind(new long[] {5, 3, 32}, new long[] {10, 3}, new long[] {3}));
        assertMessage(e, "input image: f32[N, 3, 32, 32]", "expects rank 4", "[5, 3, 32]");
    }

    @Test
    void fixedDimMismatch() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> graph.bind(new long[] {5, 4, 32, 32}, new long[] {10, 3}, new long[] {3}));
        assertMessage(e, "input image", "dim 1: expected 3, got 4");
    }

    @Test
    void symbolBoundToTwoSizes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> graph.bind(new long[] {5, 3, 32, 32}, new long[] {12, 3}, new long[] {3}));
        assertMessage(e, "input pairs", "dim 0: expected 2*N", "N = 5", "image", "got 12");
    }

    @Test
    void notAMultipleOfTheFactor() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> graph.bind(new long[] {5, 3, 32, 32}, new long[] {11, 3}, new long[] {3}));
        assertMessage(e, "input pairs", "dim 0: expected 2*N", "positive multiple of 2", "got 11");
    }

    @Test
    void aSymbolMustBindToAPositiveSize() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> graph.bind(new long[] {0, 3, 32, 32}, new long[] {0, 3}, new long[] {3}));
        assertMessage(e, "input image", "dim 0: expected N >= 1, got 0");
        e = assertThrows(IllegalArgumentException.class, () -> graph.bind(Map.of("N", -1L)));
        assertMessage(e, "N", "-1", ">= 1");
        e = assertThrows(IllegalArgumentException.class, () -> graph.bind(Map.of("N", 0L)));
        assertMessage(e, "N", "0", ">= 1");
    }

    @Test
    void twelveTimesN() {
        // Flatten(axis 2) of [N, 3, 4, 5] is [3*N, 20]; a graph whose input is [12*N] binds 24 to N = 2
        GraphBuilder b = Graph.builder("flat");
        String x = b.input("x", Shape.of(new Dim(12, "N")));
        Graph g = b.output(b.node("Relu", "relu", Attributes.empty(), x)).build();
        assertEquals(Shape.of(24), g.bind(new long[] {24}).value("relu").shape());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.bind(new long[] {18}));
        assertMessage(e, "input x: f32[12*N]", "expected 12*N", "positive multiple of 12", "got 18");
    }

    private static void assertMessage(Exception e, String... fragments) {
        for (String f : fragments) assertTrue(e.getMessage().contains(f), "expected '" + f + "' in: " + e.getMessage());
    }
}
