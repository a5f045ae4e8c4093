package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.GraphProto;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The encoding ops where ONNX's backend suite leaves a form untested: OneHot before opset 11 (a negative index is out
 * of range, a line of off) and from 11 (it counts from the end). Expected values by ONNX's rule in numpy 1.24:
 * {@code np.where(np.arange(depth) == j, on, off)}, j the index (opset 11: plus depth where negative).
 */
class OnnxEncodeOpsTest {
    private static float[] run(int opset, GraphProto g, Map<String, Tensor> inputs) {
        try (OnnxModel m = Onnx.load(TestModels.model(opset, g).toByteArray())) {
            return m.run(inputs).get("y").toFloatArray();
        }
    }

    @Test
    void oneHotNegativeIndicesAreOffBeforeOpset11AndFromTheEndAfter() {
        GraphProto g = GraphProto.newBuilder().setName("one_hot").addInput(TestModels.f32("x", 4)).addOutput(TestModels.f32("y"))
                .addInitializer(TestModels.weights("depth", new float[] {3}, 1)).addInitializer(TestModels.weights("values", new float[] {0, 1}, 2))
                .addNode(TestModels.node("h", "OneHot", new String[] {"x", "depth", "values"}, new String[] {"y"})).build();
        try (Tensor x = Tensor.of(new float[] {1, -1, 3, 0}, 4)) {
            assertArrayEquals(new float[] {0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0}, run(10, g, Map.of("x", x)));
            assertArrayEquals(new float[] {0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0}, run(11, g, Map.of("x", x)));
        }
    }
}
