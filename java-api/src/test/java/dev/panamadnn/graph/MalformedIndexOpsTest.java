package dev.panamadnn.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import java.util.List;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** The shape, index and dtype ops refuse malformed nodes with errors naming the node, its op and the mismatch. */
class MalformedIndexOpsTest {
    /** Builds with {@code body} on an input x: f32[N, 6]; the error names {@code node} and contains {@code parts}. */
    private static void refused(Consumer<GraphBuilder> body, String node, String... parts) {
        GraphException e = assertThrows(GraphException.class, () -> {
            GraphBuilder b = Graph.builder("g");
            b.input("x", Shape.batched("N", 6));
            body.accept(b);
        });
        assertTrue(e.getMessage().contains(node), e.getMessage());
        for (String p : parts) assertTrue(e.getMessage().contains(p), "expected '" + p + "' in: " + e.getMessage());
    }

    @Test
    void malformedNodes() {
        refused(b -> b.node("Gather", "g", Attributes.of("axis", 1L), "x", b.constant("i", 6)), "g (Gather)", "index 6 is out of range for dim 1 (6)");
        refused(b -> b.node("Gather", "g", Attributes.empty(), "x", "x"), "g (Gather)", "indices", "must be one of [I64, I32], got F32");
        refused(b -> b.node("Unsqueeze", "u", Attributes.empty(), "x", b.node("Shape", "s", Attributes.empty(), "x")), "u (Unsqueeze)",
                "axes 's' is symbolic");
        refused(b -> b.node("Squeeze", "q", Attributes.empty(), "x", b.constant("a", 1)), "q (Squeeze)", "cannot squeeze dim 1", "it is not 1");
        refused(b -> b.node("Slice", "sl", Attributes.empty(), "x", b.constant("s", 0), b.constant("e", 2)), "sl (Slice)",
                "cannot slice the symbolic dim 0");
        refused(b -> b.node("Split", "sp", Attributes.of("axis", 1L), List.of("x", b.constant("p", 2, 3)), 2), "sp (Split)",
                "split [2, 3] must add up to dim 1");
        refused(b -> b.node("Concat", "c", Attributes.of("axis", 0L), "x", b.node("Shape", "s", Attributes.empty(), "x")), "c (Concat)",
                "must be F32 as input 0");
        refused(b -> b.node("Where", "w", Attributes.empty(), "x", "x", "x"), "w (Where)", "condition", "must be BOOL, got F32");
        refused(b -> b.node("Cast", "c", Attributes.of("to", 11L), "x"), "c (Cast)", "data type 11 is not supported");
        refused(b -> b.node("Range", "r", Attributes.empty(), b.constant("a", 0), b.constant("l", 4), b.constant("d", 1)), "r (Range)",
                "must be a scalar");
        refused(b -> b.node("Relu", "two", Attributes.empty(), List.of("x"), 2), "two (Relu)", "expected 1 output(s), got 2");
        refused(b -> b.node("Reshape", "r", Attributes.empty(), "x", b.input("s", DataType.I64, Shape.of(2))), "r (Reshape)",
                "shape 's' must be a constant");
        refused(b -> b.node("Expand", "e", Attributes.empty(), "x", b.constant("s", 4, 6)), "e (Expand)", "do not broadcast");
        refused(b -> b.node("ReduceMean", "m", Attributes.empty(), b.node("Shape", "s", Attributes.empty(), "x")), "m (ReduceMean)",
                "ReduceMean of I64 values is not supported", "a Cast to F32 first is supported");
    }

    /** A Split node has several outputs, each with its shape; Shape and Gather of a fixed value are known constants. */
    @Test
    void severalOutputsAndKnownValues() {
        GraphBuilder b = Graph.builder("g");
        b.input("x", Shape.batched("N", 7));
        List<String> parts = b.node("Split", "sp", Attributes.of("axis", 1L, "num_outputs", 3L), List.of("x"), 3);
        Graph g = b.output(parts.toArray(new String[0])).build();
        assertEquals("[N, 3]", g.value(parts.get(0)).shape().toString());   // torch.chunk(7, 3): 3, 3, 1 (ceil)
        assertEquals("[N, 3]", g.value(parts.get(1)).shape().toString());
        assertEquals("[N, 1]", g.value(parts.get(2)).shape().toString());
        assertEquals(1, DataType.BOOL.byteSize());
        assertEquals("BOOL", DataType.BOOL.safetensorsName());
    }
}
