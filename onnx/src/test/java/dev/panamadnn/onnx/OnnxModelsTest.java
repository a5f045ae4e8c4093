package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.models.ResNet;
import dev.panamadnn.models.ResNets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Real torchvision models exported by torch 1.13 (scripts/goldens/export_onnx_models.py: random
 * weights with a fixed seed, randomized BatchNorm statistics, opsets 13 and 17, dynamic batch)
 * imported and run at batch 1 and 2 through one plan set, against PyTorch's logits within
 * {@code 1e-4 * max|logit| + 1e-4} (float32 sums in another order through tens of layers). A model
 * that cannot be imported or compiled yet is skipped (an assumption) with the reason, naming
 * its unsupported ops, so it lights up when our op set grows. Also ResNet-18/50 imported from ONNX
 * against the same weights loaded into our own {@link ResNet} (scripts/goldens/export_resnet.py).
 */
class OnnxModelsTest {
    static final double REL = 1e-4, ABS = 1e-4;
    /** The models whose 2-thread plans run as single-threaded halves of the batch (weights within 32 MiB). */
    static final java.util.Set<String> SPLIT = java.util.Set.of("mobilenet_v2", "squeezenet1_1", "shufflenet_v2_x1_0", "efficientnet_b0",
            "regnet_y_400mf", "googlenet", "densenet121");
    static final List<String> MODELS = List.of("resnet18", "resnet50", "mobilenet_v2", "squeezenet1_1", "densenet121", "efficientnet_b0",
            "shufflenet_v2_x1_0", "vgg11_bn", "regnet_y_400mf", "googlenet");

    @TestFactory
    Stream<DynamicTest> torchvisionModelsMatchPyTorch() throws Exception {
        Path dir = Goldens.ensure("onnx-models", "export_onnx_models.py", "googlenet.goldens.safetensors", 1200);
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : MODELS) {
            for (int opset : new int[] {13, 17}) {
                tests.add(DynamicTest.dynamicTest(name + " opset " + opset, () -> check(dir, name, opset)));
            }
        }
        return tests.stream();
    }

    private static void check(Path dir, String name, int opset) throws Exception {
        OnnxModel model;
        try {
            model = Onnx.load(dir.resolve(name + ".opset" + opset + ".onnx"));
        } catch (OnnxException e) {
            Assumptions.abort(name + " opset " + opset + " cannot be imported yet: " + e.getMessage());
            return;
        }
        try (model; SafeTensors goldens = SafeTensors.open(dir.resolve(name + ".goldens.safetensors"))) {
            PlanSet plans;
            try {
                plans = model.compile(CompileOptions.defaults());
                plans.outputShape(1);   // builds the batch-1 plan: an op the compiler lacks shows here
            } catch (OnnxException | UnsupportedOperationException e) {
                Assumptions.abort(name + " opset " + opset + " imports but cannot be compiled yet: " + e.getMessage());
                return;
            }
            try (plans) {
                for (int batch : new int[] {1, 2}) {
                    try (Tensor y = plans.run(goldens.get("input_b" + batch))) {
                        assertClose(name + " opset " + opset + " batch " + batch, goldens.get("logits_b" + batch), y);
                    }
                }
            }
            // a plan of two threads: the small models run the batch as two single-threaded halves side by side (split_batch)
            Tensor mapped = goldens.get("input_b2");
            String in = model.inputs().get(0).name();
            try (Tensor x2 = Tensor.zeros(mapped.shape());   // plain memory: the halves run on two threads (a mapped input is copied per run)
                 dev.panamadnn.compile.CompiledModel two = dev.panamadnn.compile.CompiledModel.compile(model.toGraph(),
                    CompileOptions.defaults().withThreads(2), java.util.Map.of(in, mapped.shape()))) {
                x2.segment().copyFrom(mapped.segment());
                Tensor y = two.run(x2);
                boolean split = two.rulesFired().stream().anyMatch(r -> r.startsWith("split_batch"));
                assertEquals(SPLIT.contains(name), split, name + ": " + two.rulesFired());
                try (y) {
                    assertClose(name + " opset " + opset + " batch 2, two threads" + (split ? ", split" : ""), goldens.get("logits_b2"), y);
                }
            }
        }
    }

    static void assertClose(String what, Tensor expectedTensor, Tensor actualTensor) {
        assertArrayEquals(expectedTensor.shape(), actualTensor.shape(), what + ": shape");
        float[] expected = expectedTensor.toFloatArray(), actual = actualTensor.toFloatArray();
        double maxAbs = 0, err = 0;
        int worst = 0;
        for (float v : expected) maxAbs = Math.max(maxAbs, Math.abs(v));
        for (int i = 0; i < actual.length; i++) {
            double d = Math.abs(actual[i] - (double) expected[i]);
            if (!(d <= err)) {
                err = d;
                worst = i;
            }
        }
        double tol = REL * maxAbs + ABS;
        System.out.printf("%s: max |err| %.3g (max|logit| %.4g), tolerance %.3g%n", what, err, maxAbs, tol);
        assertTrue(err <= tol, String.format("%s: logit %d is %s, expected %s (|err| %.3g > tolerance %.3g)", what, worst, actual[worst],
                expected[worst], err, tol));
    }

    @Test
    void resnet18FromOnnxMatchesOurResNet() throws Exception {
        sameAsOurs("resnet18", ResNets::resnet18);
    }

    @Test
    void resnet50FromOnnxMatchesOurResNet() throws Exception {
        sameAsOurs("resnet50", ResNets::resnet50);
    }

    /**
     * The ONNX export and the safetensors of one set of weights (export_resnet.py: its .onnx takes
     * [N, 3, 224, 224]) give the same logits through import and through our ResNet, on a seeded
     * random batch of 2 (both ours, so this checks the import against the hand-built model; the
     * PyTorch comparison is {@link #torchvisionModelsMatchPyTorch}).
     */
    private static void sameAsOurs(String name, IntFunction<ResNet> builder) throws Exception {
        Path dir = Goldens.ensure("resnet", "export_resnet.py", "resnet50.goldens.safetensors", 600);
        java.util.Random r = new java.util.Random(20261203);
        float[] data = new float[2 * 3 * 224 * 224];
        for (int i = 0; i < data.length; i++) data[i] = (float) r.nextGaussian();
        try (ResNet ours = builder.apply(1000);
             OnnxModel imported = Onnx.load(dir.resolve(name + ".onnx"));
             PlanSet plans = imported.compile(CompileOptions.defaults());
             Tensor x = Tensor.of(data, 2, 3, 224, 224)) {
            SafeTensors.load(ours, dir.resolve(name + ".safetensors"));
            try (Tensor fromOnnx = plans.run(x); Tensor fromOurs = ours.forward(x)) {
                assertClose(name + " ONNX vs our ResNet", fromOurs, fromOnnx);
            }
        }
    }
}
