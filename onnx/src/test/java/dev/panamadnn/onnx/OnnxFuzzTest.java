package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"), OnnxFuzz.class.getName(),
                model.toString(), "1000", "20261203"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the fuzz child JVM did not finish in 300 s");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        System.out.println(text.strip());
        assertEquals(0, p.exitValue(), "the child JVM exited with " + p.exitValue()
                + (p.exitValue() > 128 ? " (killed by signal " + (p.exitValue() - 128) + ": a crash)" : "") + "; its output:\n" + text);
        Matcher m = SUMMARY.matcher(text);
        assertTrue(m.find(), "no summary; output:\n" + text);
        assertEquals("1000", m.group(1));
        assertEquals("0", m.group(3));
        // Both outcomes occur, so neither check is vacuous.
        assertTrue(m.group(2).contains("refused=") && m.group(2).contains("correct="), m.group(2));
    }
}
