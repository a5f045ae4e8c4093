package dev.panamadnn.lifetime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The bounded eager primitive caches in child JVMs ({@link PrimitiveCacheRaces}): eviction under
 * running forwards on a cache of 2 shapes (a crash fails this test, not the suite), and the
 * {@code panamadnn.primitiveCache.size} property, which is read once per JVM.
 */
class PrimitiveCacheRaceTest {
    private static final Pattern SUMMARY = Pattern.compile("primitive-cache races: (\\d+) forwards, (\\d+) mismatches, (\\d+) failures");

    @Test
    void evictionUnderRunningForwardsFreesNothingInUse() throws Exception {
        String text = child(List.of("-Dpanamadnn.primitiveCache.size=2"), "3000", "20261204");
        Matcher m = SUMMARY.matcher(text);
        assertTrue(m.find(), "no summary; output:\n" + text);
        assertEquals(24_000, Long.parseLong(m.group(1)), "forwards; output:\n" + text);
        assertEquals("0", m.group(2), "results that differ from the undisturbed ones; output:\n" + text);
        assertEquals("0", m.group(3), "threads that failed; output:\n" + text);
        assertTrue(text.contains("capacity 2,"), text);
    }

    @Test
    void thePropertySetsTheCapacityAndAnInvalidValueIsRefusedByName() throws Exception {
        assertTrue(child(List.of("-Dpanamadnn.primitiveCache.size=7"), "--capacity").contains("capacity 7\nlayer created"));
        assertTrue(child(List.of(), "--capacity").contains("capacity 16\nlayer created"));
        for (String bad : new String[] {"0", "abc", "70000"}) {
            String text = child(List.of("-Dpanamadnn.primitiveCache.size=" + bad), "--capacity");
            String message = "panamadnn.primitiveCache.size: expected an integer from 1 to 65536 (shapes per layer), got '" + bad + "'";
            assertTrue(text.contains("refused: " + message), bad + ": " + text);
            assertTrue(text.contains("layer refused: " + message), "a layer constructor refuses too: " + text);
        }
    }

    private static String child(List<String> properties, String... args) throws Exception {
        List<String> flags = new ArrayList<>(List.of("-Dpanamadnn.threads=1"));
        flags.addAll(properties);
        return dev.panamadnn.ChildJvm.run(flags, PrimitiveCacheRaces.class, 240, args);
    }
}
