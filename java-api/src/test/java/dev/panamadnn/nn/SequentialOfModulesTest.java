package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * An eager Sequential whose children are not all Layers: a token model (Embedding first, so the input is I64 or I32
 * ids) and a transformer encoder layer with a head. Before, the first was refused ("expected an F32 input") and the
 * second failed with "output: shape must not be null" (its shapes are known only by running the encoder layer). Each
 * must give what its children give one after another (bit for bit: the same calls), on AUTO and on REFERENCE (the
 * backend reaching every child that takes one), and forwardInto must fill a caller's output of the right shape and
 * refuse one of another.
 */
class SequentialOfModulesTest {
    private static Tensor ids(Arena arena, DataType dtype, long[] values, long... shape) {
        Tensor t = Tensor.allocate(arena, dtype, shape);
        for (int i = 0; i < values.length; i++) {
            if (dtype == DataType.I64) t.segment().setAtIndex(ValueLayout.JAVA_LONG, i, values[i]);
            else t.segment().setAtIndex(ValueLayout.JAVA_INT, i, (int) values[i]);
        }
        return t;
    }

    @Test
    void aTokenModelRunsEagerlyAsItsChildrenOneAfterAnother() {
        Embedding emb = new Embedding(20, 8, 0L);
        LSTM lstm = new LSTM(8, 6, 2, true, true, 0, true, 0);
        Linear head = new Linear(12, 3, true);
        try (Arena arena = Arena.ofConfined(); Sequential s = new Sequential(emb, lstm, head)) {
            long[] tokens = {3, 19, 0, 7, 7, 12, 1, 5, 18, 2};
            for (DataType dtype : new DataType[] {DataType.I64, DataType.I32}) {
                Tensor x = ids(arena, dtype, tokens, 2, 5);
                for (Backend b : new Backend[] {Backend.AUTO, Backend.REFERENCE}) {
                    try (Tensor y = s.forward(x, b); Tensor e = emb.forward(x, b); Tensor h = lstm.forward(e, b); Tensor want = head.forward(h, b)) {
                        assertArrayEquals(new long[] {2, 5, 3}, y.shape());
                        assertArrayEquals(want.toFloatArray(), y.toFloatArray(), dtype + " ids on " + b);
                    }
                }
                try (Tensor out = Tensor.zeros(2, 5, 3); Tensor want = s.forward(x)) {
                    s.forwardInto(x, out);
                    assertArrayEquals(want.toFloatArray(), out.toFloatArray(), "forwardInto, " + dtype);
                }
                try (Tensor wrong = Tensor.zeros(2, 5, 4)) {
                    var e = assertThrows(IllegalArgumentException.class, () -> s.forwardInto(x, wrong));
                    assertTrue(e.getMessage().contains("Sequential") && e.getMessage().contains("[2, 5, 3]") && e.getMessage().contains("[2, 5, 4]"),
                            e.getMessage());
                }
            }
            try (Tensor floats = Tensor.zeros(2, 5)) {   // F32 ids: the Embedding refuses them, naming itself
                var e = assertThrows(IllegalArgumentException.class, () -> s.forward(floats));
                assertTrue(e.getMessage().contains("Embedding"), e.getMessage());
            }
        }
    }

    @Test
    void anEncoderLayerWithAHeadRunsEagerly() {
        TransformerEncoderLayer enc = new TransformerEncoderLayer(8, 2, 16, 0, "gelu", 1e-5, true, true);
        Linear head = new Linear(8, 3, true);
        float[] v = new float[2 * 4 * 8];
        for (int i = 0; i < v.length; i++) v[i] = (float) Math.sin(i * 0.37) * 1.5f;
        try (Sequential s = new Sequential(enc, head); Tensor x = Tensor.of(v, 2, 4, 8)) {
            for (Backend b : new Backend[] {Backend.AUTO, Backend.REFERENCE}) {
                try (Tensor y = s.forward(x, b); Tensor h = enc.forward(x, null, null, b); Tensor want = head.forward(h, b)) {
                    assertArrayEquals(new long[] {2, 4, 3}, y.shape());
                    assertArrayEquals(want.toFloatArray(), y.toFloatArray(), "on " + b);
                }
            }
        }
    }
}
