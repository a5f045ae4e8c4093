package dev.panamadnn.graph;

import static dev.panamadnn.graph.IntegerValues.tensor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * Pad of integer values known when the graph is built (ONNX's int32 Pad cases bind their input): computed exactly.
 * Expected values from numpy 1.24: {@code np.pad(a, width, mode=...)} with {@code a = np.arange(12, dtype=np.int32)
 * .reshape(3, 4) * 7 - 30} and {@code u = np.array([[0, 255, 17], [200, 3, 128]], dtype=np.uint8)}; negative pads as
 * numpy slicing first ({@code a[1:, :]}, {@code u[:, :-1]}).
 */
class PadIntegersTest {
    private static final long[] A = {-30, -23, -16, -9, -2, 5, 12, 19, 26, 33, 40, 47};
    private static final long[] U = {0, 255, 17, 200, 3, 128};

    /** The known values of Pad(data, pads[, value]) and (checked) its shape. */
    private static long[] pad(String mode, DataType t, long[] data, long[] shape, long[] pads, Long value, long... want) {
        GraphBuilder g = Graph.builder("pad");
        g.input("unused", Shape.of(1));
        String x = g.initializer("x", tensor(t, data, shape)), p = g.initializer("pads", tensor(DataType.I64, pads, pads.length));
        String y = value == null ? g.node("Pad", "y", Attributes.of("mode", mode), x, p)
                : g.node("Pad", "y", Attributes.of("mode", mode), x, p, g.initializer("value", tensor(t, new long[] {value})));
        g.output(y);
        Graph built = g.build();
        assertArrayEquals(want, built.value(y).shape().sizes());
        Tensor r = built.knownValue(y);
        long[] out = new long[(int) r.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (t) {
                case I32 -> r.segment().getAtIndex(ValueLayout.JAVA_INT, i);
                case U8 -> r.segment().get(ValueLayout.JAVA_BYTE, i) & 0xff;
                default -> r.segment().getAtIndex(ValueLayout.JAVA_LONG, i);
            };
        }
        return out;
    }

    @Test
    void constantWithAValueAndACrop() {
        // np.pad(a[1:, :], ((0, 1), (2, 0)), mode='constant', constant_values=5)
        assertArrayEquals(new long[] {5, 5, -2, 5, 12, 19, 5, 5, 26, 33, 40, 47, 5, 5, 5, 5, 5, 5},
                pad("constant", DataType.I32, A, new long[] {3, 4}, new long[] {-1, 2, 1, 0}, 5L, 3, 6));
    }

    @Test
    void reflectPastTheInputsSizeMirrorsAgain() {
        // np.pad(a, ((1, 2), (5, 1)), mode='reflect')
        assertArrayEquals(new long[] {5, 12, 19, 12, 5, -2, 5, 12, 19, 12, -23, -16, -9, -16, -23, -30, -23, -16, -9, -16, 5, 12, 19, 12, 5, -2, 5,
            12, 19, 12, 33, 40, 47, 40, 33, 26, 33, 40, 47, 40, 5, 12, 19, 12, 5, -2, 5, 12, 19, 12, -23, -16, -9, -16, -23, -30, -23, -16, -9, -16},
                pad("reflect", DataType.I32, A, new long[] {3, 4}, new long[] {1, 5, 2, 1}, null, 6, 10));
    }

    @Test
    void edgeAndWrapOfUint8() {
        // np.pad(u, ((1, 0), (2, 4)), mode='edge')
        assertArrayEquals(new long[] {0, 0, 0, 255, 17, 17, 17, 17, 17, 0, 0, 0, 255, 17, 17, 17, 17, 17, 200, 200, 200, 3, 128, 128, 128, 128, 128},
                pad("edge", DataType.U8, U, new long[] {2, 3}, new long[] {1, 2, 0, 4}, null, 3, 9));
        // np.pad(u, ((0, 2), (3, 1)), mode='wrap') (pads up to the dim's size: numpy's wrap of larger pads is not periodic)
        assertArrayEquals(new long[] {0, 255, 17, 0, 255, 17, 0, 200, 3, 128, 200, 3, 128, 200, 0, 255, 17, 0, 255, 17, 0, 200, 3, 128, 200, 3, 128,
            200}, pad("wrap", DataType.U8, U, new long[] {2, 3}, new long[] {0, 3, 2, 1}, null, 4, 7));
        // np.pad(u[:, :-1], ((1, 1), (0, 0)), mode='wrap'): a crop in another dim than the padded one
        assertArrayEquals(new long[] {200, 3, 0, 255, 200, 3, 0, 255}, pad("wrap", DataType.U8, U, new long[] {2, 3}, new long[] {1, 0, 1, -1}, null,
                4, 2));
    }

    @Test
    void aPaddedShapeVectorKeepsItsSymbolsForAReshape() {
        GraphBuilder g = Graph.builder("pad_shape");
        g.input("x", Shape.of(Dim.symbol("N"), Dim.of(3)));
        String shape = g.node("Shape", "shape", Attributes.empty(), "x");
        String target = g.node("Pad", "target", Attributes.of("mode", "constant"), shape, g.initializer("pads", tensor(DataType.I64,
                new long[] {1, 0}, 2)), g.initializer("one", tensor(DataType.I64, new long[] {1})));
        String y = g.node("Reshape", "y", Attributes.empty(), "x", target);
        g.output(y);
        assertTrue(g.build().value(y).shape().equals(Shape.of(Dim.of(1), Dim.symbol("N"), Dim.of(3))), g.build().value(y).toString());
    }

    @Test
    void edgeThatCropsOneEndAndPadsTheOtherIsTheSameEitherWay() {
        // np.pad(a[:, 1:], ((0, 0), (0, 2)), mode='edge')
        assertArrayEquals(new long[] {-23, -16, -9, -9, -9, 5, 12, 19, 19, 19, 33, 40, 47, 47, 47},
                pad("edge", DataType.I32, A, new long[] {3, 4}, new long[] {0, -1, 0, 2}, null, 3, 5));
    }

    @Test
    void reflectThatCropsOneEndAndPadsTheOtherIsRefused() {
        GraphException e = assertThrows(GraphException.class,
                () -> pad("reflect", DataType.I32, A, new long[] {3, 4}, new long[] {0, -1, 0, 2}, null, 3, 5));
        assertTrue(e.getMessage().contains("crop one end of dim 1 and pad the other"), e.getMessage());
    }
}
