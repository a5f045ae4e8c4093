package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.TensorProto;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/**
 * Opsets 7 and 8 as torch 1.13 exports them (scripts/goldens/export_onnx_old_opsets.py): scalars and index constants as
 * DOUBLE Constants each read by a Cast, which {@link DoubleConstants} folds when importing (our IR has no DOUBLE; they
 * were refused before). Against PyTorch within {@code 1e-4 * max|output| + 1e-4} (OnnxModelsTest.assertClose).
 */
class OnnxOldOpsetsTest {
    @ParameterizedTest(name = "{0} opset {1}")
    @CsvSource({"std_var,7", "std_var,8", "group_norm,7", "group_norm,8", "pixel_shuffle,7", "pixel_shuffle,8", "attention,7", "attention,8"})
    void doubleConstantsReadByCastsImportAndMatchPyTorch(String name, int opset) throws Exception {
        Path dir = Goldens.ensure("onnx-old-opsets", "export_onnx_old_opsets.py", "old_opsets.goldens.safetensors", 300);
        try (OnnxModel model = Onnx.load(dir.resolve(name + ".opset" + opset + ".onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve("old_opsets.goldens.safetensors"))) {
            Map<String, Tensor> out = model.run(Map.of("input", goldens.get("input_" + name)));
            try {
                OnnxModelsTest.assertClose(name + " opset " + opset, goldens.get("output_" + name), out.get("output"));
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }

    /** A DOUBLE constant read by anything but a Cast is still refused, by name. */
    @Test
    void aDoubleConstantReadByAnotherOpIsRefused() {
        TensorProto two = TensorProto.newBuilder().setDataType(TensorProto.DataType.DOUBLE_VALUE).addDoubleData(2.0).build();
        GraphProto g = GraphProto.newBuilder().setName("double").addInput(TestModels.f32("x", 2)).addOutput(TestModels.f32("y"))
                .addNode(TestModels.node("c", "Constant", new String[0], new String[] {"two"}, dev.panamadnn.onnx.proto.AttributeProto.newBuilder()
                        .setName("value").setType(dev.panamadnn.onnx.proto.AttributeProto.AttributeType.TENSOR).setT(two).build()))
                .addNode(TestModels.node("m", "Mul", new String[] {"x", "two"}, new String[] {"y"}))
                .build();
        OnnxException e = assertThrows(OnnxException.class, () -> Onnx.load(TestModels.model(8, g).toByteArray()).close());
        assertTrue(e.getMessage().contains("'c'") && e.getMessage().contains("DOUBLE"), e.getMessage());
    }
}
