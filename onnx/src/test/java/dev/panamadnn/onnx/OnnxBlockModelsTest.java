package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The blocks of three torchvision families the ten real models do not have, as torch 1.13 exports them
 * (scripts/goldens/export_onnx_block_models.py, opsets 13 and 17, dynamic batch): ConvNeXt (channels-last
 * LayerNorm, decomposed at opset 13), ViT (sequence-first attention from batch-first encoder layers) and
 * LR-ASPP's head (bilinear resize to the input's size), and convolutions with windows wholly in the padding
 * (DeepLabV3's ASPP: a 3x3 kernel dilated 24 over 14x14 compiles as its centre tap; padding 4 around a 3x3 kernel
 * as an explicit zero padding), a video ResNet in small (3-D convolutions and pooling), which plans used to
 * refuse, and explicit zero Pads (folded into the Conv or the counting AveragePool after them, not into a pooling
 * that does not count its padding), and torchvision's Swin Transformer in small (its shifted-window mask, exported
 * as ScatterND over shape computations and comparisons, folded when compiling). Each through {@link OnnxModel#run} at batch 1 and 2
 * against PyTorch within {@code 1e-4 * max|output| + 1e-4}, and its batch-2 plan checked for the two forms
 * these exports used to fall into: a binary op on oneDNN's reference kernel (the LayerNorm's {@code x - mean}
 * broadcast along the last axis: 40-100x slower than the jit one), and a product with weights broadcast over
 * batch dims ({@code [L, N, E] x [1, E, F]}: the weights read once per batch row instead of once).
 */
class OnnxBlockModelsTest {
    private static final Pattern BROADCAST_WEIGHTS = Pattern.compile("matmul .* x \\[1, \\d+, \\d+\\]");

    @TestFactory
    Stream<DynamicTest> torchvisionBlocksMatchPyTorch() throws Exception {
        Path dir = Goldens.ensure("onnx-block-models", "export_onnx_block_models.py", "blocks.goldens.safetensors", 600);
        List<DynamicTest> tests = new ArrayList<>();
        for (String model : new String[] {"convnext", "vit", "lraspp", "padded", "video", "pads", "swin", "causal", "lrn"}) {
            for (int opset : model.equals("causal") ? new int[] {17} : new int[] {13, 17}) {   // torch.triu exports at opset 14+
                tests.add(DynamicTest.dynamicTest(model + " opset " + opset, () -> check(dir, model, opset)));
            }
        }
        return tests.stream();
    }

    private static void check(Path dir, String name, int opset) throws Exception {
        try (OnnxModel model = Onnx.load(dir.resolve(name + ".opset" + opset + ".onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve("blocks.goldens.safetensors"))) {
            for (int batch : new int[] {1, 2}) {
                String what = name + " opset " + opset + " batch " + batch;
                Map<String, Tensor> out = model.run(Map.of("input", goldens.get(name + "_input_b" + batch)));
                try (Tensor y = out.get("output")) {
                    OnnxModelsTest.assertClose(what, goldens.get(name + "_output_b" + batch), y);
                }
            }
            long[] shape = goldens.get(name + "_input_b2").shape();
            try (CompiledModel plan = CompiledModel.compile(model.toGraph(), CompileOptions.defaults(), Map.of("input", shape))) {
                String steps = String.join("\n", plan.steps());
                List<String> ref = plan.steps().stream().filter(s -> s.contains("[ref:")).toList();
                assertEquals(List.of(), ref, name + " opset " + opset + ": steps on oneDNN's reference kernels");
                assertTrue(plan.steps().stream().noneMatch(s -> BROADCAST_WEIGHTS.matcher(s).find()),
                        name + " opset " + opset + ": a product reads its weights once per batch row:\n" + steps);
                assertTrue(plan.steps().stream().anyMatch(s -> s.startsWith("matmul ") || s.startsWith("linear ") || s.startsWith("conv ")),
                        name + ": no product steps at all?\n" + steps);
                if (name.equals("pads")) {   // the Conv's and Inception's pads folded into them; the last one must stay
                    assertEquals(1, plan.steps().stream().filter(s -> s.startsWith("java pad")).count(), steps);
                    assertEquals(2, plan.rulesFired().stream().filter(s -> s.startsWith("fold_pad:")).count(), plan.rulesFired().toString());
                }
                if (name.equals("padded")) {   // the dilated ones read only their centre taps: 1x1, no padding; the wide one padded
                    assertEquals(1, plan.steps().stream().filter(s -> s.startsWith("java zero padding")).count(), steps);
                    assertEquals(3, plan.steps().stream().filter(s -> s.startsWith("conv ")).count(), steps);
                }
            }
        }
    }
}
