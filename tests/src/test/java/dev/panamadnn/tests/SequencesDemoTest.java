package dev.panamadnn.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.demo.SequenceModels;
import dev.panamadnn.demo.Sequences;
import dev.panamadnn.nn.Backend;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The five sequence models of scripts/train/train_sequences.py on our layers: on the held-out split,
 * PyTorch's accuracy, PyTorch's prediction for every sequence (and task), logits within
 * {@link Sequences#LOGIT_TOLERANCE} of PyTorch's, natively, with the plain-Java reference and as a compiled plan.
 */
class SequencesDemoTest {
    private static Sequences.TestSplit split;

    @BeforeAll
    static void readSplit() throws Exception {
        split = Sequences.testSplit();
    }

    static List<String> models() {
        return SequenceModels.NAMES;
    }

    @ParameterizedTest
    @MethodSource("models")
    void classifiesTheTestSplitExactlyLikePyTorch(String name) throws Exception {
        assertEquals(360, split.count());
        int torch = split.torchCorrect(name);
        try (SequenceModels.Model model = Sequences.trained(name)) {
            for (Backend b : new Backend[] {Backend.AUTO, Backend.REFERENCE}) {
                Sequences.Result r = Sequences.compare(name, model, split, b);
                assertEquals(0, r.differing(), name + " on " + b + ": predictions differing from PyTorch's");
                assertEquals(torch, r.correct(), name + " on " + b + ": correct answers (PyTorch: " + torch + ")");
                assertTrue(r.maxLogitError() <= Sequences.LOGIT_TOLERANCE, name + " on " + b + ": max |logit - PyTorch| = " + r.maxLogitError());
            }
            Sequences.Result c = Sequences.compareCompiled(name, model, split);   // the model lowered to a graph and compiled
            assertEquals(0, c.differing(), name + " compiled: predictions differing from PyTorch's");
            assertEquals(torch, c.correct(), name + " compiled: correct answers (PyTorch: " + torch + ")");
            assertTrue(c.maxLogitError() <= Sequences.LOGIT_TOLERANCE, name + " compiled: max |logit - PyTorch| = " + c.maxLogitError());
        }
        // The tolerance cannot flip a prediction: below half of PyTorch's smallest top-2 margin.
        float[] logits = split.torchLogits().get(name);
        double margin = Double.MAX_VALUE;
        for (int i = 0; i < logits.length / 10; i++) {
            float[] row = Arrays.copyOfRange(logits, i * 10, i * 10 + 10);
            Arrays.sort(row);
            margin = Math.min(margin, row[9] - row[8]);
        }
        assertTrue(2 * Sequences.LOGIT_TOLERANCE < margin, name + ": smallest top-2 margin " + margin);
        double accuracy = (double) torch / split.labels(name).length;
        assertTrue(accuracy > 0.85, name + " is trained for real: " + accuracy);
    }

    @Test
    void modelsHavePyTorchsStateDictKeys() {
        try (var lstm = SequenceModels.create("lstm"); var tf = SequenceModels.create("transformer");
             var dcnn = SequenceModels.create("dcnn"); var film = SequenceModels.create("film")) {
            assertEquals(List.of("rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0", "fc.weight", "fc.bias"),
                    List.copyOf(lstm.parameters().keySet()));
            assertTrue(tf.parameters().keySet().containsAll(List.of("pos", "embed.weight", "encoder.layers.1.self_attn.in_proj_weight",
                    "encoder.layers.0.norm2.bias", "fc.bias")), tf.parameters().keySet()::toString);
            assertEquals(List.of("net.0.weight", "net.0.bias", "net.3.weight", "net.3.bias", "net.8.weight", "net.8.bias"),
                    List.copyOf(dcnn.parameters().keySet()));
            assertTrue(film.parameters().keySet().containsAll(List.of("conv.weight", "film.gamma.weight", "film.beta.bias", "head.2.weight")),
                    film.parameters().keySet()::toString);
        }
        assertThrows(IllegalArgumentException.class, () -> SequenceModels.create("rnn"));
    }

    @Test
    void demoSectionPrintsEveryModelEqualToPyTorch() {
        var bytes = new ByteArrayOutputStream();
        int failures;
        try (var out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            failures = Sequences.run(out);
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(0, failures, text);
        assertEquals(5, text.lines().filter(l -> l.contains("(ok: equal to PyTorch)")).count(), text);
    }
}
