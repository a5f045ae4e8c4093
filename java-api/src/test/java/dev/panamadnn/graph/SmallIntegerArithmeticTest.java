package dev.panamadnn.graph;

import static dev.panamadnn.graph.IntegerValues.tensor;
import static dev.panamadnn.graph.IntegerValues.known;
import static dev.panamadnn.graph.IntegerValues.binary;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Arithmetic on U8 and I8 values known when the graph is built (an ONNX model's small-integer inputs bound to a call's
 * values): results wrap as the type does. Expected values from numpy 1.24 on the same operands ({@code np.int8} /
 * {@code np.uint8} arrays: {@code a + b}, {@code a - b}, {@code a * b}, {@code np.mod}, {@code np.fmod}, {@code a // b}
 * for unsigned, {@code np.trunc(a / b).astype(np.int8)} for signed Div as ONNX's reference casts, {@code np.maximum},
 * {@code np.minimum}, {@code np.clip}).
 */
class SmallIntegerArithmeticTest {
    private static final long[] A8 = {127, -128, -7, 100, -100}, B8 = {1, -1, 2, -3, 27};
    private static final long[] AU = {3, 200, 16, 255, 0}, BU = {5, 100, 17, 1, 9};

    @Test
    void int8ArithmeticWraps() {
        assertArrayEquals(new long[] {-128, 127, -5, 97, -73}, binary("Add", Attributes.empty(), DataType.I8, A8, B8));
        assertArrayEquals(new long[] {126, -127, -9, 103, -127}, binary("Sub", Attributes.empty(), DataType.I8, A8, B8));
        assertArrayEquals(new long[] {127, -128, -14, -44, 116}, binary("Mul", Attributes.empty(), DataType.I8, A8, B8));
        assertArrayEquals(new long[] {127, -128, -3, -33, -3}, binary("Div", Attributes.empty(), DataType.I8, A8, B8));
        assertArrayEquals(new long[] {0, 0, 1, -2, 8}, binary("Mod", Attributes.empty(), DataType.I8, A8, B8));
        assertArrayEquals(new long[] {0, 0, -1, 1, -19}, binary("Mod", Attributes.of("fmod", 1L), DataType.I8, A8, B8));
    }

    @Test
    void uint8ArithmeticWrapsModulo256() {
        assertArrayEquals(new long[] {8, 44, 33, 0, 9}, binary("Add", Attributes.empty(), DataType.U8, AU, BU));
        assertArrayEquals(new long[] {254, 100, 255, 254, 247}, binary("Sub", Attributes.empty(), DataType.U8, AU, BU));
        assertArrayEquals(new long[] {15, 32, 16, 255, 0}, binary("Mul", Attributes.empty(), DataType.U8, AU, BU));
        assertArrayEquals(new long[] {0, 2, 0, 255, 0}, binary("Div", Attributes.empty(), DataType.U8, AU, BU));
        assertArrayEquals(new long[] {5, 200, 17, 255, 9}, binary("Max", Attributes.empty(), DataType.U8, AU, BU));
        assertArrayEquals(new long[] {3, 100, 16, 1, 0}, binary("Min", Attributes.empty(), DataType.U8, AU, BU));
    }

    @Test
    void int8ClipIsNumpyClip() {
        for (long[] bounds : new long[][] {{-50, 50}, {10, -10}}) {   // min > max: every element max, as np.clip
            GraphBuilder g = Graph.builder("clip");
            g.input("x", Shape.of(1));
            String r = g.node("Clip", "r", Attributes.empty(), g.initializer("a", tensor(DataType.I8, A8)),
                    g.initializer("lo", Tensor.wrap(tensor(DataType.I8, new long[] {bounds[0]}).segment(), DataType.I8)),
                    g.initializer("hi", Tensor.wrap(tensor(DataType.I8, new long[] {bounds[1]}).segment(), DataType.I8)));
            g.output(r);
            long[] want = bounds[0] < bounds[1] ? new long[] {50, -50, -7, 50, -50} : new long[] {-10, -10, -10, -10, -10};
            assertArrayEquals(want, known(g.build(), r, DataType.I8));
        }
    }
}
