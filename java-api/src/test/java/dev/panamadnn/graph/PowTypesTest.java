package dev.panamadnn.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * Pow's types (ONNX 12+): the base's dtype is the result's, the exponent F32, I32 or I64; an integer result of known
 * operands is computed exactly when the graph is built. Expected values are exact integer arithmetic (numpy's
 * {@code np.power} on int64/int32 gives the same, wrapping on overflow: 2**31 in int32 is -2**31).
 */
class PowTypesTest {
    private static Tensor ints(DataType t, long... v) {
        Arena a = Arena.ofAuto();
        if (t == DataType.I64) return Tensor.wrap(a.allocateFrom(ValueLayout.JAVA_LONG, v), t, v.length);
        int[] w = new int[v.length];
        for (int i = 0; i < v.length; i++) w[i] = (int) v[i];
        return Tensor.wrap(a.allocateFrom(ValueLayout.JAVA_INT, w), t, v.length);
    }

    private static Graph pow(Tensor base, Tensor exponent) {
        GraphBuilder g = Graph.builder("pow");
        String x = g.input("x", Shape.of(1));
        String p = g.node("Pow", "p", Attributes.empty(), g.initializer("a", base), g.initializer("b", exponent));
        g.output(g.node("Relu", "r", Attributes.empty(), x));
        g.output(p);
        return g.build();
    }

    @Test
    void integerBasesGiveExactIntegersOfTheirDtype() {
        Graph g = pow(ints(DataType.I64, 2, 3, -2, 7), ints(DataType.I64, 62, 2, 3, 0));
        assertEquals(DataType.I64, g.value("p").dtype());
        assertArrayEquals(new long[] {1L << 62, 9, -8, 1}, g.knownValue("p").segment().toArray(ValueLayout.JAVA_LONG));
        Graph wrapped = pow(ints(DataType.I32, 2, 5), ints(DataType.I32, 31, 3));
        assertEquals(DataType.I32, wrapped.value("p").dtype());
        assertArrayEquals(new int[] {Integer.MIN_VALUE, 125}, wrapped.knownValue("p").segment().toArray(ValueLayout.JAVA_INT));
        Graph negative = pow(ints(DataType.I64, 2, 1, -1), ints(DataType.I32, -1, -3, -3));   // mixed integer dtypes
        assertArrayEquals(new long[] {0, 1, -1}, negative.knownValue("p").segment().toArray(ValueLayout.JAVA_LONG));
        Tensor half = Tensor.of(new float[] {0.5f, 0.5f, 2.5f}, 3);
        Graph roots = pow(ints(DataType.I64, 4, 10, 2), half);   // a float exponent: truncated toward zero
        assertArrayEquals(new long[] {2, 3, 5}, roots.knownValue("p").segment().toArray(ValueLayout.JAVA_LONG));
    }

    @Test
    void floatBasesStayF32AndOtherDtypesAreRefused() {
        Graph f = pow(Tensor.of(new float[] {2, 3}, 2), ints(DataType.I64, 3, 2));
        assertEquals(DataType.F32, f.value("p").dtype());
        assertNull(f.knownValue("p"), "float arithmetic is the math ops' (folded by the compiler, not here)");
        Arena a = Arena.ofAuto();
        Tensor bools = Tensor.wrap(a.allocate(2), DataType.BOOL, 2);
        GraphException e = assertThrows(GraphException.class, () -> pow(bools, ints(DataType.I64, 1, 1)));
        assertEquals(true, e.getMessage().contains("must be F32, I32 or I64, got BOOL"), e.getMessage());
        GraphException exponent = assertThrows(GraphException.class, () -> pow(ints(DataType.I64, 1, 1), bools));
        assertEquals(true, exponent.getMessage().contains("must be F32 or an integer type"), exponent.getMessage());
    }
}
