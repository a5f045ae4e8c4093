package dev.panamadnn.compile;

import static dev.panamadnn.compile.I64Values.longs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Integer and bool values computed at run time (LowerCarried): ArgMax/ArgMin with ties and NaN,
 * comparisons feeding a Where, Cast to I64 and BOOL, outputs of those dtypes written into the
 * caller's tensors; integer Mul, ReduceSum, CumSum and Sub of such values exact, and refused at run time beyond 2^24.
 * Expected values from NumPy 1.24
 * (numpy.argmax/argmin; select_last_index as ONNX's reference computes it, on the flipped axis;
 * astype(int64), astype(bool), numpy.where).
 */
class CompiledCarriedValuesTest {
    private static final float NAN = Float.NaN;

    private static Map<String, Tensor> run(Graph g, Tensor x) {
        try (CompiledModel plan = CompiledModel.compile(g, CompileOptions.defaults(), Map.of("x", x.shape()))) {
            return plan.run(Map.of("x", x));
        }
    }

    private static boolean[] bools(Tensor t) {
        assertEquals(DataType.BOOL, t.dtype());
        boolean[] v = new boolean[(int) t.numel()];
        for (int i = 0; i < v.length; i++) v[i] = t.segment().get(ValueLayout.JAVA_BYTE, i) != 0;
        return v;
    }

    /** A plan of one I64 output run with the single-tensor calls: the output they allocate is I64 (it was F32, and refused). */
    @Test
    void theSingleTensorRunsAllocateTheOutputsDtype() {
        GraphBuilder b = Graph.builder("argmax");
        b.input("x", Shape.batched("N", 5));
        b.output(b.node("ArgMax", "max", Attributes.of("axis", 1L, "keepdims", 0L), "x"));
        Graph g = b.build();
        try (Tensor x = Tensor.of(new float[] {1, 3, 3, 0, 2, 1, NAN, 5, NAN, 2}, 2, 5);
             CompiledModel plan = CompiledModel.compile(g, CompileOptions.defaults(), 2, 5);
             Tensor y = plan.run(x);
             PlanSet plans = PlanSet.of(g, CompileOptions.defaults(), PlanSet.DEFAULT_MAX_PLANS);
             Tensor z = plans.run(x)) {
            assertEquals(DataType.I64, y.dtype());
            assertArrayEquals(new long[] {1, 1}, longs(y));   // NumPy: the first maximum, NaN as the maximum
            assertEquals(DataType.I64, z.dtype());
            assertArrayEquals(new long[] {1, 1}, longs(z));
        }
    }

    @Test
    void argMaxAndArgMinTakeTheFirstOrLastExtremeAndNaNAsTheExtreme() {
        GraphBuilder b = Graph.builder("arg");
        b.input("x", Shape.of(2, 5));
        String[] outs = {
            b.node("ArgMax", "max", Attributes.of("axis", 1L, "keepdims", 0L), "x"),
            b.node("ArgMin", "min", Attributes.of("axis", -1L, "keepdims", 0L), "x"),
            b.node("ArgMax", "max_last", Attributes.of("axis", 1L, "keepdims", 0L, "select_last_index", 1L), "x"),
            b.node("ArgMin", "min_last", Attributes.of("axis", 1L, "keepdims", 1L, "select_last_index", 1L), "x")};
        b.output(outs);
        try (Tensor x = Tensor.of(new float[] {1, 3, 3, 0, 2, 1, NAN, 5, NAN, 2}, 2, 5)) {
            Map<String, Tensor> y = run(b.build(), x);
            assertArrayEquals(new long[] {1, 1}, longs(y.get(outs[0])));
            assertArrayEquals(new long[] {3, 1}, longs(y.get(outs[1])));
            assertArrayEquals(new long[] {2, 3}, longs(y.get(outs[2])));
            assertArrayEquals(new long[] {3, 3}, longs(y.get(outs[3])));
            assertArrayEquals(new long[] {2, 1}, y.get(outs[3]).shape());
        }
    }

