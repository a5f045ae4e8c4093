package dev.panamadnn.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.demo.Digits;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.Sequential;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The trained digits model (scripts/train/train_digits.py) on our layers: on the held-out split,
 * the same accuracy as PyTorch, the same prediction for every image, and logits within
 * {@link Digits#LOGIT_TOLERANCE} of PyTorch's, natively and with the plain-Java reference.
 */
class DigitsDemoTest {
    @ParameterizedTest
    @EnumSource(value = Backend.class, names = {"AUTO", "REFERENCE"})
    void classifiesTheTestSplitExactlyLikePyTorch(Backend backend) throws Exception {
        Digits.TestSplit split = Digits.testSplit();
        assertEquals(360, split.count());
        try (Sequential model = Digits.trainedModel()) {
            float[] logits = Digits.logits(model, split, backend);
            int[] pred = Digits.argmax(logits);
            int correct = 0, differing = 0;
            double worst = 0;
            for (int i = 0; i < split.count(); i++) {
                if (pred[i] == split.labels()[i]) correct++;
                if (pred[i] != split.torchPredictions()[i]) differing++;
            }
            for (int i = 0; i < logits.length; i++) worst = Math.max(worst, Math.abs(logits[i] - split.torchLogits()[i]));
            assertEquals(0, differing, backend + ": predictions differing from PyTorch's");
            assertEquals(split.torchCorrect(), correct, backend + ": correct predictions (PyTorch: " + split.torchCorrect() + ")");
            assertEquals(split.torchAccuracy(), (double) correct / split.count(), backend + ": accuracy");
            assertTrue(worst <= Digits.LOGIT_TOLERANCE, backend + ": max |logit - PyTorch| = " + worst);
            assertTrue(split.torchAccuracy() > 0.95, "the model is trained for real: " + split.torchAccuracy());
        }
    }

    @Test
    void architectureHasPyTorchsStateDictKeys() throws Exception {
        try (Sequential model = Digits.model()) {
            var keys = model.parameters().keySet();
            assertEquals(38, keys.size(), keys::toString);
            assertTrue(keys.containsAll(Arrays.asList("0.weight", "1.num_batches_tracked", "3.conv1.weight", "3.bn2.running_var",
                    "4.downsample.0.weight", "4.downsample.1.running_mean", "7.weight", "7.bias")), keys::toString);
        }
    }

    @Test
    void demoSectionPrintsEqualAccuraciesAndTimings() {
        var bytes = new ByteArrayOutputStream();
        int failures;
        try (var out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            failures = Digits.run(out);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, failures, text);
        assertEquals(2, text.lines().filter(l -> l.contains("(ok: equal to PyTorch)")).count(), text);
        assertTrue(text.contains("latency, batch 1"), text);
        assertTrue(text.contains("throughput, batch 64"), text);
    }
}
