package dev.panamadnn.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Module;
import dev.panamadnn.SafeTensors;
import dev.panamadnn.SafeTensorsException;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Backend;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The builders against torchvision's structure, without Python: the committed references
 * {@code src/test/resources/models/M.keys.txt} and {@code M.repr.txt} were written by
 * {@code /usr/bin/python3 scripts/goldens/export_resnet.py --keys java-api/src/test/resources/models}
 * (torchvision 0.14). Numerical conformance is tests/ResNetConformanceTest.
 */
class ResNetsTest {
    private static final Path DIR = Path.of("src/test/resources/models");

    private static ResNet build(String name, int classes) {
        IntFunction<ResNet> f = switch (name) {
            case "resnet18" -> ResNets::resnet18;
            case "resnet34" -> ResNets::resnet34;
            case "resnet50" -> ResNets::resnet50;
            default -> throw new IllegalArgumentException(name);
        };
        return f.apply(classes);
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet18", "resnet34", "resnet50"})
    void parameterKeysShapesAndDtypesEqualTorchvisionStateDictInOrder(String name) throws IOException {
        List<String> expected = Files.readAllLines(DIR.resolve(name + ".keys.txt"));
        List<String> actual = new ArrayList<>();
        try (ResNet model = build(name, 1000)) {
            for (Map.Entry<String, Tensor> e : model.parameters().entrySet()) {
                actual.add(e.getKey() + "\t" + Arrays.toString(e.getValue().shape()) + "\t" + e.getValue().dtype().safetensorsName());
            }
        }
        assertEquals(expected, actual);
    }

    @ParameterizedTest
    @ValueSource(strings = {"resnet18", "resnet34", "resnet50"})
    void reprIsTorchvisionsWithoutInplace(String name) throws IOException {
        // Two known differences: our ReLU is not in place, and AdaptiveAvgPool2d prints a square size as one number.
        String expected = Files.readString(DIR.resolve(name + ".repr.txt")).strip().replace("ReLU(inplace=True)", "ReLU()")
                .replace("AdaptiveAvgPool2d(output_size=(1, 1))", "AdaptiveAvgPool2d(output_size=1)");
        try (ResNet model = build(name, 1000)) {
            assertEquals(expected, model.toString());
        }
    }

    @Test
    void shapesAndAccessors() {
        try (ResNet r18 = ResNets.resnet18(10); ResNet r50 = ResNets.resnet50(7)) {
            assertArrayEquals(new long[] {2, 10}, r18.outputShape(2, 3, 224, 224));
            assertArrayEquals(new long[] {1, 7}, r50.outputShape(1, 3, 64, 48));
            assertArrayEquals(new long[] {3, 10}, r18.outputShape(3, 3, 1, 1));   // maxpool/stride shapes floor down to 1x1
            assertEquals("resnet50", r50.name());
            assertEquals(ResNet.Block.BOTTLENECK, r50.block());
            assertArrayEquals(new int[] {3, 4, 6, 3}, r50.layers());
            assertEquals(7, r50.numClasses());
            assertEquals(List.of("conv1", "bn1", "relu", "maxpool", "layer1", "layer2", "layer3", "layer4", "avgpool", "fc"),
                    List.copyOf(r18.children().keySet()));
            assertArrayEquals(new long[] {7, 2048}, r50.parameters().get("fc.weight").shape());
        }
    }

    @Test
    void badInputNamesTheModelAndTheStage() {
        try (ResNet model = ResNets.resnet18(10); Tensor gray = Tensor.zeros(1, 1, 32, 32); Tensor flat = Tensor.zeros(2, 3)) {
            var e = assertThrows(IllegalArgumentException.class, () -> model.forward(gray));
            assertTrue(e.getMessage().startsWith("resnet18: conv1: "), e.getMessage());
            assertTrue(e.getMessage().contains("3"), e.getMessage());
            var e2 = assertThrows(IllegalArgumentException.class, () -> model.forward(flat, Backend.REFERENCE));
            assertTrue(e2.getMessage().startsWith("resnet18: "), e2.getMessage());
        }
        assertThrows(IllegalArgumentException.class, () -> ResNets.resnet18(0));
        assertThrows(IllegalArgumentException.class, () -> new ResNet("x", ResNet.Block.BASIC, new int[] {2, 2, 2}, 10));
        assertThrows(IllegalArgumentException.class, () -> new ResNet("x", ResNet.Block.BASIC, new int[] {2, 0, 2, 2}, 10));
    }

    @Test
    void forwardIntoChecksOutBeforeRunningAndNamesTheModel() {
        try (ResNet model = ResNets.resnet18(10); Tensor x = Tensor.zeros(1, 3, 32, 32); Tensor wrong = Tensor.zeros(1, 11);
             Tensor out = Tensor.zeros(1, 10); Tensor gray = Tensor.zeros(1, 1, 32, 32)) {
            var e = assertThrows(IllegalArgumentException.class, () -> model.forwardInto(x, wrong));
            assertTrue(e.getMessage().startsWith("resnet18: ") && e.getMessage().contains("expected out of shape [1, 10]"), e.getMessage());
            var e2 = assertThrows(IllegalArgumentException.class, () -> model.forwardInto(gray, out));
            assertTrue(e2.getMessage().startsWith("resnet18: conv1: "), e2.getMessage());
            model.forwardInto(x, out);
            try (Tensor y = model.forward(x)) {
                org.junit.jupiter.api.Assertions.assertArrayEquals(y.toFloatArray(), out.toFloatArray(), "forwardInto = forward, same kernels");
            }
        }
    }

    @Test
    void closedModelFailsCleanly() {
        ResNet model = ResNets.resnet18(10);
        model.close();
        model.close();   // idempotent
        try (Tensor x = Tensor.zeros(1, 3, 32, 32)) {
            var e = assertThrows(IllegalStateException.class, () -> model.forward(x));
            assertTrue(e.getMessage().startsWith("resnet18: "), e.getMessage());
        }
    }

    /** A state_dict with one key missing and one of the wrong shape: the strict load names both, and writes nothing. */
    @Test
    void strictLoadNamesMissingAndMisshapedKeys(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("broken.safetensors");
        try (ResNet source = ResNets.resnet18(10); Tensor wrongBias = Tensor.zeros(9)) {
            Map<String, Tensor> sd = new LinkedHashMap<>(source.parameters());
            sd.remove("layer2.0.downsample.1.running_var");
            sd.put("fc.bias", wrongBias);
            SafeTensors.save(file, sd, Map.of());
        }
        try (ResNet model = ResNets.resnet18(10)) {
            float before = model.parameters().get("conv1.weight").toFloatArray()[0];
            var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.load(model, file));
            String m = e.getMessage();
            assertTrue(m.contains("missing keys (1): layer2.0.downsample.1.running_var"), m);
            assertTrue(m.contains("fc.bias: shape expected [10], found [9]"), m);
            assertEquals(before, model.parameters().get("conv1.weight").toFloatArray()[0]);
        }
    }

