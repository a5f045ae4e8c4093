package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.GraphException;
import dev.panamadnn.graph.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * GatherND compiled (LowerSelect) on F32 data {@code x = arange(24) * 0.5 - 3} of shape [2, 3, 4]: constant indices
 * (negative ones, batch_dims 1), indices from an I64 graph input (and one out of range: an exception naming the node),
 * indices computed at run time (ArgMax's, held as exact values). Expected values from ONNX's reference
 * ({@code gather_nd_impl} in onnx/backend/test/case/node/gathernd.py, numpy 1.24).
 */
class CompiledGatherNdTest {
    private static final float[] X0 = {-3, -2.5f, -2, -1.5f, -1, -0.5f, 0, 0.5f, 1, 1.5f, 2, 2.5f}, X1 = {3, 3.5f, 4, 4.5f, 5, 5.5f, 6, 6.5f, 7, 7.5f, 8, 8.5f};

    private static Tensor x() {
        float[] v = new float[24];
        for (int i = 0; i < 24; i++) v[i] = i * 0.5f - 3;
        return Tensor.of(v, 2, 3, 4);
    }

    private static Tensor longs(long[] v, long... shape) {
        return Tensor.wrap(Arena.ofAuto().allocateFrom(ValueLayout.JAVA_LONG, v), DataType.I64, shape);
    }

    private static float[] cat(float[]... parts) {
        float[] r = new float[parts.length * 12];
        for (int i = 0; i < parts.length; i++) System.arraycopy(parts[i], 0, r, i * 12, 12);
        return r;
    }

    private static float[] constantIndices(long batchDims, Tensor indices) {
        GraphBuilder b = Graph.builder("gather_nd");
        b.input("x", Shape.of(2, 3, 4));
        b.initializer("i", indices);
        b.output(b.node("GatherND", "g", Attributes.of("batch_dims", batchDims), "x", "i"));
        try (CompiledModel plan = CompiledModel.compile(b.build(), CompileOptions.defaults(), Map.of("x", new long[] {2, 3, 4})); Tensor x = x()) {
            return plan.run(Map.of("x", x)).values().iterator().next().toFloatArray();
        }
    }

    @Test
    void constantIndicesPickSlicesWithNegativeIndicesFromTheEnd() {
        assertArrayEquals(new float[] {7, 7.5f, 8, 8.5f, 1, 1.5f, 2, 2.5f}, constantIndices(0, longs(new long[] {1, -1, 0, 2}, 2, 2)));
        assertArrayEquals(new float[] {1, 1.5f, 2, 2.5f, 3, 3.5f, 4, 4.5f}, constantIndices(1, longs(new long[] {2, -3}, 2, 1, 1)));
        GraphException e = assertThrows(GraphException.class, () -> constantIndices(0, longs(new long[] {0, 3}, 1, 2)));
        assertTrue(e.getMessage().contains("index 3 is out of range for dim 1 (3)"), e.getMessage());
    }

    @Test
    void indicesFromAnIntegerInputAreCheckedEachRun() {
        GraphBuilder b = Graph.builder("gather_nd");
        b.input("x", Shape.of(2, 3, 4));
        b.input("i", DataType.I64, Shape.of(3, 1));
        String y = b.node("GatherND", "g", Attributes.empty(), "x", "i");
        b.output(y);
        try (CompiledModel plan = CompiledModel.compile(b.build(), CompileOptions.defaults(), Map.of("x", new long[] {2, 3, 4}, "i", new long[] {3, 1}));
             Tensor x = x()) {
            assertArrayEquals(cat(X1, X0, X0), plan.run(Map.of("x", x, "i", longs(new long[] {1, 0, -2}, 3, 1))).get(y).toFloatArray());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plan.run(Map.of("x", x, "i", longs(new long[] {1, 2, 0}, 3, 1))));
            assertTrue(e.getMessage().contains("g (GatherND)") && e.getMessage().contains("index 2 (element 1 of indices 'i') is out of range for dim 0 (2)"),
                    e.getMessage());
        }
    }

    @Test
    void indicesComputedAtRunTimeAreHeldExactly() {
        GraphBuilder b = Graph.builder("gather_nd");
        b.input("x", Shape.of(2, 3, 4));
        b.input("s", Shape.of(3, 2));
        String i = b.node("ArgMax", "arg", Attributes.of("axis", 1L, "keepdims", 1L), "s");
        String y = b.node("GatherND", "g", Attributes.empty(), "x", i);
        b.output(y);
        try (CompiledModel plan = CompiledModel.compile(b.build(), CompileOptions.defaults(), Map.of("x", new long[] {2, 3, 4}, "s", new long[] {3, 2}));
             Tensor x = x(); Tensor s = Tensor.of(new float[] {1, 5, 7, 2, 0, 9}, 3, 2)) {
            assertArrayEquals(cat(X1, X0, X1), plan.run(Map.of("x", x, "s", s)).get(y).toFloatArray());
        }
    }
}
