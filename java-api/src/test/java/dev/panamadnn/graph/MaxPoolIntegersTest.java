package dev.panamadnn.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * MaxPool of U8 and I8 values known when the graph is built (ONNX's uint8/int8 MaxPool on a bound input): the maxima
 * and their ONNX indices computed exactly. Expected values from PyTorch 1.13 on the same values as floats:
 * {@code F.max_pool2d(torch.tensor(a.astype(np.float32)), (3, 2), (1, 2), (1, 0), ceil_mode=True, return_indices=True)},
 * the maxima cast back with numpy and torch's per-plane indices plus {@code plane * H * W} (ONNX counts over the whole
 * input); {@code a} from {@code np.random.default_rng(3).integers} ([1, 2, 4, 5], ties of 255 at the start of the U8
 * input, a plane half -128 in the I8 one).
 */
class MaxPoolIntegersTest {
    private static final long[] U8 = {255, 255, 190, 207, 147, 26, 237, 21, 245, 211, 239, 45, 5, 157, 159, 60, 54, 236, 109, 46, 199, 82, 32, 205,
        36, 7, 134, 222, 57, 146, 8, 149, 14, 15, 22, 10, 144, 208, 24, 24};
    private static final long[] I8 = {-121, -87, -117, -43, -69, -24, 97, -18, 98, 73, -120, 31, -102, -101, 35, -6, -95, -87, 73, -61, -128, -128,
        -128, -128, -128, -128, -128, -128, -128, -128, -115, 60, 127, -64, -34, -120, -120, 28, -103, -99};

    private static Tensor bytes(DataType t, long[] v, long... shape) {
        MemorySegment s = Arena.ofAuto().allocate(v.length);
        for (int i = 0; i < v.length; i++) s.set(ValueLayout.JAVA_BYTE, i, (byte) v[i]);
        return Tensor.wrap(s, t, shape);
    }

    private static long[] known(Graph g, String value) {
        Tensor r = g.knownValue(value);
        long[] out = new long[(int) r.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (r.dtype()) {
                case U8 -> r.segment().get(ValueLayout.JAVA_BYTE, i) & 0xff;
                case I8 -> r.segment().get(ValueLayout.JAVA_BYTE, i);
                default -> r.segment().getAtIndex(ValueLayout.JAVA_LONG, i);
            };
        }
        return out;
    }

    private static Graph pooled(DataType t, long[] v, long storageOrder, List<String> outs) {
        GraphBuilder g = Graph.builder("maxpool_" + t);
        g.input("unused", Shape.of(1));
        outs.addAll(g.node("MaxPool", "pool", Attributes.of("kernel_shape", new long[] {3, 2}, "strides", new long[] {1, 2}, "pads",
                new long[] {1, 0, 1, 0}, "ceil_mode", 1L, "storage_order", storageOrder), List.of(g.initializer("x", bytes(t, v, 1, 2, 4, 5))), 2));
        g.output(outs.toArray(String[]::new));
        return g.build();
    }

    @Test
    void uint8MaximaAndIndicesAreTorchs() {
        List<String> outs = new java.util.ArrayList<>();
        Graph g = pooled(DataType.U8, U8, 0, outs);
        assertEquals(DataType.U8, g.value(outs.get(0)).dtype());
        assertArrayEquals(new long[] {1, 2, 4, 3}, g.value(outs.get(0)).shape().sizes());
        assertArrayEquals(new long[] {255, 245, 211, 255, 245, 211, 239, 245, 211, 239, 236, 159, 199, 222, 146, 199, 222, 146, 149, 222, 146, 149,
            208, 24}, known(g, outs.get(0)));
        assertArrayEquals(new long[] {0, 8, 9, 0, 8, 9, 10, 8, 9, 10, 17, 14, 20, 27, 29, 20, 27, 29, 31, 27, 29, 31, 37, 39}, known(g, outs.get(1)));
    }

    @Test
    void int8MaximaAndIndicesAreTorchs() {
        List<String> outs = new java.util.ArrayList<>();
        Graph g = pooled(DataType.I8, I8, 0, outs);
        assertArrayEquals(new long[] {97, 98, 73, 97, 98, 73, 97, 98, 73, 31, 73, 35, -128, -128, -128, 60, 127, -34, 60, 127, -34, 60, 127, -34},
                known(g, outs.get(0)));
        assertArrayEquals(new long[] {6, 8, 9, 6, 8, 9, 6, 8, 9, 11, 18, 14, 20, 22, 24, 31, 32, 34, 31, 32, 34, 31, 32, 34}, known(g, outs.get(1)));
    }

    @Test
    void aStorageOrderOtherThanZeroOrOneIsRefused() {
        GraphException e = assertThrows(GraphException.class, () -> pooled(DataType.U8, U8, 2, new java.util.ArrayList<>()));
        assertTrue(e.getMessage().contains("storage_order must be 0 (row-major) or 1 (column-major), got 2"), e.getMessage());
    }
}
