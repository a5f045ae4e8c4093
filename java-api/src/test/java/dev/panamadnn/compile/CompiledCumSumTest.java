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
 * CumSum compiled (LowerEncode) on F32 along each axis, exclusive and reverse, through cancellation (1e8 - 1e8),
 * NaN and infinity. Expected values from numpy 1.24's cumsum in float64 rounded to float32 (PyTorch 1.13's
 * torch.cumsum of float32 gives the same, [1.5, -0.5, 1e8, 1e8, 0.5, 3.5]: it accumulates in double; numpy's float32
 * cumsum gives 0 and 3 for the last two); exclusive and reverse as ONNX's reference builds them (a shifted, flipped cumsum).
 */
class CompiledCumSumTest {
    private static final float NAN = Float.NaN, INF = Float.POSITIVE_INFINITY;
    private static final float[] X = {1.5f, -2, 1e8f, 1, -1e8f, 3, 0.1f, 0.2f, NAN, 4, INF, 5};

    private static float[] cumSum(long axis, long exclusive, long reverse) {
        GraphBuilder b = Graph.builder("cumsum");
        b.input("x", Shape.of(2, 6));
        b.initializer("axis", Tensor.wrap(Arena.ofAuto().allocateFrom(ValueLayout.JAVA_LONG, axis), DataType.I64));
        b.output(b.node("CumSum", "c", Attributes.of("exclusive", exclusive, "reverse", reverse), "x", "axis"));
        try (CompiledModel plan = CompiledModel.compile(b.build(), CompileOptions.defaults(), Map.of("x", new long[] {2, 6}));
             Tensor x = Tensor.of(X, 2, 6)) {
            return plan.run(Map.of("x", x)).values().iterator().next().toFloatArray();
        }
    }

    @Test
    void sumsAlongAnAxisInDouble() {
        assertArrayEquals(new float[] {1.5f, -0.5f, 1e8f, 1e8f, 0.5f, 3.5f, 0.1f, 0.3f, NAN, NAN, NAN, NAN}, cumSum(1, 0, 0));
        assertArrayEquals(new float[] {3.5f, 2, 4, -1e8f, -1e8f, 3, NAN, NAN, NAN, INF, INF, 5}, cumSum(-1, 0, 1));
        assertArrayEquals(new float[] {2, 4, -1e8f, -1e8f, 3, 0, NAN, NAN, INF, INF, 5, 0}, cumSum(1, 1, 1));
        assertArrayEquals(new float[] {0, 0, 0, 0, 0, 0, 1.5f, -2, 1e8f, 1, -1e8f, 3}, cumSum(0, 1, 0));
    }

    @Test
    void anAxisOutOfRangeIsRefused() {
        GraphException e = assertThrows(GraphException.class, () -> cumSum(2, 0, 0));
        assertTrue(e.getMessage().contains("axis 2 is out of range for rank 2"), e.getMessage());
    }
}
