package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Softmax, LogSoftmax and Hardmax before opset 13 over an axis that is not the last: one softmax over all the dims from
 * the axis on (flatten-to-2-D), as a Reshape around ours. Goldens: PyTorch's functions of the input reshaped to 2-D
 * (scripts/goldens/export_onnx_legacy_softmax.py); a NaN in one line makes that line's softmax and log-softmax all NaN.
 */
class OnnxLegacySoftmaxTest {
    @Test
    void flattenToTwoDimensionsAtTheAxisAsPyTorchOfTheReshapedInput() throws Exception {
        Path dir = Goldens.ensure("onnx-legacy-softmax", "export_onnx_legacy_softmax.py", "legacy_softmax.goldens.safetensors", 300);
        try (OnnxModel model = Onnx.load(dir.resolve("legacy_softmax.onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve("legacy_softmax.goldens.safetensors"))) {
            Map<String, Tensor> out = model.run(Map.of("x", goldens.get("x_b2")));
            try {
                for (String name : new String[] {"softmax", "logsoftmax", "hardmax"}) {
                    float[] want = goldens.get(name + "_b2").toFloatArray(), got = out.get(name).toFloatArray();
                    assertArrayEquals(new long[] {2, 3, 4}, out.get(name).shape(), name);
                    for (int i = 0; i < want.length; i++) {
                        if (name.equals("hardmax") && i >= 12) continue;   // the NaN line: ONNX takes NaN as the maximum (numpy)
                        if (Float.isNaN(want[i])) {
                            assertTrue(Float.isNaN(got[i]), name + "[" + i + "]: " + got[i] + ", PyTorch NaN");
                        } else {
                            assertEquals(want[i], got[i], 1e-6f * Math.max(1f, Math.abs(want[i])), name + "[" + i + "]");
                        }
                    }
                }
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }
}
