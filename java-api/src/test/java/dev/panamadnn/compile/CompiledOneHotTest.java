package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.GraphException;
import dev.panamadnn.graph.Shape;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * OneHot compiled (LowerEncode): F32 indices computed at run time (truncated toward zero; negative ones counting from
 * the end; one outside [-depth, depth) a line of off), values a constant or an input, indices held as exact values
 * (ArgMax's). Expected values from numpy 1.24 by ONNX's rule: {@code np.where(np.arange(depth) == j, on, off)} with
 * {@code j = trunc(i)}, plus depth where negative (ONNX's reference wraps with np.mod instead, which the spec does not).
 */
class CompiledOneHotTest {
    private static final float[] EXPECTED = {-2, -2, -2, 3, -2, -2, -2, -2, 3, -2, 3, -2, -2, 3, 3, -2, -2, -2, -2, -2, -2, -2, -2, -2};

    private static Graph graph(boolean valuesInput, long depth) {
        GraphBuilder b = Graph.builder("one_hot");
        b.input("i", Shape.of(2, 3));
        b.initializer("depth", Tensor.of(new float[] {depth}, 1));
        if (valuesInput) b.input("v", Shape.of(2));
        else b.initializer("v", Tensor.of(new float[] {-2, 3}, 2));
        b.output(b.node("OneHot", "h", Attributes.of("axis", 1L), "i", "depth", "v"));
        return b.build();
    }

    @Test
    void indicesAtRunTimeTruncatedCountedFromTheEndOrOff() {
        try (Tensor i = Tensor.of(new float[] {1, -1, 2.7f, 5, -4, -0.5f}, 2, 3); Tensor v = Tensor.of(new float[] {-2, 3}, 2)) {
            try (CompiledModel plan = CompiledModel.compile(graph(false, 4), CompileOptions.defaults(), Map.of("i", new long[] {2, 3}))) {
                assertArrayEquals(EXPECTED, plan.run(Map.of("i", i)).values().iterator().next().toFloatArray());
            }
            try (CompiledModel plan = CompiledModel.compile(graph(true, 4), CompileOptions.defaults(), Map.of("i", new long[] {2, 3}, "v", new long[] {2}))) {
                assertArrayEquals(EXPECTED, plan.run(Map.of("i", i, "v", v)).values().iterator().next().toFloatArray());
            }
        }
    }

    @Test
    void heldIndicesFromAnArgMax() {
        GraphBuilder b = Graph.builder("one_hot");
        b.input("x", Shape.of(2, 3));
        b.initializer("depth", Tensor.of(new float[] {3}, 1));
        b.initializer("v", Tensor.of(new float[] {0, 1.5f}, 2));
        String a = b.node("ArgMax", "arg", Attributes.of("axis", 1L, "keepdims", 0L), "x");
        b.output(b.node("OneHot", "h", Attributes.empty(), a, "depth", "v"));
        try (CompiledModel plan = CompiledModel.compile(b.build(), CompileOptions.defaults(), Map.of("x", new long[] {2, 3}));
             Tensor x = Tensor.of(new float[] {1, 5, 2, 7, 2, 7}, 2, 3)) {
            assertArrayEquals(new float[] {0, 1.5f, 0, 1.5f, 0, 0}, plan.run(Map.of("x", x)).values().iterator().next().toFloatArray());
        }
    }

    @Test
    void aDepthBelowOneIsRefused() {
        GraphException e = assertThrows(GraphException.class, () -> graph(false, 0));
        assertTrue(e.getMessage().contains("depth must be in [1, 2^31)"), e.getMessage());
    }
}
