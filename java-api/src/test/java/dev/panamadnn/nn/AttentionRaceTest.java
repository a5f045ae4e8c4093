package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "--enable-native-access=ALL-UNNAMED",
                "-Dpanamadnn.threads=1", "-cp", System.getProperty("java.class.path"), AttentionRaces.class.getName(), group, "40", "20261203");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(240, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(group + ": child JVM did not finish in 240 s");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        System.out.println(text.strip());
        assertEquals(0, p.exitValue(), group + ": the child JVM exited with " + p.exitValue()
                + (p.exitValue() > 128 ? " (killed by signal " + (p.exitValue() - 128) + ": a crash)" : "") + "; output:\n" + text);
        Matcher m = SUMMARY.matcher(text);
        assertTrue(m.find(), group + ": no summary; output:\n" + text);
        assertEquals("0", m.group(5), group + ": unexpected outcomes; output:\n" + text);
        assertEquals("40", m.group(2), group + ": iterations");
        assertTrue(Integer.parseInt(m.group(4)) == 40, group + ": every iteration ends refused by the close; output:\n" + text);
    }
}