    /** The model's own state_dict round-trips through safetensors, and the loaded model computes the same logits. */
    @Test
    void saveLoadRoundTripGivesTheSameLogits(@TempDir Path tmp) throws IOException {
        Path file = tmp.resolve("r18.safetensors");
        var rnd = new java.util.Random(7);
        try (ResNet a = ResNets.resnet18(5); ResNet b = ResNets.resnet18(5)) {
            for (Map.Entry<String, Tensor> e : a.parameters().entrySet()) {
                Tensor t = e.getValue();
                if (t.dtype() != dev.panamadnn.DataType.F32) continue;
                float[] v = new float[Math.toIntExact(t.numel())];
                boolean var = e.getKey().endsWith("running_var");
                for (int i = 0; i < v.length; i++) v[i] = var ? 0.5f + rnd.nextFloat() : (float) (rnd.nextGaussian() * 0.05);
                t.segment().copyFrom(java.lang.foreign.MemorySegment.ofArray(v));
            }
            SafeTensors.save(file, a.parameters(), Map.of());
            SafeTensors.load(b, file);
            float[] x = new float[2 * 3 * 40 * 40];
            for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
            try (Tensor in = Tensor.of(x, 2, 3, 40, 40); Tensor ya = a.forward(in); Tensor yb = b.forward(in)) {
                assertArrayEquals(new long[] {2, 5}, ya.shape());
                assertArrayEquals(ya.toFloatArray(), yb.toFloatArray());
            }
        }
    }
}
