package dev.panamadnn.lifetime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Runs the {@link LifetimeRaces} scenarios, each group in a child JVM, so a crash (SIGSEGV,
 * SIGBUS: the defects these scenarios were written against) fails this test instead of killing
 * the suite. 100 iterations per scenario, half with platform and half with virtual threads.
 */
class LifetimeRaceTest {
    static final int ITERATIONS = Integer.getInteger("pdnn.races.iterations", 100);
    private static final Pattern SUMMARY = Pattern.compile(
            "scenario (\\S+): (\\d+) iterations, (\\d+) completed, (\\d+) refused, (\\d+) unexpected");

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"tensor-close", "arena-close", "safetensors-close", "truncate", "layer-close", "eltwise-close",
            "plan-close", "plan-input-close", "plan-output-close", "plan-truncate", "readonly-output"})
    void noCrashAndOnlyDocumentedOutcomes(String group) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.add("--add-modules");
        cmd.add("jdk.incubator.vector");
        cmd.add("-Dpanamadnn.threads=2");
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(LifetimeRaces.class.getName());
        cmd.add(group);
        cmd.add(Integer.toString(ITERATIONS));
        cmd.add("20261203");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(240, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail(group + ": child JVM did not finish in 240 s");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        System.out.println(text.strip());
        assertEquals(0, p.exitValue(), group + ": the child JVM exited with " + p.exitValue()
                + (p.exitValue() > 128 ? " (killed by signal " + (p.exitValue() - 128) + ": a crash)" : "") + "; its output:\n" + text);
        Matcher m = SUMMARY.matcher(text);
        int scenarios = 0;
        while (m.find()) {
            scenarios++;
            assertEquals("0", m.group(5), m.group(1) + ": unexpected outcomes; output:\n" + text);
        }
        assertTrue(scenarios > 0, group + ": no scenario ran; output:\n" + text);
    }
}
