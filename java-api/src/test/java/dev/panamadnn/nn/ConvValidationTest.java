package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Invalid configurations and inputs: each fails in Java, before any native call, with the
 * expected exception type and a message naming the layer, the expected and the actual value.
 */
class ConvValidationTest {
    private static final Class<IllegalArgumentException> IAE = IllegalArgumentException.class;
    private static final Class<IllegalStateException> ISE = IllegalStateException.class;

    private static Arguments bad(String what, Class<? extends RuntimeException> type, Executable action, String... fragments) {
        return Arguments.of(what, type, action, List.of(fragments));
    }

    private static Executable forward(java.util.function.Supplier<? extends ConvNd> layer, long... shape) {
        return () -> {
            try (ConvNd l = layer.get(); Tensor x = Tensor.zeros(shape); Tensor y = l.forward(x)) {
                y.shape();
            }
        };
    }

    private static Executable reference(java.util.function.Supplier<? extends ConvNd> layer, long... shape) {
        return () -> {
            try (ConvNd l = layer.get(); Tensor x = Tensor.zeros(shape); Tensor y = l.forwardReference(x)) {
                y.shape();
            }
        };
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                // hyperparameters
                bad("in_channels 0", IAE, () -> new Conv2d(0, 4, 3), "Conv2d", "in_channels must be > 0, got 0"),
                bad("out_channels negative", IAE, () -> new Conv1d(2, -1, 3), "Conv1d", "out_channels must be > 0, got -1"),
                bad("groups 0", IAE, () -> Conv2d.builder(4, 4, 3).groups(0).build(), "Conv2d", "groups must be > 0, got 0"),
                bad("groups do not divide in", IAE, () -> Conv2d.builder(3, 4, 3).groups(2).build(), "Conv2d", "in_channels 3", "groups 2"),
                bad("groups do not divide out", IAE, () -> Conv2d.builder(4, 3, 3).groups(2).build(), "Conv2d", "out_channels 3", "groups 2"),
                bad("depthwise-like groups do not divide out", IAE, () -> Conv1d.builder(5, 4, 3).groups(5).build(), "Conv1d", "out_channels 4", "groups 5"),
                bad("kernel 0", IAE, () -> new Conv2d(1, 1, 0), "Conv2d", "kernel_size must be >= 1", "(0, 0)"),
                bad("kernel negative", IAE, () -> new Conv1d(1, 1, -2), "Conv1d", "kernel_size must be >= 1", "(-2,)"),
                bad("kernel with 3 values for 2-D", IAE, () -> Conv2d.builder(1, 1, 3, 3, 3).build(), "Conv2d", "kernel_size must have 1 or 2 values, got 3"),
                bad("kernel null", IAE, () -> Conv2d.builder(1, 1, (int[]) null).build(), "Conv2d", "kernel_size must not be null"),
                bad("stride 0", IAE, () -> Conv2d.builder(1, 1, 3).stride(0).build(), "Conv2d", "stride must be >= 1", "(0, 0)"),
                bad("stride with 2 values for 1-D", IAE, () -> Conv1d.builder(1, 1, 3).stride(1, 2).build(), "Conv1d", "stride must have 1 value, got 2"),
                bad("stride negative in one dim", IAE, () -> Conv2d.builder(1, 1, 3).stride(1, -1).build(), "Conv2d", "stride must be >= 1", "(1, -1)"),
                bad("dilation 0", IAE, () -> Conv1d.builder(1, 1, 3).dilation(0).build(), "Conv1d", "dilation must be >= 1", "(0,)"),
                bad("padding negative", IAE, () -> Conv2d.builder(1, 1, 3).padding(-1).build(), "Conv2d", "padding must be >= 0", "(-1, -1)"),
                bad("asymmetric padding negative after", IAE, () -> Conv2d.builder(1, 1, 3).padding(new int[] {1, 1}, new int[] {0, -2}).build(),
                        "Conv2d", "padding must be >= 0", "(0, -2)"),
                bad("asymmetric padding with 3 values", IAE, () -> Conv2d.builder(1, 1, 3).padding(new int[] {1, 1, 1}, new int[] {0}).build(),
                        "Conv2d", "padding must have 1 or 2 values, got 3"),
                bad("unknown padding string", IAE, () -> Conv2d.builder(1, 1, 3).padding("full").build(), "Conv2d", "'same', 'valid'", "'full'"),
                bad("'same' with stride 2", IAE, () -> Conv1d.builder(1, 1, 3).stride(2).padding("same").build(), "Conv1d", "padding='same'", "stride=(2,)"),
                bad("causal with explicit padding", IAE, () -> Conv1d.builder(1, 1, 3).padding(1).causal().build(), "Conv1d", "causal and an explicit padding"),
                bad("causal with 'same'", IAE, () -> Conv1d.builder(1, 1, 3).padding("same").causal().build(), "Conv1d", "causal and an explicit padding"),
                bad("padding_mode null", IAE, () -> Conv2d.builder(1, 1, 3).paddingMode(null).build(), "Conv2d", "padding_mode must not be null"),
                bad("output_padding = stride", IAE, () -> ConvTranspose2d.builder(1, 1, 3).stride(2).outputPadding(2).build(),
                        "ConvTranspose2d", "output_padding must be smaller than either stride or dilation", "output_padding=(2, 2)", "stride=(2, 2)"),
                bad("output_padding without stride or dilation", IAE, () -> ConvTranspose1d.builder(1, 1, 3).outputPadding(1).build(),
                        "ConvTranspose1d", "smaller than either stride or dilation", "output_padding=(1,)"),
                bad("output_padding negative", IAE, () -> ConvTranspose1d.builder(1, 1, 3).outputPadding(-1).build(), "ConvTranspose1d", "output_padding must be >= 0", "(-1,)"),
                bad("output_padding with 3 values", IAE, () -> ConvTranspose2d.builder(1, 1, 3).stride(2).outputPadding(1, 1, 1).build(),
                        "ConvTranspose2d", "output_padding must have 1 or 2 values, got 3"),
                bad("transposed groups do not divide out", IAE, () -> ConvTranspose1d.builder(4, 5, 3).groups(2).build(), "ConvTranspose1d", "out_channels 5", "groups 2"),
                bad("transposed kernel 0", IAE, () -> new ConvTranspose2d(2, 2, 0), "ConvTranspose2d", "kernel_size must be >= 1"),
                bad("transposed stride with 3 values", IAE, () -> ConvTranspose2d.builder(1, 1, 3).stride(1, 2, 3).build(), "ConvTranspose2d", "stride must have 1 or 2 values, got 3"),
                bad("transposed dilation negative", IAE, () -> ConvTranspose2d.builder(1, 1, 3).dilation(-1).build(), "ConvTranspose2d", "dilation must be >= 1", "(-1, -1)"),
                bad("transposed padding negative", IAE, () -> ConvTranspose1d.builder(1, 1, 3).padding(-3).build(), "ConvTranspose1d", "padding must be >= 0", "(-3,)"),
                // inputs
                bad("null input", IAE, () -> new Conv2d(3, 4, 3).forward(null), "Conv2d", "input must not be null"),
                bad("rank 2 into Conv2d", IAE, forward(() -> new Conv2d(3, 4, 3), 3, 9), "Conv2d", "expected a 4-D input [N, C, H, W]", "3-D one [C, H, W]", "got rank 2", "[3, 9]"),
                bad("rank 5 into Conv2d", IAE, forward(() -> new Conv2d(3, 4, 3), 1, 1, 3, 5, 5), "Conv2d", "got rank 5"),
                bad("rank 4 into Conv1d", IAE, forward(() -> new Conv1d(3, 4, 3), 1, 3, 5, 5), "Conv1d", "expected a 3-D input [N, C, L]", "got rank 4"),
                bad("rank 1 into Conv1d", IAE, forward(() -> new Conv1d(3, 4, 3), 9), "Conv1d", "got rank 1"),
                bad("rank 2 into ConvTranspose2d", IAE, forward(() -> new ConvTranspose2d(3, 4, 3), 3, 9), "ConvTranspose2d", "got rank 2"),
                bad("wrong channels", IAE, forward(() -> new Conv2d(3, 4, 3), 2, 4, 8, 8), "Conv2d", "expected 3 input channels (dim 1), got 4"),
                bad("wrong channels unbatched", IAE, forward(() -> new Conv1d(3, 4, 3), 2, 8), "Conv1d", "expected 3 input channels (dim 0), got 2"),
                bad("wrong channels transposed", IAE, forward(() -> new ConvTranspose1d(4, 2, 3), 1, 2, 8), "ConvTranspose1d", "expected 4 input channels (dim 1), got 2"),
                bad("wrong channels, reference path", IAE, reference(() -> new Conv2d(3, 4, 3), 1, 1, 8, 8), "Conv2d", "expected 3 input channels", "got 1"),
                bad("kernel larger than input", IAE, forward(() -> new Conv2d(1, 1, 5), 1, 1, 3, 3), "Conv2d", "output size -1 <= 0", "dilated extent 5", "padded input 3"),
                bad("kernel larger than padded input", IAE, forward(() -> Conv2d.builder(1, 1, 7).padding(1).build(), 1, 1, 4, 9),
                        "Conv2d", "output size", "<= 0 on spatial dim 0", "padded input 6"),
                bad("dilated kernel larger than input", IAE, forward(() -> Conv1d.builder(1, 1, 3).dilation(4).build(), 1, 1, 8), "Conv1d", "dilated extent 9", "padded input 8"),
                bad("kernel too large, reference path", IAE, reference(() -> new Conv1d(1, 1, 4), 1, 1, 3), "Conv1d", "<= 0", "padded input 3"),
                bad("transposed padding cuts everything", IAE, forward(() -> ConvTranspose1d.builder(1, 1, 1).padding(1).build(), 1, 1, 1),
                        "ConvTranspose1d", "output size -1 <= 0", "padding cuts more than the output has"),
                bad("reflect padding not smaller than the input", IAE, forward(() -> Conv1d.builder(1, 1, 3).padding(3).paddingMode(PaddingMode.REFLECT).build(), 1, 1, 3),
                        "Conv1d", "padding_mode reflect needs padding <= 2", "got (3, 3)"),
                bad("circular padding larger than the input", IAE, forward(() -> Conv2d.builder(1, 1, 3).padding(1, 3).paddingMode(PaddingMode.CIRCULAR).build(), 1, 1, 5, 2),
                        "Conv2d", "padding_mode circular needs padding <= 2", "got (3, 3)"),
                bad("bf16 input", IAE, () -> {
                    try (Arena arena = Arena.ofConfined(); Conv2d c = new Conv2d(3, 4, 3)) {
                        c.forward(Tensor.allocate(arena, DataType.BF16, 1, 3, 5, 5));
                    }
                }, "Conv2d", "expected an F32 input, got BF16"),
                bad("i32 input, reference path", IAE, () -> {
                    try (Arena arena = Arena.ofConfined(); ConvTranspose1d c = new ConvTranspose1d(3, 4, 3)) {
                        c.forwardReference(Tensor.allocate(arena, DataType.I32, 1, 3, 5));
                    }
                }, "ConvTranspose1d", "expected an F32 input, got I32"),
                bad("closed input tensor", ISE, () -> {
                    try (Conv2d c = new Conv2d(3, 4, 3)) {
                        Tensor x = Tensor.zeros(1, 3, 5, 5);
                        x.close();
                        c.forward(x);
                    }
                }, "Conv2d", "memory was freed"),
                bad("input in a closed arena", ISE, () -> {
                    try (ConvTranspose2d c = new ConvTranspose2d(3, 4, 3)) {
                        Tensor x;
                        try (Arena arena = Arena.ofConfined()) {
                            x = Tensor.allocate(arena, DataType.F32, 1, 3, 5, 5);
                        }
                        c.forward(x);
                    }
                }, "ConvTranspose2d", "memory was freed"),
                bad("closed layer", ISE, () -> {
                    Conv1d c = new Conv1d(3, 4, 3);
                    c.close();
                    try (Tensor x = Tensor.zeros(1, 3, 5)) {
                        c.forward(x);
                    }
                }, "Conv1d(3, 4, kernel_size=(3,)", "is closed"),
                bad("closed layer, reference path", ISE, () -> {
                    Conv2d c = new Conv2d(3, 4, 3);
                    c.close();
                    try (Tensor x = Tensor.zeros(1, 3, 5, 5)) {
                        c.forwardReference(x);
                    }
                }, "Conv2d(3, 4", "is closed"),
                bad("outputShape with a wrong rank", IAE, () -> new Conv2d(3, 4, 3).outputShape(3, 5), "Conv2d", "got rank 2"),
                bad("outputShape null", IAE, () -> new Conv1d(3, 4, 3).outputShape((long[]) null), "Conv1d", "input must not be null"),
                // The fuzzer's outputShape findings (seed 20261211, ConvTranspose2d #47, Conv1d #67): a batch <= 0 passed through.
                bad("outputShape batch 0", IAE, () -> ConvTranspose2d.builder(6, 4, 3).stride(2).build().outputShape(0, 6, 10, 2),
                        "ConvTranspose2d(6, 4", "sizes > 0", "[0, 6, 10, 2]"),
                bad("outputShape negative batch with huge padding", IAE, () -> Conv1d.builder(8, 2, 3).stride(2)
                        .padding(new int[] {0}, new int[] {Integer.MAX_VALUE}).build().outputShape(-5, 8, 31),
                        "Conv1d(8, 2", "sizes > 0", "[-5, 8, 31]"),
                bad("outputShape spatial size 0", IAE, () -> new Conv2d(3, 4, 1).outputShape(1, 3, 0, 5), "Conv2d(3, 4", "sizes > 0", "[1, 3, 0, 5]"),
                // The fuzzer's Conv2d #771 (seed 7): padding 2^31 - 1 reached oneDNN as a raw DnnlException
                // (dnnl_memory_desc_create_with_tag invalid_arguments) naming no layer.
                bad("padding 2^31 - 1 with a huge output", IAE, forward(() -> Conv2d.builder(8, 4, 1).stride(2)
                        .padding(new int[] {Integer.MAX_VALUE}, new int[] {0, 2}).groups(4).build(), 2, 8, 10, 6),
                        "Conv2d(8, 4, kernel_size=(1, 1), stride=(2, 2), padding=((2147483647, 0), (2147483647, 2)), groups=4)",
                        "[2, 4, 1073741829, 1073741828]", "281474976710656"),
                // The strided deconvolution kernel's int buffer (its crash is checked in a child JVM by
                // ConvNativeLimitsTest): no oneDNN implementation to report, naming the layer and the limit.
                bad("ConvTranspose1d stride 65536 implementation", IAE, () -> ConvTranspose1d.builder(8, 1, 3).stride(65536).build()
                        .implementation(1, 8, 2), "ConvTranspose1d(8, 1", "width stride 65536", "2^31 - 4096", "runs it on the reference"));
    }

    @Test
    void aStridePastTheNativeKernelRunsOnTheReferenceOnEveryBackend() throws Exception {
        // Output [1, 1, 65539]: small, computed by the reference, which has no 32-bit buffer.
        try (ConvTranspose1d deconv = ConvTranspose1d.builder(8, 1, 3).stride(65536).build(); Tensor x = Tensor.zeros(1, 8, 2)) {
            for (int i = 0; i < 16; i++) x.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, i - 7.5f);
            try (Tensor y = deconv.forward(x); Tensor onednn = deconv.forward(x, Backend.ONEDNN); Tensor ref = deconv.forwardReference(x)) {
                assertEquals(List.of(1L, 1L, 65539L), boxed(y.shape()));
                assertTrue(java.util.Arrays.equals(ref.toFloatArray(), y.toFloatArray()), "AUTO differs from the reference");
                assertTrue(java.util.Arrays.equals(ref.toFloatArray(), onednn.toFloatArray()), "ONEDNN differs from the reference");
            }
        }
    }

    @ParameterizedTest(name = "{index}: {0}")
    @MethodSource("invalid")
    void invalidConfigurationOrInputIsRejected(String what, Class<? extends RuntimeException> type, Executable action, List<String> fragments) {
        RuntimeException e = assertThrows(type, action, what);
        for (String f : fragments) {
            assertTrue(e.getMessage() != null && e.getMessage().contains(f),
                    what + ": message should contain \"" + f + "\", got: " + e.getMessage());
        }
    }

    @Test
    void theTableHasAtLeastFiftyCases() {
        assertTrue(invalid().count() >= 50, "expected >= 50 invalid cases, got " + invalid().count());
    }

    @Test
    void toStringMatchesPyTorchRepr() {
        // Strings printed by torch 1.13 for the same configurations.
        try (Conv2d a = Conv2d.builder(3, 8, 3).stride(2).padding(1).build();
             Conv1d b = Conv1d.builder(4, 6, 3).dilation(2).groups(2).bias(false).build();
             ConvTranspose2d c = ConvTranspose2d.builder(3, 2, 3, 2).stride(2).padding(1).outputPadding(1).build();
             Conv1d d = Conv1d.builder(3, 4, 4).padding("same").dilation(2).build();
             Conv2d e = Conv2d.builder(2, 3, 3).padding(2, 1).paddingMode(PaddingMode.REFLECT).build()) {
            assertEquals("Conv2d(3, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1))", a.toString());
            assertEquals("Conv1d(4, 6, kernel_size=(3,), stride=(1,), dilation=(2,), groups=2, bias=False)", b.toString());
            assertEquals("ConvTranspose2d(3, 2, kernel_size=(3, 2), stride=(2, 2), padding=(1, 1), output_padding=(1, 1))", c.toString());
            assertEquals("Conv1d(3, 4, kernel_size=(4,), stride=(1,), padding=same, dilation=(2,))", d.toString());
            assertEquals("Conv2d(2, 3, kernel_size=(3, 3), stride=(1, 1), padding=(2, 1), padding_mode=reflect)", e.toString());
        }
    }

    @Test
    void oneChannelOneWideStridedOutputMatchesPyTorch() {
        // oneDNN 3.13's brg_conv_fwd got this wrong (scripts/fuzz --seed 7 --family Conv2d --case 3867); it now
        // runs on the reference. Expected values printed by torch 1.13:
        //   x = torch.arange(77.).reshape(1, 1, 11, 7) / 10 - 3; w = torch.tensor([[[[1., -2., 3., -4., 5.]]]])
        //   F.conv2d(x, w, torch.tensor([0.5]), stride=(1, 3)).flatten()
        float[] expected = {-7.3f, -5.2f, -3.1f, -1.0f, 1.1f, 3.2f, 5.3f, 7.4f, 9.5f, 11.6f, 13.7f};
        float[] x = new float[77];
        for (int i = 0; i < 77; i++) x[i] = i / 10f - 3f;
        try (Conv2d conv = Conv2d.builder(1, 1, 1, 5).stride(1, 3).build(); Tensor in = Tensor.of(x, 1, 1, 11, 7)) {
            float[] w = {1, -2, 3, -4, 5};
            java.lang.foreign.MemorySegment.copy(w, 0, conv.weight().segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT_UNALIGNED, 0, 5);
            conv.bias().setFloat(0.5f, 0);
            for (Backend b : new Backend[] {Backend.AUTO, Backend.ONEDNN, Backend.REFERENCE}) {
                try (Tensor y = conv.forward(in, b)) {
                    float[] got = y.toFloatArray();
                    for (int i = 0; i < expected.length; i++) assertEquals(expected[i], got[i], 1e-4, b + " output " + i);
                }
            }
            var e = assertThrows(IllegalArgumentException.class, () -> conv.implementation(1, 1, 11, 7));
            assertTrue(e.getMessage().contains("runs on the reference"), e.getMessage());
        }
    }

    @Test
    void toStringShowsOurExtensions() {
        try (Conv1d causal = Conv1d.builder(2, 2, 3).dilation(2).causal().build();
             Conv2d asym = Conv2d.builder(1, 1, 3).padding(new int[] {0, 1}, new int[] {1, 2}).build()) {
            assertEquals("Conv1d(2, 2, kernel_size=(3,), stride=(1,), causal=True, dilation=(2,))", causal.toString());
            assertEquals("Conv2d(1, 1, kernel_size=(3, 3), stride=(1, 1), padding=((0, 1), (1, 2)))", asym.toString());
        }
    }

    @Test
    void parametersUseStateDictNamesAndPyTorchLayouts() {
        try (Conv2d conv = Conv2d.builder(4, 6, 3, 2).groups(2).build();
             ConvTranspose1d deconv = ConvTranspose1d.builder(4, 6, 5).groups(2).bias(false).build()) {
            assertEquals(List.of("weight", "bias"), List.copyOf(conv.parameters().keySet()));
            assertEquals(List.of(6L, 2L, 3L, 2L), boxed(conv.weight().shape()));
            assertEquals(List.of(6L), boxed(conv.bias().shape()));
            assertEquals(List.of("weight"), List.copyOf(deconv.parameters().keySet()));
            assertEquals(List.of(4L, 3L, 5L), boxed(deconv.weight().shape()));
        }
    }

    private static List<Long> boxed(long[] v) {
        return java.util.Arrays.stream(v).boxed().toList();
    }
}
