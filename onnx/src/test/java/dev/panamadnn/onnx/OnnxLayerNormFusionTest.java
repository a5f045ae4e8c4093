package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The {@code fuse_layer_norm} rule on the layer normalizations torch 1.13 exports (scripts/goldens/export_onnx_layernorm.py:
 * {@code nn.LayerNorm(16)}, {@code nn.LayerNorm([6, 16])} and, after a transpose, {@code nn.LayerNorm(6, eps=1e-6)},
 * with drawn weights and biases): at opset 13, written op by op, each becomes one LayerNormalization with its scale and
 * shift (three firings, fewer primitives); at opset 17 torch writes LayerNormalization itself and the rule has nothing
 * to do. With and without the rule, both opsets match PyTorch within {@code 1e-4 * max|output| + 1e-4}.
 */
class OnnxLayerNormFusionTest {
    @ParameterizedTest
    @ValueSource(ints = {13, 17})
    void torchsLayerNormsFuseAndMatchPyTorch(int opset) throws Exception {
        Path dir = Goldens.ensure("onnx-layernorm", "export_onnx_layernorm.py", "layernorm.goldens.safetensors", 300);
        try (OnnxModel model = Onnx.load(dir.resolve("layernorm.opset" + opset + ".onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve("layernorm.goldens.safetensors"))) {
            var graph = model.toGraph();
            for (int batch : new int[] {1, 3}) {
                Map<String, long[]> shape = Map.of("input", new long[] {batch, 6, 16});
                CompileOptions options = CompileOptions.defaults();
                try (CompiledModel fused = CompiledModel.compile(graph, options, shape);
                     CompiledModel unfused = CompiledModel.compile(graph, options.withoutRule("fuse_layer_norm"), shape)) {
                    List<String> fired = fused.rulesFired().stream().filter(r -> r.startsWith("fuse_layer_norm:")).toList();
                    long native17 = fused.steps().stream().filter(s -> s.startsWith("layer norm ")).count();
                    assertEquals(3, native17, fused.describe());
                    if (opset < 17) {
                        assertEquals(3, fired.size(), fused.describe());
                        assertTrue(fired.get(0).endsWith("over [16] with its scale and shift"), fired.toString());
                        assertTrue(fired.get(1).endsWith("over [6, 16] with its scale and shift"), fired.toString());
                        assertTrue(fired.get(2).endsWith("over [6] with its scale and shift"), fired.toString());
                        assertTrue(fused.primitiveCount() < unfused.primitiveCount(), fused.describe() + "\nvs\n" + unfused.describe());
                    } else {
                        assertEquals(List.of(), fired, "LayerNormalization as exported: nothing to fuse");
                    }
                    Tensor input = goldens.get("input_b" + batch), expected = goldens.get("output_b" + batch);
                    try (Tensor a = fused.run(Map.of("input", input)).get("output"); Tensor b = unfused.run(Map.of("input", input)).get("output")) {
                        OnnxModelsTest.assertClose("layer norms opset " + opset + " b" + batch + " fused", expected, a);
                        OnnxModelsTest.assertClose("layer norms opset " + opset + " b" + batch + " unfused", expected, b);
                    }
                }
            }
        }
    }
}
