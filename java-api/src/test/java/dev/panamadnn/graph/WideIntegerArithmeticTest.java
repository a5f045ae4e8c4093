package dev.panamadnn.graph;

import static dev.panamadnn.graph.IntegerValues.tensor;
import static dev.panamadnn.graph.IntegerValues.known;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import org.junit.jupiter.api.Test;

/**
 * Arithmetic on I16, U16, U32 and U64 values known when the graph is built (an ONNX model's integer inputs bound to a
 * call's values): results wrap as the type does, U64 values from 2^63 compare, divide and take remainders unsigned.
 * Expected values from numpy 1.24 on the same operands ({@code a = np.array(A, t); b = np.array(B, t)}: {@code a + b},
 * {@code a - b}, {@code a * b}, {@code a // b} for unsigned, {@code np.trunc(a / b).astype(t)} for signed Div as ONNX's
 * reference casts, {@code np.mod}, {@code np.fmod}, {@code np.maximum}, {@code np.minimum}, {@code a < b},
 * {@code a > b}, {@code a == b}, {@code np.clip}). U64 literals are written as their decimal strings.
 */
class WideIntegerArithmeticTest {
    private static final long[] A16 = {32767, -32768, -7, 300, -300}, B16 = {1, -1, 2, -7, 1000};
    private static final long[] AU16 = {3, 65535, 40000, 0, 1000}, BU16 = {5, 1, 30000, 9, 70};
    private static final long[] AU32 = {4294967295L, 3, 3000000000L, 0, 70000}, BU32 = {1, 5, 2, 7, 70000};
    private static final long[] AU64 = u("18446744073709551615", "9223372036854775808", "3", "10000000000000000000", "12345678901234567890"),
            BU64 = u("1", "3", "5", "9223372036854775807", "12345678901234567890");

    /** Unsigned 64-bit values from their decimal strings (held as their bits). */
    private static long[] u(String... v) {
        long[] r = new long[v.length];
        for (int i = 0; i < v.length; i++) r[i] = Long.parseUnsignedLong(v[i]);
        return r;
    }

    private static long[] binary(String op, DataType t, long[] a, long[] b) {
        return IntegerValues.binary(op, Attributes.empty(), t, a, b);
    }

    @Test
    void int16ArithmeticWraps() {
        DataType t = DataType.I16;
        assertArrayEquals(new long[] {-32768, 32767, -5, 293, 700}, binary("Add", t, A16, B16));
        assertArrayEquals(new long[] {32766, -32767, -9, 307, -1300}, binary("Sub", t, A16, B16));
        assertArrayEquals(new long[] {32767, -32768, -14, -2100, 27680}, binary("Mul", t, A16, B16));
        assertArrayEquals(new long[] {32767, -32768, -3, -42, 0}, binary("Div", t, A16, B16));
        assertArrayEquals(new long[] {0, 0, 1, -1, 700}, binary("Mod", t, A16, B16));
        assertArrayEquals(new long[] {0, 0, -1, 6, -300}, IntegerValues.binary("Mod", Attributes.of("fmod", 1L), t, A16, B16));
        assertArrayEquals(new long[] {32767, -1, 2, 300, 1000}, binary("Max", t, A16, B16));
        assertArrayEquals(new long[] {1, -32768, -7, -7, -300}, binary("Min", t, A16, B16));
    }

    @Test
    void uint16ArithmeticWrapsModulo65536() {
        DataType t = DataType.U16;
        assertArrayEquals(new long[] {8, 0, 4464, 9, 1070}, binary("Add", t, AU16, BU16));
        assertArrayEquals(new long[] {65534, 65534, 10000, 65527, 930}, binary("Sub", t, AU16, BU16));
        assertArrayEquals(new long[] {15, 65535, 35840, 0, 4464}, binary("Mul", t, AU16, BU16));
        assertArrayEquals(new long[] {0, 65535, 1, 0, 14}, binary("Div", t, AU16, BU16));
        assertArrayEquals(new long[] {3, 0, 10000, 0, 20}, binary("Mod", t, AU16, BU16));
        assertArrayEquals(new long[] {5, 65535, 40000, 9, 1000}, binary("Max", t, AU16, BU16));
        assertArrayEquals(new long[] {3, 1, 30000, 0, 70}, binary("Min", t, AU16, BU16));
        assertArrayEquals(new long[] {1, 0, 0, 1, 0}, binary("Less", t, AU16, BU16));
    }

