package dev.panamadnn.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.demo.OnnxDigits;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The demo's ONNX step: the digits CNN exported by PyTorch to ONNX, imported and compiled, gives
 * PyTorch's prediction for every held-out image and logits within the demo's tolerance (the
 * section counts a failed check; PyTorch's answers come from the bundled test split).
 */
class OnnxDigitsDemoTest {
    @Test
    void importedDigitsModelPredictsLikePyTorch() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int failures = OnnxDigits.run(new PrintStream(bytes, true, StandardCharsets.UTF_8));
        String text = bytes.toString(StandardCharsets.UTF_8);
        System.out.print(text);
        assertEquals(0, failures, text);
        assertTrue(text.contains(" 0 differing from PyTorch") && text.contains("(ok: equal to PyTorch)"), text);
    }
}
