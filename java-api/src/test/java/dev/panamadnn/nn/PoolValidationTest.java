package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Invalid configurations and inputs: each is the stated exception, raised in Java before any
 * native call, with a message naming the layer, the expected and the actual value. Also the
 * PyTorch repr of each layer.
 */
class PoolValidationTest {
    private static Arguments row(String what, Class<? extends RuntimeException> type, Executable action, String... fragments) {
        return Arguments.of(what, type, action, List.of(fragments));
    }

    private static void forward(PoolLayer layer, long... shape) {
        try (layer; Tensor x = Tensor.zeros(shape)) {
            layer.forward(x).close();
        }
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                row("MaxPool2d kernel 0", IllegalArgumentException.class, () -> new MaxPool2d(0), "MaxPool2d", "kernel_size >= 1", "[0, 0]"),
                row("MaxPool1d negative kernel", IllegalArgumentException.class, () -> new MaxPool1d(-1), "MaxPool1d", "kernel_size >= 1", "[-1]"),
                row("MaxPool2d stride 0", IllegalArgumentException.class, () -> new MaxPool2d(2, 0), "MaxPool2d", "stride >= 1", "[0, 0]"),
                row("MaxPool1d negative padding", IllegalArgumentException.class, () -> new MaxPool1d(3, 1, -1), "MaxPool1d", "padding >= 0", "[-1]"),
                row("MaxPool2d padding > kernel/2", IllegalArgumentException.class, () -> new MaxPool2d(2, 2, 2), "MaxPool2d", "at most half", "padding=2", "kernel_size=2"),
                row("MaxPool1d dilation 0", IllegalArgumentException.class, () -> new MaxPool1d(3, 1, 0, 0, false), "MaxPool1d", "dilation >= 1", "[0]"),
                row("MaxPool2d rectangular padding > kernel/2", IllegalArgumentException.class,
                        () -> new MaxPool2d(new int[] {4, 2}, null, new int[] {2, 2}, new int[] {1, 1}, false), "MaxPool2d", "<= 1", "padding=2", "(4, 2)"),
                row("AvgPool1d kernel 0", IllegalArgumentException.class, () -> new AvgPool1d(0), "AvgPool1d", "kernel_size >= 1", "[0]"),
                row("AvgPool1d stride -2", IllegalArgumentException.class, () -> new AvgPool1d(3, -2), "AvgPool1d", "stride >= 1", "[-2]"),
                row("AvgPool2d padding > kernel/2", IllegalArgumentException.class, () -> new AvgPool2d(3, 1, 2), "AvgPool2d", "at most half", "padding=2", "kernel_size=3"),
                row("AvgPool2d kernel with one value", IllegalArgumentException.class,
                        () -> new AvgPool2d(new int[] {3}, null, new int[] {0, 0}, false, true), "AvgPool2d", "expected 2 values for kernel_size", "got 1"),
                row("MaxPool2d null kernel", IllegalArgumentException.class,
                        () -> new MaxPool2d(null, null, new int[] {0, 0}, new int[] {1, 1}, false), "MaxPool2d", "kernel_size must not be null"),
                row("MaxPool2d padding with three values", IllegalArgumentException.class,
                        () -> new MaxPool2d(new int[] {2, 2}, null, new int[] {0, 0, 0}, new int[] {1, 1}, false), "MaxPool2d", "expected 2 values for padding", "got 3"),
                row("AdaptiveAvgPool1d output 0", IllegalArgumentException.class, () -> new AdaptiveAvgPool1d(0), "AdaptiveAvgPool1d", "output_size >= 1", "[0]"),
                row("AdaptiveAvgPool2d negative width", IllegalArgumentException.class, () -> new AdaptiveAvgPool2d(2, -1), "AdaptiveAvgPool2d", "output_size >= 1", "[2, -1]"),
                row("AdaptiveMaxPool2d output 0", IllegalArgumentException.class, () -> new AdaptiveMaxPool2d(0), "AdaptiveMaxPool2d", "output_size >= 1", "[0, 0]"),
                row("MaxPool2d kernel larger than input", IllegalArgumentException.class, () -> forward(new MaxPool2d(5), 1, 1, 3, 3),
                        "MaxPool2d(kernel_size=5", "kernel larger than padded input", "output size >= 1", "(0, 0)", "[1, 1, 3, 3]"),
                row("MaxPool1d dilated kernel larger than input", IllegalArgumentException.class,
                        () -> forward(new MaxPool1d(3, 1, 0, 3, false), 1, 2, 6), "MaxPool1d", "kernel larger than padded input", "got 0", "effective kernel 7"),
                row("AvgPool2d kernel taller than input", IllegalArgumentException.class, () -> forward(new AvgPool2d(4), 1, 1, 3, 8),
                        "AvgPool2d", "kernel larger than padded input", "(0, 2)"),
                row("AvgPool1d kernel larger than padded input", IllegalArgumentException.class, () -> forward(new AvgPool1d(5, 1, 1), 2, 2),
                        "AvgPool1d", "kernel larger than padded input", "got 0", "[2, 2]"),
                row("MaxPool2d rank-2 input", IllegalArgumentException.class, () -> forward(new MaxPool2d(2), 3, 4),
                        "MaxPool2d", "rank 3 or 4", "got rank 2", "[3, 4]"),
                row("MaxPool2d rank-5 input", IllegalArgumentException.class, () -> forward(new MaxPool2d(2), 1, 1, 1, 4, 4),
                        "MaxPool2d", "rank 3 or 4", "got rank 5"),
                row("MaxPool1d rank-4 input", IllegalArgumentException.class, () -> forward(new MaxPool1d(2), 1, 2, 4, 4),
                        "MaxPool1d", "rank 2 or 3", "[N, C, L]", "got rank 4"),
                row("AvgPool1d rank-1 input", IllegalArgumentException.class, () -> forward(new AvgPool1d(2), 8),
                        "AvgPool1d", "rank 2 or 3", "got rank 1"),
                row("AdaptiveAvgPool2d rank-2 input", IllegalArgumentException.class, () -> forward(new AdaptiveAvgPool2d(2), 4, 4),
                        "AdaptiveAvgPool2d(output_size=2)", "rank 3 or 4", "got rank 2"),
                row("AdaptiveAvgPool1d rank-4 input", IllegalArgumentException.class, () -> forward(new AdaptiveAvgPool1d(2), 1, 1, 4, 4),
                        "AdaptiveAvgPool1d", "rank 2 or 3", "got rank 4"),
                row("AdaptiveMaxPool2d zero-sized input", IllegalArgumentException.class,
                        () -> new AdaptiveMaxPool2d(2).outputShape(1, 3, 0, 4), "AdaptiveMaxPool2d", "sizes > 0", "[1, 3, 0, 4]"),
                row("MaxPool2d BF16 input", IllegalArgumentException.class, () -> {
                    try (Arena a = Arena.ofConfined(); MaxPool2d l = new MaxPool2d(2)) {
                        l.forward(Tensor.allocate(a, DataType.BF16, 1, 1, 4, 4));
                    }
                }, "MaxPool2d", "F32", "BF16"),
                row("AvgPool1d I32 input", IllegalArgumentException.class, () -> {
                    try (Arena a = Arena.ofConfined(); AvgPool1d l = new AvgPool1d(2)) {
                        l.forward(Tensor.allocate(a, DataType.I32, 1, 4));
                    }
                }, "AvgPool1d", "F32", "I32"),
                row("closed input tensor", IllegalStateException.class, () -> {
                    Tensor x = Tensor.zeros(1, 1, 4, 4);
                    x.close();
                    try (AvgPool2d l = new AvgPool2d(2)) {
                        l.forward(x);
                    }
                }, "AvgPool2d", "live input", "freed"),
                row("closed layer", IllegalStateException.class, () -> {
                    MaxPool1d l = new MaxPool1d(2);
                    l.close();
                    try (Tensor x = Tensor.zeros(1, 1, 4)) {
                        l.forward(x);
                    }
                }, "MaxPool1d", "is closed"),
                row("null input", IllegalArgumentException.class, () -> {
                    try (AdaptiveAvgPool2d l = new AdaptiveAvgPool2d(1)) {
                        l.forward(null);
                    }
                }, "AdaptiveAvgPool2d", "input must not be null"),
                row("null backend", IllegalArgumentException.class, () -> {
                    try (MaxPool2d l = new MaxPool2d(2); Tensor x = Tensor.zeros(1, 1, 4, 4)) {
                        l.forward(x, null);
                    }
                }, "MaxPool2d", "backend must not be null"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void invalidConfigurationOrInputIsRejected(String what, Class<? extends RuntimeException> type, Executable action,
                                               List<String> fragments) {
        RuntimeException e = assertThrows(type, action, what);
        for (String f : fragments) {
            assertTrue(e.getMessage().contains(f), what + ": message lacks '" + f + "': " + e.getMessage());
        }
    }

    @Test
    void thereAreAtLeastTwentyInvalidRows() {
        assertTrue(invalid().count() >= 20);
    }

    @Test
    void reprIsPyTorchs() {
        List<PoolLayer> layers = List.of(new MaxPool1d(3, 2, 1), new MaxPool2d(3, 2, 1),
                new MaxPool2d(new int[] {2, 3}, null, new int[] {0, 0}, new int[] {1, 1}, false), new AvgPool1d(3, 2, 1),
                new AvgPool2d(3, 2, 1), new AdaptiveAvgPool1d(3), new AdaptiveAvgPool2d(5, 7), new AdaptiveAvgPool2d(2),
                new AdaptiveMaxPool2d(3), new AvgPool2d(new int[] {2, 3}, null, new int[] {0, 0}, true, false));
        // PyTorch 1.13's repr for the same constructions; the last adds the non-default flags PyTorch omits.
        List<String> expected = List.of("MaxPool1d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)",
                "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=False)",
                "MaxPool2d(kernel_size=(2, 3), stride=(2, 3), padding=0, dilation=1, ceil_mode=False)",
                "AvgPool1d(kernel_size=(3,), stride=(2,), padding=(1,))", "AvgPool2d(kernel_size=3, stride=2, padding=1)",
                "AdaptiveAvgPool1d(output_size=3)", "AdaptiveAvgPool2d(output_size=(5, 7))", "AdaptiveAvgPool2d(output_size=2)",
                "AdaptiveMaxPool2d(output_size=3)",
                "AvgPool2d(kernel_size=(2, 3), stride=(2, 3), padding=0, ceil_mode=True, count_include_pad=False)");
        for (int i = 0; i < layers.size(); i++) {
            try (PoolLayer l = layers.get(i)) {
                assertEquals(expected.get(i), l.toString());
            }
        }
    }

    @Test
    void outputShapeKeepsRankAndChannels() {
        try (MaxPool2d l = new MaxPool2d(3, 2, 1, 1, true); AdaptiveAvgPool1d a = new AdaptiveAvgPool1d(4)) {
            assertEquals(List.of(2L, 3L, 6L, 7L), box(l.outputShape(2, 3, 11, 13)));
            assertEquals(List.of(3L, 6L, 7L), box(l.outputShape(3, 11, 13)));
            assertEquals(List.of(5L, 4L), box(a.outputShape(5, 9)));
        }
    }

    private static List<Long> box(long[] v) {
        return java.util.Arrays.stream(v).boxed().toList();
    }
}
