package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad hyperparameters and inputs of the DCNN layers (KMaxPool1d, Folding, WideConv1d), one row
 * each: the exception type and message fragments naming the layer, the expected and the actual
 * value. All are raised in Java before any computation. Plus repr, shapes and the dynamic-k table.
 */
class DcnnValidationTest {
    private static final Class<IllegalArgumentException> IAE = IllegalArgumentException.class;
    private static final Class<IllegalStateException> ISE = IllegalStateException.class;

    private static <L extends Layer> Executable with(Supplier<L> make, Consumer<L> body) {
        return () -> {
            try (L layer = make.get()) {
                body.accept(layer);
            }
        };
    }

    private static Executable forward(Supplier<? extends Layer> make, long... shape) {
        return with(make, l -> {
            try (Tensor x = Tensor.zeros(shape)) {
                l.forward(x).close();
            }
        });
    }

    private static Tensor freed() {
        Tensor t = Tensor.zeros(2, 3, 8);
        t.close();
        return t;
    }

    private static Executable nonF32(Supplier<? extends Layer> make, DataType dtype) {
        return with(make, l -> {
            try (Arena a = Arena.ofConfined()) {
                l.forward(Tensor.allocate(a, dtype, 2, 4, 8));
            }
        });
    }

    static Stream<Arguments> rows() {
        return Stream.of(
                // hyperparameters
                row("KMaxPool1d k 0", IAE, () -> new KMaxPool1d(0), "KMaxPool1d", "k >= 1", "got k=0"),
                row("KMaxPool1d k < 0", IAE, () -> new KMaxPool1d(-3), "KMaxPool1d", "k >= 1", "got k=-3"),
                row("dynamic k_top 0", IAE, () -> KMaxPool1d.dynamic(0, 1, 3), "KMaxPool1d", "k_top >= 1", "got k_top=0"),
                row("dynamic l 0", IAE, () -> KMaxPool1d.dynamic(3, 0, 3), "KMaxPool1d", "l in [1, L=3]", "got l=0"),
                row("dynamic l > L", IAE, () -> KMaxPool1d.dynamic(3, 4, 3), "KMaxPool1d", "l in [1, L=3]", "got l=4"),
                row("dynamic l < 0", IAE, () -> KMaxPool1d.dynamic(3, -1, 3), "l in [1, L=3]", "got l=-1"),
                row("dynamic L 0", IAE, () -> KMaxPool1d.dynamic(3, 1, 0), "KMaxPool1d", "L (number of convolutional layers) >= 1", "got L=0"),
                row("WideConv1d m 0", IAE, () -> WideConv1d.builder(4, 4, 0).build(), "WideConv1d", "m >= 1", "got m=0"),
                row("WideConv1d in 0", IAE, () -> WideConv1d.builder(0, 4, 3).build(), "WideConv1d", "in_channels must be > 0", "got 0"),
                row("WideConv1d groups not dividing", IAE, () -> WideConv1d.builder(4, 6, 3).groups(4).build(), "WideConv1d",
                        "out_channels 6 must be divisible by groups 4"),
                row("WideConv1d depthwise 0 channels", IAE, () -> WideConv1d.depthwise(0, 3), "WideConv1d", "must be > 0"),
                // inputs: rank
                row("KMaxPool1d rank 1", IAE, forward(() -> new KMaxPool1d(2), 8), "KMaxPool1d(k=2)", "2-D [C, S] or 3-D [N, C, S]", "got shape [8]"),
                row("KMaxPool1d rank 4", IAE, forward(() -> new KMaxPool1d(2), 1, 2, 3, 8), "KMaxPool1d(k=2)", "3-D", "got shape [1, 2, 3, 8]"),
                row("Folding rank 1", IAE, forward(Folding::new, 6), "Folding()", "2-D [C, S] or 3-D [N, C, S]", "got shape [6]"),
                row("Folding rank 4", IAE, forward(Folding::new, 1, 2, 2, 2), "Folding()", "got shape [1, 2, 2, 2]"),
                row("WideConv1d rank 4", IAE, forward(() -> WideConv1d.depthwise(4, 3), 1, 4, 2, 8), "WideConv1d(4, 4, kernel_size=3", "rank 4"),
                // inputs: sizes
                row("KMaxPool1d k > S", IAE, forward(() -> new KMaxPool1d(5), 2, 3, 4), "KMaxPool1d(k=5)", "S >= k=5", "got S=4"),
                row("KMaxPool1d unbatched k > S", IAE, forward(() -> new KMaxPool1d(3), 4, 2), "KMaxPool1d(k=3)", "S >= k=3", "got S=2"),
                row("dynamic S < k_top", IAE, forward(() -> KMaxPool1d.dynamic(6, 1, 2), 1, 3, 5), "KMaxPool1d(k_top=6, l=1, L=2)",
                        "S >= k=6", "got S=5"),
                row("Folding odd C", IAE, forward(Folding::new, 2, 5, 4), "Folding()", "even number of rows C", "got C=5"),
                row("Folding unbatched odd C", IAE, forward(Folding::new, 3, 4), "Folding()", "even", "got C=3"),
                row("WideConv1d wrong channels", IAE, forward(() -> WideConv1d.depthwise(4, 3), 2, 5, 8), "WideConv1d(4, 4", "5"),
                row("KMaxPool1d outputShape zero size", IAE, with(() -> new KMaxPool1d(1), l -> l.outputShape(2, 0, 4)), "KMaxPool1d",
                        "sizes > 0", "[2, 0, 4]"),
                // dtype, liveness, closed layers, composition
                row("KMaxPool1d BF16", IAE, nonF32(() -> new KMaxPool1d(2), DataType.BF16), "KMaxPool1d(k=2)", "F32", "got BF16"),
                row("Folding I32", IAE, nonF32(Folding::new, DataType.I32), "Folding()", "F32", "got I32"),
                row("WideConv1d F16", IAE, nonF32(() -> WideConv1d.depthwise(4, 3), DataType.F16), "WideConv1d", "F32", "got F16"),
                row("KMaxPool1d freed input", ISE, with(() -> new KMaxPool1d(2), l -> l.forward(freed())), "KMaxPool1d(k=2)", "live", "freed"),
                row("Folding freed input", ISE, with(Folding::new, l -> l.forward(freed())), "Folding()", "live", "freed"),
                row("WideConv1d freed input", ISE, with(() -> WideConv1d.depthwise(3, 2), l -> l.forward(freed())), "WideConv1d", "freed"),
                row("KMaxPool1d null input", IAE, with(() -> new KMaxPool1d(2), l -> l.forward(null)), "KMaxPool1d(k=2)", "must not be null"),
                row("closed KMaxPool1d", ISE, () -> {
                    KMaxPool1d l = KMaxPool1d.dynamic(2, 1, 2);
                    l.close();
                    try (Tensor x = Tensor.zeros(1, 2, 8)) {
                        l.forward(x);
                    }
                }, "KMaxPool1d(k_top=2, l=1, L=2) is closed"),
                row("closed WideConv1d", ISE, () -> {
                    WideConv1d l = WideConv1d.depthwise(2, 3);
                    l.close();
                    try (Tensor x = Tensor.zeros(1, 2, 8)) {
                        l.forward(x);
                    }
                }, "WideConv1d(2, 2, kernel_size=3", "is closed"),
                row("DCNN stack: k-max after folding too short", IAE, forward(() -> new Sequential(WideConv1d.depthwise(4, 2),
                        new Folding(), new KMaxPool1d(9)), 1, 4, 6), "Sequential(3 modules), module 2", "KMaxPool1d(k=9)", "got S=7"),
                row("DCNN stack: folding odd rows", IAE, forward(() -> new Sequential(WideConv1d.builder(4, 3, 2).build(),
                        new Folding()), 1, 4, 6), "module 1", "Folding()", "got C=3"));
    }