    @Test
    void uint32ArithmeticWrapsModulo2To32() {
        DataType t = DataType.U32;
        assertArrayEquals(new long[] {0, 8, 3000000002L, 7, 140000}, binary("Add", t, AU32, BU32));
        assertArrayEquals(new long[] {4294967294L, 4294967294L, 2999999998L, 4294967289L, 0}, binary("Sub", t, AU32, BU32));
        assertArrayEquals(new long[] {4294967295L, 15, 1705032704, 0, 605032704}, binary("Mul", t, AU32, BU32));
        assertArrayEquals(new long[] {4294967295L, 0, 1500000000, 0, 1}, binary("Div", t, AU32, BU32));
        assertArrayEquals(new long[] {0, 3, 0, 0, 0}, binary("Mod", t, AU32, BU32));
        assertArrayEquals(new long[] {4294967295L, 5, 3000000000L, 7, 70000}, binary("Max", t, AU32, BU32));
        assertArrayEquals(new long[] {1, 3, 2, 0, 70000}, binary("Min", t, AU32, BU32));
        assertArrayEquals(new long[] {1, 0, 1, 0, 0}, binary("Greater", t, AU32, BU32));
    }

    @Test
    void uint64ValuesFrom2To63AreUnsigned() {
        DataType t = DataType.U64;
        assertArrayEquals(u("0", "9223372036854775811", "8", "776627963145224191", "6244613728759584164"), binary("Add", t, AU64, BU64));
        assertArrayEquals(u("18446744073709551614", "9223372036854775805", "18446744073709551614", "776627963145224193", "0"),
                binary("Sub", t, AU64, BU64));
        assertArrayEquals(u("18446744073709551615", "9223372036854775808", "15", "8446744073709551616", "11817193982676505668"),
                binary("Mul", t, AU64, BU64));
        assertArrayEquals(u("18446744073709551615", "3074457345618258602", "0", "1", "1"), binary("Div", t, AU64, BU64));
        long[] mod = u("0", "2", "3", "776627963145224193", "0");
        assertArrayEquals(mod, binary("Mod", t, AU64, BU64));
        assertArrayEquals(mod, IntegerValues.binary("Mod", Attributes.of("fmod", 1L), t, AU64, BU64));
        assertArrayEquals(u("18446744073709551615", "9223372036854775808", "5", "10000000000000000000", "12345678901234567890"),
                binary("Max", t, AU64, BU64));
        assertArrayEquals(u("1", "3", "3", "9223372036854775807", "12345678901234567890"), binary("Min", t, AU64, BU64));
        assertArrayEquals(new long[] {0, 0, 1, 0, 0}, binary("Less", t, AU64, BU64));
        assertArrayEquals(new long[] {1, 1, 0, 1, 0}, binary("Greater", t, AU64, BU64));
        assertArrayEquals(new long[] {0, 0, 0, 0, 1}, binary("Equal", t, AU64, BU64));
    }

    /** {@code op2(op1(a, b), c)}: the wrapped value of op1, not the long it was computed in, is what op2 reads. */
    private static long[] chained(DataType t, String op1, long[] a, long[] b, String op2, long[] c) {
        GraphBuilder g = Graph.builder(op1 + op2);
        g.input("x", Shape.of(1));
        String r1 = g.node(op1, "r1", Attributes.empty(), g.initializer("a", tensor(t, a)), g.initializer("b", tensor(t, b)));
        String r = g.node(op2, "r", Attributes.empty(), r1, g.initializer("c", tensor(t, c)));
        g.output(r);
        return known(g.build(), r, DataType.BOOL);
    }

