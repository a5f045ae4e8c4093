package dev.panamadnn.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which OpenMP runtime the packaged oneDNN runs on (Intel's by default, GNU libgomp on request), how its threads wait,
 * and that a second Intel/LLVM runtime in the process does not end it; each in a child JVM, so a crash or an abort
 * fails the test, not the suite.
 */
class OpenMpRuntimeTest {
    private static final String ACCESS = "--enable-native-access=ALL-UNNAMED";

    @TempDir
    static Path shared;
    static Path cache, extracted;

    @BeforeAll
    static void extractOnce() throws Exception {
        cache = shared.resolve("cache");
        extracted = PackagedNatives.extracted(cache);
    }

    private static String cacheOption() {
        return "-D" + NativeLoader.CACHE_PROPERTY + "=" + cache;
    }

    private static String sources() {
        return "-D" + NativeLoader.SOURCES_PROPERTY + "=packaged";
    }

    @Test
    void intelsRuntimeIsTheDefaultAndRunsATeam(@TempDir Path tmp) throws Exception {
        var r = ChildJvm.runMain(tmp, Map.of(), OpenMpProbe.class.getName(), List.of(), ACCESS, cacheOption(), sources());
        assertEquals(0, r.exitCode(), () -> "exit " + r.exitCode() + ":\n" + r.all());
        assertTrue(r.stdout().contains("loaded libgomp.so.1 Intel OpenMP"), r::all);
        assertFalse(r.stdout().contains("libgomp-gnu.so.1"), r::all);
        String expected = WaitGovernor.read() != null ? "runtime: Intel OpenMP, adaptive block time"
                : "runtime: Intel OpenMP, KMP_BLOCKTIME=" + ThreadControl.CONTENDED_MICROS + "us";
        assertTrue(r.stdout().contains(expected), () -> "expected '" + expected + "':\n" + r.all());
        assertTrue(r.stdout().contains("team: 1000 1000 of size 2 2"), r::all);
    }

    @Test
    void gnuLibgompOnRequest(@TempDir Path tmp) throws Exception {
        var r = ChildJvm.runMain(tmp, Map.of(), OpenMpProbe.class.getName(), List.of(), ACCESS, cacheOption(), sources(),
                "-D" + NativeLoader.OPENMP_PROPERTY + "=gnu");
        assertEquals(0, r.exitCode(), () -> "exit " + r.exitCode() + ":\n" + r.all());
        assertTrue(r.stdout().contains("loaded libgomp-gnu.so.1 gcc runtime"), r::all);
        assertFalse(r.stdout().contains("loaded libgomp.so.1"), r::all);
        assertTrue(r.stdout().contains("runtime: GNU libgomp, GOMP_SPINCOUNT=" + ThreadControl.DEFAULT_SPIN_COUNT), r::all);
        assertTrue(r.stdout().contains("team: 1000 1000 of size 2 2"), r::all);
        // the environment variable too, which the property overrides
        var env = ChildJvm.runMain(tmp, Map.of(NativeLoader.OPENMP_ENV, "gnu"), OpenMpProbe.class.getName(), List.of(), ACCESS, cacheOption(), sources());
        assertTrue(env.stdout().contains("loaded libgomp-gnu.so.1"), env::all);
        var both = ChildJvm.runMain(tmp, Map.of(NativeLoader.OPENMP_ENV, "gnu"), OpenMpProbe.class.getName(), List.of(), ACCESS, cacheOption(), sources(),
                "-D" + NativeLoader.OPENMP_PROPERTY + "=intel");
        assertTrue(both.stdout().contains("loaded libgomp.so.1 Intel OpenMP"), both::all);
    }

    @Test
    void aMisspeltRuntimeIsRefusedNamingIt(@TempDir Path tmp) throws Exception {
        var r = ChildJvm.run(tmp, Map.of(), ACCESS, cacheOption(), sources(), "-D" + NativeLoader.OPENMP_PROPERTY + "=llvm");
        assertNotEquals(0, r.exitCode(), r::all);
        assertTrue(r.all().contains("panamadnn.openmp/PANAMADNN_OPENMP: expected 'intel' or 'gnu', got 'llvm'"), r::all);
        assertTrue(r.exitCode() < 128, () -> "a crash, not a refusal: exit " + r.exitCode() + "\n" + r.all());
    }

    /**
     * Two Intel or LLVM OpenMP runtimes in one process (another library's, or another version of ours) make the second
     * abort the JVM at its start unless KMP_DUPLICATE_LIB_OK is TRUE, which the loader sets when the environment has
     * not: with it, the second runtime starts; with it FALSE in the environment, the child aborts as Intel's runtime
     * does, which is what the setting is for.
     */
    @Test
    void aSecondIntelRuntimeInTheProcessDoesNotEndIt(@TempDir Path tmp) throws Exception {
        Path copy = Files.createDirectories(tmp.resolve("other")).resolve("libgomp.so.1");
        Files.copy(extracted.resolve("libgomp.so.1"), copy);
        var r = ChildJvm.runMain(tmp, Map.of(), OpenMpProbe.class.getName(), List.of("second", copy.toString()), ACCESS, cacheOption(), sources());
        assertEquals(0, r.exitCode(), () -> "exit " + r.exitCode() + (r.exitCode() > 128 ? " (a crash)" : "") + ":\n" + r.all());
        assertTrue(r.stdout().matches("(?s).*second runtime: [0-9]+ threads.*"), r::all);
        var refused = ChildJvm.runMain(tmp, Map.of("KMP_DUPLICATE_LIB_OK", "FALSE"), OpenMpProbe.class.getName(),
                List.of("second", copy.toString()), ACCESS, cacheOption(), sources());
        assertNotEquals(0, refused.exitCode(), refused::all);
        assertTrue(refused.all().contains("OMP: Error #15"), refused::all);
    }

    @Test
    void blockTimeSettingsAreCheckedNamingTheProperty() {
        assertEquals("adaptive", ThreadControl.blocktime(null));
        assertEquals("adaptive", ThreadControl.blocktime(" "));
        assertEquals("200us", ThreadControl.blocktime("200us"));
        assertEquals("0", ThreadControl.blocktime(" 0 "));
        assertNull(ThreadControl.blocktime("intel"));
        var e = assertThrows(IllegalArgumentException.class, () -> ThreadControl.blocktime("fast"));
        assertEquals("panamadnn.omp.blocktime: expected 'adaptive', a time such as 1ms or 200us (0: no spinning), "
                + "or 'intel' for the runtime's own 200 ms, got 'fast'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ThreadControl.blocktime("-1ms"));
        assertThrows(IllegalArgumentException.class, () -> ThreadControl.blocktime("1s"));
    }

    /** The governor on made-up readings of a 2-CPU machine, a 2-thread team, 100 ms (10 ticks a CPU) apart. */
    @Test
    void theGovernorSpinsWhileTheCoresAreFreeAndStopsWhenTheyAreNot() {
        long[] r = {0, 0, 0};   // stall us, busy ticks, own ticks
        var g = new WaitGovernor(() -> new WaitGovernor.Reading(r[0], r[1], r[2], 2), 2, 1000, 20);
        long t = 0, period = 100_000_000L;
        assertEquals(-1, g.sample(t), "no rate from one reading");
        // our plan alone, spinning: 20 ticks busy, all ours; a little pressure (1-5 %)
        for (int stall : new int[] {2_000, 5_000, 1_000}) {
            r[0] += stall; r[1] += 20; r[2] += 20;
            assertEquals(1000, g.sample(t += period));
        }
        // a busy loop starts: 10 of the 20 busy ticks are not ours -> 1 core free (smoothed 1.5), below 2 - 0.5
        r[1] += 20; r[2] += 10;
        assertEquals(1000, g.sample(t += period), "smoothed 1.5 free cores is not yet below 1.5");
        r[1] += 20; r[2] += 10;
        assertEquals(20, g.sample(t += period));
        assertTrue(g.contended());
        // the loop stops while we are idle: nothing busy at all; smoothed free cores 1.625, then 1.8125 -> calm above 1.75
        assertEquals(20, g.sample(t += period), "1.625 is not above 2 - 0.25");
        assertEquals(1000, g.sample(t += period));
        // two busy loops while we are idle: no pressure at all (two tasks, two CPUs), but no free core either
        r[1] += 20;
        assertEquals(20, g.sample(t += period), "others on both cores");
        // the cores free again, but pressure from our own oversubscription (60 %): stays contended
        for (int i = 0; i < 4; i++) {
            r[0] += 60_000; r[1] += 20; r[2] += 20;
            assertEquals(20, g.sample(t += period));
        }
        // pressure gone: calm once the smoothed pressure is under 0.08
        int spins = 0;
        for (int i = 0; i < 6; i++) {
            r[1] += 20; r[2] += 20;
            if (g.sample(t += period) == 1000) spins++;
        }
        assertTrue(spins >= 2 && !g.contended(), "calm after the pressure decays: " + spins);
        var unreadable = new WaitGovernor(() -> null, 2, 1000, 20);
        assertEquals(-1, unreadable.sample(0));
        assertEquals(-1, unreadable.sample(period));
    }

    @Test
    void theMachineCanBeReadHere() {
        WaitGovernor.Reading r = WaitGovernor.read();
        assertTrue(r != null && r.cpus() >= 1 && r.busyTicks() > 0 && r.ownTicks() >= 0, "reading: " + r);
    }
}
