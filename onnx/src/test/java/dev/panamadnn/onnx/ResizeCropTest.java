package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.TestModels.f32;
import static dev.panamadnn.onnx.TestModels.model;
import static dev.panamadnn.onnx.TestModels.node;
import static dev.panamadnn.onnx.TestModels.string;
import static dev.panamadnn.onnx.TestModels.weights;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.TensorProto;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Resize with coordinate_transformation_mode tf_crop_and_resize (TensorFlow's CropAndResize): the roi crops each axis,
 * and an output whose source coordinate falls outside the input is the extrapolation value. Expected values from ONNX
 * 1.12's own reference ({@code onnx.backend.test.case.node.resize.interpolate_nd}); ONNX's backend case
 * test_resize_tf_crop_and_resize (linear) passes in BackendSuiteTest.
 */
class ResizeCropTest {
    private static final float[] ROI = {0, 0, 0.2f, 0.3f, 1, 1, 0.9f, 1.4f};

    private static GraphProto.Builder graph(String mode, boolean roiConstant) {
        TensorProto sizes = TensorProto.newBuilder().setName("sizes").setDataType(TensorProto.DataType.INT64_VALUE).addDims(4)
                .addInt64Data(1).addInt64Data(1).addInt64Data(3).addInt64Data(3).build();
        AttributeProto extrapolation = AttributeProto.newBuilder().setName("extrapolation_value").setType(AttributeProto.AttributeType.FLOAT)
                .setF(-1).build();
        GraphProto.Builder g = GraphProto.newBuilder().setName("crop").addInput(f32("x", 1, 1, 4, 4)).addInitializer(sizes)
                .addNode(node("resize", "Resize", new String[] {"x", roiConstant ? "roi" : "rr", "", "sizes"}, new String[] {"y"},
                        string("mode", mode), string("coordinate_transformation_mode", "tf_crop_and_resize"), extrapolation))
                .addOutput(f32("y", 1, 1, 3, 3));
        if (roiConstant) g.addInitializer(weights("roi", ROI, 8));
        else g.addInput(f32("r", 8)).addNode(0, node("relu", "Relu", new String[] {"r"}, new String[] {"rr"}));   // a roi computed at run time
        return g;
    }

    private static float[] run(String mode) {
        float[] x = new float[16];
        for (int i = 0; i < x.length; i++) x[i] = i;
        try (OnnxModel m = Onnx.load(model(13, graph(mode, true).build()).toByteArray()); Tensor in = Tensor.of(x, 1, 1, 4, 4)) {
            return TestModels.outputValues(m, Map.of("x", in), "y");
        }
    }

    @Test
    void cropsByTheRoiAndExtrapolatesOutsideTheInput() {
        // interpolate_nd(np.arange(16, dtype=np.float32).reshape(1, 1, 4, 4), nearest_coeffs, output_size=[1, 1, 3, 3],
        //     roi=[0, 0, 0.2, 0.3, 1, 1, 0.9, 1.4], coordinate_transformation_mode='tf_crop_and_resize', extrapolation_value=-1.0)
        assertArrayEquals(new float[] {5, 7, -1, 9, 11, -1, 13, 15, -1}, run("nearest"));
        // the same with linear_coeffs
        assertArrayEquals(new float[] {3.3000002f, 4.95f, -1, 7.5f, 9.15f, -1, 11.7f, 13.349999f, -1}, run("linear"), 2e-6f);
    }

    @Test
    void aRoiComputedAtRunTimeIsRefusedNamingTheNode() {
        GraphProto g = graph("linear", false).build();
        OnnxException e = assertThrows(OnnxException.class, () -> {
            try (OnnxModel m = Onnx.load(model(13, g).toByteArray())) {
                float[] x = new float[16];
                try (Tensor in = Tensor.of(x, 1, 1, 4, 4); Tensor r = Tensor.of(ROI, 8)) {
                    m.run(Map.of("x", in, "r", r)).values().forEach(Tensor::close);
                }
            }
        });
        assertTrue(e.getMessage().contains("resize") && e.getMessage().contains("tf_crop_and_resize needs roi (input 1) known"), e.getMessage());
    }
}
