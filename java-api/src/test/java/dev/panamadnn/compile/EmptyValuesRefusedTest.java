package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A plan computes on no empty tensor (a size of 0): an empty input, a step whose output is empty (a Slice past the end)
 * and a step reading an empty F32 initializer are refused when compiling, naming the input or the node and the shape,
 * before any oneDNN descriptor or buffer is made for them; a Concat's empty operand adds nothing and is dropped
 * (remove_dead_values), and refused like any other read with that rule off.
 */
class EmptyValuesRefusedTest {
    @Test
    void anEmptyInputIsRefusedNamingIt() {
        GraphBuilder g = Graph.builder("relu");
        g.output(g.node("Relu", "r", Attributes.empty(), g.input("x", Shape.of(0, 3))));
        var e = assertThrows(IllegalArgumentException.class,
                () -> CompiledModel.compile(g.build(), CompileOptions.defaults(), Map.of("x", new long[] {0, 3})));
        assertTrue(e.getMessage().contains("input 'x' of shape [0, 3] is empty"), e.getMessage());
    }

    @Test
    void aStepWritingAnEmptyValueIsRefusedNamingTheNode() {
        GraphBuilder g = Graph.builder("slice");
        String x = g.input("x", Shape.of(2, 3));
        String y = g.node("Slice", "s", Attributes.empty(), x, g.constant("starts", 5), g.constant("ends", 7), g.constant("axes", 1));
        g.output(y, g.node("Relu", "r", Attributes.empty(), x));
        Graph graph = g.build();
        assertEquals(Shape.of(2, 0), graph.value(y).shape());   // numpy: x[:, 5:7].shape == (2, 0)
        var e = assertThrows(UnsupportedOperationException.class,
                () -> CompiledModel.compile(graph, CompileOptions.defaults(), Map.of("x", new long[] {2, 3})));
        assertTrue(e.getMessage().contains("node s (Slice)") && e.getMessage().contains("output 's' of shape [2, 0] is empty"), e.getMessage());
    }

    @Test
    void aConcatDropsAnEmptyOperandInsteadOfReadingIt() {
        GraphBuilder g = Graph.builder("concat");
        String x = g.input("x", Shape.of(2, 3));
        try (Tensor empty = Tensor.zeros(0, 3); Tensor in = Tensor.of(new float[] {1, -2, 3, -4, 5, -6}, 2, 3)) {   // numpy: np.concatenate([x, np.empty((0, 3))]) is x
            g.output(g.node("Concat", "c", Attributes.of("axis", 0L), x, g.initializer("e", empty)));
            try (CompiledModel plan = CompiledModel.compile(g.build(), CompileOptions.defaults(), Map.of("x", new long[] {2, 3}))) {
                assertTrue(plan.rulesFired().stream().anyMatch(r -> r.startsWith("remove_dead_values: 1 empty operand(s) of concat c")), plan.rulesFired().toString());
                try (Tensor y = plan.run(in)) {
                    org.junit.jupiter.api.Assertions.assertArrayEquals(in.toFloatArray(), y.toFloatArray());
                }
            }
            var e = assertThrows(UnsupportedOperationException.class, () -> CompiledModel.compile(g.build(),
                    CompileOptions.defaults().withoutRule("remove_dead_values"), Map.of("x", new long[] {2, 3})));
            assertTrue(e.getMessage().contains("node c (Concat)") && e.getMessage().contains("input 'e' of shape [0, 3] is empty"), e.getMessage());
        }
    }
}
