package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.TestModels.f32;
import static dev.panamadnn.onnx.TestModels.ints;
import static dev.panamadnn.onnx.TestModels.model;
import static dev.panamadnn.onnx.TestModels.node;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.graph.Node;
import dev.panamadnn.onnx.proto.GraphProto;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * How a pooling's pads are imported: pads equal at both ends of every dim (torchvision's ResNet
 * stem MaxPool, pads [1, 1, 1, 1]) stay on the pooling, which oneDNN runs with its own padding;
 * only uneven pads (SAME_* on odd totals, as TensorFlow exports them) take the Pad-first detour.
 * Before this test, every padded MaxPool and AveragePool took the detour (a Java Pad step: 3.2 of
 * 9.6 ms of an imported ResNet-18 at batch 1).
 */
class OnnxPoolPadsTest {
    @ParameterizedTest
    @CsvSource({
        "MaxPool,     1 1 1 1, MaxPool",
        "MaxPool,     0 0 0 0, MaxPool",
        "MaxPool,     0 0 1 1, Pad MaxPool Identity",   // the Identity names the graph output 'y' (the compiler drops it)
        "AveragePool, 1 1 1 1, AveragePool",
        "AveragePool, 0 0 1 1, Pad AveragePool Mul Identity",
    })
    void evenPadsStayOnThePooling(String op, String pads, String expectedOps) {
        long[] p = java.util.Arrays.stream(pads.trim().split(" ")).mapToLong(Long::parseLong).toArray();
        GraphProto g = GraphProto.newBuilder().setName("pool")
                .addInput(f32("x", "N", 2, 6, 6))
                .addNode(node("pool", op, new String[] {"x"}, new String[] {"y"}, ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", p)))
                .addOutput(f32("y", "N", 2, 3, 3))
                .build();
        try (OnnxModel m = Onnx.load(model(13, g).toByteArray())) {
            List<String> ops = m.toGraph().nodes().stream().map(Node::op).filter(o -> !o.equals("Constant")).toList();
            assertEquals(List.of(expectedOps.trim().split(" ")), ops, op + " with pads " + pads);
        }
    }
}