    private static Arguments row(String name, Class<? extends RuntimeException> type, Executable body, String... fragments) {
        return Arguments.of(name, type, body, List.of(fragments));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void isRejectedWithAMessageNamingLayerExpectedAndActual(String name, Class<? extends RuntimeException> type, Executable body,
                                                            List<String> fragments) {
        RuntimeException e = assertThrows(type, body, name);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), name + ": message lacks '" + f + "': " + e.getMessage());
        }
    }

    @Test
    void tableHasAtLeastFifteenRows() {
        assertTrue(rows().count() >= 15, "invalid-input rows: " + rows().count());
    }

    @Test
    void reprs() {
        try (KMaxPool1d fixed = new KMaxPool1d(3); KMaxPool1d dyn = KMaxPool1d.dynamic(4, 1, 3); Folding fold = new Folding();
             WideConv1d dw = WideConv1d.depthwise(6, 5); WideConv1d full = WideConv1d.builder(3, 8, 2).bias(false).build()) {
            assertEquals("KMaxPool1d(k=3)", fixed.toString());
            assertEquals("KMaxPool1d(k_top=4, l=1, L=3)", dyn.toString());
            assertEquals("Folding()", fold.toString());
            assertEquals("WideConv1d(6, 6, kernel_size=5, padding=4, groups=6)", dw.toString());
            assertEquals("WideConv1d(3, 8, kernel_size=2, padding=1, bias=False)", full.toString());
            assertEquals(List.of("weight", "bias"), List.copyOf(dw.parameters().keySet()));
            assertArrayEquals(new long[] {6, 1, 5}, dw.weight().shape());
            assertEquals(null, full.bias());
        }
    }

    @Test
    void outputShapes() {
        try (KMaxPool1d fixed = new KMaxPool1d(3); KMaxPool1d dyn = KMaxPool1d.dynamic(2, 1, 3); Folding fold = new Folding();
             WideConv1d wide = WideConv1d.builder(4, 6, 3).build()) {
            assertArrayEquals(new long[] {2, 5, 3}, fixed.outputShape(2, 5, 10));
            assertArrayEquals(new long[] {5, 3}, fixed.outputShape(5, 3));
            assertArrayEquals(new long[] {2, 5, 7}, dyn.outputShape(2, 5, 10));   // ceil(2/3 * 10) = 7
            assertArrayEquals(new long[] {2, 2, 10}, fold.outputShape(2, 4, 10));
            assertArrayEquals(new long[] {3, 10}, fold.outputShape(6, 10));
            assertArrayEquals(new long[] {2, 6, 12}, wide.outputShape(2, 4, 10)); // s + m - 1
            assertArrayEquals(new long[] {6, 1}, WideConv1d.depthwise(6, 1).outputShape(6, 1));
        }
    }

    /** k_l = max(k_top, ceil((L - l) / L * s)), including exact multiples and values just past them. */
    @Test
    void dynamicKTable() {
        long[][] table = { // k_top, l, L, s, expected k
                {3, 1, 3, 9, 6}, {3, 1, 3, 10, 7}, {3, 2, 3, 10, 4}, {3, 3, 3, 10, 3}, {4, 1, 2, 8, 4}, {4, 1, 2, 9, 5},
                {2, 1, 4, 12, 9}, {2, 1, 4, 13, 10}, {5, 2, 4, 6, 5}, {1, 1, 5, 1, 1}, {3, 1, 2, 3, 3}, {1, 1, 3, 1_000_000_007L, 666_666_672L}};
        for (long[] row : table) {
            try (KMaxPool1d p = KMaxPool1d.dynamic((int) row[0], (int) row[1], (int) row[2])) {
                assertEquals(row[4], p.k(row[3]), p + " at s=" + row[3]);
                assertTrue(p.isDynamic());
            }
        }
        try (KMaxPool1d fixed = new KMaxPool1d(4)) {
            assertEquals(4, fixed.k(100));
        }
    }
}