    @Test
    void aComparisonFeedsAWhereAndIsAnOutputToo() {
        GraphBuilder b = Graph.builder("cmp");
        b.input("x", Shape.of(4));
        b.initializer("zero", Tensor.of(new float[] {0}, 1));
        b.initializer("minus1", Tensor.of(new float[] {-1}, 1));
        String positive = b.node("Greater", "positive", Attributes.empty(), "x", "zero");
        String kept = b.node("Where", "kept", Attributes.empty(), positive, "x", "minus1");
        b.output(kept, positive);
        try (Tensor x = Tensor.of(new float[] {-1.5f, 0, 2, NAN}, 4)) {
            Map<String, Tensor> y = run(b.build(), x);
            assertArrayEquals(new float[] {-1, -1, 2, -1}, y.get(kept).toFloatArray());
            assertArrayEquals(new boolean[] {false, false, true, false}, bools(y.get(positive)));
            y.get(kept).close();
        }
    }

    @Test
    void castToIntegersTruncatesTowardZeroAndToBoolTestsNonZero() {
        GraphBuilder b = Graph.builder("cast");
        b.input("x", Shape.of(5));
        String i64 = b.node("Cast", "to_i64", Attributes.of("to", 7L), "x");
        String bool = b.node("Cast", "to_bool", Attributes.of("to", 9L), "x");
        String back = b.node("Cast", "back", Attributes.of("to", 1L), i64);
        b.output(i64, bool, back);
        try (Tensor x = Tensor.of(new float[] {-2.7f, 2.7f, 1e10f, -0.0f, 0.5f}, 5)) {
            Map<String, Tensor> y = run(b.build(), x);
            assertArrayEquals(new long[] {-2, 2, 10_000_000_000L, 0, 0}, longs(y.get(i64)));
            assertArrayEquals(new boolean[] {true, true, true, false, true}, bools(y.get(bool)));
            assertArrayEquals(new float[] {-2, 2, 1e10f, 0, 0}, y.get(back).toFloatArray());
            y.get(back).close();
        }
    }

    @Test
    void integerArithmeticOnRunTimeValuesIsExactAndRefusedBeyondTwoToThe24() {
        GraphBuilder b = Graph.builder("arith");
        b.input("x", Shape.of(2, 5));
        String idx = b.node("ArgMax", "idx", Attributes.of("axis", 1L), "x");   // [[1], [2]] below (keepdims)
        String square = b.node("Mul", "square", Attributes.empty(), idx, idx);
        String sum = b.node("ReduceSum", "sum", Attributes.of("keepdims", 0L), square);
        String cum = b.node("CumSum", "cum", Attributes.empty(), idx, b.constant("axis", 0));
        String less = b.node("Sub", "less", Attributes.empty(), cum, b.constant("one", 1));
        b.output(square, sum, less);
        try (Tensor x = Tensor.of(new float[] {0, 3, 1, 2, 0, 9, 8, 10, 1, 1}, 2, 5)) {
            Map<String, Tensor> y = run(b.build(), x);
            assertArrayEquals(new long[] {1, 4}, longs(y.get(square)));   // NumPy: argmax of the rows [1, 2], squared
            assertArrayEquals(new long[] {5}, longs(y.get(sum)));
            assertArrayEquals(new long[] {0, 2}, longs(y.get(less)));   // cumsum [1, 3] minus 1
        }
        GraphBuilder big = Graph.builder("big");
        big.input("x", Shape.of(1, 5));
        big.output(big.node("Mul", "huge", Attributes.empty(), big.node("ArgMax", "i", Attributes.of("axis", 1L), "x"), big.constant("k", 1L << 23)));
        try (CompiledModel plan = CompiledModel.compile(big.build(), CompileOptions.defaults(), Map.of("x", new long[] {1, 5}));
             Tensor x = Tensor.of(new float[] {0, 0, 0, 7, 0}, 1, 5)) {   // argmax 3, times 2^23: beyond 2^24
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plan.run(Map.of("x", x)));
            assertTrue(e.getMessage().contains("huge (Mul)") && e.getMessage().contains("25165824 is beyond 2^24"), e.getMessage());
        }
    }
}
