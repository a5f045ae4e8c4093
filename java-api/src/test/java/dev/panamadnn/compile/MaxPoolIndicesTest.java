package dev.panamadnn.compile;

import static dev.panamadnn.compile.I64Values.longs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * MaxPool with its Indices output in a compiled plan (LowerPool.maxPoolWithIndices). Expected values from PyTorch 1.13,
 * {@code F.max_pool2d/max_pool1d(..., return_indices=True)} on the inputs below (x from {@code torch.manual_seed(0);
 * torch.randint(-3, 4, (2, 2, 5, 6)).float()} with NaNs and -inf written in; x2 from {@code torch.randn(1, 1, 5, 5)} after
 * it). torch's indices count within each [H, W] plane, ONNX's over the whole input, so the expected ones are torch's
 * plus {@code plane * H * W}; the column-major ones (storage_order 1, as ONNX Runtime computes them:
 * {@code plane * H * W + w * H + h}) and the asymmetric pads' (torch's pooling of the input -inf-padded by {@code F.pad},
 * its indices shifted back by the pads) are derived from torch's with numpy, by
 * {@code scripts/goldens/maxpool_indices_literals.py}.
 */
class MaxPoolIndicesTest {
    private static final float NAN = Float.NaN, NEG_INF = Float.NEGATIVE_INFINITY;

    /** [2, 2, 5, 6]: ties, two NaNs in a window (the last is PyTorch's maximum), -inf columns in the last plane. */
    private static final float[] X = {1.0f, 0.0f, -3.0f, -1.0f, -2.0f, -1.0f, 3.0f, NAN, 1.0f, NAN, -1.0f, -3.0f, -2.0f, 2.0f, -1.0f, 1.0f, 1.0f,
        -1.0f, 1.0f, -1.0f, 3.0f, -1.0f, 1.0f, -1.0f, 1.0f, 1.0f, -2.0f, 0.0f, -2.0f, 1.0f, -2.0f, -3.0f, 1.0f, 2.0f, 0.0f, 1.0f, 0.0f, -1.0f,
        -2.0f, 1.0f, 1.0f, -3.0f, -3.0f, 2.0f, 3.0f, 1.0f, 2.0f, 1.0f, 1.0f, 2.0f, 3.0f, 1.0f, 0.0f, 2.0f, 0.0f, 2.0f, -2.0f, 1.0f, -1.0f, -1.0f,
        0.0f, -1.0f, 3.0f, -1.0f, -2.0f, -3.0f, -3.0f, -3.0f, 0.0f, 1.0f, -3.0f, 2.0f, -2.0f, 0.0f, 1.0f, 2.0f, 1.0f, 1.0f, 2.0f, 2.0f, 0.0f,
        3.0f, 2.0f, 0.0f, 3.0f, -1.0f, -2.0f, 2.0f, 0.0f, -2.0f, NEG_INF, NEG_INF, -3.0f, 0.0f, 2.0f, 0.0f, NEG_INF, NEG_INF, 1.0f, -2.0f, 0.0f,
        2.0f, NEG_INF, NEG_INF, -1.0f, 3.0f, -2.0f, 2.0f, NEG_INF, NEG_INF, 1.0f, -1.0f, 3.0f, -2.0f, NEG_INF, NEG_INF, 0.0f, 1.0f, -1.0f, 0.0f};

    /** {@code F.max_pool2d(x, (3, 2), (2, 1), (1, 1), (1, 2), ceil_mode=True, return_indices=True)}: values, [2, 2, 3, 6]. */
    private static final float[] Y = {NAN, 3.0f, NAN, 1.0f, NAN, -1.0f, NAN, 3.0f, NAN, 3.0f, NAN, 1.0f, 1.0f, 3.0f, 1.0f, 3.0f, 1.0f, 1.0f, -1.0f,
        1.0f, 2.0f, 1.0f, 2.0f, 1.0f, 2.0f, 3.0f, 2.0f, 3.0f, 2.0f, 2.0f, 2.0f, 3.0f, 2.0f, 3.0f, 2.0f, 0.0f, -1.0f, 3.0f, 1.0f, 3.0f, 2.0f, -2.0f,
        2.0f, 2.0f, 3.0f, 2.0f, 3.0f, 2.0f, 2.0f, 3.0f, 3.0f, 2.0f, 3.0f, 2.0f, NEG_INF, 1.0f, 0.0f, 2.0f, 2.0f, 2.0f, NEG_INF, 1.0f, 3.0f, 3.0f,
        3.0f, 3.0f, NEG_INF, 1.0f, 1.0f, 3.0f, 1.0f, 3.0f};

