package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.TestModels.f32;
import static dev.panamadnn.onnx.TestModels.ints;
import static dev.panamadnn.onnx.TestModels.model;
import static dev.panamadnn.onnx.TestModels.node;
import static dev.panamadnn.onnx.TestModels.outputValues;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.TensorProto;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Attribute and constant values at the edges of their types, found by a probe of hand-made single-node models: each
 * either computes what NumPy does or is refused by an OnnxException naming the node and the limit, before any native
 * call (they used to reach oneDNN's primitive creation, a raw ArithmeticException or a wrong element count).
 */
class ExtremeAttributesTest {
    private static TensorProto i64(String name, long... v) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE).addDims(v.length);
        for (long x : v) t.addInt64Data(x);
        return t.build();
    }

    /** Slice of x = arange(16).reshape(2, 8) on axis 1. */
    private static float[] slice(long start, long end, long step) {
        GraphProto g = GraphProto.newBuilder().setName("slice").addInput(f32("x", 2, 8))
                .addInitializer(i64("s", start)).addInitializer(i64("e", end)).addInitializer(i64("a", 1)).addInitializer(i64("st", step))
                .addNode(node("sl", "Slice", new String[] {"x", "s", "e", "a", "st"}, new String[] {"y"})).addOutput(f32("y", 2, "K")).build();
        float[] x = new float[16];
        for (int i = 0; i < x.length; i++) x[i] = i;
        try (OnnxModel m = Onnx.load(model(13, g).toByteArray()); Tensor in = Tensor.of(x, 2, 8)) {
            return outputValues(m, Map.of("x", in), "y");
        }
    }

    @Test
    void slicesWithStepsAtTheEndsOfInt64TakeWhatNumPyTakes() {
        // NumPy: np.arange(16).reshape(2, 8)[:, start:end:step]
        assertArrayEquals(new float[] {0, 8}, slice(0, Long.MAX_VALUE, Long.MAX_VALUE));
        assertArrayEquals(new float[] {7, 15}, slice(7, Long.MIN_VALUE, Long.MIN_VALUE));   // counted as 0 elements before
        assertArrayEquals(new float[] {7, 15}, slice(-1, Long.MIN_VALUE, Long.MIN_VALUE));
        assertArrayEquals(new float[] {5, 13}, slice(-3, Long.MIN_VALUE, -(1L << 62)));
        assertArrayEquals(new float[] {1, 9}, slice(1, 8, 1L << 62));
        assertArrayEquals(new float[] {6, 4, 2, 0, 14, 12, 10, 8}, slice(-2, Long.MIN_VALUE, -2));
    }

    @Test
    void backwardSlicesFromBeforeTheFirstElementStartAtItAsTheSpecAndOnnxRuntimeDo() {
        // The spec clamps a negative step's start into [0, dim - 1]; ONNX Runtime 1.23.2 gives these (NumPy would give nothing).
        // Both slices used to come back empty.
        assertArrayEquals(new float[] {0, 8}, slice(-10, Long.MIN_VALUE, -1));
        assertArrayEquals(new float[] {0, 8}, slice(-9, -20, -2));
        assertArrayEquals(new float[] {7, 15}, slice(100, -20, -100));
    }

    /**
     * A ConvTranspose whose geometry neither oneDNN (outputs no window writes: dilation 2 over stride 1 with
     * output_padding) nor the Java fallback (PyTorch's symmetric pads only; these are [0, 2, 0, 1]) computes: refused
     * naming the op, its pads and why; it used to say "op ConvTranspose is not compiled yet", as if no ConvTranspose were.
     */
    @Test
    void aConvTransposeNeitherKernelComputesIsRefusedSayingWhy() {
        float[] w = new float[3 * 3 * 1 * 3];
        GraphProto g = GraphProto.newBuilder().setName("deconv").addInput(f32("x", 1, 3, 4, 6)).addOutput(f32("y", 1, 3, "H", "W"))
                .addInitializer(TestModels.weights("w", w, 3, 3, 1, 3))
                .addNode(node("ct", "ConvTranspose", new String[] {"x", "w"}, new String[] {"y"}, ints("dilations", 2, 2), ints("output_padding", 1, 0),
                        ints("pads", 0, 2, 0, 1), ints("strides", 1, 1))).build();
        OnnxException e = assertThrows(OnnxException.class, () -> {
            try (OnnxModel m = Onnx.load(model(16, g).toByteArray()); Tensor in = Tensor.zeros(1, 3, 4, 6)) {
                m.run(Map.of("x", in)).values().forEach(Tensor::close);
            }
        });
        assertTrue(e.getMessage().contains("(ConvTranspose)") && e.getMessage().contains("pads [0, 2, 0, 1]")
                && e.getMessage().contains("only symmetric pads"), e.getMessage());
    }

    private static OnnxException refusedPool(String op, long kernel, long pad) {
        GraphProto g = GraphProto.newBuilder().setName("pool").addInput(f32("x", 1, 2, 8, 8))
                .addNode(node("p", op, new String[] {"x"}, new String[] {"y"}, ints("kernel_shape", kernel, kernel), ints("pads", pad, pad, pad, pad)))
                .addOutput(f32("y", 1, 2, "H", "W")).build();
        return assertThrows(OnnxException.class, () -> {
            try (OnnxModel m = Onnx.load(model(13, g).toByteArray()); Tensor in = Tensor.zeros(1, 2, 8, 8)) {
                m.run(Map.of("x", in)).values().forEach(Tensor::close);
            }
        });
    }

    @Test
    void poolingPadsThatWouldMakeAWindowOfPaddingAloneAreRefusedAsOnnxRuntimeDoes() {
        // AveragePool with pads 5 around a 2x2 window reached oneDNN, which refused it (invalid_arguments); MaxPool ran.
        for (String op : new String[] {"AveragePool", "MaxPool"}) {
            OnnxException e = refusedPool(op, 2, 5);
            assertTrue(e.getMessage().contains("node 'p' (" + op + ", domain '', opset 13)")
                    && e.getMessage().contains("node y (" + op + "): pads [5, 5, 5, 5] must be smaller than the kernel's extent 2"), e.getMessage());
            refusedPool(op, 3, 3);
        }
    }

    @Test
    void anExpandTooLargeToIndexIsRefusedNamingTheNode() {
        GraphProto g = GraphProto.newBuilder().setName("expand").addInput(f32("x", 1, 1)).addInitializer(i64("s", 1L << 20, 1L << 20))
                .addNode(node("ex", "Expand", new String[] {"x", "s"}, new String[] {"y"})).addOutput(f32("y", "A", "B")).build();
        OnnxException e = assertThrows(OnnxException.class, () -> {
            try (OnnxModel m = Onnx.load(model(13, g).toByteArray()); Tensor in = Tensor.zeros(1, 1)) {
                m.run(Map.of("x", in)).values().forEach(Tensor::close);
            }
        });
        assertTrue(e.getMessage().contains("node y (Expand): sizes too large to compile (outputs [y [1048576, 1048576]])"), e.getMessage());
    }

    @Test
    void aRankPastOneDnnsTwelveIsRefusedNamingTheNode() {
        long[] axes = new long[70];
        for (int i = 0; i < axes.length; i++) axes[i] = i;
        GraphProto g = GraphProto.newBuilder().setName("unsqueeze").addInput(f32("x", 2, 2)).addInitializer(i64("a", axes))
                .addNode(node("u", "Unsqueeze", new String[] {"x", "a"}, new String[] {"y"})).addOutput(f32("y")).build();
        OnnxException e = assertThrows(OnnxException.class, () -> {
            try (OnnxModel m = Onnx.load(model(13, g).toByteArray()); Tensor in = Tensor.zeros(2, 2)) {
                m.run(Map.of("x", in)).values().forEach(Tensor::close);
            }
        });
        assertTrue(e.getMessage().contains("node y (Unsqueeze)") && e.getMessage().contains("has rank 72, more than the 12 dimensions"), e.getMessage());
    }
}
