package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Invalid configurations and inputs of Embedding, GroupNorm, Upsample, Identity/Dropout and
 * AdaptiveMaxPool1d (at least 20 per family): each fails in Java before any native call, with the
 * expected exception type and a message naming the layer, the expected and the given value. The
 * other families are in {@link Layers14FunctionValidationTest}. Also the PyTorch reprs.
 */
class Layers14ValidationTest {
    static final Class<IllegalArgumentException> IAE = IllegalArgumentException.class;
    static final Class<IllegalStateException> ISE = IllegalStateException.class;
    static final Class<IndexOutOfBoundsException> IOOBE = IndexOutOfBoundsException.class;

    static Arguments bad(String family, String what, Class<? extends RuntimeException> type, Executable action, String... fragments) {
        return Arguments.of(family, what, type, action, List.of(fragments));
    }

    static Executable forward(Supplier<? extends Layer> layer, Backend backend, long... shape) {
        return () -> {
            try (Layer l = layer.get(); Tensor x = Tensor.zeros(shape); Tensor y = l.forward(x, backend)) {
                y.shape();
            }
        };
    }

    static Tensor longs(long... v) {
        Tensor t = Tensor.allocate(Arena.ofAuto(), DataType.I64, v.length);
        for (int i = 0; i < v.length; i++) t.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, i, v[i]);
        return t;
    }

    static Tensor ints(int... v) {
        Tensor t = Tensor.allocate(Arena.ofAuto(), DataType.I32, v.length);
        for (int i = 0; i < v.length; i++) t.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT, i, v[i]);
        return t;
    }

    static Executable lookup(Supplier<Embedding> e, Supplier<Tensor> indices, Backend backend) {
        return () -> {
            try (Embedding m = e.get(); Tensor y = m.forward(indices.get(), backend)) {
                y.shape();
            }
        };
    }

    private static Tensor freed() {
        Tensor t = Tensor.zeros(2, 3);
        t.close();
        return t;
    }

    static Stream<Arguments> invalid() {
        Backend n = Backend.AUTO, r = Backend.REFERENCE;
        return Stream.of(
                bad("Embedding", "zero rows", IAE, () -> new Embedding(0, 3), "Embedding", "must be >= 1", "got 0 and 3"),
                bad("Embedding", "zero dim", IAE, () -> new Embedding(4, 0), "Embedding", "must be >= 1", "got 4 and 0"),
                bad("Embedding", "negative dim", IAE, () -> new Embedding(4, -2), "Embedding", ">= 1", "-2"),
                bad("Embedding", "padding_idx too large", IAE, () -> new Embedding(4, 3, 4L), "Embedding", "padding_idx", "[-4, 4)", "got 4"),
                bad("Embedding", "padding_idx too negative", IAE, () -> new Embedding(4, 3, -5L), "padding_idx", "[-4, 4)", "got -5"),
                bad("Embedding", "table too large", IAE, () -> new Embedding(1L << 40, 1L << 20), "Embedding: weight"),
                bad("Embedding", "index = num", IOOBE, lookup(() -> new Embedding(5, 2), () -> longs(0, 5), n), "Embedding(5, 2)", "[0, 5)", "got 5", "position [1]"),
                bad("Embedding", "index = num (reference)", IOOBE, lookup(() -> new Embedding(5, 2), () -> longs(5), r), "Embedding(5, 2)", "[0, 5)", "got 5"),
                bad("Embedding", "negative index", IOOBE, lookup(() -> new Embedding(5, 2), () -> longs(1, 2, -1), n), "[0, 5)", "got -1", "position [2]"),
                bad("Embedding", "huge index", IOOBE, lookup(() -> new Embedding(5, 2), () -> longs(Long.MAX_VALUE), n), "[0, 5)", "got " + Long.MAX_VALUE),
                bad("Embedding", "I32 index out of range", IOOBE, lookup(() -> new Embedding(3, 2), () -> ints(0, 7), n), "Embedding(3, 2)", "[0, 3)", "got 7"),
                bad("Embedding", "negative I32 index", IOOBE, lookup(() -> new Embedding(3, 2), () -> ints(Integer.MIN_VALUE), r), "got " + Integer.MIN_VALUE),
                bad("Embedding", "F32 indices", IAE, lookup(() -> new Embedding(3, 2), () -> Tensor.of(new float[] {1}, 1), n), "Embedding(3, 2)", "I64 or I32", "got F32"),
                bad("Embedding", "null indices", IAE, lookup(() -> new Embedding(3, 2), () -> null, n), "Embedding(3, 2)", "indices must not be null"),
                bad("Embedding", "freed indices", ISE, lookup(() -> new Embedding(3, 2), () -> { Tensor t = Tensor.zeros(2); t.close(); return t; }, n), "Embedding(3, 2)", "live indices", "freed"),
                bad("Embedding", "null backend", IAE, lookup(() -> new Embedding(3, 2), () -> longs(0), null), "Embedding(3, 2)", "backend"),
                bad("Embedding", "closed layer", ISE, () -> { Embedding e = new Embedding(3, 2); e.close(); e.forward(longs(0)); }, "Embedding(3, 2)", "closed"),
                bad("Embedding", "from_pretrained null", IAE, () -> Embedding.fromPretrained(null, null), "from_pretrained", "must not be null"),
                bad("Embedding", "from_pretrained 1-D", IAE, () -> Embedding.fromPretrained(Tensor.zeros(4), null), "from_pretrained", "2-D F32", "Tensor[4]"),
                bad("Embedding", "from_pretrained I64", IAE, () -> Embedding.fromPretrained(longs(1, 2), null), "from_pretrained", "2-D F32", "i64"),
                bad("Embedding", "from_pretrained freed", ISE, () -> Embedding.fromPretrained(freed(), null), "from_pretrained", "live"),
                bad("Embedding", "from_pretrained bad padding_idx", IAE, () -> Embedding.fromPretrained(Tensor.zeros(3, 2), 3L), "padding_idx", "[-3, 3)", "got 3"),
                bad("Embedding", "zero-size index shape", IAE, () -> new Embedding(3, 2).outputShape(2, 0), "Embedding(3, 2)", ">= 1", "[2, 0]"),

                bad("GroupNorm", "zero groups", IAE, () -> new GroupNorm(0, 4), "GroupNorm", "must be >= 1", "got 0 and 4"),
                bad("GroupNorm", "zero channels", IAE, () -> new GroupNorm(2, 0), "GroupNorm", ">= 1", "got 2 and 0"),
                bad("GroupNorm", "not divisible", IAE, () -> new GroupNorm(3, 4), "GroupNorm", "divisible by num_groups", "got 4 and 3"),
                bad("GroupNorm", "more groups than channels", IAE, () -> new GroupNorm(8, 4), "divisible", "got 4 and 8"),
                bad("GroupNorm", "eps 0", IAE, () -> new GroupNorm(2, 4, 0, true), "GroupNorm", "eps", "0.0"),
                bad("GroupNorm", "eps NaN", IAE, () -> new GroupNorm(2, 4, Double.NaN, true), "GroupNorm", "eps", "NaN"),
                bad("GroupNorm", "eps negative", IAE, () -> new GroupNorm(2, 4, -1, false), "eps", "-1.0"),
                bad("GroupNorm", "eps infinite", IAE, () -> new GroupNorm(2, 4, Double.POSITIVE_INFINITY, true), "eps", "Infinity"),
                bad("GroupNorm", "rank 1", IAE, forward(() -> new GroupNorm(2, 4), n, 4), "GroupNorm(2, 4", "[N, 4, *]", "got [4]"),
                bad("GroupNorm", "channel mismatch", IAE, forward(() -> new GroupNorm(2, 4), n, 2, 6, 3), "GroupNorm(2, 4", "[N, 4, *]", "[2, 6, 3]"),
                bad("GroupNorm", "channel mismatch (reference)", IAE, forward(() -> new GroupNorm(1, 3), r, 1, 4, 2, 2), "GroupNorm(1, 3", "[N, 3, *]", "[1, 4, 2, 2]"),
                bad("GroupNorm", "channels last", IAE, forward(() -> new GroupNorm(2, 4), n, 2, 3, 3, 4), "[N, 4, *]", "[2, 3, 3, 4]"),
                bad("GroupNorm", "zero batch", IAE, () -> new GroupNorm(2, 4).outputShape(0, 4, 3), "GroupNorm(2, 4", "sizes > 0", "[0, 4, 3]"),
                bad("GroupNorm", "null shape", IAE, () -> new GroupNorm(2, 4).outputShape((long[]) null), "GroupNorm(2, 4", "must not be null"),
                bad("GroupNorm", "null input", IAE, () -> new GroupNorm(2, 4).forward(null), "GroupNorm(2, 4", "input must not be null"),
                bad("GroupNorm", "freed input", ISE, () -> new GroupNorm(2, 4).forward(freedShaped(2, 4)), "GroupNorm(2, 4", "live input", "freed"),
                bad("GroupNorm", "I64 input", IAE, () -> new GroupNorm(1, 2).forward(longs(1, 2)), "GroupNorm(1, 2", "F32", "got I64"),
                bad("GroupNorm", "null backend", IAE, () -> new GroupNorm(1, 2).forward(Tensor.zeros(1, 2), null), "GroupNorm(1, 2", "backend"),
                bad("GroupNorm", "closed", ISE, () -> { GroupNorm g = new GroupNorm(1, 2); g.close(); g.forward(Tensor.zeros(1, 2)); }, "GroupNorm(1, 2", "closed"),
                bad("GroupNorm", "closed outputShape", ISE, () -> { GroupNorm g = new GroupNorm(1, 2); g.close(); g.outputShape(1, 2); }, "GroupNorm(1, 2", "closed"),

                bad("Upsample", "unknown mode", IAE, () -> Upsample.scale("bicubic", null, 2), "Upsample", "'nearest', 'linear' or 'bilinear'", "got 'bicubic'"),
                bad("Upsample", "null mode", IAE, () -> Upsample.scale(null, null, 2), "Upsample", "mode", "got null"),
                bad("Upsample", "align_corners with nearest", IAE, () -> Upsample.scale("nearest", true, 2), "Upsample", "align_corners", "mode 'nearest'"),
                bad("Upsample", "align_corners False with nearest", IAE, () -> Upsample.size("nearest", false, 4), "align_corners", "'nearest'"),
                bad("Upsample", "scale 0", IAE, () -> Upsample.scale("nearest", null, 0), "Upsample", "scale_factor", "> 0", "[0.0]"),
                bad("Upsample", "scale negative", IAE, () -> Upsample.scale("bilinear", false, -2), "scale_factor", "[-2.0]"),
                bad("Upsample", "scale NaN", IAE, () -> Upsample.scale("nearest", null, Double.NaN), "scale_factor", "NaN"),
                bad("Upsample", "scale infinite", IAE, () -> Upsample.scale("nearest", null, Double.POSITIVE_INFINITY), "scale_factor", "Infinity"),
                bad("Upsample", "three scales", IAE, () -> Upsample.scale("nearest", null, 2, 2, 2), "scale_factor", "1 or 2 values", "[2.0, 2.0, 2.0]"),
                bad("Upsample", "no sizes", IAE, () -> Upsample.size("nearest", null), "Upsample", "size", "1 or 2 values", "[]"),
                bad("Upsample", "size 0", IAE, () -> Upsample.size("nearest", null, 0, 3), "size values must be >= 1", "[0, 3]"),
                bad("Upsample", "linear with two sizes", IAE, () -> Upsample.size("linear", false, 3, 4), "mode 'linear'", "1 spatial", "got 2"),
                bad("Upsample", "bilinear on 3-D", IAE, forward(() -> Upsample.scale("bilinear", false, 2), n, 1, 2, 5), "Upsample(scale_factor=2.0, mode=bilinear", "[N, C, H, W]", "[1, 2, 5]"),
                bad("Upsample", "linear on 4-D", IAE, forward(() -> Upsample.scale("linear", true, 2), n, 1, 2, 5, 5), "mode=linear", "[N, C, L]", "[1, 2, 5, 5]"),
                bad("Upsample", "nearest on 2-D", IAE, forward(() -> Upsample.scale("nearest", null, 2), n, 3, 4), "mode=nearest", "[N, C, L] or [N, C, H, W]", "[3, 4]"),
                bad("Upsample", "nearest on 5-D", IAE, forward(() -> Upsample.scale("nearest", null, 2), r, 1, 1, 2, 2, 2), "mode=nearest", "[1, 1, 2, 2, 2]"),
                bad("Upsample", "two sizes for 1-D", IAE, forward(() -> Upsample.size("nearest", null, 3, 4), n, 1, 2, 5), "Upsample(size=(3, 4)", "[N, C, H, W]", "[1, 2, 5]"),
                bad("Upsample", "scale to zero", IAE, forward(() -> Upsample.scale("nearest", null, 0.1), n, 1, 1, 4, 4), "output size", "is 0", "expected >= 1"),
                bad("Upsample", "huge output", IAE, forward(() -> Upsample.scale("nearest", null, 1e9), n, 1, 1, 1000, 1000), "Upsample", "output"),
                bad("Upsample", "null input", IAE, () -> Upsample.scale("nearest", null, 2).forward(null), "Upsample", "input must not be null"),
                bad("Upsample", "I64 input", IAE, () -> Upsample.scale("nearest", null, 2).forward(longs(1, 2, 3)), "Upsample", "F32", "I64"),
                bad("Upsample", "closed", ISE, () -> { Upsample u = Upsample.scale("nearest", null, 2); u.close(); u.forward(Tensor.zeros(1, 1, 2)); }, "Upsample", "closed"),

                bad("Identity/Dropout/AdaptiveMaxPool1d", "Dropout p > 1", IAE, () -> new Dropout(1.5), "Dropout", "between 0 and 1", "got 1.5"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "Dropout p < 0", IAE, () -> new Dropout(-0.1), "Dropout", "between 0 and 1", "got -0.1"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "Dropout p NaN", IAE, () -> new Dropout(Double.NaN), "Dropout", "got NaN"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "Identity null input", IAE, () -> new Identity().forward(null), "Identity()", "input must not be null"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "Identity freed input", ISE, () -> new Identity().forward(freed()), "Identity()", "live input", "freed"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "Identity I64 input", IAE, () -> new Identity().forward(longs(1)), "Identity()", "F32", "got I64"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "Identity zero size", IAE, () -> new Identity().outputShape(2, 0), "Identity()", "sizes > 0", "[2, 0]"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "Identity closed", ISE, () -> { Identity i = new Identity(); i.close(); i.forward(Tensor.zeros(1)); }, "Identity()", "closed"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "Dropout freed input", ISE, () -> new Dropout(0.2).forward(freed()), "Dropout(p=0.2, inplace=False)", "freed"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "Dropout null backend", IAE, () -> new Dropout().forward(Tensor.zeros(1), null), "Dropout(p=0.5", "backend"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "Dropout closed", ISE, () -> { Dropout d = new Dropout(); d.close(); d.forward(Tensor.zeros(1)); }, "Dropout", "closed"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "Dropout in Sequential, bad later shape", IAE,
                        forward(() -> new Sequential(new Dropout(0.1), new Linear(4, 2, true)), n, 2, 5), "module 1", "Linear", "5"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "AdaptiveMaxPool1d size 0", IAE, () -> new AdaptiveMaxPool1d(0), "AdaptiveMaxPool1d", "0"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "AdaptiveMaxPool1d size negative", IAE, () -> new AdaptiveMaxPool1d(-3), "AdaptiveMaxPool1d", "-3"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "AdaptiveMaxPool1d rank 4", IAE, forward(() -> new AdaptiveMaxPool1d(2), n, 1, 2, 3, 4), "AdaptiveMaxPool1d", "[1, 2, 3, 4]"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "AdaptiveMaxPool1d rank 1", IAE, forward(() -> new AdaptiveMaxPool1d(2), r, 8), "AdaptiveMaxPool1d", "[8]"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "AdaptiveMaxPool1d zero length", IAE, () -> new AdaptiveMaxPool1d(2).outputShape(1, 2, 0), "AdaptiveMaxPool1d", "sizes > 0", "[1, 2, 0]"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "AdaptiveMaxPool1d null input", IAE, () -> new AdaptiveMaxPool1d(2).forward(null), "AdaptiveMaxPool1d", "must not be null"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "AdaptiveMaxPool1d freed", ISE, () -> new AdaptiveMaxPool1d(2).forward(freed()), "AdaptiveMaxPool1d", "freed"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "AdaptiveMaxPool1d I64", IAE, () -> new AdaptiveMaxPool1d(1).forward(longs(1, 2)), "AdaptiveMaxPool1d", "F32", "I64"),
                bad("Identity/Dropout/AdaptiveMaxPool1d", "AdaptiveMaxPool1d closed", ISE, () -> { AdaptiveMaxPool1d p = new AdaptiveMaxPool1d(1); p.close(); p.forward(Tensor.zeros(1, 2)); }, "AdaptiveMaxPool1d", "closed"));
    }

    private static Tensor freedShaped(long... shape) {
        Tensor t = Tensor.zeros(shape);
        t.close();
        return t;
    }

    @ParameterizedTest(name = "{0}: {1}")
    @MethodSource("invalid")
    void rejected(String family, String what, Class<? extends RuntimeException> type, Executable action, List<String> fragments) {
        RuntimeException e = assertThrows(type, action, what);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), what + ": message lacks '" + f + "': " + e.getMessage());
    }

    @Test
    void atLeastTwentyRowsPerFamily() {
        Map<Object, Long> perFamily = invalid().collect(Collectors.groupingBy(a -> a.get()[0], Collectors.counting()));
        assertEquals(4, perFamily.size(), perFamily.toString());
        perFamily.forEach((family, count) -> assertTrue(count >= 20, family + ": " + count + " rows"));
    }

    @Test
    void reprsAsPyTorch() {
        assertEquals("Embedding(10, 3, padding_idx=9)", new Embedding(10, 3, -1L).toString());
        assertEquals("Embedding(10, 3)", new Embedding(10, 3).toString());
        assertEquals("GroupNorm(2, 6, eps=1e-05, affine=True)", new GroupNorm(2, 6).toString());
        assertEquals("GroupNorm(3, 6, eps=0.001, affine=False)", new GroupNorm(3, 6, 1e-3, false).toString());
        assertEquals("Upsample(scale_factor=2.0, mode=bilinear)", Upsample.scale("bilinear", true, 2).toString());
        assertEquals("Upsample(size=(5, 7), mode=nearest)", Upsample.size("nearest", null, 5, 7).toString());
        assertEquals("Dropout(p=0.3, inplace=False)", new Dropout(0.3).toString());
        assertEquals("Identity()", new Identity().toString());
        assertEquals("AdaptiveMaxPool1d(output_size=3)", new AdaptiveMaxPool1d(3).toString());
    }
}
