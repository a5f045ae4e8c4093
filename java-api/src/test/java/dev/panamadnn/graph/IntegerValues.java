package dev.panamadnn.graph;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Integer tensors for the graph's exact-arithmetic tests: built from longs, and a known value read back as longs. */
final class IntegerValues {
    private IntegerValues() {}

    /** A tensor of integer dtype {@code t} (1, 2, 4 or 8 bytes) holding {@code v} (truncated to the type), of {@code shape} (none: [v.length]). */
    static Tensor tensor(DataType t, long[] v, long... shape) {
        MemorySegment s = Arena.ofAuto().allocate(Math.max(1, (long) v.length * t.byteSize()), t.byteSize());
        for (int i = 0; i < v.length; i++) {
            switch (t.byteSize()) {
                case 1 -> s.set(ValueLayout.JAVA_BYTE, i, (byte) v[i]);
                case 2 -> s.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) v[i]);
                case 4 -> s.setAtIndex(ValueLayout.JAVA_INT, i, (int) v[i]);
                default -> s.setAtIndex(ValueLayout.JAVA_LONG, i, v[i]);
            }
        }
        return Tensor.wrap(s, t, shape.length == 0 ? new long[] {v.length} : shape);
    }

    /** The known value of {@code value}, of dtype {@code t}, as longs (unsigned types zero-extended; U64 as its bits). */
    static long[] known(Graph g, String value, DataType t) {
        Tensor r = g.knownValue(value);
        assertEquals(t, r.dtype(), value);
        MemorySegment s = r.segment();
        long[] out = new long[(int) r.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (t) {
                case I8, BOOL -> s.get(ValueLayout.JAVA_BYTE, i);
                case U8 -> s.get(ValueLayout.JAVA_BYTE, i) & 0xff;
                case I16 -> s.getAtIndex(ValueLayout.JAVA_SHORT, i);
                case U16 -> s.getAtIndex(ValueLayout.JAVA_SHORT, i) & 0xffff;
                case I32 -> s.getAtIndex(ValueLayout.JAVA_INT, i);
                case U32 -> s.getAtIndex(ValueLayout.JAVA_INT, i) & 0xffffffffL;
                default -> s.getAtIndex(ValueLayout.JAVA_LONG, i);
            };
        }
        return out;
    }

    /** The known result of {@code op(a, b)} on constants of dtype {@code t} (BOOL for Less, Greater, Equal). */
    static long[] binary(String op, Attributes attrs, DataType t, long[] a, long[] b) {
        GraphBuilder g = Graph.builder(op);
        g.input("x", Shape.of(1));
        String r = g.node(op, "r", attrs, g.initializer("a", tensor(t, a)), g.initializer("b", tensor(t, b)));
        g.output(r);
        boolean compare = op.equals("Less") || op.equals("Greater") || op.equals("Equal");
        return known(g.build(), r, compare ? DataType.BOOL : t);
    }
}
