package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.TestModels.f32;
import static dev.panamadnn.onnx.TestModels.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * An If on a BOOL graph input (a mode flag): the condition is known per call, so run(Map) binds the flag and imports
 * the branch it takes (ONNX's {@code node/test_if} passes since); a graph or plan set, which need it constant, are
 * refused naming why. Each branch returns an outer input as it is, so the expected outputs are the inputs.
 */
class IfOnABoolInputTest {
    private static AttributeProto branch(String name, String returned) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.GRAPH).setG(GraphProto.newBuilder().setName(name)
                .addNode(node(name + "_node", "Identity", new String[] {returned}, new String[] {name + "_out"}))
                .addOutput(f32(name + "_out", 2, 3))).build();
    }

    @Test
    void theFlagPicksTheBranchPerCall() {
        ValueInfoProto flag = ValueInfoProto.newBuilder().setName("flag").setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.BOOL_VALUE).setShape(TensorShapeProto.newBuilder()))).build();
        GraphProto g = GraphProto.newBuilder().setName("if_flag").addInput(flag).addInput(f32("a", 2, 3)).addInput(f32("b", 2, 3))
                .addNode(node("if", "If", new String[] {"flag"}, new String[] {"y"}, branch("then_branch", "a"), branch("else_branch", "b")))
                .addOutput(f32("y", 2, 3)).build();
        float[] a = {1, -2, 3, -4, 5, -6}, b = {0.5f, 0.25f, -0.125f, 8, 16, 32};
        try (OnnxModel m = Onnx.load(TestModels.model(13, g).toByteArray()); Arena arena = Arena.ofConfined();
             Tensor ta = Tensor.of(a, 2, 3); Tensor tb = Tensor.of(b, 2, 3)) {
            Tensor f = Tensor.allocate(arena, DataType.BOOL);
            for (boolean on : new boolean[] {true, false, true}) {
                f.segment().set(ValueLayout.JAVA_BYTE, 0, (byte) (on ? 1 : 0));
                assertArrayEquals(on ? a : b, TestModels.outputValues(m, Map.of("flag", f, "a", ta, "b", tb), "y"), "flag " + on);
            }
            OnnxException e = assertThrows(OnnxException.class, () -> m.plan(CompileOptions.defaults()).close());
            assertTrue(e.getMessage().contains("its condition 'flag' is computed at run time") && e.getMessage().contains("run(Map) binds"), e.getMessage());
        }
    }

    /**
     * A condition computed from float data stays unknown whatever run(Map) binds: with an integer input beside it (which
     * makes the model one that imports per call) it loads, and each run is refused naming the condition, never a wrong
     * branch; with nothing to bind, it is refused at load.
     */
    @Test
    void aConditionFromDataIsRefusedNamingIt() {
        ValueInfoProto k = ValueInfoProto.newBuilder().setName("k").setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.INT64_VALUE).setShape(TensorShapeProto.newBuilder()))).build();
        GraphProto.Builder g = GraphProto.newBuilder().setName("if_data").addInput(f32("a", 2, 3)).addInput(f32("b", 2, 3))
                .addNode(node("sum", "ReduceSum", new String[] {"a"}, new String[] {"s"}, AttributeProto.newBuilder().setName("keepdims")
                        .setType(AttributeProto.AttributeType.INT).setI(0).build()))
                .addNode(node("positive", "Greater", new String[] {"s", "zero"}, new String[] {"c"}))
                .addInitializer(TestModels.weights("zero", new float[] {0}))
                .addNode(node("if", "If", new String[] {"c"}, new String[] {"y"}, branch("then_branch", "a"), branch("else_branch", "b")))
                .addOutput(f32("y", 2, 3));
        OnnxException atLoad = assertThrows(OnnxException.class, () -> Onnx.load(TestModels.model(13, g.build()).toByteArray()).close());
        assertTrue(atLoad.getMessage().contains("its condition 'c' is computed at run time"), atLoad.getMessage());
        g.addInput(k).addNode(node("use_k", "Identity", new String[] {"k"}, new String[] {"k2"})).addOutput(ValueInfoProto.newBuilder(k).setName("k2"));
        try (OnnxModel m = Onnx.load(TestModels.model(13, g.build()).toByteArray()); Arena arena = Arena.ofConfined();
             Tensor ta = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3); Tensor tb = Tensor.of(new float[6], 2, 3)) {
            Tensor tk = Tensor.allocate(arena, DataType.I64);
            OnnxException e = assertThrows(OnnxException.class, () -> m.run(Map.of("a", ta, "b", tb, "k", tk)));
            assertTrue(e.getMessage().contains("its condition 'c' is computed at run time"), e.getMessage());
        }
    }
}
