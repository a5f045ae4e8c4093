package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.TestModels.f32;
import static dev.panamadnn.onnx.TestModels.ints;
import static dev.panamadnn.onnx.TestModels.model;
import static dev.panamadnn.onnx.TestModels.node;
import static dev.panamadnn.onnx.TestModels.weights;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.TensorProto;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * MaxUnpool against PyTorch 1.13's {@code F.max_unpool2d}: fed by MaxPool's Indices output in the same model (indices
 * computed at run time, flat over [N, C, H, W]: equal to torch's per-plane ones at the default output shape), and with
 * constant indices into a larger output_shape, unpooled into it directly as PyTorch and ONNX Runtime do (ONNX's own
 * expected output for that case is known wrong: {@link BackendCase#KNOWN_WRONG}).
 */
class MaxUnpoolTest {
    private static float[] run(GraphProto g, float[] x, long... shape) {
        try (OnnxModel m = Onnx.load(model(13, g).toByteArray()); Tensor in = Tensor.of(x, shape)) {
            return TestModels.outputValues(m, Map.of("x", in), "y");
        }
    }

    @Test
    void unpoolsMaxPoolsIndicesComputedAtRunTime() {
        float[] x = new float[32];
        for (int i = 0; i < 16; i++) {
            x[i] = i + 1;
            x[16 + i] = 16 - i;
        }
        x[0] = 9;
        x[15] = Float.NaN;
        GraphProto g = GraphProto.newBuilder().setName("unpool").addInput(f32("x", 1, 2, 4, 4)).addOutput(f32("y", 1, 2, 4, 4))
                .addNode(node("pool", "MaxPool", new String[] {"x"}, new String[] {"p", "i"}, ints("kernel_shape", 2, 2), ints("strides", 2, 2)))
                .addNode(node("unpool", "MaxUnpool", new String[] {"p", "i"}, new String[] {"y"}, ints("kernel_shape", 2, 2), ints("strides", 2, 2)))
                .build();
        // y, i = F.max_pool2d(x, 2, 2, return_indices=True); F.max_unpool2d(y, i, 2, 2).flatten() with x[0, 0] = arange(1, 17)
        // (x[0, 0, 0, 0] = 9, x[0, 0, 3, 3] = nan), x[0, 1] = arange(16, 0, -1), both 4x4
        float[] expected = {9, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 14, 0, Float.NaN, 16, 0, 14, 0, 0, 0, 0, 0, 8, 0, 6, 0, 0, 0, 0, 0};
        assertArrayEquals(expected, run(g, x, 1, 2, 4, 4));
    }

    private static GraphProto withOutputShape(long... indices) {
        TensorProto.Builder i = TensorProto.newBuilder().setName("i").setDataType(TensorProto.DataType.INT64_VALUE).addDims(1).addDims(1).addDims(2).addDims(2);
        for (long v : indices) i.addInt64Data(v);
        TensorProto shape = TensorProto.newBuilder().setName("s").setDataType(TensorProto.DataType.INT64_VALUE).addDims(4)
                .addInt64Data(1).addInt64Data(1).addInt64Data(5).addInt64Data(5).build();
        return GraphProto.newBuilder().setName("unpool5").addInput(f32("x", 1, 1, 2, 2)).addOutput(f32("y", 1, 1, 5, 5))
                .addInitializer(i).addInitializer(shape)
                .addNode(node("unpool", "MaxUnpool", new String[] {"x", "i", "s"}, new String[] {"y"}, ints("kernel_shape", 2, 2), ints("strides", 2, 2)))
                .build();
    }

    @Test
    void unpoolsIntoALargerOutputShapeAsPyTorchDoes() {
        // F.max_unpool2d(tensor([[[[5., 6.], [7., 8.]]]]), tensor([[[[5, 7], [13, 15]]]]), 2, 2, output_size=(5, 5)).flatten()
        float[] expected = {0, 0, 0, 0, 0, 5, 0, 6, 0, 0, 0, 0, 0, 7, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        assertArrayEquals(expected, run(withOutputShape(5, 7, 13, 15), new float[] {5, 6, 7, 8}, 1, 1, 2, 2));
        OnnxException e = assertThrows(OnnxException.class, () -> run(withOutputShape(5, 7, 13, 25), new float[] {5, 6, 7, 8}, 1, 1, 2, 2));
        assertTrue(e.getMessage().contains("unpool") && e.getMessage().contains("index 25 is outside the output [1, 1, 5, 5]"), e.getMessage());
    }

    /** A MaxPool whose Indices output is declared but read by nothing runs on oneDNN's pooling, not the Java step. */
    @Test
    void anUnreadIndicesOutputLeavesMaxPoolOnOneDnn() {
        GraphProto g = GraphProto.newBuilder().setName("pool").addInput(f32("x", "N", 2, 4, 4)).addOutput(f32("p", "N", 2, 2, 2))
                .addNode(node("pool", "MaxPool", new String[] {"x"}, new String[] {"p", "unread"}, ints("kernel_shape", 2, 2), ints("strides", 2, 2)))
                .build();
        try (OnnxModel m = Onnx.load(model(13, g).toByteArray());
             dev.panamadnn.compile.CompiledModel plan = dev.panamadnn.compile.CompiledModel.compile(m.toGraph(),
                     dev.panamadnn.compile.CompileOptions.defaults(), Map.of("x", new long[] {1, 2, 4, 4}))) {
            assertTrue(plan.steps().stream().noneMatch(st -> st.contains("with indices")), plan.describe());
            assertTrue(plan.steps().stream().anyMatch(st -> st.startsWith("maxpool") || st.startsWith("pool")), plan.describe());
        }
    }
}
