package dev.panamadnn.compile;

import static dev.panamadnn.compile.I64Values.longs;
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
import java.lang.foreign.ValueLayout;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * TopK compiled (LowerCarried): the largest and the smallest K along an axis, with ties, signed zeros, infinities
 * and NaN. Expected values from PyTorch 1.13: {@code torch.sort(x, dim, descending=largest, stable=True)}'s first K
 * (the values are torch.topk's too; torch.topk's order of equal values varies, the stable sort's is ONNX's rule, the
 * lower index first), NaN larger than every number.
 */
class CompiledTopKTest {
    private static final float NAN = Float.NaN, INF = Float.POSITIVE_INFINITY;
    private static final float[] X = {1, 3, 3, NAN, 0, 3, -0.0f, 0, NAN, 2, -1, INF, 2, -INF, 5, 5, -1, 2};

    private static Map<String, Tensor> topK(long[] shape, long axis, long largest, long k, Tensor x, String... outputs) {
        GraphBuilder b = Graph.builder("topk");
        b.input("x", Shape.of(shape));
        b.initializer("k", Tensor.wrap(java.lang.foreign.Arena.ofAuto().allocateFrom(ValueLayout.JAVA_LONG, k), DataType.I64, 1));
        java.util.List<String> outs = b.node("TopK", "top", Attributes.of("axis", axis, "largest", largest), java.util.List.of("x", "k"), outputs.length);
        b.output(outs.toArray(String[]::new));
        try (CompiledModel plan = CompiledModel.compile(b.build(), CompileOptions.defaults(), Map.of("x", shape))) {
            Map<String, Tensor> y = plan.run(Map.of("x", x));
            return Map.of("values", y.get(outs.get(0)), "indices", outs.size() > 1 ? y.get(outs.get(1)) : y.get(outs.get(0)));
        }
    }

    @Test
    void theLargestGoFirstWithNaNAboveEveryNumberAndTiesByIndex() {
        try (Tensor x = Tensor.of(X, 2, 9)) {
            Map<String, Tensor> y = topK(new long[] {2, 9}, 1, 1, 5, x, "values", "indices");
            assertArrayEquals(new float[] {NAN, NAN, 3, 3, 3, INF, 5, 5, 2, 2}, y.get("values").toFloatArray());
            assertArrayEquals(new long[] {3, 8, 1, 2, 5, 2, 5, 6, 0, 3}, longs(y.get("indices")));
            assertArrayEquals(new long[] {2, 5}, y.get("indices").shape());
        }
    }

    @Test
    void theSmallestGoFirstWithNaNLastAndSignedZerosEqual() {
        try (Tensor x = Tensor.of(X, 2, 9)) {
            Map<String, Tensor> y = topK(new long[] {2, 9}, -1, 0, 5, x, "values", "indices");
            assertArrayEquals(new float[] {0, -0.0f, 0, 1, 3, -INF, -1, -1, 2, 2}, y.get("values").toFloatArray());
            assertArrayEquals(new long[] {4, 6, 7, 0, 1, 4, 1, 7, 0, 3}, longs(y.get("indices")));
        }
    }

    @Test
    void anInnerAxisAndTheValuesAlone() {
        float[] t = new float[18];
        for (int i = 0; i < 9; i++) {   // X transposed: [9, 2], top 3 along axis 0
            t[2 * i] = X[i];
            t[2 * i + 1] = X[9 + i];
        }
        try (Tensor x = Tensor.of(t, 9, 2)) {
            Map<String, Tensor> y = topK(new long[] {9, 2}, 0, 1, 3, x, "values", "indices");
            assertArrayEquals(new float[] {NAN, INF, NAN, 5, 3, 5}, y.get("values").toFloatArray());
            assertArrayEquals(new long[] {3, 2, 8, 5, 1, 6}, longs(y.get("indices")));
        }
        try (Tensor x = Tensor.of(X, 2, 9)) {
            assertArrayEquals(new float[] {NAN, INF}, topK(new long[] {2, 9}, 1, 1, 1, x, "values").get("values").toFloatArray());
        }
    }

    @Test
    void aKBeyondTheAxisIsRefusedWhenTheGraphIsBuilt() {
        try (Tensor x = Tensor.of(X, 2, 9)) {
            GraphException e = assertThrows(GraphException.class, () -> topK(new long[] {2, 9}, 1, 1, 10, x, "values", "indices"));
            assertTrue(e.getMessage().contains("K must be in [1, 9]") && e.getMessage().contains("got 10"), e.getMessage());
            e = assertThrows(GraphException.class, () -> topK(new long[] {2, 9}, 2, 1, 1, x, "values", "indices"));
            assertTrue(e.getMessage().contains("axis 2 is out of range for rank 2"), e.getMessage());
        }
    }
}
