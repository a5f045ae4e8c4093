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
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * ScatterND's and ScatterElements' reductions (the opset-16 forms: add, mul) with duplicate indices, applied in the
 * updates' order: by the plan's step (data computed at run time) and folded when compiling (every operand a constant).
 * Expected values from numpy 1.24 in float32, ONNX's reference loops ({@code for i in np.ndindex(indices.shape[:-1]):
 * out[tuple(indices[i])] += updates[i]} for ScatterND; for ScatterElements every index position {@code i} of the indices
 * with {@code i[axis]} replaced by {@code indices[i]}; {@code *=} for mul, {@code =} for none) on
 * {@code x = (np.arange(12, dtype=np.float32).reshape(3, 4) - 4) / 2} with {@code x[2, 3] = inf}.
 */
class ScatterReductionTest {
    private static final float INF = Float.POSITIVE_INFINITY, NAN = Float.NaN;
    private static final float[] X = {-2.0f, -1.5f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f, 3.0f, INF};
    /** Whole rows: row 1 twice, row 0 once. */
    private static final long[] ROWS = {1, 0, 1};
    private static final float[] ROW_UPDATES = {1, 2, 3, 4, 0.5f, 0.5f, 0.5f, 0.5f, 10, 20, 30, 40};
    /** Single elements: (2, 3), the infinity, twice, and (0, 0). */
    private static final long[] ELEMENTS = {2, 3, 2, 3, 0, 0};
    private static final float[] ELEMENT_UPDATES = {0, 3, -1};

    private static Tensor longs(long[] v, long... shape) {
        MemorySegment s = Arena.ofAuto().allocate(v.length * 8L, 8);
        for (int i = 0; i < v.length; i++) s.setAtIndex(ValueLayout.JAVA_LONG, i, v[i]);
        return Tensor.wrap(s, DataType.I64, shape);
    }

    /**
     * {@code reduction} of the updates into x twice: ScatterND(x, ...) on the input (a step), and ScatterND(constant x, ...)
     * + zero (folded, then added to a zero input); both results.
     */
    private static float[][] scatter(String reduction, long[] indices, long[] indicesShape, float[] updates, long... updatesShape) {
        return scatter("ScatterND", Attributes.of("reduction", reduction), indices, indicesShape, updates, updatesShape);
    }

    private static float[][] scatter(String op, Attributes a, long[] indices, long[] indicesShape, float[] updates, long... updatesShape) {
        GraphBuilder b = Graph.builder(op);
        b.input("x", Shape.of(3, 4));
        b.input("zero", Shape.of(3, 4));
        String idx = b.initializer("indices", longs(indices, indicesShape)), u = b.initializer("updates", Tensor.of(updates, updatesShape));
        String stepped = b.node(op, "stepped", a, "x", idx, u);
        String folded = b.node(op, "folded", a, b.initializer("data", Tensor.of(X, 3, 4)), idx, u);
        String plus = b.node("Add", "plus", Attributes.empty(), folded, "zero");
        b.output(stepped, plus);
        try (CompiledModel plan = CompiledModel.compile(b.build(), CompileOptions.defaults(), Map.of("x", new long[] {3, 4}, "zero", new long[] {3, 4}));
             Tensor x = Tensor.of(X, 3, 4); Tensor zero = Tensor.zeros(3, 4)) {
            Map<String, Tensor> y = plan.run(Map.of("x", x, "zero", zero));
            return new float[][] {y.get(stepped).toFloatArray(), y.get(plus).toFloatArray()};
        }
    }

    @Test
    void addAccumulatesDuplicateIndices() {
        float[] rows = {-1.5f, -1.0f, -0.5f, 0.0f, 11.0f, 22.5f, 34.0f, 45.5f, 2.0f, 2.5f, 3.0f, INF};
        float[][] got = scatter("add", ROWS, new long[] {3, 1}, ROW_UPDATES, 3, 4);
        assertArrayEquals(rows, got[0]);
        assertArrayEquals(rows, got[1]);
        float[] elements = {-3.0f, -1.5f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f, 3.0f, INF};
        got = scatter("add", ELEMENTS, new long[] {3, 2}, ELEMENT_UPDATES, 3);
        assertArrayEquals(elements, got[0]);
        assertArrayEquals(elements, got[1]);
    }

