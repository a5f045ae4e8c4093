package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.SafeTensorsException;
import dev.panamadnn.Tensor;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A torchvision BasicBlock's state_dict (the golden case's parameters, under torchvision's exact
 * keys, num_batches_tracked as I64) saved as a plain safetensors file and loaded with the strict
 * loader; the loaded block then reproduces PyTorch's output. A missing key is reported by name.
 */
class ResidualStateDictTest {
    @TempDir
    Path dir;

    private static GoldenFile.Case basicWithDownsample(GoldenFile golden) {
        return golden.cases().stream().filter(c -> c.name().equals("basic_s2_ds")).findFirst().orElseThrow();
    }

    @Test
    void basicBlockLoadsTorchvisionKeys() throws Exception {
        try (GoldenFile golden = GoldenFile.open("norm_residual.safetensors")) {
            GoldenFile.Case c = basicWithDownsample(golden);
            assertTrue(c.params().containsKey("downsample.1.num_batches_tracked"));
            Path file = dir.resolve("basic_block.safetensors");
            SafeTensors.save(file, c.params(), Map.of("format", "pt"));
            try (BasicBlock block = new BasicBlock(4, 8, 2, BasicBlock.downsample(4, 8, 2))) {
                SafeTensors.load(block, file);
                for (Backend b : new Backend[] {Backend.AUTO, Backend.REFERENCE}) {
                    try (Tensor y = block.forward(c.input(), b)) {
                        NormTesting.compare("loaded BasicBlock " + b, y.toFloatArray(), c.output().toFloatArray(), 1e-5, 1e-4);
                    }
                }
                assertArrayEquals(c.params().get("bn1.running_var").toFloatArray(), block.bn1().runningVar().toFloatArray());
            }
        }
    }

    @Test
    void missingKeyIsNamed() throws Exception {
        try (GoldenFile golden = GoldenFile.open("norm_residual.safetensors")) {
            Map<String, Tensor> params = new LinkedHashMap<>(basicWithDownsample(golden).params());
            params.remove("bn2.running_mean");
            Path file = dir.resolve("incomplete.safetensors");
            SafeTensors.save(file, params, Map.of());
            try (BasicBlock block = new BasicBlock(4, 8, 2, BasicBlock.downsample(4, 8, 2))) {
                SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensors.load(block, file));
                assertTrue(e.getMessage().contains("missing keys (1): bn2.running_mean"), e.getMessage());
            }
        }
    }
}
