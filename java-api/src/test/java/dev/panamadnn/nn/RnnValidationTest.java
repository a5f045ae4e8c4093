package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Invalid configurations and inputs of LSTM, GRU, LSTMCell and GRUCell: each fails in Java, before
 * any native call, with the expected exception type and a message naming the layer, the expected
 * and the given value. At least 20 per family (LSTM, GRU, the cells).
 */
class RnnValidationTest {
    private static final Class<IllegalArgumentException> IAE = IllegalArgumentException.class;
    private static final Class<IllegalStateException> ISE = IllegalStateException.class;

    private static Arguments bad(String what, Class<? extends RuntimeException> type, Executable action, String... fragments) {
        return Arguments.of(what, type, action, List.of(fragments));
    }

    /** A tensor of {@code shape} or null (shape null); "closed" ones are freed first. */
    private static Tensor t(long[] shape) {
        return shape == null ? null : Tensor.zeros(shape);
    }

    private static long[] s(long... shape) {
        return shape;
    }

    /** {@code lstm.forward(x, h0, c0, lengths, backend)} on fresh tensors of the given shapes. */
    private static Executable lstm(Supplier<LSTM> layer, long[] x, long[] h0, long[] c0, int[] lengths, Backend backend) {
        return () -> {
            try (LSTM l = layer.get(); Tensor xs = t(x); Tensor h = t(h0); Tensor c = t(c0);
                 RecurrentOutput r = l.forward(xs, h, c, lengths, backend)) {
                r.output().shape();
            }
        };
    }

    private static Executable gru(Supplier<GRU> layer, long[] x, long[] h0, int[] lengths, Backend backend) {
        return () -> {
            try (GRU g = layer.get(); Tensor xs = t(x); Tensor h = t(h0); RecurrentOutput r = g.forward(xs, h, lengths, backend)) {
                r.output().shape();
            }
        };
    }

    private static Executable lstmCell(Supplier<LSTMCell> layer, long[] x, long[] h, long[] c) {
        return () -> {
            try (LSTMCell l = layer.get(); Tensor xs = t(x); Tensor hs = t(h); Tensor cs = t(c); RecurrentState r = l.forward(xs, hs, cs)) {
                r.h().shape();
            }
        };
    }

    private static Executable gruCell(Supplier<GRUCell> layer, long[] x, long[] h, Backend backend) {
        return () -> {
            try (GRUCell g = layer.get(); Tensor xs = t(x); Tensor hs = t(h); Tensor r = g.forward(xs, hs, backend)) {
                r.shape();
            }
        };
    }

    private static final Backend AUTO = Backend.AUTO, REF = Backend.REFERENCE;

