package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * NaN, infinities and huge values through imported torch exports, against PyTorch 1.13
 * (scripts/goldens/export_onnx_nonfinite.py): the places where the exported graph run op by op, or oneDNN's kernel
 * alone, would not give PyTorch's value. {@code nn.LogSigmoid} (exported as Log(Sigmoid): -inf below about -88 op by
 * op; the {@code fuse_log_sigmoid} rule), {@code torch.logsumexp} (a row with +inf or of only -inf: inf - inf), C's
 * {@code pow} special cases ({@code 1 ** NaN}; Java's Math.pow gives NaN), {@code torch.sign} (NaN gives 0), and a
 * max pooling whose windows hold a NaN after a convolution (oneDNN's maximum skips NaN: a NaN mask), and
 * {@code F.interpolate} (Resize: bilinear, bilinear with align_corners, 1-D linear, bicubic) next to infinities and NaN,
 * where PyTorch reads the neighbour of weight 0 as well (0 * inf: NaN; Resize's taps left such neighbours out until
 * 2026-12-06, giving the finite value). Compared: NaN
 * exactly where PyTorch has NaN, the same infinities, finite values within {@code 1e-6 + 1e-5 |expected|}; each
 * case compiled with the default options, with {@code fast_when_finite} off (every NaN-keeping step always runs), and
 * in the plain layout (where oneDNN 3.13's jit pooling misread a binary post-op's operand past the first image: the
 * pooling's NaN mask was once such a post-op, and the third image's NaN came out as another image's values).
 */
class OnnxNonFiniteTest {
    @ParameterizedTest(name = "{0} opset {1}")
    @CsvSource({"log_sigmoid,13", "log_sigmoid,17", "logsumexp,13", "logsumexp,17", "pow,13", "pow,17", "sign,13", "sign,17",
            "conv_relu_pool,13", "conv_relu_pool,17", "upsample_bilinear,13", "upsample_bilinear,17", "upsample_bilinear_ac,13",
            "upsample_bilinear_ac,17", "upsample_linear,13", "upsample_linear,17", "upsample_bicubic,13", "upsample_bicubic,17"})
    void matchesPyTorch(String name, int opset) throws Exception {
        Path dir = Goldens.ensure("onnx-nonfinite", "export_onnx_nonfinite.py", "nonfinite.goldens.safetensors", 300);
        try (OnnxModel model = Onnx.load(dir.resolve(name + ".opset" + opset + ".onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve("nonfinite.goldens.safetensors"))) {
            Tensor input = goldens.get("input_" + name), expected = goldens.get("output_" + name);
            for (CompileOptions options : new CompileOptions[] {CompileOptions.defaults(), CompileOptions.defaults().withoutRule("fast_when_finite"),
                    CompileOptions.defaults().withLayout(CompileOptions.Layout.PLAIN)}) {
                try (CompiledModel plan = CompiledModel.compile(model.toGraph(), options, Map.of("input", input.shape()));
                     Tensor y = plan.run(Map.of("input", input)).values().iterator().next()) {   // one output (our graph may rename it)
                    assertMatches(name + " opset " + opset + " " + options.layout() + " " + options.disabledRules(), expected, y);
                    if (name.equals("log_sigmoid") && options.disabledRules().isEmpty()) {
                        assertTrue(plan.rulesFired().stream().anyMatch(r -> r.startsWith("fuse_log_sigmoid:")), plan.describe());
                    }
                }
            }
            Map<String, Tensor> out = model.run(Map.of("input", input));   // OnnxModel's own run
            try {
                assertMatches(name + " opset " + opset + " run()", expected, out.get("output"));
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }

    /** The same pooling model on an ordinary image: the plan takes the proven-finite path (the NaN mask skipped) and still matches. */
    @ParameterizedTest(name = "opset {0}")
    @CsvSource({"13", "17"})
    void maxPoolingOnFiniteInputsSkipsTheNaNMask(int opset) throws Exception {
        Path dir = Goldens.ensure("onnx-nonfinite", "export_onnx_nonfinite.py", "nonfinite.goldens.safetensors", 300);
        try (OnnxModel model = Onnx.load(dir.resolve("conv_relu_pool.opset" + opset + ".onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve("nonfinite.goldens.safetensors"));
             CompiledModel plan = CompiledModel.compile(model.toGraph(), CompileOptions.defaults(), Map.of("input", new long[] {3, 2, 8, 8}))) {
            plan.warmup();   // proves the steps (after the first run otherwise: DeferredProof); warmup's run on zeros is a fast run
            long warm = plan.fastRuns();
            assertTrue(plan.steps().stream().anyMatch(s -> s.contains("NaN mask") && s.contains("skipped when")), plan.describe());
            Tensor finite = goldens.get("input_conv_relu_pool_finite"), nonFinite = goldens.get("input_conv_relu_pool");
            try (Tensor y = plan.run(Map.of("input", finite)).get("output")) {
                assertMatches("finite image", goldens.get("output_conv_relu_pool_finite"), y);
            }
            assertEquals(warm + 1, plan.fastRuns(), "the ordinary image ran the proven-finite path");
            try (Tensor y = plan.run(Map.of("input", nonFinite)).get("output")) {
                assertMatches("image with NaN after it", goldens.get("output_conv_relu_pool"), y);
            }
            assertEquals(warm + 1, plan.fastRuns(), "the image with a NaN ran the NaN-keeping path");
        }
    }

    static void assertMatches(String what, Tensor expected, Tensor actual) {
        assertArrayEquals(expected.shape(), actual.shape(), what + ": shape");
        float[] e = expected.toFloatArray(), a = actual.toFloatArray();
        int nans = 0;
        for (int i = 0; i < e.length; i++) {
            boolean ok;
            if (Float.isNaN(e[i])) {
                ok = Float.isNaN(a[i]);
                nans++;
            } else if (Float.isInfinite(e[i])) {
                ok = a[i] == e[i];
            } else {
                ok = Math.abs(a[i] - (double) e[i]) <= 1e-6 + 1e-5 * Math.abs(e[i]);
            }
            if (!ok) fail(what + ": element " + i + " is " + a[i] + ", PyTorch gives " + e[i]);
        }
        System.out.printf("%s: %d elements match PyTorch (%d NaN)%n", what, e.length, nans);
    }
}
