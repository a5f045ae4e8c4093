package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Resize and ArgMax as torch 1.13 exports them (scripts/goldens/export_onnx_resize_models.py, opsets 13
 * and 17, dynamic batch): a convolution then F.interpolate nearest (asymmetric, floor), bilinear
 * (half_pixel), bilinear to a size computed from the input's shape (align_corners), bicubic (half_pixel,
 * a = -0.75), and the argmax over channels (an I64 output). Run through {@link OnnxModel#run} at batch 1
 * and 2 against PyTorch: the maps within {@code 1e-4 * max|map| + 1e-4}; each class index equal to
 * PyTorch's, or (a near tie) one whose PyTorch value is within that tolerance of the maximum.
 */
class OnnxResizeModelsTest {

    @TestFactory
    Stream<DynamicTest> torchUpsamplingMatchesPyTorch() throws Exception {
        Path dir = Goldens.ensure("onnx-resize-models", "export_onnx_resize_models.py", "upsample.goldens.safetensors", 600);
        List<DynamicTest> tests = new ArrayList<>();
        for (int opset : new int[] {13, 17}) tests.add(DynamicTest.dynamicTest("upsample opset " + opset, () -> check(dir, opset)));
        return tests.stream();
    }

    private static void check(Path dir, int opset) throws Exception {
        try (OnnxModel model = Onnx.load(dir.resolve("upsample.opset" + opset + ".onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve("upsample.goldens.safetensors"))) {
            assertEquals(DataType.I64, model.outputs().get(1).dtype(), "classes: " + model.outputs());
            for (int batch : new int[] {1, 2}) {
                String what = "upsample opset " + opset + " batch " + batch;
                Map<String, Tensor> out = model.run(Map.of("input", goldens.get("input_b" + batch)));
                Tensor maps = goldens.get("maps_b" + batch);
                OnnxModelsTest.assertClose(what + " maps", maps, out.get("maps"));
                Tensor classes = out.get("classes");
                assertEquals(DataType.I64, classes.dtype());
                float[] torchClasses = goldens.get("classes_b" + batch).toFloatArray(), torchMaps = maps.toFloatArray();
                assertArrayEquals(new long[] {batch, 10, 14}, classes.shape(), what + " classes shape");
                double tol = 1e-4 * max(torchMaps) + 1e-4;
                int channels = 4, plane = 10 * 14, differing = 0;
                for (int i = 0; i < torchClasses.length; i++) {
                    long ours = classes.segment().getAtIndex(ValueLayout.JAVA_LONG, i);
                    if (ours == (long) torchClasses[i]) continue;
                    differing++;
                    int n = i / plane, p = i % plane;
                    float best = torchMaps[(n * channels + (int) torchClasses[i]) * plane + p];
                    assertTrue(ours >= 0 && ours < channels && best - torchMaps[(int) ((n * channels + ours) * plane + p)] <= tol,
                            what + ": class " + ours + " at " + i + ", PyTorch " + (long) torchClasses[i] + " (not a near tie)");
                }
                System.out.printf("%s: classes equal to PyTorch's but %d near ties%n", what, differing);
                out.get("maps").close();
            }
        }
    }

    private static double max(float[] v) {
        double m = 0;
        for (float f : v) m = Math.max(m, Math.abs(f));
        return m;
    }
}