    /** Its indices (storage_order 0): torch's, which count within each [H, W] plane, plus plane * H * W (ONNX's count over X). */
    private static final long[] INDICES = {7, 6, 9, 8, 9, 10, 7, 6, 9, 20, 9, 16, 25, 20, 25, 20, 29, 22, 37, 32, 33, 32, 33, 40, 43, 44, 43, 44,
        53, 46, 49, 50, 49, 50, 53, 52, 61, 62, 69, 62, 71, 64, 79, 78, 81, 82, 81, 82, 79, 84, 81, 82, 81, 82, 91, 98, 93, 94, 101, 94, 97, 98,
        105, 112, 105, 112, 109, 110, 117, 112, 117, 112};

    /** The same maxima's indices column-major (storage_order 1). */
    private static final long[] INDICES_COLUMN_MAJOR = {6, 1, 16, 11, 16, 21, 6, 1, 16, 13, 16, 22, 9, 13, 9, 13, 29, 23, 36, 40, 45, 40, 45, 51,
        37, 42, 37, 42, 58, 52, 38, 43, 38, 43, 58, 53, 65, 70, 76, 70, 86, 80, 68, 63, 78, 83, 78, 83, 68, 64, 78, 83, 78, 83, 95, 101, 105, 110,
        116, 110, 96, 101, 107, 113, 107, 113, 98, 103, 109, 113, 109, 113};

    private static Map<String, Tensor> run(Graph g, Tensor x) {
        try (CompiledModel plan = CompiledModel.compile(g, CompileOptions.defaults(), Map.of("x", x.shape()))) {
            return plan.run(Map.of("x", x));
        }
    }

    private static List<String> maxPool(GraphBuilder b, Attributes a) {
        List<String> outs = b.node("MaxPool", "pool", a, List.of("x"), 2);
        b.output(outs.toArray(String[]::new));
        return outs;
    }

    private static Attributes window(long storageOrder) {
        return Attributes.of("kernel_shape", new long[] {3, 2}, "strides", new long[] {2, 1}, "pads", new long[] {1, 1, 1, 1},
                "dilations", new long[] {1, 2}, "ceil_mode", 1L, "storage_order", storageOrder);
    }

    @Test
    void indicesAreTorchsWithDilationCeilModeTiesNaNAndMinusInfinity() {
        GraphBuilder b = Graph.builder("maxpool_indices");
        b.input("x", Shape.of(2, 2, 5, 6));
        List<String> outs = maxPool(b, window(0));
        try (Tensor x = Tensor.of(X, 2, 2, 5, 6)) {
            Map<String, Tensor> y = run(b.build(), x);
            assertArrayEquals(new long[] {2, 2, 3, 6}, y.get(outs.get(0)).shape());
            assertArrayEquals(Y, y.get(outs.get(0)).toFloatArray());
            assertArrayEquals(INDICES, longs(y.get(outs.get(1))));
        }
    }

    @Test
    void storageOrderOneReportsColumnMajorIndices() {
        GraphBuilder b = Graph.builder("maxpool_indices_column_major");
        b.input("x", Shape.of(2, 2, 5, 6));
        List<String> outs = maxPool(b, window(1));
        try (Tensor x = Tensor.of(X, 2, 2, 5, 6)) {
            Map<String, Tensor> y = run(b.build(), x);
            assertArrayEquals(Y, y.get(outs.get(0)).toFloatArray());
            assertArrayEquals(INDICES_COLUMN_MAJOR, longs(y.get(outs.get(1))));
        }
    }

