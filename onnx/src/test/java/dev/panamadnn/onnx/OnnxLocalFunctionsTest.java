package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.FunctionProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.NodeProto;
import dev.panamadnn.onnx.proto.OperatorSetIdProto;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Models with local functions ({@link Functions}): torch 1.13's {@code export_modules_as_functions}
 * (scripts/goldens/export_onnx_functions.py) writes a residual CNN whose two blocks are calls of one function, each
 * calling a LeakyReLU function whose slope is an attribute reference to the block's (0.1 and 0.3: a dropped reference
 * would give ONNX's default 0.01), and an MLP whose Linears and GELUs are functions; both match PyTorch, through
 * {@code run(Map)} and a plan set at another batch. Hand-built models cover a default from {@code attribute_proto}
 * (ONNX 1.13's field, unknown to our classes) and the refusals.
 */
class OnnxLocalFunctionsTest {
    private static Path goldens() throws Exception {
        return Goldens.ensure("onnx-functions", "export_onnx_functions.py", "functions.goldens.safetensors", 300);
    }

    @Test
    void torchModulesExportedAsFunctionsMatchPyTorch() throws Exception {
        Path dir = goldens();
        try (SafeTensors g = SafeTensors.open(dir.resolve("functions.goldens.safetensors"))) {
            for (String name : new String[] {"blocks", "mlp"}) {
                try (OnnxModel m = Onnx.load(dir.resolve(name + ".onnx"))) {
                    Tensor x = g.get(name + "_x"), want = g.get(name + "_y");
                    Map<String, Tensor> out = m.run(Map.of("x", x));
                    try (Tensor y = out.get(m.outputs().get(0).name())) {   // the MLP's is "26": torch names no output of a call
                        OnnxModelsTest.assertClose(name + " run(Map)", want, y);
                    }
                    try (PlanSet plans = m.compile(CompileOptions.defaults()); Tensor y = plans.run(x)) {
                        OnnxModelsTest.assertClose(name + " plan set", want, y);
                    }
                }
            }
        }
    }

    private static AttributeProto real(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    private static AttributeProto reference(String name, String ref) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setRefAttrName(ref).build();
    }

    /** A function "lib.Scaled(X) = LeakyRelu(X, alpha = @slope)" and a model calling it with the given attributes. */
    private static ModelProto scaled(FunctionProto.Builder f, AttributeProto... callAttributes) {
        GraphProto g = GraphProto.newBuilder().setName("calls").addInput(TestModels.f32("x", 4))
                .addNode(TestModels.node("call", "Scaled", new String[] {"x"}, new String[] {"y"}, callAttributes).toBuilder().setDomain("lib"))
                .addOutput(TestModels.f32("y", 4)).build();
        return TestModels.model(17, g).toBuilder().addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("lib").setVersion(1))
                .addFunctions(f).build();
    }

    private static FunctionProto.Builder scaledFunction() {
        return FunctionProto.newBuilder().setName("Scaled").setDomain("lib").addInput("X").addOutput("Y").addAttribute("slope")
                .addNode(TestModels.node("act", "LeakyRelu", new String[] {"X"}, new String[] {"Y"}, reference("alpha", "slope")))
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17));
    }

    private static float[] run(ModelProto model) {
        try (OnnxModel m = Onnx.load(model.toByteArray()); Tensor x = Tensor.of(new float[] {-2, -1, 0, 3}, 4)) {
            return TestModels.outputValues(m, Map.of("x", x), "y");
        }
    }

    @Test
    void attributeReferencesTakeTheCallsValueElseTheDefaultElseNone() {
        assertEquals(java.util.List.of(-1f, -0.5f, 0f, 3f), box(run(scaled(scaledFunction(), real("slope", 0.5f)))), "the call's slope");
        // ONNX 1.13's FunctionProto.attribute_proto (field 11) holds defaults: written here as the unknown field it is to us
        FunctionProto.Builder withDefault = scaledFunction().clearAttribute();
        withDefault.setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder().addField(11, com.google.protobuf.UnknownFieldSet.Field
                .newBuilder().addLengthDelimited(real("slope", 0.25f).toByteString()).build()).build());
        assertEquals(java.util.List.of(-0.5f, -0.25f, 0f, 3f), box(run(scaled(withDefault))), "the default");
        assertEquals(java.util.List.of(-0.02f, -0.01f, 0f, 3f), box(run(scaled(scaledFunction()))), "no value: LeakyRelu's own default 0.01");
    }

    private static java.util.List<Float> box(float[] v) {
        java.util.List<Float> l = new java.util.ArrayList<>();
        for (float f : v) l.add(f);
        return l;
    }

    /** A function returning its input as a second output beside the LeakyRelu: an Identity of the call's input. */
    @Test
    void anOutputThatIsAnInput() {
        FunctionProto.Builder f = scaledFunction().addOutput("X");
        GraphProto g = GraphProto.newBuilder().setName("calls").addInput(TestModels.f32("x", 4))
                .addNode(TestModels.node("call", "Scaled", new String[] {"x"}, new String[] {"y", "same"}, real("slope", 0.5f)).toBuilder().setDomain("lib"))
                .addOutput(TestModels.f32("y", 4)).addOutput(TestModels.f32("same", 4)).build();
        ModelProto m = TestModels.model(17, g).toBuilder().addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("lib").setVersion(1))
                .addFunctions(f).build();
        try (OnnxModel model = Onnx.load(m.toByteArray()); Tensor x = Tensor.of(new float[] {-2, -1, 0, 3}, 4)) {
            assertEquals(java.util.List.of(-2f, -1f, 0f, 3f), box(TestModels.outputValues(model, Map.of("x", x), "same")));
            assertEquals(java.util.List.of(-1f, -0.5f, 0f, 3f), box(TestModels.outputValues(model, Map.of("x", x), "y")));
        }
    }

    /** 40 levels, each calling the next twice: 2^40 nodes if inlined (the load would never end); refused at Functions.MAX_NODES. */
    @Test
    void anExponentialExpansionIsRefused() {
        ModelProto.Builder m = scaled(scaledFunction()).toBuilder().clearFunctions();
        for (int level = 0; level < 40; level++) {
            String name = level == 0 ? "Scaled" : "L" + level, next = "L" + (level + 1);
            FunctionProto.Builder f = FunctionProto.newBuilder().setName(name).setDomain("lib").addInput("X").addOutput("Y")
                    .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(17));
            if (level == 39) {
                f.addNode(TestModels.node("relu", "Relu", new String[] {"X"}, new String[] {"Y"}));
            } else {
                f.addNode(TestModels.node("a", next, new String[] {"X"}, new String[] {"T"}).toBuilder().setDomain("lib").build());
                f.addNode(TestModels.node("b", next, new String[] {"T"}, new String[] {"Y"}).toBuilder().setDomain("lib").build());
            }
            m.addFunctions(f);
        }
        OnnxException e = assertThrows(OnnxException.class, () -> Onnx.load(m.build().toByteArray()));
        assertTrue(e.getMessage().contains("inlining the local functions gives more than " + Functions.MAX_NODES + " nodes"), e.getMessage());
    }

    @Test
    void refusals() {
        FunctionProto.Builder otherOpset = scaledFunction().clearOpsetImport().addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13));
        OnnxException e = assertThrows(OnnxException.class, () -> Onnx.load(scaled(otherOpset, real("slope", 1)).toByteArray()));
        assertTrue(e.getMessage().contains("node call (call of local function 'Scaled', domain 'lib'): its body imports opset 13 of the default "
                + "domain, the model 17"), e.getMessage());
        FunctionProto.Builder outer = scaledFunction().clearNode().addNode(TestModels.node("act", "LeakyRelu", new String[] {"Z"}, new String[] {"Y"}));
        e = assertThrows(OnnxException.class, () -> Onnx.load(scaled(outer).toByteArray()));
        assertTrue(e.getMessage().contains("body node act (LeakyRelu) reads 'Z', which the function does not define"), e.getMessage());
        FunctionProto.Builder recursive = scaledFunction().clearNode().addNode(TestModels.node("self", "Scaled", new String[] {"X"},
                new String[] {"Y"}).toBuilder().setDomain("lib").build());
        e = assertThrows(OnnxException.class, () -> Onnx.load(scaled(recursive).toByteArray()));
        assertTrue(e.getMessage().contains("local functions nested deeper than 64 (a recursion?)"), e.getMessage());
        FunctionProto.Builder unknown = scaledFunction().clearNode().addNode(TestModels.node("n", "Frobnicate", new String[] {"X"},
                new String[] {"Y"}));
        e = assertThrows(OnnxException.class, () -> Onnx.load(scaled(unknown).toByteArray()));
        assertTrue(e.getMessage().contains("call#0/n") && e.getMessage().contains("Frobnicate"), e.getMessage());
    }
}
