package dev.panamadnn.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The adaptive OpenMP wait ({@link WaitGovernor}): its decisions from synthetic readings, its loop with a recording pool,
 * and, in child JVMs, the idle pool it holds in libgomp (threads appear and go) and a JVM that exits while it is held.
 */
class AdaptiveWaitTest {
    private static final long PERIOD = WaitGovernor.PERIOD_MS * 1_000_000L;

    @Test
    void itHoldsTheShortSpinWhileOthersTakeTheCoresAndLetsGoOnlyWhenTheyAreFreeAgain() {
        long[] r = {0, 0, 0};   // stall us, busy ticks, own ticks (10 a period is one core); 2 CPUs, a team of 2
        var g = new WaitGovernor(() -> new WaitGovernor.Reading(r[0], r[1], r[2], 2), () -> 2, null);
        long t = 0;
        assertFalse(g.sample(t), "no rate from one reading");
        for (int i = 0; i < 5; i++) {       // this process alone uses both cores: calm
            r[1] += 20; r[2] += 20;
            assertFalse(g.sample(t += PERIOD));
        }
        r[1] += 20; r[2] += 15;              // others take half a core: smoothed 1.75 free, not under 1.5
        assertFalse(g.sample(t += PERIOD));
        r[1] += 20; r[2] += 15;              // 1.625
        assertFalse(g.sample(t += PERIOD));
        r[1] += 20; r[2] += 10;              // a whole core: 1.31 free
        assertTrue(g.sample(t += PERIOD));
        r[1] += 20; r[2] += 20;              // free again: 1.66, not above 2 - 0.25
        assertTrue(g.sample(t += PERIOD), "calm again only within a quarter core of the team");
        r[1] += 20; r[2] += 20;              // 1.83
        assertFalse(g.sample(t += PERIOD));
        r[0] += 50_000;                      // half of the period some task waited for a core: pressure 0.25
        r[1] += 20; r[2] += 20;
        assertTrue(g.sample(t += PERIOD), "pressure alone, from this process oversubscribing the cores");
        r[1] += 20; r[2] += 20;              // pressure 0.125
        assertTrue(g.sample(t += PERIOD));
        r[1] += 20; r[2] += 20;              // 0.0625: under 0.08
        assertFalse(g.sample(t += PERIOD));
        var unreadable = new WaitGovernor(() -> null, () -> 2, null);
        assertFalse(unreadable.sample(0));
        assertFalse(unreadable.sample(PERIOD));
    }

    @Test
    void aTeamOfOneOnTwoCoresIsContendedOnlyWhenOthersTakeMoreThanACoreAndAHalf() {
        long[] r = {-1, 0, 0};   // no PSI
        var g = new WaitGovernor(() -> new WaitGovernor.Reading(r[0], r[1], r[2], 2), () -> 1, null);
        long t = 0;
        g.sample(t);
        for (int i = 0; i < 6; i++) {
            r[1] += 20; r[2] += 10;          // others: one core, one left for the team
            assertFalse(g.sample(t += PERIOD));
        }
        r[1] += 20;                          // others on both cores: smoothed 0.5 free, not under 0.5
        assertFalse(g.sample(t += PERIOD));
        r[1] += 20;                          // 0.25
        assertTrue(g.sample(t += PERIOD));
    }

    @Test
    void theLoopHoldsAndReleasesThePoolOnceEachWay() throws Exception {
        AtomicInteger holds = new AtomicInteger(), releases = new AtomicInteger();
        var pool = new WaitGovernor.Pool() {
            @Override
            public void hold() {
                holds.incrementAndGet();
            }

            @Override
            public void release() {
                releases.incrementAndGet();
            }
        };
        var g = new WaitGovernor(() -> null, () -> 2, pool);
        Thread loop = Thread.ofPlatform().daemon().start(g);
        try {
            g.override(true);
            awaitHolding(g, true);
            Thread.sleep(3 * WaitGovernor.PERIOD_MS);
            assertEquals(1, holds.get());
            g.override(false);
            awaitHolding(g, false);
            Thread.sleep(3 * WaitGovernor.PERIOD_MS);
            assertEquals(1, releases.get());
            assertEquals(1, holds.get());
        } finally {
            loop.interrupt();
            loop.join(5_000);
        }
        assertFalse(loop.isAlive(), "an interrupt ends the loop");
    }

    private static void awaitHolding(WaitGovernor g, boolean state) throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (g.holding() != state && System.nanoTime() < deadline) Thread.sleep(5);
        assertEquals(state, g.holding());
    }

    @Test
    void kernelCpuListsAndThisMachinesReading() {
        BitSet b = WaitGovernor.cpuList("0-3,8,10-11\n");
        assertEquals("{0, 1, 2, 3, 8, 10, 11}", b.toString());
        assertEquals("{5}", WaitGovernor.cpuList(" 5 ").toString());
        WaitGovernor.Reading r = WaitGovernor.read();
        assertTrue(r != null && r.cpus() >= 1 && r.busyTicks() >= 0 && r.ownTicks() >= 0, String.valueOf(r));
        BitSet allowed = WaitGovernor.allowedCpus();
        if (allowed != null) assertEquals(allowed.cardinality(), r.cpus(), "counted the CPUs this process may use");
    }

    private static ChildJvm.Result probe(Path tmp, String... args) throws Exception {
        List<String> options = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED"));
        String dir = System.getProperty(NativeLoader.DIR_PROPERTY);
        if (dir != null && !dir.isBlank()) options.add("-D" + NativeLoader.DIR_PROPERTY + "=" + dir);
        List<String> main = new ArrayList<>(List.of(AdaptiveWaitProbe.class.getName()));
        main.addAll(List.of(args));
        return ChildJvm.finish(ChildJvm.start(tmp, Map.of(), options, main.toArray(String[]::new)));
    }

    @Test
    void theHeldPoolIsThreadsInLibgompThatGoAgain(@TempDir Path tmp) throws Exception {
        assumeTrue(OpenMpTeam.available() && Runtime.getRuntime().availableProcessors() >= 2, "needs libgomp and 2 CPUs");
        var r = probe(tmp);
        assertEquals(0, r.exitCode(), r.all());
        int cpus = Runtime.getRuntime().availableProcessors();
        String out = r.stdout();
        assertTrue(out.contains("wait: adaptive: 300000 spins while the cores are free, 1000 while other work wants them"), r.all());
        assertTrue(out.contains("governor threads: 1 holding false"), r.all());
        // GOMP_parallel of as many threads as CPUs: the governor's thread and cpus - 1 pool threads named after it
        assertTrue(out.contains("held threads: " + cpus + " holding true (adaptive: 300000 spins while the cores are free,"
                + " 1000 while other work wants them; now short (contended))"), r.all());
        assertTrue(out.contains("released threads: 1 holding false"), r.all());
        assertTrue(out.contains("done"), r.all());
    }

    @Test
    void theJvmExitsWhileThePoolIsHeld(@TempDir Path tmp) throws Exception {
        assumeTrue(OpenMpTeam.available() && Runtime.getRuntime().availableProcessors() >= 2, "needs libgomp and 2 CPUs");
        var r = probe(tmp, "exit-held");
        assertEquals(0, r.exitCode(), r.all());
        assertTrue(r.stdout().contains("exiting while held"), r.all());
    }
}
