package dev.panamadnn.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.demo.Demo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The demo end to end: natives load, SGEMM and a oneDNN primitive agree with the references. */
class DemoEndToEndTest {
    @Test
    void demoRunsAndEveryCheckAgreesWithTheReference() {
        var bytes = new ByteArrayOutputStream();
        int failures;
        try (var out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            failures = new Demo(out).run();
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, failures, text);
        assertTrue(text.contains("libopenblas"), text);
        assertTrue(text.contains("libdnnl"), text);
        assertTrue(text.lines().filter(l -> l.contains("(ok)")).count() == 2, text);
        assertTrue(text.matches("(?s).*n=2048 +native .* GFLOP/s.*"), text);
    }
}