    @Test
    void wrappedValuesAreWhatTheNextOpReads() {
        // (np.array([3, 65535], np.uint16) - np.array([5, 1], np.uint16)) > np.array([100, 100], np.uint16)
        assertArrayEquals(new long[] {1, 1}, chained(DataType.U16, "Sub", new long[] {3, 65535}, new long[] {5, 1}, "Greater", new long[] {100, 100}));
        // (np.array([32767, -32768], np.int16) + np.array([1, -1], np.int16)) < np.array([0, 0], np.int16)
        assertArrayEquals(new long[] {1, 0}, chained(DataType.I16, "Add", new long[] {32767, -32768}, new long[] {1, -1}, "Less", new long[] {0, 0}));
        // (np.array([4294967295, 65536], np.uint32) ** 2 as a product) < np.array([2, 2], np.uint32): the products are 1 and 0
        assertArrayEquals(new long[] {1, 1}, chained(DataType.U32, "Mul", new long[] {4294967295L, 65536}, new long[] {4294967295L, 65536}, "Less",
                new long[] {2, 2}));
    }

    @Test
    void unsignedClipComparesUnsigned() {
        GraphBuilder g = Graph.builder("clip");
        g.input("x", Shape.of(1));
        String r = g.node("Clip", "r", Attributes.empty(), g.initializer("a", tensor(DataType.U64, AU64)),
                g.initializer("lo", Tensor.wrap(tensor(DataType.U64, u("5")).segment(), DataType.U64)),
                g.initializer("hi", Tensor.wrap(tensor(DataType.U64, u("10000000000000000000")).segment(), DataType.U64)));
        String r16 = g.node("Clip", "r16", Attributes.empty(), g.initializer("a16", tensor(DataType.U16, new long[] {40000, 3, 65535})),
                g.initializer("lo16", Tensor.wrap(tensor(DataType.U16, new long[] {100}).segment(), DataType.U16)),
                g.initializer("hi16", Tensor.wrap(tensor(DataType.U16, new long[] {50000}).segment(), DataType.U16)));
        g.output(r);
        g.output(r16);
        Graph built = g.build();
        // np.clip(a, np.uint64(5), np.uint64(10**19)); np.clip(np.array([40000, 3, 65535], np.uint16), np.uint16(100), np.uint16(50000))
        assertArrayEquals(u("10000000000000000000", "9223372036854775808", "5", "10000000000000000000", "10000000000000000000"),
                known(built, r, DataType.U64));
        assertArrayEquals(new long[] {40000, 100, 50000}, known(built, r16, DataType.U16));
    }

    /**
     * An I64 base to a U64 exponent from 2^63 (an unsigned count, not a negative one). Expected: Python's exact
     * {@code pow(b, e, 2**64)} read as int64, the wrap of numpy's int64 power (numpy itself promotes int64 ** uint64 to
     * float64, which cannot hold the result).
     */
    @Test
    void integerPowerOfAnUnsignedExponent() {
        GraphBuilder g = Graph.builder("pow");
        g.input("x", Shape.of(1));
        String p = g.node("Pow", "p", Attributes.empty(), g.initializer("a", tensor(DataType.I64, new long[] {2, 3, -1, 2, 7})),
                g.initializer("b", tensor(DataType.U64, u("3", "9223372036854775809", "9223372036854775809", "9223372036854775808",
                        "18446744073709551615"))));
        g.output(p);
        assertArrayEquals(new long[] {8, 3, -1, 0, 7905747460161236407L}, known(g.build(), p, DataType.I64));
    }

    @Test
    void divisionByZeroIsRefusedForEveryWidth() {
        for (DataType t : new DataType[] {DataType.I16, DataType.U16, DataType.U32, DataType.U64}) {
            for (String op : new String[] {"Div", "Mod"}) {
                GraphException e = assertThrows(GraphException.class, () -> binary(op, t, new long[] {7}, new long[] {0}), t + " " + op);
                assertTrue(e.getMessage().contains("by zero"), e.getMessage());
            }
        }
    }
}
