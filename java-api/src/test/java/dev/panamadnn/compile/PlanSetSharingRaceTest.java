package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
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
        String text = dev.panamadnn.ChildJvm.run(List.of("--add-modules", "jdk.incubator.vector", "-Dpanamadnn.threads=1",
                "-Dpanamadnn.winograd.minChannels=16"), PlanSetSharingRaces.class, 240, "4", "60");
        Matcher m = SUMMARY.matcher(text);
        assertTrue(m.find(), "no summary; output:\n" + text);
        assertEquals(240, Long.parseLong(m.group(1)), "runs; output:\n" + text);
        assertEquals("0", m.group(2), "results that differ from the eager forward; output:\n" + text);
        assertEquals("0", m.group(3), "threads that failed; output:\n" + text);
        assertTrue(Long.parseLong(m.group(4)) > 0, "no eviction happened; output:\n" + text);
        assertEquals("0", m.group(5), "shared blocks kept after the set closed; output:\n" + text);
    }
}