    @Test
    void mulMultipliesDuplicateIndicesAndInfinityTimesZeroIsNaN() {
        float[] rows = {-1.0f, -0.75f, -0.5f, -0.25f, 0.0f, 20.0f, 90.0f, 240.0f, 2.0f, 2.5f, 3.0f, INF};
        float[][] got = scatter("mul", ROWS, new long[] {3, 1}, ROW_UPDATES, 3, 4);
        assertArrayEquals(rows, got[0]);
        assertArrayEquals(rows, got[1]);
        float[] elements = {2.0f, -1.5f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f, 3.0f, NAN};
        got = scatter("mul", ELEMENTS, new long[] {3, 2}, ELEMENT_UPDATES, 3);
        assertArrayEquals(elements, got[0]);
        assertArrayEquals(elements, got[1]);
    }

    /** ScatterElements on axis 1: row 0 gets columns 1, -1 (3) and 1 again, row 1 columns 0, 0 and 2. */
    private static float[][] scatterElements(String reduction) {
        return scatter("ScatterElements", Attributes.of("axis", 1L, "reduction", reduction), new long[] {1, -1, 1, 0, 0, 2}, new long[] {2, 3},
                new float[] {10, 20, 30, 2, 3, 4}, 2, 3);
    }

    @Test
    void scatterElementsReplacesAddsAndMultipliesInOrderWithNegativeIndices() {
        float[] none = {-2.0f, 30.0f, -1.0f, 20.0f, 3.0f, 0.5f, 4.0f, 1.5f, 2.0f, 2.5f, 3.0f, INF};
        float[] add = {-2.0f, 38.5f, -1.0f, 19.5f, 5.0f, 0.5f, 5.0f, 1.5f, 2.0f, 2.5f, 3.0f, INF};
        float[] mul = {-2.0f, -450.0f, -1.0f, -10.0f, 0.0f, 0.5f, 4.0f, 1.5f, 2.0f, 2.5f, 3.0f, INF};
        for (Object[] c : new Object[][] {{"none", none}, {"add", add}, {"mul", mul}}) {
            float[][] got = scatterElements((String) c[0]);
            assertArrayEquals((float[]) c[1], got[0], (String) c[0]);
            assertArrayEquals((float[]) c[1], got[1], (String) c[0]);
        }
        // axis 0, the last row (with the infinity) multiplied by [0, 1, -1, 0]: inf * 0 is NaN
        float[][] got = scatter("ScatterElements", Attributes.of("axis", 0L, "reduction", "mul"), new long[] {2, 2, 2, 2}, new long[] {1, 4},
                new float[] {0, 1, -1, 0}, 1, 4);
        float[] want = {-2.0f, -1.5f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f, 0.0f, 2.5f, -3.0f, NAN};
        assertArrayEquals(want, got[0]);
        assertArrayEquals(want, got[1]);
    }

    @Test
    void scatterElementsIndexOutOfRangeIsRefused() {
        GraphBuilder b = Graph.builder("scatter_elements_range");
        b.input("x", Shape.of(3, 4));
        GraphException e = assertThrows(GraphException.class, () -> b.node("ScatterElements", "s", Attributes.of("axis", 1L), "x",
                b.initializer("indices", longs(new long[] {4}, 1, 1)), b.initializer("updates", Tensor.of(new float[] {1}, 1, 1))));
        assertTrue(e.getMessage().contains("index 4 is out of range for dim 1 (4)"), e.getMessage());
    }

    @Test
    void anotherReductionIsRefusedNamingIt() {
        GraphBuilder b = Graph.builder("scatter_nd_max");
        b.input("x", Shape.of(3, 4));
        GraphException e = assertThrows(GraphException.class, () -> b.node("ScatterND", "s", Attributes.of("reduction", "max"), "x",
                b.initializer("indices", longs(ROWS, 3, 1)), b.initializer("updates", Tensor.of(ROW_UPDATES, 3, 4))));
        assertTrue(e.getMessage().contains("reduction 'max' is not supported"), e.getMessage());
    }
}