    static Stream<Arguments> lstmCases() {
        Supplier<LSTM> small = () -> new LSTM(3, 4);
        Supplier<LSTM> proj = () -> new LSTM(3, 4, 2, true, true, 0, true, 2);
        return Stream.of(
                bad("input_size 0", IAE, () -> new LSTM(0, 4), "LSTM", "input_size must be > 0", "got 0"),
                bad("hidden_size negative", IAE, () -> new LSTM(3, -1), "LSTM", "hidden_size must be > 0", "got -1"),
                bad("num_layers 0", IAE, () -> new LSTM(3, 4, 0, true, false, 0, false, 0), "LSTM", "num_layers must be > 0", "got 0"),
                bad("proj_size negative", IAE, () -> new LSTM(3, 4, 1, true, false, 0, false, -2), "proj_size must be >= 0", "got -2"),
                bad("proj_size = hidden", IAE, () -> new LSTM(3, 4, 1, true, false, 0, false, 4), "LSTM", "smaller than hidden_size (4)", "got 4"),
                bad("dropout > 1", IAE, () -> new LSTM(3, 4, 2, true, false, 1.5, false, 0), "LSTM", "dropout", "[0, 1]", "got 1.5"),
                bad("dropout NaN", IAE, () -> new LSTM(3, 4, 2, true, false, Double.NaN, false, 0), "dropout", "NaN"),
                bad("input rank 1", IAE, lstm(small, s(3), null, null, null, AUTO), "LSTM(3, 4)", "[T, N, 3]", "got [3]"),
                bad("input rank 4", IAE, lstm(small, s(2, 2, 2, 3), null, null, null, AUTO), "LSTM(3, 4)", "[T, 3] (unbatched)", "got [2, 2, 2, 3]"),
                bad("input features", IAE, lstm(small, s(5, 2, 7), null, null, null, AUTO), "LSTM(3, 4)", "[T, N, 3]", "got [5, 2, 7]"),
                bad("batch_first input features", IAE, lstm(proj, s(2, 5, 4), null, null, null, AUTO), "batch_first=True", "[N, T, 3]", "got [2, 5, 4]"),
                bad("input null", IAE, lstm(small, null, null, null, null, AUTO), "LSTM(3, 4)", "input must not be null"),
                bad("h0 batch", IAE, lstm(small, s(5, 2, 3), s(1, 3, 4), s(1, 2, 4), null, AUTO), "LSTM(3, 4)", "h0 of shape [1, 2, 4]", "got [1, 3, 4]"),
                bad("h0 is proj-sized", IAE, lstm(proj, s(2, 5, 3), s(4, 2, 4), s(4, 2, 4), null, AUTO), "proj_size=2", "h0 of shape [4, 2, 2]", "got [4, 2, 4]"),
                bad("c0 is hidden-sized", IAE, lstm(proj, s(2, 5, 3), s(4, 2, 2), s(4, 2, 2), null, AUTO), "c0 of shape [4, 2, 4]", "got [4, 2, 2]"),
                bad("h0 layers", IAE, lstm(proj, s(2, 5, 3), s(2, 2, 2), s(4, 2, 4), null, REF), "h0 of shape [4, 2, 2]", "got [2, 2, 2]"),
                bad("h0 without c0", IAE, lstm(small, s(5, 2, 3), s(1, 2, 4), null, null, AUTO), "LSTM(3, 4)", "h0 and c0 together", "h0 without c0"),
                bad("c0 without h0", IAE, lstm(small, s(5, 2, 3), null, s(1, 2, 4), null, AUTO), "LSTM(3, 4)", "c0 without h0"),
                bad("unbatched input, batched h0", IAE, lstm(small, s(5, 3), s(1, 1, 4), s(1, 1, 4), null, AUTO), "h0 of shape [1, 4]", "got [1, 1, 4]"),
                bad("lengths count", IAE, lstm(small, s(5, 2, 3), null, null, new int[] {5}, AUTO), "LSTM(3, 4)", "expected 2 lengths", "got 1"),
                bad("length 0", IAE, lstm(small, s(5, 2, 3), null, null, new int[] {5, 0}, AUTO), "LSTM(3, 4)", "[1, 5]", "lengths[1] = 0"),
                bad("length > T", IAE, lstm(small, s(5, 2, 3), null, null, new int[] {6, 5}, REF), "[1, 5]", "lengths[0] = 6"),
                bad("lengths unbatched", IAE, lstm(small, s(5, 3), null, null, new int[] {5}, AUTO), "lengths need a batched input", "[5, 3]"),
                bad("backend null", IAE, lstm(small, s(5, 2, 3), null, null, null, null), "LSTM(3, 4)", "backend must not be null"),
                bad("input BF16", IAE, () -> {
                    try (LSTM l = new LSTM(3, 4); Arena a = Arena.ofConfined()) {
                        l.forward(Tensor.allocate(a, DataType.BF16, 5, 2, 3), null, null).close();
                    }
                }, "LSTM(3, 4)", "F32", "BF16"),
                bad("h0 I32", IAE, () -> {
                    try (LSTM l = new LSTM(3, 4); Arena a = Arena.ofConfined(); Tensor x = Tensor.zeros(5, 2, 3); Tensor c = Tensor.zeros(1, 2, 4)) {
                        l.forward(x, Tensor.allocate(a, DataType.I32, 1, 2, 4), c).close();
                    }
                }, "LSTM(3, 4)", "F32 h0", "I32"),
                bad("input freed", ISE, () -> {
                    try (LSTM l = new LSTM(3, 4)) {
                        Tensor x = Tensor.zeros(5, 2, 3);
                        x.close();
                        l.forward(x, null, null).close();
                    }
                }, "LSTM(3, 4)", "freed"),
                bad("c0 freed", ISE, () -> {
                    try (LSTM l = new LSTM(3, 4); Tensor x = Tensor.zeros(5, 2, 3); Tensor h = Tensor.zeros(1, 2, 4)) {
                        Tensor c = Tensor.zeros(1, 2, 4);
                        c.close();
                        l.forward(x, h, c).close();
                    }
                }, "LSTM(3, 4)", "live c0", "freed"),
                bad("closed layer", ISE, () -> {
                    LSTM l = new LSTM(3, 4);
                    l.close();
                    try (Tensor x = Tensor.zeros(5, 2, 3)) {
                        l.forward(x, null, null).close();
                    }
                }, "LSTM(3, 4) is closed"));
    }

