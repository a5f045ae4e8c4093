package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.TensorProto;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A Split into one piece (split = [the axis's size], as exporters write for a chunk of one): by ONNX's definition the
 * piece is the whole input. Before, a plan refused it ("op Split is not compiled yet": only several outputs were);
 * found by a random probe of 567 single-op models against numpy (17 such cases). Opsets 13 (split as an input) and 11
 * (as an attribute), in a plan set at batches 1 and 3, followed by a Relu so the piece is used.
 */
class SplitOnePieceTest {
    private static GraphProto.Builder graph(boolean asInput) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("split_one").addInput(TestModels.f32("x", "N", 3))
                .addOutput(TestModels.f32("y", "N", 3));
        if (asInput) {
            g.addInitializer(TensorProto.newBuilder().setName("s").setDataType(TensorProto.DataType.INT64_VALUE).addDims(1).addInt64Data(3));
            g.addNode(TestModels.node("split", "Split", new String[] {"x", "s"}, new String[] {"p"},
                    AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(-1).build()));
        } else {
            g.addNode(TestModels.node("split", "Split", new String[] {"x"}, new String[] {"p"}, TestModels.ints("split", 3),
                    AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(1).build()));
        }
        return g.addNode(TestModels.node("relu", "Relu", new String[] {"p"}, new String[] {"y"}));
    }

    @Test
    void aSplitIntoOnePieceIsItsInput() {
        for (int opset : new int[] {13, 11}) {
            try (OnnxModel m = Onnx.load(TestModels.model(opset, graph(opset >= 13).build()).toByteArray());
                 PlanSet plans = m.compile(CompileOptions.defaults())) {
                for (int n : new int[] {1, 3}) {
                    float[] x = new float[n * 3];
                    for (int i = 0; i < x.length; i++) x[i] = (i % 4) - 1.5f;
                    float[] want = new float[x.length];
                    for (int i = 0; i < x.length; i++) want[i] = Math.max(0, x[i]);
                    try (Tensor in = Tensor.of(x, n, 3)) {
                        Map<String, Tensor> out = plans.run(Map.of("x", in));
                        try {
                            assertArrayEquals(want, out.get("y").toFloatArray(), 0f, "opset " + opset + ", batch " + n);   // -0.0 for -1 until the fast ReLU is proven after the first run (docs/numerics.md)
                        } finally {
                            out.values().forEach(Tensor::close);
                        }
                    }
                }
            }
        }
    }
}
