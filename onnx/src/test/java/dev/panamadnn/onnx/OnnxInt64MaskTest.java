package dev.panamadnn.onnx;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * An int64 attention mask turned into an additive mask as Hugging Face's BERT does (Unsqueeze, Cast to float, Sub, Mul)
 * and used to pool (scripts/goldens/export_onnx_int64_mask.py): the INT64 input is read by Unsqueeze and Cast inside a
 * plan set (converted once per run to exact F32 values); before, only run(Map) took the model, binding each call's mask
 * values as constants (a plan per distinct mask). Against PyTorch at batch 3 and 1 of one plan set, within
 * {@code 1e-4 * max|output| + 1e-4}.
 */
class OnnxInt64MaskTest {
    @ParameterizedTest(name = "opset {0}")
    @ValueSource(ints = {13, 17})
    void anInt64MaskCastToFloatCompilesIntoAPlanSetAndMatchesPyTorch(int opset) throws Exception {
        Path dir = Goldens.ensure("onnx-int64-mask", "export_onnx_int64_mask.py", "int64mask.goldens.safetensors", 300);
        try (OnnxModel model = Onnx.load(dir.resolve("int64mask.opset" + opset + ".onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve("int64mask.goldens.safetensors"));
             PlanSet plans = model.compile(CompileOptions.defaults())) {
            for (String b : new String[] {"b3", "b1"}) {
                Map<String, Tensor> out = plans.run(Map.of("ids", goldens.get("ids_" + b), "mask", goldens.get("mask_" + b)));
                try {
                    OnnxModelsTest.assertClose("int64 mask opset " + opset + " " + b, goldens.get("y_" + b), out.values().iterator().next());
                } finally {
                    out.values().forEach(Tensor::close);
                }
            }
        }
    }
}
