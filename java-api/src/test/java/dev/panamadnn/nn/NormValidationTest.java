package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * Invalid configurations and inputs of the normalization and residual layers: each fails in Java,
 * before any native call, with the expected exception type and a message naming the layer, the
 * expected and the actual value. Also the PyTorch reprs and state_dict names.
 */
class NormValidationTest {
    private static final Class<IllegalArgumentException> IAE = IllegalArgumentException.class;
    private static final Class<IllegalStateException> ISE = IllegalStateException.class;

    private static Arguments bad(String what, Class<? extends RuntimeException> type, Executable action, String... fragments) {
        return Arguments.of(what, type, action, List.of(fragments));
    }

    private static Executable forward(Supplier<? extends Layer> layer, long... shape) {
        return () -> {
            try (Layer l = layer.get(); Tensor x = Tensor.zeros(shape); Tensor y = l.forward(x)) {
                y.shape();
            }
        };
    }

    private static Executable reference(Supplier<? extends Layer> layer, long... shape) {
        return () -> {
            try (Layer l = layer.get(); Tensor x = Tensor.zeros(shape); Tensor y = l.forwardReference(x)) {
                y.shape();
            }
        };
    }

    static Stream<Arguments> invalid() {
        return Stream.of(
                bad("BatchNorm1d zero features", IAE, () -> new BatchNorm1d(0), "BatchNorm1d", "num_features must be >= 1", "got 0"),
                bad("BatchNorm2d negative features", IAE, () -> new BatchNorm2d(-3), "BatchNorm2d", ">= 1", "got -3"),
                bad("BatchNorm2d eps 0", IAE, () -> new BatchNorm2d(3, 0, true), "BatchNorm2d", "eps", "> 0", "got 0.0"),
                bad("BatchNorm1d eps negative", IAE, () -> new BatchNorm1d(3, -1e-5, true), "BatchNorm1d", "eps", "got -1.0E-5"),
                bad("BatchNorm2d eps NaN", IAE, () -> new BatchNorm2d(3, Double.NaN, true), "BatchNorm2d", "eps", "NaN"),
                bad("BatchNorm2d eps infinite", IAE, () -> new BatchNorm2d(3, Double.POSITIVE_INFINITY, false), "eps", "Infinity"),
                bad("BatchNorm1d rank 4", IAE, forward(() -> new BatchNorm1d(3), 2, 3, 4, 4), "BatchNorm1d(3", "2-D [N, C] or 3-D", "rank 4"),
                bad("BatchNorm1d rank 1", IAE, forward(() -> new BatchNorm1d(3), 3), "BatchNorm1d", "rank 1"),
                bad("BatchNorm2d rank 3", IAE, forward(() -> new BatchNorm2d(3), 3, 4, 4), "BatchNorm2d(3", "4-D [N, C, H, W]", "rank 3"),
                bad("BatchNorm2d channel mismatch", IAE, forward(() -> new BatchNorm2d(3), 1, 4, 5, 5), "BatchNorm2d(3", "expected 3 channels", "got 4"),
                bad("BatchNorm1d channel mismatch (reference)", IAE, reference(() -> new BatchNorm1d(5), 2, 4), "expected 5 channels", "got 4"),
                bad("LayerNorm empty shape", IAE, () -> new LayerNorm(new long[0], 1e-5, true), "LayerNorm", "at least one size", "[]"),
                bad("LayerNorm zero size", IAE, () -> new LayerNorm(4, 0), "LayerNorm", ">= 1", "[4, 0]"),
                bad("LayerNorm eps 0", IAE, () -> new LayerNorm(new long[] {4}, 0.0, true), "LayerNorm", "eps", "got 0.0"),
                // issue 11: eps is checked as the float the kernels use (Double.MIN_VALUE is 0.0f: NaN natively)
                bad("LayerNorm eps 0 as a float", IAE, () -> new LayerNorm(new long[] {4}, Double.MIN_VALUE, true), "LayerNorm",
                        "eps", "> 0", "1.4E-45", "got 4.9E-324", "0.0 as a float"),
                bad("LayerNorm eps infinite as a float", IAE, () -> new LayerNorm(new long[] {4}, 1e39, true), "LayerNorm", "eps",
                        "3.4028235E38", "got 1.0E39", "Infinity as a float"),
                bad("BatchNorm2d eps 0 as a float", IAE, () -> new BatchNorm2d(3, 1e-46, true), "BatchNorm2d", "eps", "got 1.0E-46",
                        "0.0 as a float"),
                bad("BatchNorm1d eps infinite as a float", IAE, () -> new BatchNorm1d(3, 4e38, false), "BatchNorm1d", "eps",
                        "got 4.0E38", "Infinity as a float"),
                bad("LayerNorm trailing mismatch", IAE, forward(() -> new LayerNorm(4, 5), 2, 5, 4), "LayerNorm((4, 5)", "[*, 4, 5]", "[2, 5, 4]"),
                bad("LayerNorm rank too low", IAE, forward(() -> new LayerNorm(4, 5), 5), "LayerNorm", "[*, 4, 5]", "[5]"),
                bad("Add shape mismatch", IAE, () -> {
                    try (Add add = new Add(); Tensor a = Tensor.zeros(2, 3); Tensor b = Tensor.zeros(3, 2)) {
                        add.forward(a, b).close();
                    }
                }, "Add()", "same shape", "[2, 3]", "[3, 2]"),
                bad("Add null input", IAE, () -> {
                    try (Add add = new Add(); Tensor a = Tensor.zeros(2)) {
                        add.forward(a, null).close();
                    }
                }, "Add()", "second input must not be null"),
                bad("Add closed input", ISE, () -> {
                    try (Add add = new Add()) {
                        Tensor a = Tensor.zeros(2), b = Tensor.zeros(2);
                        b.close();
                        add.forward(a, b).close();
                    }
                }, "Add()", "second input", "freed"),
                bad("Add non-f32", IAE, () -> {
                    try (Add add = new Add(); Arena arena = Arena.ofConfined(); Tensor a = Tensor.zeros(2)) {
                        add.forward(Tensor.allocate(arena, DataType.I32, 2), a).close();
                    }
                }, "Add()", "F32", "I32"),
                bad("closed Add", ISE, () -> {
                    Add add = new Add();
                    add.close();
                    try (Tensor a = Tensor.zeros(2)) {
                        add.forward(a, a).close();
                    }
                }, "Add() is closed"),
                bad("BatchNorm2d non-f32 input", IAE, () -> {
                    try (BatchNorm2d bn = new BatchNorm2d(2); Arena arena = Arena.ofConfined()) {
                        bn.forward(Tensor.allocate(arena, DataType.BF16, 1, 2, 2, 2)).close();
                    }
                }, "BatchNorm2d(2", "F32", "BF16"),
                bad("LayerNorm freed input", ISE, () -> {
                    try (LayerNorm ln = new LayerNorm(3)) {
                        Tensor x = Tensor.zeros(2, 3);
                        x.close();
                        ln.forward(x).close();
                    }
                }, "LayerNorm((3,)", "freed"),
                bad("closed BatchNorm1d", ISE, () -> {
                    BatchNorm1d bn = new BatchNorm1d(2);
                    bn.close();
                    try (Tensor x = Tensor.zeros(1, 2)) {
                        bn.forward(x).close();
                    }
                }, "BatchNorm1d(2", "is closed"),
                bad("Residual null f", IAE, () -> new Residual(null), "Residual", "f must not be null"),
                bad("Residual null projection", IAE, () -> new Residual(new ReLU(), null), "Residual", "projection must not be null"),
                bad("Residual identity shape change", IAE, forward(() -> new Residual(new Linear(4, 6, true)), 2, 4),
                        "Residual", "main path gives [2, 6]", "identity shortcut gives [2, 4]"),
                bad("Residual projection mismatch", IAE, forward(() -> new Residual(Conv2d.builder(3, 8, 3).stride(2).padding(1).build(),
                        Conv2d.builder(3, 8, 1).build()), 1, 3, 8, 8), "Residual", "[1, 8, 4, 4]", "[1, 8, 8, 8]"),
                bad("Residual child rejects input", IAE, forward(() -> new Residual(new LayerNorm(4)), 2, 5), "Residual, f", "LayerNorm", "[2, 5]"),
                bad("BasicBlock zero planes", IAE, () -> new BasicBlock(4, 0), "BasicBlock", "planes must be >= 1", "got 0"),
                bad("BasicBlock zero stride", IAE, () -> new BasicBlock(4, 4, 0, null), "BasicBlock", "stride must be >= 1", "got 0"),
                bad("BasicBlock stride 2 without downsample", IAE, () -> new BasicBlock(4, 4, 2, null), "BasicBlock", "identity shortcut", "stride 2"),
                bad("BasicBlock planes change without downsample", IAE, () -> new BasicBlock(4, 8), "BasicBlock", "inplanes 4", "planes 8"),
                bad("BasicBlock channel mismatch", IAE, forward(() -> new BasicBlock(4, 4), 1, 3, 5, 5), "BasicBlock, conv1", "expected 4 input channels", "got 3"),
                bad("BasicBlock rank 2", IAE, forward(() -> new BasicBlock(4, 4), 4, 4), "BasicBlock, conv1", "rank 2"),
                bad("BasicBlock wrong downsample", IAE, forward(() -> new BasicBlock(4, 8, 2, BasicBlock.downsample(4, 8, 1)), 1, 4, 6, 6),
                        "BasicBlock", "main path gives [1, 8, 3, 3]", "shortcut gives [1, 8, 6, 6]"),
                bad("Bottleneck zero width", IAE, () -> new Bottleneck(4, 1, 1, Bottleneck.downsample(4, 4, 1), 1, 32, 1), "Bottleneck", "width", "got 0"),
                bad("Bottleneck zero groups", IAE, () -> new Bottleneck(16, 4, 1, null, 0, 64, 1), "Bottleneck", "groups must be >= 1", "got 0"),
                bad("Bottleneck zero dilation", IAE, () -> new Bottleneck(16, 4, 1, null, 1, 64, 0), "Bottleneck", "dilation must be >= 1"),
                bad("Bottleneck identity needs planes*4", IAE, () -> new Bottleneck(8, 4), "Bottleneck", "planes*4 = 16", "inplanes 8"),
                bad("Residual kernel larger than input", IAE, forward(() -> new Residual(Conv2d.builder(3, 3, 5).build()), 1, 3, 2, 2),
                        "Residual, f", "Conv2d", "larger than padded input"),
                bad("closed Bottleneck", ISE, () -> {
                    Bottleneck b = new Bottleneck(16, 4);
                    b.close();
                    try (Tensor x = Tensor.zeros(1, 16, 3, 3)) {
                        b.forward(x).close();
                    }
                }, "Bottleneck", "closed"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalid")
    void rejected(String what, Class<? extends RuntimeException> type, Executable action, List<String> fragments) {
        RuntimeException e = assertThrows(type, action, what);
        for (String f : fragments) assertTrue(e.getMessage().contains(f), what + ": message lacks '" + f + "': " + e.getMessage());
    }

    @Test
    void atLeastTwentyRows() {
        assertTrue(invalid().count() >= 20);
    }

    @Test
    void reprsAreTorchs() {
        try (BatchNorm2d bn = new BatchNorm2d(64); BatchNorm1d bn1 = new BatchNorm1d(3, 1e-3, false);
             LayerNorm ln = new LayerNorm(new long[] {4, 5}, 1e-6, true); LayerNorm ln1 = new LayerNorm(10)) {
            assertEquals("BatchNorm2d(64, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)", bn.toString());
            assertEquals("BatchNorm1d(3, eps=0.001, momentum=0.1, affine=False, track_running_stats=True)", bn1.toString());
            assertEquals("LayerNorm((4, 5), eps=1e-06, elementwise_affine=True)", ln.toString());
            assertEquals("LayerNorm((10,), eps=1e-05, elementwise_affine=True)", ln1.toString());
        }
        try (BasicBlock b = new BasicBlock(4, 8, 2, BasicBlock.downsample(4, 8, 2))) {
            assertEquals("""
                    BasicBlock(
                      (conv1): Conv2d(4, 8, kernel_size=(3, 3), stride=(2, 2), padding=(1, 1), bias=False)
                      (bn1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
                      (relu): ReLU()
                      (conv2): Conv2d(8, 8, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1), bias=False)
                      (bn2): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
                      (downsample): Sequential(
                        (0): Conv2d(4, 8, kernel_size=(1, 1), stride=(2, 2), bias=False)
                        (1): BatchNorm2d(8, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)
                      )
                    )""", b.toString());
        }
        assertEquals("1e-05", Modules.pyFloat(1e-5));
        assertEquals("0.0001", Modules.pyFloat(1e-4));
        assertEquals("1.5e-07", Modules.pyFloat(1.5e-7));
        assertEquals("1.0", Modules.pyFloat(1));
        assertEquals("0.1", Modules.pyFloat(0.1));
    }

    @Test
    void stateDictNamesAreTorchvisions() {
        try (Bottleneck b = new Bottleneck(16, 4, 2, Bottleneck.downsample(16, 16, 2), 2, 32, 1);
             Residual r = new Residual(new Sequential(new Linear(3, 4, true), new ReLU()), new Linear(3, 4, false))) {
            String bn = "weight, bias, running_mean, running_var, num_batches_tracked";
            assertEquals(List.of(("conv1.weight, " + bn.replaceAll("(\\w+)", "bn1.$1") + ", conv2.weight, " + bn.replaceAll("(\\w+)", "bn2.$1")
                    + ", conv3.weight, " + bn.replaceAll("(\\w+)", "bn3.$1") + ", downsample.0.weight, "
                    + bn.replaceAll("(\\w+)", "downsample.1.$1")).split(", ")), List.copyOf(b.parameters().keySet()));
            assertEquals(4, b.width());
            assertEquals(DataType.I64, b.parameters().get("bn1.num_batches_tracked").dtype());
            assertEquals(0, b.parameters().get("bn1.num_batches_tracked").rank());
            assertEquals(List.of("f.0.weight", "f.0.bias", "projection.weight"), List.copyOf(r.parameters().keySet()));
        }
        try (LayerNorm ln = new LayerNorm(new long[] {3}, 1e-5, false)) {
            assertTrue(ln.parameters().isEmpty());
        }
    }
}