    static Stream<Arguments> gruCases() {
        Supplier<GRU> small = () -> new GRU(3, 4);
        Supplier<GRU> deep = () -> new GRU(3, 5, 3, false, true, 0.2, true);
        return Stream.of(
                bad("input_size negative", IAE, () -> new GRU(-3, 4), "GRU", "input_size must be > 0", "got -3"),
                bad("hidden_size 0", IAE, () -> new GRU(3, 0), "GRU", "hidden_size must be > 0", "got 0"),
                bad("num_layers negative", IAE, () -> new GRU(3, 4, -1, true, false, 0, false), "GRU", "num_layers", "got -1"),
                bad("dropout negative", IAE, () -> new GRU(3, 4, 1, true, false, -0.1, false), "GRU", "dropout", "got -0.1"),
                bad("dropout infinite", IAE, () -> new GRU(3, 4, 1, true, false, Double.POSITIVE_INFINITY, false), "GRU", "Infinity"),
                bad("input rank 1", IAE, gru(small, s(3), null, null, AUTO), "GRU(3, 4)", "[T, N, 3]", "got [3]"),
                bad("input rank 4", IAE, gru(small, s(1, 2, 2, 3), null, null, REF), "GRU(3, 4)", "got [1, 2, 2, 3]"),
                bad("input features", IAE, gru(small, s(4, 2, 2), null, null, AUTO), "GRU(3, 4)", "[T, N, 3]", "got [4, 2, 2]"),
                bad("batch_first features", IAE, gru(deep, s(2, 4, 5), null, null, AUTO), "GRU(3, 5, num_layers=3", "[N, T, 3]", "got [2, 4, 5]"),
                bad("input null", IAE, gru(small, null, null, null, AUTO), "GRU(3, 4)", "input must not be null"),
                bad("h0 batch", IAE, gru(small, s(4, 2, 3), s(1, 1, 4), null, AUTO), "GRU(3, 4)", "h0 of shape [1, 2, 4]", "got [1, 1, 4]"),
                bad("h0 layers*dirs", IAE, gru(deep, s(2, 4, 3), s(3, 2, 5), null, AUTO), "h0 of shape [6, 2, 5]", "got [3, 2, 5]"),
                bad("h0 hidden", IAE, gru(deep, s(2, 4, 3), s(6, 2, 4), null, REF), "h0 of shape [6, 2, 5]", "got [6, 2, 4]"),
                bad("h0 batch_first-shaped", IAE, gru(deep, s(2, 4, 3), s(2, 6, 5), null, AUTO), "h0 of shape [6, 2, 5]", "got [2, 6, 5]"),
                bad("unbatched input, batched h0", IAE, gru(small, s(4, 3), s(1, 1, 4), null, AUTO), "GRU(3, 4)", "h0 of shape [1, 4]", "got [1, 1, 4]"),
                bad("lengths count", IAE, gru(deep, s(2, 4, 3), null, new int[] {4, 4, 4}, AUTO), "expected 2 lengths", "got 3"),
                bad("length negative", IAE, gru(small, s(4, 2, 3), null, new int[] {-1, 4}, AUTO), "GRU(3, 4)", "[1, 4]", "lengths[0] = -1"),
                bad("length > T (batch_first)", IAE, gru(deep, s(2, 4, 3), null, new int[] {4, 5}, REF), "[1, 4]", "lengths[1] = 5"),
                bad("lengths unbatched", IAE, gru(small, s(4, 3), null, new int[] {4}, AUTO), "GRU(3, 4)", "lengths need a batched input"),
                bad("backend null", IAE, gru(small, s(4, 2, 3), null, null, null), "GRU(3, 4)", "backend must not be null"),
                bad("input I64", IAE, () -> {
                    try (GRU g = new GRU(3, 4); Arena a = Arena.ofConfined()) {
                        g.forward(Tensor.allocate(a, DataType.I64, 4, 2, 3), (Tensor) null).close();
                    }
                }, "GRU(3, 4)", "F32", "I64"),
                bad("h0 freed", ISE, () -> {
                    try (GRU g = new GRU(3, 4); Tensor x = Tensor.zeros(4, 2, 3)) {
                        Tensor h = Tensor.zeros(1, 2, 4);
                        h.close();
                        g.forward(x, h).close();
                    }
                }, "GRU(3, 4)", "live h0", "freed"),
                bad("closed layer", ISE, () -> {
                    GRU g = new GRU(3, 4);
                    g.close();
                    try (Tensor x = Tensor.zeros(4, 2, 3)) {
                        g.forward(x, (Tensor) null).close();
                    }
                }, "GRU(3, 4) is closed"),
                bad("closed layer, forward(x)", ISE, () -> {
                    GRU g = new GRU(3, 4);
                    g.close();
                    try (Tensor x = Tensor.zeros(4, 2, 3)) {
                        g.forward(x).close();
                    }
                }, "GRU(3, 4) is closed"));
    }

