package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * 1,000 seeded corruptions of each of two real models (PyTorch's Conv2d from ONNX's test data;
 * the demo's digits CNN, exported by PyTorch) through
 * {@link OnnxFuzz} in a child JVM: a crash (the child killed by a signal) fails this test, as
 * does any exception other than a clear refusal or a wrong result from an unchanged model.
 */
class OnnxFuzzTest {
    private static final Pattern SUMMARY = Pattern.compile("fuzz summary: (\\d+) corruptions .*: \\{(.*)\\}; unexpected (\\d+)");

    @Test
    void thousandCorruptionsOfTheBackendSuitesConv2d() throws Exception {
        Path dir = TestModels.backendCase("pytorch-converted/test_Conv2d");
        assumeTrue(Files.exists(dir.resolve("model.onnx")), "ONNX backend test data not installed (apt-get install libonnx-testdata)");
        fuzz(dir.resolve("model.onnx"));
    }

    @Test
    void thousandCorruptionsOfTheDemosDigitsModel() throws Exception {
        fuzz(Goldens.repoRoot().resolve("demo/src/main/resources/dev/panamadnn/demo/digits/digits_resnet.onnx"));
    }

    private static void fuzz(Path model) throws Exception {
        String text = ChildJvm.run(OnnxFuzz.class, 300, model.toString(), "1000", "20261203");
        Matcher m = SUMMARY.matcher(text);
        assertTrue(m.find(), "no summary; output:\n" + text);
        assertEquals("1000", m.group(1));
        assertEquals("0", m.group(3));
        // Both outcomes occur, so neither check is vacuous.
        assertTrue(m.group(2).contains("refused=") && m.group(2).contains("correct="), m.group(2));
    }
}