    @Test
    void asymmetricPadsIndexTheUnpaddedInput() {
        float[] x2 = {-0.7015236020088196f, 1.0366867780685425f, -0.6036701202392578f, -1.2787652015686035f, 0.0929502323269844f,
            -0.6660997271537781f, 0.6080471873283386f, -0.7300198674201965f, 1.3750379085540771f, 0.11833705008029938f, 0.2439592480659485f,
            1.1646006107330322f, 0.2885761559009552f, 0.38659775257110596f, -0.20106391608715057f, -0.11792698502540588f, -0.8293668627738953f,
            -0.7721568942070007f, -1.9003453254699707f, 0.13067744672298431f, -0.704293966293335f, 0.3147209584712982f, 0.15739288926124573f,
            0.3853627145290375f, 0.5736545920372009f};
        GraphBuilder b = Graph.builder("maxpool_uneven");
        b.input("x", Shape.of(1, 1, 5, 5));
        // ONNX pads [top, left, bottom, right] = [0, 1, 2, 0]; torch: F.max_pool2d(F.pad(x2, (1, 0, 0, 2), value=-inf), 3, 2, ...)
        List<String> outs = maxPool(b, Attributes.of("kernel_shape", new long[] {3, 3}, "strides", new long[] {2, 2}, "pads", new long[] {0, 1, 2, 0}));
        try (Tensor x = Tensor.of(x2, 1, 1, 5, 5)) {
            Map<String, Tensor> y = run(b.build(), x);
            assertArrayEquals(new float[] {1.1646006107330322f, 1.3750379085540771f, 1.1646006107330322f, 1.1646006107330322f, 0.3147209584712982f,
                0.3853627145290375f}, y.get(outs.get(0)).toFloatArray());
            assertArrayEquals(new long[] {11, 8, 11, 11, 21, 23}, longs(y.get(outs.get(1))));
        }
    }

    @Test
    void oneDimensionalWithPadding() {
        GraphBuilder b = Graph.builder("maxpool_1d");
        b.input("x", Shape.of(1, 1, 7));
        List<String> outs = maxPool(b, Attributes.of("kernel_shape", new long[] {2}, "strides", new long[] {2}, "pads", new long[] {1, 1}));
        // torch: F.max_pool1d(torch.tensor([[[1., 5., 5., 2., nan, 3., 4.]]]), 2, 2, 1, return_indices=True)
        try (Tensor x = Tensor.of(new float[] {1, 5, 5, 2, NAN, 3, 4}, 1, 1, 7)) {
            Map<String, Tensor> y = run(b.build(), x);
            assertArrayEquals(new float[] {1, 5, NAN, 4}, y.get(outs.get(0)).toFloatArray());
            assertArrayEquals(new long[] {0, 1, 4, 6}, longs(y.get(outs.get(1))));
        }
    }

    @Test
    void aWindowWhollyInThePaddingIsRefusedNamingTheNode() {
        GraphBuilder b = Graph.builder("maxpool_padding_only");
        b.input("x", Shape.of(1, 1, 1, 1));
        // kernel 2, dilation 2, pad 1: the one window's taps are at -1 and 1, both outside a size-1 input
        maxPool(b, Attributes.of("kernel_shape", new long[] {2, 2}, "dilations", new long[] {2, 2}, "pads", new long[] {1, 1, 1, 1}));
        Graph g = b.build();
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> CompiledModel.compile(g, CompileOptions.defaults(), Map.of("x", new long[] {1, 1, 1, 1})));
        assertTrue(e.getMessage().contains("pool (MaxPool)") && e.getMessage().contains("wholly in the padding"), e.getMessage());
    }

    @Test
    void anInputPastExactFloatIndicesIsRefused() {
        GraphBuilder b = Graph.builder("maxpool_large");
        b.input("x", Shape.of(1, 1, 4097, 4097));   // 16,785,409 elements > 2^24
        maxPool(b, Attributes.of("kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2}));
        Graph g = b.build();
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> CompiledModel.compile(g, CompileOptions.defaults(), Map.of("x", new long[] {1, 1, 4097, 4097})));
        assertTrue(e.getMessage().contains("pool (MaxPool)") && e.getMessage().contains("up to 2^24"), e.getMessage());
    }
}
