package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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
 * The {@code fuse_gelu} rule on the GELU subgraphs torch 1.13 exports (scripts/goldens/export_onnx_gelu.py:
 * Linear, nn.GELU() as Div/Erf/Add/Mul/Mul, Linear, nn.GELU(approximate='tanh') as Mul/Mul/Mul/Add/Mul/
 * Tanh/Add/Mul/Mul, Linear; opsets 13 and 17): with the rule both subgraphs become one Gelu each
 * (then fused into the Gemm before it), without it they run op by op; both match PyTorch within
 * {@code 1e-4 * max|output| + 1e-4} (the Erf step and oneDNN's gelu_erf differ in rounding only).
 */
class OnnxGeluFusionTest {
    private static final int BATCH = 3;

    @ParameterizedTest
    @ValueSource(ints = {13, 17})
    void bothGeluFormsFuseAndMatchPyTorch(int opset) throws Exception {
        Path dir = Goldens.ensure("onnx-gelu", "export_onnx_gelu.py", "gelu.goldens.safetensors", 300);
        try (OnnxModel model = Onnx.load(dir.resolve("gelu.opset" + opset + ".onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve("gelu.goldens.safetensors"))) {
            var graph = model.toGraph();
            Map<String, long[]> shape = Map.of("input", new long[] {BATCH, 16});
            CompileOptions options = CompileOptions.defaults();
            try (CompiledModel fused = CompiledModel.compile(graph, options, shape);
                 CompiledModel unfused = CompiledModel.compile(graph, options.withoutRule("fuse_gelu"), shape)) {
                List<String> fired = fused.rulesFired().stream().filter(r -> r.startsWith("fuse_gelu:")).toList();
                assertEquals(2, fired.size(), fused.describe());
                assertTrue(fired.get(0).contains("(erf)") && fired.get(1).contains("(tanh)"), fired.toString());
                assertTrue(fused.rulesFired().stream().anyMatch(r -> r.startsWith("fuse_activation:")), "the Gelus fuse into the Gemms\n"
                        + fused.describe());
                assertFalse(fused.steps().stream().anyMatch(s -> s.contains("erf ") || s.contains("tanh ")), fused.describe());
                assertFalse(unfused.rulesFired().stream().anyMatch(r -> r.startsWith("fuse_gelu:")), unfused.describe());
                assertTrue(fused.primitiveCount() < unfused.primitiveCount(), fused.describe() + "\nvs\n" + unfused.describe());
                Tensor input = goldens.get("input_b" + BATCH), expected = goldens.get("output_b" + BATCH);
                try (Tensor a = run(fused, input); Tensor b = run(unfused, input)) {
                    OnnxModelsTest.assertClose("gelu opset " + opset + " fused", expected, a);
                    OnnxModelsTest.assertClose("gelu opset " + opset + " unfused", expected, b);
                }
            }
        }
    }

    private static Tensor run(CompiledModel plan, Tensor input) {
        return plan.run(Map.of("input", input)).get("output");
    }
}
