package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.TensorProto;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Resize sizes computed as torch exports {@code F.interpolate(..., recompute_scale_factor=True)}: floor(size * scale) of
 * float constants (Floor), then Unsqueeze, Concat, Cast to INT64 and a Concat with the input's leading dims from
 * Shape. Before, the Floor of constants was not folded, so the sizes were unknown when shapes were inferred and the
 * model was refused; a random probe of 379 torch interpolate exports found 76 such. Here: sizes [1, 1, floor(4.5),
 * floor(6.9)] = [1, 1, 4, 6] of a [1, 1, 2, 3] input, nearest with asymmetric coordinates and floor, so each output
 * element is x[i / 2][j / 2] (computed here); Ceil and Round beside it fold the same way (4.5 -> 5 and 4, half to even).
 */
class ComputedResizeSizesTest {
    private static TensorProto f32Scalar(String name, float v) {
        return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE).addFloatData(v).build();
    }

    private static TensorProto longs(String name, long... v) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE).addDims(v.length);
        for (long x : v) t.addInt64Data(x);
        return t.build();
    }

    private static AttributeProto attr(String name, String v) {
        return TestModels.string(name, v);
    }

    @Test
    void sizesFromFloorOfConstantsAreKnown() {
        for (String round : new String[] {"Floor", "Ceil", "Round"}) {
            GraphProto g = GraphProto.newBuilder().setName("resize_" + round).addInput(TestModels.f32("x", 1, 1, 2, 3))
                    .addOutput(TestModels.f32("y", 1, 1, 4, 6))
                    .addInitializer(f32Scalar("h", round.equals("Floor") ? 4.5f : round.equals("Ceil") ? 3.5f : 4.5f))
                    .addInitializer(f32Scalar("w", round.equals("Floor") ? 6.9f : round.equals("Ceil") ? 5.1f : 6.4f))
                    .addInitializer(longs("ax0", 0)).addInitializer(longs("s0", 0)).addInitializer(longs("s2", 2))
                    .addNode(TestModels.node("fh", round, new String[] {"h"}, new String[] {"h1"}))
                    .addNode(TestModels.node("fw", round, new String[] {"w"}, new String[] {"w1"}))
                    .addNode(TestModels.node("uh", "Unsqueeze", new String[] {"h1", "ax0"}, new String[] {"h2"}))
                    .addNode(TestModels.node("uw", "Unsqueeze", new String[] {"w1", "ax0"}, new String[] {"w2"}))
                    .addNode(TestModels.node("hw", "Concat", new String[] {"h2", "w2"}, new String[] {"hwf"},
                            AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(0).build()))
                    .addNode(TestModels.node("cast", "Cast", new String[] {"hwf"}, new String[] {"hwi"},
                            AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT).setI(TensorProto.DataType.INT64_VALUE).build()))
                    .addNode(TestModels.node("shape", "Shape", new String[] {"x"}, new String[] {"sh"}))
                    .addNode(TestModels.node("lead", "Slice", new String[] {"sh", "s0", "s2", "ax0"}, new String[] {"nc"}))
                    .addNode(TestModels.node("sizes", "Concat", new String[] {"nc", "hwi"}, new String[] {"sizes"},
                            AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(0).build()))
                    .addNode(TestModels.node("resize", "Resize", new String[] {"x", "", "", "sizes"}, new String[] {"y"}, attr("mode", "nearest"),
                            attr("coordinate_transformation_mode", "asymmetric"), attr("nearest_mode", "floor")))
                    .build();
            float[] x = {1, 2, 3, 4, 5, 6};
            float[] want = new float[24];
            for (int i = 0; i < 4; i++) for (int j = 0; j < 6; j++) want[i * 6 + j] = x[(i / 2) * 3 + j / 2];
            try (OnnxModel m = Onnx.load(TestModels.model(13, g).toByteArray()); Tensor in = Tensor.of(x, 1, 1, 2, 3)) {
                Map<String, Tensor> out = m.run(Map.of("x", in));
                try {
                    assertArrayEquals(new long[] {1, 1, 4, 6}, out.get("y").shape(), round);
                    assertArrayEquals(want, out.get("y").toFloatArray(), round);
                } finally {
                    out.values().forEach(Tensor::close);
                }
            }
        }
    }
}
