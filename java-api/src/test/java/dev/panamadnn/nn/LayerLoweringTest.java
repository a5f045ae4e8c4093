package dev.panamadnn.nn;

import static dev.panamadnn.nn.LoweringAssertions.constant;
import static dev.panamadnn.nn.LoweringAssertions.lower;
import static dev.panamadnn.nn.LoweringAssertions.lowerAt;
import static dev.panamadnn.nn.LoweringAssertions.names;
import static dev.panamadnn.nn.LoweringAssertions.node;
import static dev.panamadnn.nn.LoweringAssertions.only;
import static dev.panamadnn.nn.LoweringAssertions.ops;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphException;
import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Each layer's {@code lower}: the ops, node names, inputs and attributes it emits, on a symbolic
 * batch {@code N}; {@link LoweringAssertions#lower} also checks the inferred output shape against
 * the layer's outputShape at N = 1, 3, 8 and that every initializer is the layer's own tensor.
 * Attribute values are PyTorch's hyperparameters in ONNX's form (pads {@code [begin..., end...]}).
 */
class LayerLoweringTest {
    private static void assertInts(long[] expected, Node n, String attribute) {
        assertArrayEquals(expected, n.attributes().integers(attribute), n.label() + " " + attribute);
    }

    // ---- convolutions ---------------------------------------------------------------------

    @Test
    void conv2dIsOneConvNodeWithWeightAndBiasUnderTheirStateDictNames() {
        try (Conv2d conv = Conv2d.builder(3, 8, 3).stride(2).padding(1).build()) {
            Graph g = lowerAt(conv, Shape.batched("N", 3, 32, 32), "features.0");
            Node n = only(g, "Conv");
            assertEquals("features.0", n.name());
            assertEquals(List.of("input", "features.0.weight", "features.0.bias"), n.inputs());
            assertInts(new long[] {3, 3}, n, "kernel_shape");
            assertInts(new long[] {2, 2}, n, "strides");
            assertInts(new long[] {1, 1, 1, 1}, n, "pads");
            assertInts(new long[] {1, 1}, n, "dilations");
            assertEquals(1, n.attributes().integer("group"));
            assertEquals(Shape.of(Dim.symbol("N"), Dim.of(8), Dim.of(16), Dim.of(16)), g.value(n.output()).shape());
            assertSame(conv.weight(), g.initializers().get("features.0.weight"));
            lower(conv, Shape.batched("N", 3, 32, 32));
        }
    }

    @Test
    void conv2dWithoutBiasGroupedDilatedAndRectangular() {
        try (Conv2d conv = Conv2d.builder(4, 6, 3, 2).stride(1, 2).padding(2, 1).dilation(2, 1).groups(2).bias(false).build()) {
            Graph g = lower(conv, Shape.batched("N", 4, 11, 9));
            Node n = only(g, "Conv");
            assertEquals(List.of("input", "weight"), n.inputs());
            assertInts(new long[] {3, 2}, n, "kernel_shape");
            assertInts(new long[] {1, 2}, n, "strides");
            assertInts(new long[] {2, 1, 2, 1}, n, "pads");
            assertInts(new long[] {2, 1}, n, "dilations");
            assertEquals(2, n.attributes().integer("group"));
        }
    }

    @Test
    void paddingSameWithAnEvenKernelPutsTheOddPadAtTheEnd() {
        // PyTorch: total = dilation * (k - 1) = 3 -> 1 before, 2 after, on both axes
        try (Conv2d conv = Conv2d.builder(2, 2, 4).padding("same").build()) {
            Graph g = lower(conv, Shape.batched("N", 2, 7, 6));
            assertInts(new long[] {1, 1, 2, 2}, only(g, "Conv"), "pads");
            assertEquals(Shape.of(Dim.symbol("N"), Dim.of(2), Dim.of(7), Dim.of(6)), g.value(g.outputs().get(0)).shape());
        }
    }

    @Test
    void causalConv1dPadsTheLeftOnly() {
        try (Conv1d conv = Conv1d.builder(2, 3, 3).causal().dilation(2).build()) {
            Graph g = lower(conv, Shape.batched("N", 2, 10));
            Node n = only(g, "Conv");
            assertInts(new long[] {4, 0}, n, "pads");   // (k - 1) * dilation = 4 on the left
            assertInts(new long[] {2}, n, "dilations");
        }
    }

    @Test
    void asymmetricConv1dPadding() {
        try (Conv1d conv = Conv1d.builder(2, 3, 3).padding(new int[] {2}, new int[] {0}).stride(2).build()) {
            Graph g = lower(conv, Shape.batched("N", 2, 9));
            assertInts(new long[] {2, 0}, only(g, "Conv"), "pads");
            assertInts(new long[] {2}, only(g, "Conv"), "strides");
        }
    }

    @Test
    void paddingModesBecomeAPadNodeBeforeAConvWithoutPadding() {
        String[][] modes = {{"REFLECT", "reflect"}, {"REPLICATE", "edge"}, {"CIRCULAR", "wrap"}};
        for (String[] m : modes) {
            try (Conv2d conv = Conv2d.builder(2, 3, 3).padding(1, 2).paddingMode(PaddingMode.valueOf(m[0])).build()) {
                Graph g = lower(conv, Shape.batched("N", 2, 6, 5));
                assertEquals(List.of("Pad", "Conv"), ops(g), m[0]);
                Node pad = only(g, "Pad"), c = only(g, "Conv");
                assertEquals(List.of("pad", "conv"), names(g));
                assertEquals(m[1], pad.attributes().string("mode"));
                assertArrayEquals(new long[] {0, 0, 1, 2, 0, 0, 1, 2}, constant(g, pad.inputs().get(1)), m[0] + " pads");
                assertInts(new long[] {0, 0, 0, 0}, c, "pads");
                assertEquals(pad.output(), c.inputs().get(0));
            }
        }
    }

    @Test
    void reflectPaddingAsWideAsTheInputIsRefusedAsForwardRefusesIt() {
        try (Conv1d conv = Conv1d.builder(1, 1, 3).padding(4).paddingMode(PaddingMode.REFLECT).build()) {
            GraphException e = assertThrows(GraphException.class, () -> Graph.lower(conv, Shape.batched("N", 1, 4)));
            assertTrue(e.getMessage().contains("padding_mode reflect needs padding <= 3"), e.getMessage());
        }
    }

    @Test
    void aZeroPaddingWithWindowsWhollyInItIsAnExplicitPadAsInForward() {
        // ConvNd's own example: kernel 1, stride 3, padding (2, 1) on length 1: window 0 lies in the left padding
        try (Conv1d conv = Conv1d.builder(4, 1, 1).stride(3).padding(new int[] {2}, new int[] {1}).build()) {
            Graph g = lower(conv, Shape.batched("N", 4, 1));
            assertEquals(List.of("Pad", "Conv"), ops(g));
            Node pad = only(g, "Pad");
            assertEquals("constant", pad.attributes().string("mode"));
            assertArrayEquals(new long[] {0, 0, 2, 0, 0, 1}, constant(g, pad.inputs().get(1)));
            assertInts(new long[] {0, 0}, only(g, "Conv"), "pads");
        }
        try (Conv1d ordinary = Conv1d.builder(4, 1, 3).padding(1).build()) {
            assertEquals(List.of("Conv"), ops(lower(ordinary, Shape.batched("N", 4, 5))));
        }
    }

    @Test
    void anUnbatchedInputRunsAsABatchOfOne() {
        try (Conv2d conv = new Conv2d(3, 4, 3)) {
            Graph g = lower(conv, Shape.of(3, 8, 8));
            assertEquals(List.of("Reshape", "Conv", "Reshape"), ops(g));
            assertEquals(List.of("unsqueeze", "conv", "squeeze"), names(g));
            assertArrayEquals(new long[] {1, 3, 8, 8}, constant(g, node(g, "unsqueeze").inputs().get(1)));
            assertArrayEquals(new long[] {4, 6, 6}, constant(g, node(g, "squeeze").inputs().get(1)));
        }
    }

    @Test
    void convTranspose2dCarriesOutputPaddingGroupsAndDilation() {
        try (ConvTranspose2d t = ConvTranspose2d.builder(4, 6, 3).stride(2).padding(1).outputPadding(1).dilation(2).groups(2).build()) {
            Graph g = lower(t, Shape.batched("N", 4, 5, 7));
            Node n = only(g, "ConvTranspose");
            assertEquals(List.of("input", "weight", "bias"), n.inputs());
            assertInts(new long[] {3, 3}, n, "kernel_shape");
            assertInts(new long[] {2, 2}, n, "strides");
            assertInts(new long[] {1, 1, 1, 1}, n, "pads");
            assertInts(new long[] {2, 2}, n, "dilations");
            assertInts(new long[] {1, 1}, n, "output_padding");
            assertEquals(2, n.attributes().integer("group"));
        }
        try (ConvTranspose1d t = ConvTranspose1d.builder(3, 2, 4).stride(3).outputPadding(2).bias(false).build()) {
            Node n = only(lower(t, Shape.batched("N", 3, 6)), "ConvTranspose");
            assertInts(new long[] {2}, n, "output_padding");
            assertEquals(2, n.inputs().size());
        }
    }

    @Test
    void wideConv1dIsItsConv1dWithPaddingMMinusOne() {
        try (WideConv1d wide = WideConv1d.builder(4, 8, 3).groups(4).build()) {
            Graph g = lower(wide, Shape.batched("N", 4, 7));
            Node n = only(g, "Conv");
            assertEquals(1, g.nodes().size());
            assertInts(new long[] {2, 2}, n, "pads");
            assertEquals(4, n.attributes().integer("group"));
            assertSame(wide.weight(), g.initializers().get("weight"));
        }
    }

    // ---- normalisation --------------------------------------------------------------------

    @Test
    void batchNorm2dTakesItsFourTensorsAndEpsilon() {
        try (BatchNorm2d bn = new BatchNorm2d(5, 1e-3, true)) {
            Graph g = lowerAt(bn, Shape.batched("N", 5, 4, 4), "bn1");
            Node n = only(g, "BatchNormalization");
            assertEquals(List.of("input", "bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"), n.inputs());
            assertEquals(1e-3, n.attributes().real("epsilon"));
            assertTrue(!g.initializers().containsKey("bn1.num_batches_tracked"), "num_batches_tracked is no input");
            lower(bn, Shape.batched("N", 5, 4, 4));
        }
    }

    @Test
    void batchNorm1dWithoutAffineLeavesScaleAndShiftAbsent() {
        try (BatchNorm1d bn = new BatchNorm1d(3, 1e-5, false)) {
            for (Shape s : new Shape[] {Shape.batched("N", 3), Shape.batched("N", 3, 6)}) {
                Node n = only(lower(bn, s), "BatchNormalization");
                assertEquals(List.of("input", "", "", "running_mean", "running_var"), n.inputs());
            }
        }
    }

    @Test
    void layerNormNormalisesTheLastDimsWithANegativeAxis() {
        try (LayerNorm ln = new LayerNorm(new long[] {4, 5}, 1e-6, true); LayerNorm plain = new LayerNorm(new long[] {5}, 1e-5, false)) {
            Node n = only(lower(ln, Shape.batched("N", 3, 4, 5)), "LayerNormalization");
            assertEquals(List.of("input", "weight", "bias"), n.inputs());
            assertEquals(-2, n.attributes().integer("axis"));
            assertEquals(1e-6, n.attributes().real("epsilon"));
            Node p = only(lower(plain, Shape.batched("N", 5)), "LayerNormalization");
            assertEquals(List.of("input", "", ""), p.inputs());
            assertEquals(-1, p.attributes().integer("axis"));
        }
    }

    // ---- activations ----------------------------------------------------------------------

    @Test
    void activationsAreTheirOnnxOps() {
        record Case(Layer layer, String op, Attributes attributes) {}
        List<Case> cases = List.of(
                new Case(new ReLU(), "Relu", Attributes.empty()),
                new Case(new LeakyReLU(0.2f), "LeakyRelu", Attributes.of("alpha", (double) 0.2f)),
                new Case(new LeakyReLU(0f), "LeakyRelu", Attributes.of("alpha", 0.0)),   // -0.0 for negatives, unlike Relu
                new Case(new Sigmoid(), "Sigmoid", Attributes.empty()),
                new Case(new Tanh(), "Tanh", Attributes.empty()),
                new Case(new GELU(), "Gelu", Attributes.of("approximate", "none")),
                new Case(new GELU("tanh"), "Gelu", Attributes.of("approximate", "tanh")),
                new Case(new SiLU(), "Silu", Attributes.empty()),
                new Case(new ELU(0.5f), "Elu", Attributes.of("alpha", 0.5)),
                new Case(new Softmax(1), "Softmax", Attributes.of("axis", 1L)),
                new Case(new Softmax(-1), "Softmax", Attributes.of("axis", -1L)));
        try {
            for (Case c : cases) {
                Graph g = lowerAt(c.layer(), Shape.batched("N", 4, 6), "act");
                Node n = only(g, c.op());
                assertEquals("act", n.name(), c.layer().toString());
                assertEquals(c.attributes().toString(), n.attributes().toString(), c.layer().toString());
                lower(c.layer(), Shape.batched("N", 4, 6));
            }
        } finally {
            cases.forEach(c -> c.layer().close());
        }
    }

    @Test
    void softmaxOfARankZeroInputIsTheLayerNode() {
        try (Softmax s = new Softmax(0)) {
            Node n = only(lower(s, Shape.of(new long[0])), "Layer");
            assertSame(s, n.attributes().module("module"));
        }
    }

    // ---- pooling --------------------------------------------------------------------------

    @Test
    void maxPoolCarriesDilationAndCeilMode() {
        try (MaxPool2d p = new MaxPool2d(new int[] {3, 2}, new int[] {2, 1}, new int[] {1, 0}, new int[] {2, 1}, true);
             MaxPool1d q = new MaxPool1d(3, 2, 1, 1, false)) {
            Node n = only(lowerAt(p, Shape.batched("N", 2, 9, 6), "maxpool"), "MaxPool");
            assertEquals("maxpool", n.name());
            assertInts(new long[] {3, 2}, n, "kernel_shape");
            assertInts(new long[] {2, 1}, n, "strides");
            assertInts(new long[] {1, 0, 1, 0}, n, "pads");
            assertInts(new long[] {2, 1}, n, "dilations");
            assertEquals(1, n.attributes().integer("ceil_mode"));
            lower(p, Shape.batched("N", 2, 9, 6));
            Node m = only(lower(q, Shape.batched("N", 2, 10)), "MaxPool");
            assertInts(new long[] {1, 1}, m, "pads");
            assertEquals(0, m.attributes().integer("ceil_mode"));
        }
    }

    @Test
    void averagePoolAlwaysStatesCountIncludePad() {
        // ONNX's default count_include_pad is 0, PyTorch's True: the attribute is always written
        try (AvgPool2d a = new AvgPool2d(3, 2, 1); AvgPool2d b = new AvgPool2d(3, 2, 1, true, false); AvgPool1d c = new AvgPool1d(2)) {
            Node na = only(lower(a, Shape.batched("N", 3, 8, 8)), "AveragePool");
            assertEquals(1, na.attributes().integer("count_include_pad"));
            assertEquals(0, na.attributes().integer("ceil_mode"));
            assertTrue(!na.attributes().has("dilations"));
            Node nb = only(lower(b, Shape.batched("N", 3, 8, 8)), "AveragePool");
            assertEquals(0, nb.attributes().integer("count_include_pad"));
            assertEquals(1, nb.attributes().integer("ceil_mode"));
            Node nc = only(lower(c, Shape.batched("N", 3, 7)), "AveragePool");
            assertInts(new long[] {2}, nc, "kernel_shape");
            assertInts(new long[] {2}, nc, "strides");
            assertInts(new long[] {0, 0}, nc, "pads");
        }
    }

    @Test
    void aCeilModeWindowPastThePaddedInputStillGivesAnOutputAsInPyTorch() {
        // torch.nn.MaxPool2d(2, ceil_mode=True)(torch.zeros(1, 1, 1, 1)).shape == [1, 1, 1, 1]; ONNX's formula agrees
        try (MaxPool2d p = new MaxPool2d(2, 2, 0, 1, true); AvgPool1d a = new AvgPool1d(3, 2, 0, true, true)) {
            assertEquals(Shape.of(Dim.symbol("N"), Dim.of(2), Dim.of(1), Dim.of(1)),
                    lower(p, Shape.batched("N", 2, 1, 1)).value("maxpool").shape());
            assertEquals(Shape.of(Dim.symbol("N"), Dim.of(2), Dim.of(1)), lower(a, Shape.batched("N", 2, 2)).value("averagepool").shape());
        }
    }

    @Test
    void anUnbatchedPoolRunsAsABatchOfOne() {
        try (MaxPool1d p = new MaxPool1d(2)) {
            assertEquals(List.of("Reshape", "MaxPool", "Reshape"), ops(lower(p, Shape.of(3, 8))));
        }
    }

    @Test
    void adaptivePoolsCarryTheOutputSize() {
        try (AdaptiveAvgPool2d a = new AdaptiveAvgPool2d(5, 7); AdaptiveAvgPool1d b = new AdaptiveAvgPool1d(3);
             AdaptiveMaxPool2d c = new AdaptiveMaxPool2d(3)) {
            assertInts(new long[] {5, 7}, only(lower(a, Shape.batched("N", 2, 10, 9)), "AdaptiveAvgPool"), "output_size");
            assertInts(new long[] {3}, only(lower(b, Shape.batched("N", 2, 10)), "AdaptiveAvgPool"), "output_size");
            assertInts(new long[] {3, 3}, only(lower(c, Shape.batched("N", 2, 7, 8)), "AdaptiveMaxPool"), "output_size");   // non-divisible
        }
    }

    // ---- shape ----------------------------------------------------------------------------

    @Test
    void flattenFromDim1ToTheEndIsOnnxFlatten() {
        try (Flatten f = new Flatten()) {
            Graph g = lower(f, Shape.batched("N", 3, 4, 5));
            Node n = only(g, "Flatten");
            assertEquals(1, n.attributes().integer("axis"));
            assertEquals(Shape.of(Dim.symbol("N"), Dim.of(60)), g.value(n.output()).shape());
        }
    }

    @Test
    void otherFlattensAreReshapesToPyTorchsShape() {
        try (Flatten all = new Flatten(0, -1); Flatten middle = new Flatten(1, 2); Flatten tail = new Flatten(-2, -1);
             Flatten none = new Flatten(2, 2)) {
            Graph g = lower(all, Shape.batched("N", 3, 4));
            assertArrayEquals(new long[] {-1}, constant(g, only(g, "Reshape").inputs().get(1)));   // [12N], 1-D as PyTorch (ONNX Flatten: 2-D)
            g = lower(middle, Shape.batched("N", 2, 3, 4));
            assertArrayEquals(new long[] {-1, 6, 4}, constant(g, only(g, "Reshape").inputs().get(1)));
            g = lower(tail, Shape.batched("N", 2, 3, 4));
            assertArrayEquals(new long[] {-1, 2, 12}, constant(g, only(g, "Reshape").inputs().get(1)));
            assertEquals(List.of("Identity"), ops(lower(none, Shape.batched("N", 2, 3, 4))));
        }
    }

    // ---- fully connected ------------------------------------------------------------------

    @Test
    void linearOnRowsIsGemmWithTransposedWeight() {
        try (Linear fc = new Linear(6, 4, true)) {
            Graph g = lowerAt(fc, Shape.batched("N", 6), "fc");
            Node n = only(g, "Gemm");
            assertEquals("fc", n.name());
            assertEquals(List.of("input", "fc.weight", "fc.bias"), n.inputs());
            assertEquals(Attributes.of("transB", 1L).toString(), n.attributes().toString());
            lower(fc, Shape.batched("N", 6));
        }
        try (Linear noBias = new Linear(6, 4, false)) {
            assertEquals(List.of("input", "weight"), only(lower(noBias, Shape.batched("N", 6)), "Gemm").inputs());
        }
    }

    @Test
    void linearsFusedActivationIsTheFollowingNode() {
        try (Linear fc = new Linear(6, 4, true, Activation.gelu("tanh"))) {
            Graph g = lowerAt(fc, Shape.batched("N", 6), "head");
            assertEquals(List.of("Gemm", "Gelu"), ops(g));
            assertEquals(List.of("head", "head.gelu"), names(g));
            assertEquals("tanh", node(g, "head.gelu").attributes().string("approximate"));
            assertEquals(List.of("head"), node(g, "head.gelu").inputs());
            lower(fc, Shape.batched("N", 6));
        }
    }

    @Test
    void linearOnOtherRanksReshapesToRowsAndBack() {
        try (Linear fc = new Linear(6, 4, true, Activation.relu())) {
            Graph g = lower(fc, Shape.batched("N", 5, 6));
            assertEquals(List.of("Reshape", "Gemm", "Relu", "Reshape"), ops(g));
            assertArrayEquals(new long[] {-1, 6}, constant(g, node(g, "flatten").inputs().get(1)));
            assertArrayEquals(new long[] {-1, 5, 4}, constant(g, node(g, "unflatten").inputs().get(1)));
            assertEquals(Shape.of(new Dim(5, "N"), Dim.of(6)), g.value("flatten").shape());
            Graph one = lower(fc, Shape.of(6));
            assertEquals(List.of("Reshape", "Gemm", "Relu", "Reshape"), ops(one));
            assertEquals(Shape.of(4), one.value(one.outputs().get(0)).shape());
        }
    }

    // ---- Java kernels and misfits ---------------------------------------------------------

    @Test
    void javaKernelLayersAreLayerNodesRunningThemselves() {
        try (KMaxPool1d k = new KMaxPool1d(3); Folding f = new Folding()) {
            Graph g = lowerAt(f, Shape.batched("N", 4, 7), "dcnn.1");
            Node n = only(g, "Layer");
            assertEquals("dcnn.1", n.name());
            assertSame(f, n.attributes().module("module"));
            assertEquals(Shape.of(Dim.symbol("N"), Dim.of(2), Dim.of(7)), g.value("dcnn.1").shape());
            lower(f, Shape.batched("N", 4, 7));
            Graph kg = lower(k, Shape.batched("N", 4, 7));
            assertSame(k, only(kg, "Layer").attributes().module("module"));
            assertEquals(Shape.of(Dim.symbol("N"), Dim.of(4), Dim.of(3)), kg.value(kg.outputs().get(0)).shape());
        }
    }

    @Test
    void anInputTheLayerRejectsIsAGraphExceptionInTheLayersWords() {
        try (Conv2d conv = new Conv2d(3, 8, 3)) {
            GraphException e = assertThrows(GraphException.class, () -> lowerAt(conv, Shape.batched("N", 4, 8, 8), "stem.conv"));
            assertTrue(e.getMessage().startsWith("stem.conv on input: f32[N, 4, 8, 8]: Conv2d: expected 3 input channels"), e.getMessage());
        }
    }
}
