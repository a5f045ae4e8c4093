package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.ChildJvm;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs {@link AttentionRaces} in a child JVM per group, so a crash fails this test instead of the
 * suite: close() of a MultiheadAttention / TransformerEncoder, or of the query tensor, racing
 * forwards on platform and virtual threads (alternating), 40 iterations each.
 */
class AttentionRaceTest {
    private static final Pattern SUMMARY = Pattern.compile("scenario (\\S+): (\\d+) iterations, (\\d+) completed, (\\d+) refused, (\\d+) unexpected");

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"mha-close", "encoder-close", "query-close"})
    void noCrashAndOnlyDocumentedOutcomes(String group) throws Exception {
        String text = ChildJvm.run(List.of("-Dpanamadnn.threads=1"), AttentionRaces.class, 240, group, "40", "20261203");
        Matcher m = SUMMARY.matcher(text);
        assertTrue(m.find(), group + ": no summary; output:\n" + text);
        assertEquals("0", m.group(5), group + ": unexpected outcomes; output:\n" + text);
        assertEquals("40", m.group(2), group + ": iterations");
        assertTrue(Integer.parseInt(m.group(4)) == 40, group + ": every iteration ends refused by the close; output:\n" + text);
    }
}
