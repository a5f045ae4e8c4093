package dev.panamadnn.graph;

import static dev.panamadnn.graph.GraphTesting.infer;
import static dev.panamadnn.graph.GraphTesting.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Shape inference of the convolution, normalization and pooling ops, with a symbolic batch N.
 * Every expectation comes from {@code scripts/goldens/generate_graph_shapes.py} (PyTorch and/or
 * ONNX's shape inference at N = 2 and 3); the comment names its case and the call behind it.
 * Weights are graph inputs here (their shapes are all that matters to inference).
 */
class ConvPoolShapesTest {
    private static Attributes attrs(Object... kv) {
        return Attributes.of(kv);
    }

    private static long[] l(long... v) {
        return v;
    }

    // ---- Conv ------------------------------------------------------------------------------

    @Test
    void conv2dStrideAndPadding() {
        // conv2d_stride_pad: F.conv2d(zeros(n,3,32,32), zeros(8,3,3,3), stride=2, padding=1)
        assertEquals(shape("[N, 8, 16, 16]"), infer("Conv", attrs("strides", l(2, 2), "pads", l(1, 1, 1, 1)),
                List.of("[N, 3, 32, 32]", "[8, 3, 3, 3]")));
    }

    @Test
    void conv1dAsymmetricPadsStrideDilation() {
        // conv1d_asym_pads_stride_dilation: F.conv1d(F.pad(zeros(n,4,20), (2,1)), zeros(6,4,5), stride=3, dilation=2)
        assertEquals(shape("[N, 6, 5]"), infer("Conv", attrs("strides", l(3), "pads", l(2, 1), "dilations", l(2)),
                List.of("[N, 4, 20]", "[6, 4, 5]")));
    }

    @Test
    void conv2dGroupsDilationAsymmetricPads() {
        // conv2d_groups_dilation_asym_pads: F.conv2d(F.pad(zeros(n,4,12,14), (0,3,1,2)), zeros(8,2,3,3),
        //     stride=(2,1), dilation=(3,2), groups=2); ONNX pads [1,0,2,3] = [top, left, bottom, right]
        assertEquals(shape("[N, 8, 5, 13]"), infer("Conv", attrs("strides", l(2, 1), "pads", l(1, 0, 2, 3), "dilations", l(3, 2),
                "group", 2), List.of("[N, 4, 12, 14]", "[8, 2, 3, 3]")));
    }

    @Test
    void conv2dDepthwise() {
        // conv2d_depthwise: F.conv2d(zeros(n,6,9,9), zeros(6,1,3,3), stride=2, groups=6)
        assertEquals(shape("[N, 6, 4, 4]"), infer("Conv", attrs("strides", l(2, 2), "group", 6),
                List.of("[N, 6, 9, 9]", "[6, 1, 3, 3]")));
    }

    @Test
    void convKernelAsLargeAsTheInputGivesOne() {
        // conv2d_kernel_equals_input: F.conv2d(zeros(n,2,5,5), zeros(3,2,5,5)); with a bias and an explicit kernel_shape
        assertEquals(shape("[N, 3, 1, 1]"), infer("Conv", attrs("kernel_shape", l(5, 5)),
                List.of("[N, 2, 5, 5]", "[3, 2, 5, 5]", "[3]")));
    }

    @Test
    void convStrideThatSkipsTheEnd() {
        // conv1d_stride_past_end: F.conv1d(zeros(n,1,7), zeros(2,1,3), stride=4)
        assertEquals(shape("[N, 2, 2]"), infer("Conv", attrs("strides", l(4)), List.of("[N, 1, 7]", "[2, 1, 3]")));
    }

    @Test
    void convTranspose1dOutputPadding() {
        // convtranspose1d_output_padding: F.conv_transpose1d(zeros(n,4,5), zeros(4,3,3), stride=2, padding=1, output_padding=1)
        assertEquals(shape("[N, 3, 10]"), infer("ConvTranspose", attrs("strides", l(2), "pads", l(1, 1), "output_padding", l(1)),
                List.of("[N, 4, 5]", "[4, 3, 3]", "[3]")));
    }

    @Test
    void convTranspose2dGroupsDilationOutputPadding() {
        // convtranspose2d_groups_dilation: F.conv_transpose2d(zeros(n,6,7,5), zeros(6,2,3,3), stride=(2,3), padding=(1,2),
        //     output_padding=(1,2), groups=3, dilation=(2,1)); W is [C_in, C_out/group, ...]
        assertEquals(shape("[N, 6, 16, 13]"), infer("ConvTranspose", attrs("strides", l(2, 3), "pads", l(1, 2, 1, 2),
                "output_padding", l(1, 2), "group", 3, "dilations", l(2, 1)), List.of("[N, 6, 7, 5]", "[6, 2, 3, 3]")));
    }

    @Test
    void convTranspose2dAsymmetricPads() {
        // convtranspose2d_asym_pads (ONNX): ConvTranspose x [n,2,4,4], w [2,3,3,3], strides [2,2], pads [0,1,2,0]
        assertEquals(shape("[N, 3, 7, 8]"), infer("ConvTranspose", attrs("strides", l(2, 2), "pads", l(0, 1, 2, 0)),
                List.of("[N, 2, 4, 4]", "[2, 3, 3, 3]")));
    }

    // ---- normalization ---------------------------------------------------------------------

    @Test
    void batchNormalizationKeepsTheShape() {
        // batchnorm_1d: F.batch_norm(zeros(n,5,7), mean[5], var[5]); ONNX BatchNormalization with scale, B, mean, var [5]
        assertEquals(shape("[N, 5, 7]"), infer("BatchNormalization", attrs("epsilon", 1e-5),
                List.of("[N, 5, 7]", "[5]", "[5]", "[5]", "[5]")));
    }

    @Test
    void batchNormalizationWithoutScaleAndBias() {
        // ours: absent scale and B mean 1 and 0 (PyTorch's affine=False); the shape is the input's, as in batchnorm_1d
        GraphBuilder b = Graph.builder("bn");
        String x = b.input("x", Shape.batched("N", 5, 7));
        String y = b.node("BatchNormalization", "bn", Attributes.empty(), x, "", "", b.input("mean", Shape.of(5)),
                b.input("var", Shape.of(5)));
        assertEquals(shape("[N, 5, 7]"), b.output(y).build().value(y).shape());
    }

    @Test
    void layerNormalizationLastAxis() {
        // layernorm_last_axis: F.layer_norm(zeros(n,6,8), [8], weight[8], bias[8]); ONNX axis=-1
        assertEquals(shape("[N, 6, 8]"), infer("LayerNormalization", attrs("axis", -1), List.of("[N, 6, 8]", "[8]", "[8]")));
    }

    @Test
    void layerNormalizationOverTwoAxes() {
        // layernorm_axis1: F.layer_norm(zeros(n,6,8), [6,8], weight[6,8]); ONNX axis=1, no B
        assertEquals(shape("[N, 6, 8]"), infer("LayerNormalization", attrs("axis", 1), List.of("[N, 6, 8]", "[6, 8]")));
    }

    @Test
    void layerNormalizationWithoutScale() {
        // ours: an absent scale means 1 (PyTorch's elementwise_affine=False); the shape is the input's, as in layernorm_last_axis
        GraphBuilder b = Graph.builder("ln");
        String x = b.input("x", Shape.batched("N", 6, 8));
        String y = b.node("LayerNormalization", "ln", Attributes.of("axis", -1L), x, "");
        assertEquals(shape("[N, 6, 8]"), b.output(y).build().value(y).shape());
    }

    // ---- pooling ---------------------------------------------------------------------------

    @Test
    void maxPoolCeilMode() {
        // maxpool2d_ceil_7: F.max_pool2d(zeros(n,1,7,7), 3, 2, 1, ceil_mode=True)
        assertEquals(shape("[N, 1, 4, 4]"), infer("MaxPool", attrs("kernel_shape", l(3, 3), "strides", l(2, 2), "pads", l(1, 1, 1, 1),
                "ceil_mode", 1), "[N, 1, 7, 7]"));
    }

    @Test
    void ceilModeDropsTheWindowThatStartsInTheRightPadding() {
        // maxpool1d_ceil_drops_window: F.max_pool1d(zeros(n,1,5), 2, 2, 1, ceil_mode=True) -> 3
        // (ceil((5+2-2)/2)+1 = 4 windows, but the 4th starts at 6 = in + pad_left: dropped. ONNX 1.12 says 4, ONNX 1.16+ 3.)
        assertEquals(shape("[N, 1, 3]"), infer("MaxPool", attrs("kernel_shape", l(2), "strides", l(2), "pads", l(1, 1), "ceil_mode", 1),
                "[N, 1, 5]"));
        // maxpool2d_ceil_drops_window_2d: F.max_pool2d(zeros(n,2,6,9), (2,3), (2,2), (1,1), ceil_mode=True)
        assertEquals(shape("[N, 2, 4, 5]"), infer("MaxPool", attrs("kernel_shape", l(2, 3), "strides", l(2, 2), "pads", l(1, 1, 1, 1),
                "ceil_mode", 1), "[N, 2, 6, 9]"));
    }

    @Test
    void ceilModeAllowsAWindowLongerThanTheInput() {
        // maxpool1d_ceil_kernel_longer_than_input: F.max_pool1d(zeros(n,1,2), 3, 2, 0, ceil_mode=True) (ONNX agrees)
        assertEquals(shape("[N, 1, 1]"), infer("MaxPool", attrs("kernel_shape", l(3), "strides", l(2), "ceil_mode", 1), "[N, 1, 2]"));
    }

    @Test
    void maxPoolDilation() {
        // maxpool2d_dilation: F.max_pool2d(zeros(n,2,10,11), (3,2), (2,3), (1,0), dilation=(2,3))
        Attributes a = attrs("kernel_shape", l(3, 2), "strides", l(2, 3), "pads", l(1, 0, 1, 0), "dilations", l(2, 3));
        assertEquals(shape("[N, 2, 4, 3]"), infer("MaxPool", a, "[N, 2, 10, 11]"));
        // maxpool2d_dilation_ceil: the same with ceil_mode=True
        assertEquals(shape("[N, 2, 5, 4]"), infer("MaxPool", a.toBuilder().put("ceil_mode", 1).build(), "[N, 2, 10, 11]"));
    }

    @Test
    void averagePoolFloor() {
        // avgpool1d_floor: F.avg_pool1d(zeros(n,3,10), 4, 3)
        assertEquals(shape("[N, 3, 3]"), infer("AveragePool", attrs("kernel_shape", l(4), "strides", l(3)), "[N, 3, 10]"));
    }

    @Test
    void averagePoolAsymmetricPadsCeil() {
        // avgpool2d_asym_pads_ceil (ONNX): AveragePool [n,3,9,8], kernel [3,3], strides [2,2], pads [0,1,1,0], ceil_mode, count_include_pad
        assertEquals(shape("[N, 3, 5, 4]"), infer("AveragePool", attrs("kernel_shape", l(3, 3), "strides", l(2, 2), "pads", l(0, 1, 1, 0),
                "ceil_mode", 1, "count_include_pad", 1), "[N, 3, 9, 8]"));
    }

    @Test
    void globalAveragePool() {
        // globalavgpool_2d: F.adaptive_avg_pool2d(zeros(n,8,5,7), 1); globalavgpool_1d: F.adaptive_avg_pool1d(zeros(n,8,5), 1)
        assertEquals(shape("[N, 8, 1, 1]"), infer("GlobalAveragePool", Attributes.empty(), "[N, 8, 5, 7]"));
        assertEquals(shape("[N, 8, 1]"), infer("GlobalAveragePool", Attributes.empty(), "[N, 8, 5]"));
        assertEquals(shape("[N, 8, 1, 1]"), infer("GlobalMaxPool", Attributes.empty(), "[N, 8, 5, 7]"));
    }

    @Test
    void adaptivePools() {
        // adaptiveavgpool2d: F.adaptive_avg_pool2d(zeros(n,3,10,7), (4,3))
        assertEquals(shape("[N, 3, 4, 3]"), infer("AdaptiveAvgPool", attrs("output_size", l(4, 3)), "[N, 3, 10, 7]"));
        // adaptiveavgpool2d_upsampling: F.adaptive_avg_pool2d(zeros(n,1,2,2), (5,5))
        assertEquals(shape("[N, 1, 5, 5]"), infer("AdaptiveAvgPool", attrs("output_size", l(5, 5)), "[N, 1, 2, 2]"));
        // adaptivemaxpool1d: F.adaptive_max_pool1d(zeros(n,3,10), 5)
        assertEquals(shape("[N, 3, 5]"), infer("AdaptiveMaxPool", attrs("output_size", l(5)), "[N, 3, 10]"));
    }
}
