package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.TestModels.f32;
import static dev.panamadnn.onnx.TestModels.model;
import static dev.panamadnn.onnx.TestModels.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.graph.Node;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Opset differences: an old form is taken only where it means what our op means, else refused
 * naming the node (Softmax before opset 13 flattens to 2-D at its axis; opset-6 broadcasting
 * aligns at an axis).
 */
class OnnxOpsetTest {
    private static AttributeProto axis(long a) {
        return AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(a).build();
    }

    private static GraphProto softmax(int rank, Long axis) {
        Object[] dims = new Object[rank];
        for (int i = 0; i < rank; i++) dims[i] = i + 2;
        return GraphProto.newBuilder().setName("g").addInput(f32("x", dims))
                .addNode(axis == null ? node("sm", "Softmax", new String[] {"x"}, new String[] {"y"})
                        : node("sm", "Softmax", new String[] {"x"}, new String[] {"y"}, axis(axis)))
                .addOutput(f32("y", dims)).build();
    }

    @Test
    void legacySoftmaxFlattensAtTheAxis() {
        // Opset 11, rank 2, default axis 1: the last axis, so the same as ours.
        try (OnnxModel m = Onnx.load(model(11, softmax(2, null)).toByteArray())) {
            Node n = m.toGraph().nodes().get(0);
            assertEquals("Softmax", n.op());
            assertEquals(-1L, n.attributes().integer("axis"));
        }
        // Opset 11, rank 3, default axis 1: softmax over the flattened last two dims, ours inside a Reshape pair (the
        // values: OnnxLegacySoftmaxTest)
        try (OnnxModel m = Onnx.load(model(11, softmax(3, null)).toByteArray())) {
            // (and an Identity giving the graph output the model's name 'y', which the compiler drops)
            assertEquals(List.of("Reshape", "Softmax", "Reshape", "Identity"), m.toGraph().nodes().stream().map(Node::op).toList());
            assertEquals(List.of("y"), m.toGraph().outputs());
        }
        // ... which needs the dims from the axis on fixed: with a symbolic one the model loads for run() (which binds
        // each call's shapes: BatchBoundAtRunTest), and a graph or plan set of it is refused, naming why
        GraphProto ragged = GraphProto.newBuilder().setName("g").addInput(f32("x", "N", 3, "L"))
                .addNode(node("sm", "Softmax", new String[] {"x"}, new String[] {"y"})).addOutput(f32("y", "N", 3, "L")).build();
        try (OnnxModel m = Onnx.load(model(11, ragged).toByteArray())) {
            OnnxException e = assertThrows(OnnxException.class, m::toGraph);
            assertTrue(e.getMessage().contains("node 'sm' (Softmax, domain '', opset 11)") && e.getMessage().contains("needs the dims from the axis on fixed"),
                    e.getMessage());
        }
        // Opset 13: per-axis semantics, any axis.
        try (OnnxModel m = Onnx.load(model(13, softmax(3, 1L)).toByteArray())) {
            assertEquals(1L, m.toGraph().nodes().get(0).attributes().integer("axis"));
        }
    }

    @Test
    void opset6BroadcastOnlyWhereNumPyAligns() {
        AttributeProto broadcast = AttributeProto.newBuilder().setName("broadcast").setType(AttributeProto.AttributeType.INT).setI(1).build();
        GraphProto.Builder g = GraphProto.newBuilder().setName("g").addInput(f32("x", 2, 3, 4))
                .addInitializer(TestModels.weights("b", new float[] {1, 2, 3}, 3))
                .addOutput(f32("y", 2, 3, 4));
        // axis 1 aligns b [3] with x's dim 1: NumPy would align it with the last dim (4), so refused.
        GraphProto bad = g.clone().addNode(node("add", "Add", new String[] {"x", "b"}, new String[] {"y"}, broadcast, axis(1))).build();
        OnnxException e = assertThrows(OnnxException.class, () -> Onnx.load(model(6, bad).toByteArray()));
        assertTrue(e.getMessage().contains("node 'add' (Add, domain '', opset 6)") && e.getMessage().contains("differs from NumPy's alignment"),
                e.getMessage());
        // Pow-1 (opsets 1-6) has the same attributes; without broadcast=1 its shapes must be equal (pytorch-operator's
        // test_operator_pow passes with equal shapes).
        GraphProto unequal = g.clone().addNode(node("pow", "Pow", new String[] {"x", "b"}, new String[] {"y"})).build();
        OnnxException p = assertThrows(OnnxException.class, () -> Onnx.load(model(6, unequal).toByteArray()));
        assertTrue(p.getMessage().contains("node 'pow' (Pow, domain '', opset 6)") && p.getMessage().contains("broadcast=0 needs equal shapes"),
                p.getMessage());
    }
}
