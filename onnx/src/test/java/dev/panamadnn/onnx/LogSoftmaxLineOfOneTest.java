package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * LogSoftmax along an axis of size 1 (a one-class head, a [N, 1, 1] score): before, the compiled max reduction was refused
 * by oneDNN ("dnnl_reduction_primitive_desc_create failed: invalid_arguments") at run time; found by a random probe of
 * 834 single-op math models against numpy (5 cases). Against torch.log_softmax(x, 1) of 1.5, inf, -inf, NaN, -2.0
 * (torch 1.13: 0.0, nan, nan, nan, 0.0), and Softmax beside it (1.0, nan, nan, nan, 1.0).
 */
class LogSoftmaxLineOfOneTest {
    @Test
    void aLineOfOneIsZeroOrNaNAsPyTorch() {
        for (String op : new String[] {"LogSoftmax", "Softmax"}) {
            GraphProto g = GraphProto.newBuilder().setName("line_of_one").addInput(TestModels.f32("x", "N", 1)).addOutput(TestModels.f32("y", "N", 1))
                    .addNode(TestModels.node("s", op, new String[] {"x"}, new String[] {"y"},
                            AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(1).build()))
                    .build();
            float nan = Float.NaN;
            float[] want = op.equals("LogSoftmax") ? new float[] {0f, nan, nan, nan, 0f} : new float[] {1f, nan, nan, nan, 1f};
            try (OnnxModel m = Onnx.load(TestModels.model(13, g).toByteArray()); PlanSet plans = m.compile(CompileOptions.defaults());
                 Tensor x = Tensor.of(new float[] {1.5f, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, nan, -2f}, 5, 1)) {
                Map<String, Tensor> out = plans.run(Map.of("x", x));
                try {
                    assertArrayEquals(want, out.get("y").toFloatArray(), op);
                } finally {
                    out.values().forEach(Tensor::close);
                }
            }
        }
    }
}
