package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.TestModels.convRelu;
import static dev.panamadnn.onnx.TestModels.f32;
import static dev.panamadnn.onnx.TestModels.ints;
import static dev.panamadnn.onnx.TestModels.model;
import static dev.panamadnn.onnx.TestModels.node;
import static dev.panamadnn.onnx.TestModels.string;
import static dev.panamadnn.onnx.TestModels.weights;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.NodeProto;
import java.lang.foreign.Arena;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each kind of bad model or bad call is one clear exception naming the node or input (the "Bad input" list). */
class OnnxBadInputTest {
    private static OnnxException refused(ModelProto m) {
        return assertThrows(OnnxException.class, () -> Onnx.load(m.toByteArray()).close());
    }

    private static void assertMentions(Exception e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "message lacks '" + p + "': " + e.getMessage());
    }

    @Test
    void theBaseModelLoads() {
        try (OnnxModel m = Onnx.load(model(13, convRelu().build()).toByteArray())) {
            assertEquals("x", m.inputs().get(0).name());
            assertEquals("[N, 2, 4, 4]", m.inputs().get(0).shape().toString());
            assertEquals("y", m.outputs().get(0).name());
            assertEquals(13L, m.opsetImports().get(""));
        }
    }

    @Test
    void dynamicDimsBecomeSymbols() {
        GraphProto.Builder g = convRelu();
        // An unnamed dynamic batch (neither dim_value nor dim_param) gets a fresh symbol; a dim_param that is not a name is made one.
        var shape = g.getInput(0).getType().getTensorType().getShape().toBuilder();
        shape.setDim(0, dev.panamadnn.onnx.proto.TensorShapeProto.Dimension.newBuilder());
        g.setInput(0, g.getInput(0).toBuilder().setType(g.getInput(0).getType().toBuilder()
                .setTensorType(g.getInput(0).getType().getTensorType().toBuilder().setShape(shape))).build());
        try (OnnxModel m = Onnx.load(model(13, g.build()).toByteArray())) {
            assertEquals("[unk_0, 2, 4, 4]", m.inputs().get(0).shape().toString());
            assertEquals("[unk_0, 3, 4, 4]", m.outputs().get(0).shape().toString());
        }
        g.setInput(0, f32("x", "batch size", 2, 4, 4));
        try (OnnxModel m = Onnx.load(model(13, g.build()).toByteArray())) {
            assertEquals("[batch_size, 2, 4, 4]", m.inputs().get(0).shape().toString());
        }
    }

    /** An If whose condition depends on the data, and one whose branch holds an unsupported op: refused, naming the If and the branch. */
    @Test
    void ifIsImportedOnlyWithAConditionKnownWhenImporting() {
        java.util.function.BiFunction<String, String, AttributeProto> branch = (name, op) -> AttributeProto.newBuilder().setName(name)
                .setType(AttributeProto.AttributeType.GRAPH).setG(GraphProto.newBuilder().setName(name)
                        .addNode(node(name + "_node", op, new String[] {"c"}, new String[] {name + "_out"}))
                        .addOutput(f32(name + "_out", "N", 3, 4, 4))).build();
        GraphProto.Builder g = convRelu();
        g.setNode(1, node("sum", "ReduceSum", new String[] {"c"}, new String[] {"s"}, AttributeProto.newBuilder().setName("keepdims")
                .setType(AttributeProto.AttributeType.INT).setI(0).build()));
        g.addNode(node("positive", "Greater", new String[] {"s", "zero"}, new String[] {"cond"}));
        g.addInitializer(weights("zero", new float[] {0}));
        g.addNode(node("if", "If", new String[] {"cond"}, new String[] {"y"}, branch.apply("then_branch", "Relu"), branch.apply("else_branch", "Neg")));
        OnnxException e = refused(model(13, g.build()));
        assertMentions(e, "node 'if' (If, domain '', opset 13)", "its condition 'cond' is computed at run time", "known when importing");
        g.setNode(g.getNodeCount() - 1, node("if", "If", new String[] {"cond"}, new String[] {"y"}, branch.apply("then_branch", "Relu"),
                branch.apply("else_branch", "FancyNeg")));
        e = refused(model(13, g.build()));
        assertMentions(e, "node 'if' (If, domain '', opset 13) > else_branch > node 'else_branch_node' (FancyNeg, domain '', opset 13): unknown op");
    }

    @Test
    void truncatedFile() {
        byte[] b = model(13, convRelu().build()).toByteArray();
        OnnxException e = assertThrows(OnnxException.class, () -> Onnx.load(Arrays.copyOf(b, b.length - 7)).close());
        assertMentions(e, "not a valid ONNX model");
    }

    @Test
    void unknownOpAndDomainAreListedTogether() {
        GraphProto.Builder g = convRelu();
        g.setNode(1, node("relu", "FancyRelu", new String[] {"c"}, new String[] {"y"}));
        g.addNode(1, NodeProto.newBuilder(node("custom", "Relu", new String[] {"c"}, new String[] {"c2"})).setDomain("com.example").build());
        OnnxException e = refused(model(13, g.build()));
        assertEquals(2, e.problems().size(), e.getMessage());
        assertMentions(e, "node 'relu' (FancyRelu, domain '', opset 13): unknown op", "node 'custom' (Relu, domain 'com.example', opset 13): domain 'com.example' is not supported");
    }

    @Test
    void unsupportedAttributeAndValue() {
        GraphProto.Builder g = convRelu();
        g.setNode(0, node("conv", "Conv", new String[] {"x", "W"}, new String[] {"c"}, ints("kernel_shape", 1, 1), string("auto_pad", "SAME_MIDDLE")));
        g.setNode(1, node("relu", "Relu", new String[] {"c"}, new String[] {"y"}, ints("mystery", 1)));
        OnnxException e = refused(model(13, g.build()));
        assertMentions(e, "node 'conv' (Conv, domain '', opset 13): auto_pad SAME_MIDDLE is not supported", "node 'relu' (Relu, domain '', opset 13): attribute 'mystery' is not supported");
    }

    /**
     * ConvTranspose's output_shape and auto_pad become pads at import: a wrong-length output_shape and an output_shape
     * below 1 are refused naming the node; a symbolic spatial size with auto_pad loads, its graph and plan set are refused
     * naming the node, and run(Map) computes it for the call's shapes; a valid output_shape loads, and so does SAME_UPPER.
     */
    @Test
    void convTransposeOutputShapeAndAutoPad() {
        java.util.function.BiFunction<Object[], AttributeProto[], GraphProto> deconv = (x, attrs) -> GraphProto.newBuilder().setName("deconv")
                .addInput(f32("x", x)).addInitializer(weights("W", new float[2 * 3 * 3 * 3], 2, 3, 3, 3))
                .addNode(node("up", "ConvTranspose", new String[] {"x", "W"}, new String[] {"y"}, attrs))
                .addOutput(f32("y", "N", 3, "oh", "ow")).build();
        Object[] fixed = {"N", 2, 4, 5}, symbolic = {"N", 2, "h", 5};
        assertMentions(refused(model(13, deconv.apply(fixed, new AttributeProto[] {ints("strides", 2, 2), ints("output_shape", 9)}))),
                "node 'up' (ConvTranspose", "output_shape must have one entry per spatial dim");
        // A symbolic spatial size: no graph or plan set (refused naming the node); run(Map) binds the call's shapes.
        try (OnnxModel m = Onnx.load(model(13, deconv.apply(symbolic, new AttributeProto[] {string("auto_pad", "SAME_UPPER")})).toByteArray())) {
            assertMentions(assertThrows(OnnxException.class, () -> m.compile(dev.panamadnn.compile.CompileOptions.defaults())),
                    "node 'up' (ConvTranspose", "need fixed spatial sizes");
            try (dev.panamadnn.Tensor x = dev.panamadnn.Tensor.of(new float[2 * 4 * 5], 1, 2, 4, 5)) {
                assertEquals("[1, 3, 4, 5]", java.util.Arrays.toString(m.run(java.util.Map.of("x", x)).get("y").shape()), "SAME_UPPER, stride 1");
            }
        }
        assertMentions(refused(model(13, deconv.apply(fixed, new AttributeProto[] {ints("output_shape", 0, 5)}))),
                "node 'up' (ConvTranspose", "output_shape must be >= 1");
        try (OnnxModel m = Onnx.load(model(13, deconv.apply(fixed, new AttributeProto[] {ints("strides", 2, 2), ints("output_shape", 9, 10)}))
                .toByteArray())) {
            assertEquals("[N, 3, 9, 10]", m.outputs().get(0).shape().toString());
        }
        try (OnnxModel m = Onnx.load(model(13, deconv.apply(fixed, new AttributeProto[] {ints("strides", 2, 2), string("auto_pad", "SAME_UPPER")}))
                .toByteArray())) {
            assertEquals("[N, 3, 8, 10]", m.outputs().get(0).shape().toString());
        }
    }

    @Test
    void missingInitializerIsADanglingInput() {
        GraphProto.Builder g = convRelu().clearInitializer();
        assertMentions(refused(model(13, g.build())), "node 'conv' (Conv)", "input 'W' is not defined");
    }

    @Test
    void cycle() {
        GraphProto.Builder g = convRelu();
        g.setNode(0, node("conv", "Conv", new String[] {"y", "W"}, new String[] {"c"}, ints("kernel_shape", 1, 1)));
        assertMentions(refused(model(13, g.build())), "cycle", "node 'conv'", "node 'relu'");
    }

    @Test
    void duplicateValueNames() {
        GraphProto.Builder g = convRelu();
        g.addNode(node("relu2", "Relu", new String[] {"x"}, new String[] {"c"}));
        assertMentions(refused(model(13, g.build())), "node 'relu2' (Relu): output 'c' is also defined by node 'conv' (Conv)");
        GraphProto.Builder h = convRelu().addInitializer(weights("W", new float[] {1}, 1));
        assertMentions(refused(model(13, h.build())), "initializer 'W' is defined twice");
    }

    @Test
    void opsetOutOfRange() {
        assertMentions(refused(model(24, convRelu().build())), "opset 24 is out of range");
        assertMentions(refused(model(0, convRelu().build())), "opset 0 is out of range");
    }

    @Test
    void wrongInputsAtRunTime() {
        try (OnnxModel m = Onnx.load(model(13, convRelu().build()).toByteArray()); Arena arena = Arena.ofConfined()) {
            Tensor wrongShape = Tensor.allocate(arena, DataType.F32, 1, 3, 4, 4);
            assertMentions(assertThrows(OnnxException.class, () -> m.run(Map.of("x", wrongShape))), "input 'x' expects [N, 2, 4, 4], got [1, 3, 4, 4]");
            Tensor wrongType = Tensor.allocate(arena, DataType.I64, 1, 2, 4, 4);
            assertMentions(assertThrows(OnnxException.class, () -> m.run(Map.of("x", wrongType))), "input 'x' must be F32, got I64");
            Tensor ok = Tensor.allocate(arena, DataType.F32, 1, 2, 4, 4);
            assertMentions(assertThrows(OnnxException.class, () -> m.run(Map.of("z", ok))), "no input named 'z'");
            assertMentions(assertThrows(OnnxException.class, () -> m.run(Map.of())), "input 'x'", "is missing");
        }
    }

    @Test
    void closedModelRefusesRuns() {
        OnnxModel m = Onnx.load(model(13, convRelu().build()).toByteArray());
        m.close();
        m.close();   // idempotent
        try (Arena arena = Arena.ofConfined()) {
            Tensor x = Tensor.allocate(arena, DataType.F32, 1, 2, 4, 4);
            assertThrows(IllegalStateException.class, () -> m.run(Map.of("x", x)));
        }
    }

    @Test
    void unsupportedDtypeIsNamed() {
        GraphProto.Builder g = convRelu();
        g.setInput(0, g.getInput(0).toBuilder().setType(g.getInput(0).getType().toBuilder()
                .setTensorType(g.getInput(0).getType().getTensorType().toBuilder().setElemType(11))).build());
        assertMentions(refused(model(13, g.build())), "graph input 'x': element type DOUBLE is not supported");
    }

    @Test
    void shapeMismatchInTheModelNamesTheNode() {
        GraphProto.Builder g = convRelu();
        g.setInput(0, f32("x", "N", 5, 4, 4));   // W expects 2 channels
        assertMentions(refused(model(13, g.build())), "node 'conv' (Conv, domain '', opset 13)");
    }
}
