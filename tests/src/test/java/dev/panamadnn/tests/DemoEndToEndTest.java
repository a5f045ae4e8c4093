package dev.panamadnn.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.demo.Demo;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

    @Test
    void layersPartWritesEveryFilteredImageAndAgreesWithReferenceAndEnumeration(@TempDir Path out) throws Exception {
        var bytes = new ByteArrayOutputStream();
        int failures;
        try (var ps = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            failures = new Demo(ps).runLayers(null, out);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, failures, text);
        for (String name : new String[] {"input", "box-blur", "edges", "sharpen"}) {
            Path png = out.resolve(name + ".png");
            assertTrue(Files.isRegularFile(png), () -> name + ".png missing:\n" + text);
            var img = ImageIO.read(png.toFile());
            assertEquals(512, img.getWidth(), name);
            assertEquals(512, img.getHeight(), name);
        }
        var pooled = ImageIO.read(out.resolve("maxpool-2x2.png").toFile());
        assertEquals(256, pooled.getWidth(), "MaxPool2d(2) halves the width");
        assertEquals(256, pooled.getHeight(), "MaxPool2d(2) halves the height");
        assertTrue(text.contains("all 11 probabilities agree (ok)"), text);
        assertEquals(4, text.lines().filter(l -> l.matches(" (Linear|Conv2d|GELU|Softmax).*x  \\d.*")).count(), text);
    }
}
