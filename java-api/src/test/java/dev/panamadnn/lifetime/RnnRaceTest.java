package dev.panamadnn.lifetime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.ChildJvm;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs the {@link RnnRaces} scenarios, each group in a child JVM, so a crash fails this test
 * instead of killing the suite: closing an LSTM/GRU/LSTMCell, or an initial state, while a forward
 * runs, and dropping the translated weights under it. 30 iterations per scenario (half on virtual
 * threads); every outcome must be a result identical to the undisturbed call's or a refusal naming
 * what was closed.
 */
class RnnRaceTest {
    private static final int ITERATIONS = Integer.getInteger("pdnn.races.iterations", 30);
    private static final Pattern SUMMARY = Pattern.compile(
            "scenario (\\S+): (\\d+) iterations, (\\d+) completed, (\\d+) refused, (\\d+) unexpected");

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"rnn-layer-close", "rnn-state-close", "rnn-weights-changed"})
    void noCrashAndOnlyDocumentedOutcomes(String group) throws Exception {
        String text = ChildJvm.run(List.of("-Dpanamadnn.threads=2"), RnnRaces.class, 240, group, Integer.toString(ITERATIONS), "20261203");
        Matcher m = SUMMARY.matcher(text);
        int scenarios = 0;
        while (m.find()) {
            scenarios++;
            assertEquals("0", m.group(5), m.group(1) + ": unexpected outcomes; output:\n" + text);
        }
        assertTrue(scenarios > 0, group + ": no scenario ran; output:\n" + text);
    }
}