    static Stream<Arguments> cellCases() {
        Supplier<LSTMCell> lc = () -> new LSTMCell(3, 4);
        Supplier<GRUCell> gc = () -> new GRUCell(3, 4, false);
        return Stream.of(
                bad("LSTMCell input_size 0", IAE, () -> new LSTMCell(0, 4), "LSTMCell", "input_size must be > 0", "got 0"),
                bad("LSTMCell hidden_size 0", IAE, () -> new LSTMCell(3, 0), "LSTMCell", "hidden_size must be > 0", "got 0"),
                bad("GRUCell input_size negative", IAE, () -> new GRUCell(-1, 4), "GRUCell", "input_size", "got -1"),
                bad("GRUCell hidden_size negative", IAE, () -> new GRUCell(3, -4, true), "GRUCell", "hidden_size", "got -4"),
                bad("LSTMCell input rank 3", IAE, lstmCell(lc, s(1, 2, 3), null, null), "LSTMCell(3, 4)", "[N, 3] or [3]", "got [1, 2, 3]"),
                bad("LSTMCell input features", IAE, lstmCell(lc, s(2, 5), null, null), "LSTMCell(3, 4)", "[N, 3]", "got [2, 5]"),
                bad("LSTMCell h shape", IAE, lstmCell(lc, s(2, 3), s(3, 4), s(2, 4)), "LSTMCell(3, 4)", "h of shape [2, 4]", "got [3, 4]"),
                bad("LSTMCell c shape", IAE, lstmCell(lc, s(2, 3), s(2, 4), s(2, 5)), "LSTMCell(3, 4)", "c of shape [2, 4]", "got [2, 5]"),
                bad("LSTMCell h without c", IAE, lstmCell(lc, s(2, 3), s(2, 4), null), "LSTMCell(3, 4)", "h without c"),
                bad("LSTMCell c without h", IAE, lstmCell(lc, s(2, 3), null, s(2, 4)), "LSTMCell(3, 4)", "c without h"),
                bad("LSTMCell unbatched input, batched h", IAE, lstmCell(lc, s(3), s(1, 4), s(1, 4)), "h of shape [4]", "got [1, 4]"),
                bad("LSTMCell input null", IAE, lstmCell(lc, null, null, null), "LSTMCell(3, 4)", "input must not be null"),
                bad("GRUCell input rank 3", IAE, gruCell(gc, s(2, 2, 3), null, AUTO), "GRUCell(3, 4, bias=False)", "got [2, 2, 3]"),
                bad("GRUCell input features", IAE, gruCell(gc, s(2, 4), null, REF), "GRUCell(3, 4, bias=False)", "[N, 3]", "got [2, 4]"),
                bad("GRUCell h shape", IAE, gruCell(gc, s(2, 3), s(2, 3), AUTO), "GRUCell(3, 4, bias=False)", "h of shape [2, 4]", "got [2, 3]"),
                bad("GRUCell h rank", IAE, gruCell(gc, s(2, 3), s(1, 2, 4), REF), "h of shape [2, 4]", "got [1, 2, 4]"),
                bad("GRUCell backend null", IAE, gruCell(gc, s(2, 3), null, null), "GRUCell(3, 4, bias=False)", "backend must not be null"),
                bad("LSTMCell input F16", IAE, () -> {
                    try (LSTMCell l = new LSTMCell(3, 4); Arena a = Arena.ofConfined()) {
                        l.forward(Tensor.allocate(a, DataType.F16, 2, 3), null, null).close();
                    }
                }, "LSTMCell(3, 4)", "F32", "F16"),
                bad("GRUCell h freed", ISE, () -> {
                    try (GRUCell g = new GRUCell(3, 4); Tensor x = Tensor.zeros(2, 3)) {
                        Tensor h = Tensor.zeros(2, 4);
                        h.close();
                        g.forward(x, h).close();
                    }
                }, "GRUCell(3, 4)", "live h", "freed"),
                bad("LSTMCell closed", ISE, () -> {
                    LSTMCell l = new LSTMCell(3, 4);
                    l.close();
                    try (Tensor x = Tensor.zeros(2, 3)) {
                        l.forward(x, null, null).close();
                    }
                }, "LSTMCell(3, 4) is closed"),
                bad("GRUCell closed, weightsChanged", ISE, () -> {
                    GRUCell g = new GRUCell(3, 4);
                    g.close();
                    g.weightsChanged();
                }, "GRUCell(3, 4) is closed"));
    }

    @ParameterizedTest(name = "LSTM: {0}")
    @MethodSource("lstmCases")
    void lstmRejects(String what, Class<? extends RuntimeException> type, Executable action, List<String> fragments) {
        check(what, type, action, fragments);
    }

    @ParameterizedTest(name = "GRU: {0}")
    @MethodSource("gruCases")
    void gruRejects(String what, Class<? extends RuntimeException> type, Executable action, List<String> fragments) {
        check(what, type, action, fragments);
    }

    @ParameterizedTest(name = "cells: {0}")
    @MethodSource("cellCases")
    void cellsReject(String what, Class<? extends RuntimeException> type, Executable action, List<String> fragments) {
        check(what, type, action, fragments);
    }

    private static void check(String what, Class<? extends RuntimeException> type, Executable action, List<String> fragments) {
        RuntimeException e = assertThrows(type, action, what);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), what + ": message lacks '" + f + "': " + e.getMessage());
    }

    @Test
    void atLeastTwentyPerFamily() {
        assertTrue(lstmCases().count() >= 20 && gruCases().count() >= 20 && cellCases().count() >= 20);
    }
}
