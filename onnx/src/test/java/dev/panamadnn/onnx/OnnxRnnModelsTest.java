package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.TestModels.f32;
import static dev.panamadnn.onnx.TestModels.model;
import static dev.panamadnn.onnx.TestModels.node;
import static dev.panamadnn.onnx.TestModels.string;
import static dev.panamadnn.onnx.TestModels.weights;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * ONNX LSTM and GRU: two-layer batch_first sequence classifiers exported by torch 1.13
 * (scripts/goldens/export_onnx_rnn_models.py: opsets 13 and 17, dynamic batch) imported and run at
 * batch 1 and 2 through one plan set against PyTorch's logits within
 * {@code 1e-4 * max|logit| + 1e-4}; and what the import refuses (non-default activations, clip,
 * input_forget) or names itself (an output left out).
 */
class OnnxRnnModelsTest {

    @TestFactory
    Stream<DynamicTest> torchRecurrentModelsMatchPyTorch() throws Exception {
        Path dir = Goldens.ensure("onnx-rnn-models", "export_onnx_rnn_models.py", "gru.goldens.safetensors", 600);
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : new String[] {"lstm", "gru"}) {
            for (int opset : new int[] {13, 17}) tests.add(DynamicTest.dynamicTest(name + " opset " + opset, () -> check(dir, name, opset)));
        }
        for (String name : new String[] {"packed_lstm", "packed_gru"}) {
            for (int opset : new int[] {13, 17}) tests.add(DynamicTest.dynamicTest(name + " opset " + opset, () -> checkPacked(dir, name, opset)));
        }
        return tests.stream();
    }

    /**
     * pack_padded_sequence with unsorted lengths: torch's export sorts them (TopK of I64) and unsorts the output
     * (ScatterElements of I64), both computed once the lengths input is bound to a call's values; padded steps give the bias.
     * Both golden sets are batch 2 (the export's zero initial state is a constant of its batch), with other lengths.
     */
    private static void checkPacked(Path dir, String name, int opset) throws Exception {
        try (OnnxModel model = Onnx.load(dir.resolve(name + ".opset" + opset + ".onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve(name + ".goldens.safetensors"))) {
            for (int batch : new int[] {2, 3}) {
                java.util.Map<String, Tensor> out = model.run(java.util.Map.of("input", goldens.get("input_b" + batch), "lengths", goldens.get("lengths_b" + batch)));
                try (Tensor y = out.get("logits")) {
                    OnnxModelsTest.assertClose(name + " opset " + opset + " batch " + batch, goldens.get("logits_b" + batch), y);
                }
            }
        }
    }

    private static void check(Path dir, String name, int opset) throws Exception {
        try (OnnxModel model = Onnx.load(dir.resolve(name + ".opset" + opset + ".onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve(name + ".goldens.safetensors"));
             PlanSet plans = model.compile(CompileOptions.defaults())) {
            for (int batch : new int[] {1, 2}) {
                try (Tensor y = plans.run(goldens.get("input_b" + batch))) {
                    OnnxModelsTest.assertClose(name + " opset " + opset + " batch " + batch, goldens.get("logits_b" + batch), y);
                }
            }
        }
    }

    /** x [T=3, N, 2] -> LSTM (hidden 2) with only Y_h wired (Y left out, named by the import). */
    private static GraphProto lstm(AttributeProto... extra) {
        float[] w = new float[8 * 2], r = new float[8 * 2];
        for (int i = 0; i < w.length; i++) {
            w[i] = (i % 5 - 2) * 0.1f;
            r[i] = (i % 3 - 1) * 0.1f;
        }
        List<AttributeProto> attrs = new ArrayList<>(List.of(intAttr("hidden_size", 2)));
        attrs.addAll(List.of(extra));
        return GraphProto.newBuilder().setName("lstm").addInput(f32("x", 3, "N", 2))
                .addInitializer(weights("w", w, 1, 8, 2)).addInitializer(weights("r", r, 1, 8, 2))
                .addNode(node("cell", "LSTM", new String[] {"x", "w", "r"}, new String[] {"", "yh"}, attrs.toArray(AttributeProto[]::new)))
                .addOutput(f32("yh", 1, "N", 2)).build();
    }

    private static AttributeProto intAttr(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static AttributeProto floatAttr(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    private static AttributeProto strings(String name, String... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRINGS);
        for (String s : v) a.addStrings(ByteString.copyFromUtf8(s));
        return a.build();
    }

    @Test
    void leftOutYIsNamedAndDefaultActivationsAreTaken() throws Exception {
        for (int opset : new int[] {7, 14}) {
            try (OnnxModel m = Onnx.load(model(opset, lstm(strings("activations", "Sigmoid", "Tanh", "Tanh"), string("direction", "forward")))
                    .toByteArray())) {
                assertEquals(1, m.outputs().size());
                assertEquals("[1, N, 2]", m.outputs().get(0).shape().toString(), "Y_h of " + m);
            }
        }
    }

    @Test
    void refusesWhatOurLstmDoesNotCompute() {
        OnnxException clip = assertThrows(OnnxException.class, () -> Onnx.load(model(14, lstm(floatAttr("clip", 3))).toByteArray()));
        assertTrue(String.join("\n", clip.problems()).contains("attribute 'clip' is not supported"), clip.problems().toString());
        OnnxException coupled = assertThrows(OnnxException.class, () -> Onnx.load(model(7, lstm(intAttr("input_forget", 1))).toByteArray()));
        assertTrue(String.join("\n", coupled.problems()).contains("input_forget = 1"), coupled.problems().toString());
        OnnxException a = assertThrows(OnnxException.class, () -> Onnx.load(model(14, lstm(strings("activations", "Relu", "Tanh", "Tanh")))
                .toByteArray()));
        assertTrue(String.join("\n", a.problems()).contains("activations 'Relu,Tanh,Tanh' are not supported"), a.problems().toString());
        OnnxException layout = assertThrows(OnnxException.class, () -> Onnx.load(model(13, lstm(intAttr("layout", 1))).toByteArray()));
        assertTrue(String.join("\n", layout.problems()).contains("attribute 'layout' is not supported"), layout.problems().toString());
    }
}
