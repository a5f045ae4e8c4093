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
            "plan-close", "plan-input-close", "plan-output-close", "plan-truncate", "readonly-output", "compile-close", "compile-truncate",
            "proof-close"})
    void noCrashAndOnlyDocumentedOutcomes(String group) throws Exception {
        String text = ChildJvm.run(List.of("--add-modules", "jdk.incubator.vector", "-Dpanamadnn.threads=2"), LifetimeRaces.class, 240,
                group, Integer.toString(ITERATIONS), "20261203");
        Matcher m = SUMMARY.matcher(text);
        int scenarios = 0;
        while (m.find()) {
            scenarios++;
            assertEquals("0", m.group(5), m.group(1) + ": unexpected outcomes; output:\n" + text);
        }
        assertTrue(scenarios > 0, group + ": no scenario ran; output:\n" + text);
    }
}
