package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.ValueLayout;

/** A plan's I64 output (indices, counts) read back as longs, its dtype checked. */
final class I64Values {
    private I64Values() {}

    static long[] longs(Tensor t) {
        assertEquals(DataType.I64, t.dtype());
        long[] v = new long[(int) t.numel()];
        for (int i = 0; i < v.length; i++) v[i] = t.segment().getAtIndex(ValueLayout.JAVA_LONG, i);
        return v;
    }
}
