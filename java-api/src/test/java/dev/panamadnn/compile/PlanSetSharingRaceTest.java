package dev.panamadnn.compile;

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
import org.junit.jupiter.api.Test;

/**
 * Shared constants under constant eviction, in a child JVM ({@link PlanSetSharingRaces}: a crash fails this test, not
 * the suite): 4 threads x 60 runs of random batch sizes through a set of two plans, Winograd on.
 */
class PlanSetSharingRaceTest {
    private static final Pattern SUMMARY = Pattern.compile("sharing races: (\\d+) runs, (\\d+) mismatches, (\\d+) failures, (\\d+) evictions, (\\d+) blocks");

    @Test
    void evictionsWhileOtherPlansRunOnSharedWeightsFreeNothingInUse() throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of("--enable-native-access=ALL-UNNAMED", "--add-modules", "jdk.incubator.vector", "-Dpanamadnn.threads=1",
                "-Dpanamadnn.winograd.minChannels=16"));
        String natives = System.getProperty("panamadnn.natives.dir");
        if (natives != null && !natives.isBlank()) cmd.add("-Dpanamadnn.natives.dir=" + natives);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), PlanSetSharingRaces.class.getName(), "4", "60"));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(240, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("child JVM did not finish in 240 s");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        System.out.println(text.strip());
        assertEquals(0, p.exitValue(), "the child JVM exited with " + p.exitValue()
                + (p.exitValue() > 128 ? " (killed by signal " + (p.exitValue() - 128) + ": a crash)" : "") + "; its output:\n" + text);
        Matcher m = SUMMARY.matcher(text);
        assertTrue(m.find(), "no summary; output:\n" + text);
        assertEquals(240, Long.parseLong(m.group(1)), "runs; output:\n" + text);
        assertEquals("0", m.group(2), "results that differ from the eager forward; output:\n" + text);
        assertEquals("0", m.group(3), "threads that failed; output:\n" + text);
        assertTrue(Long.parseLong(m.group(4)) > 0, "no eviction happened; output:\n" + text);
        assertEquals("0", m.group(5), "shared blocks kept after the set closed; output:\n" + text);
    }
}
