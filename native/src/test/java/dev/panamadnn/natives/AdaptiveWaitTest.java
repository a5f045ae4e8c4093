package dev.panamadnn.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
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
        var g = new WaitGovernor(into -> { into.set(r[0], r[1], r[2], 2); return true; }, () -> 2, null);
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
        var unreadable = new WaitGovernor(into -> false, () -> 2, null);
        assertFalse(unreadable.sample(0));
        assertFalse(unreadable.sample(PERIOD));
    }

    @Test
    void aTeamOfOneOnTwoCoresIsContendedOnlyWhenOthersTakeMoreThanACoreAndAHalf() {
        long[] r = {-1, 0, 0};   // no PSI
        var g = new WaitGovernor(into -> { into.set(r[0], r[1], r[2], 2); return true; }, () -> 1, null);
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
        var g = new WaitGovernor(into -> false, () -> 2, pool);
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
    void kernelCpuLists() {
        assertEquals("{0, 1, 2, 3, 8, 10, 11}", ProcReadings.cpuList("0-3,8,10-11").toString());
        assertEquals("{5}", ProcReadings.cpuList(" 5 ").toString());
        assertThrows(IllegalArgumentException.class, () -> ProcReadings.cpuList(""));
        assertThrows(RuntimeException.class, () -> ProcReadings.cpuList("3-1"));
    }

    @Test
    void procFilesAsTheKernelWritesThem(@TempDir Path tmp) throws Exception {
        Path stat = Files.writeString(tmp.resolve("stat"), """
                cpu  900 9 900 9000 90 9 9 90 0 0
                cpu0 100 1 200 3000 40 5 6 7 0 0
                cpu1 300 2 400 3000 50 7 8 9 0 0
                cpu2 1000 0 0 3000 0 0 0 0 0 0
                intr 12345 1 2 3 cpu
                ctxt 999
                """);
        // a command name with a space and a parenthesis: fields count from the last ')'
        Path self = Files.writeString(tmp.resolve("self"),
                "4242 (java (x) y) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 30 0 12345 0 0\n");
        Path status = Files.writeString(tmp.resolve("status"), "Name:\tjava\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed_list:\t0\n");
        Path psi = Files.writeString(tmp.resolve("psi"), "some avg10=1.00 avg60=0.50 avg300=0.10 total=777\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=5\n");
        var r = new ProcReadings.Reading();
        try (ProcReadings p = new ProcReadings(stat, self, status, psi)) {
            assertTrue(p.read(r));
        }
        // cpu0 and cpu1 only (allowed 0-1): all but idle and iowait of their first eight fields
        assertEquals((100 + 1 + 200 + 5 + 6 + 7) + (300 + 2 + 400 + 7 + 8 + 9), r.busyTicks, r.toString());
        assertEquals(2, r.cpus);
        assertEquals(300, r.ownTicks);
        assertEquals(777, r.stallMicros);
        try (ProcReadings p = new ProcReadings(stat, self, tmp.resolve("absent"), tmp.resolve("absent too"))) {
            assertTrue(p.read(r));
        }
        assertEquals(3, r.cpus, "without Cpus_allowed_list every CPU counts");
        assertEquals(-1, r.stallMicros, "without PSI");
        Path broken = Files.writeString(tmp.resolve("broken"), "4242 no parenthesis here\n");
        try (ProcReadings p = new ProcReadings(stat, broken, status, psi)) {
            assertFalse(p.read(r));
        }
        assertThrows(java.io.IOException.class, () -> new ProcReadings(tmp.resolve("absent"), self, status, psi));
    }

    @Test
    void readingThisMachineAllocatesNothing() throws Exception {
        var r = new ProcReadings.Reading();
        try (ProcReadings p = ProcReadings.open()) {
            for (int i = 0; i < 2_000; i++) assertTrue(p.read(r));   // warm: buffers grown, code compiled
            assertTrue(r.cpus >= 1 && r.busyTicks >= 0 && r.ownTicks >= 0, r.toString());
            long before = allocatedBytes(), measuring = allocatedBytes() - before;   // what the measurement itself allocates
            before = allocatedBytes();
            for (int i = 0; i < 10_000; i++) p.read(r);
            long bytes = allocatedBytes() - before - measuring;
            // a reader that allocated anything per reading (a String, a boxed number) would show 160,000 bytes or more
            assertTrue(bytes < 2_000, "10,000 readings allocated " + bytes + " bytes (the measurement's own " + measuring + " taken off)");
        }
    }

    /**
     * {@code com.sun.management.ThreadMXBean.getCurrentThreadAllocatedBytes()}, reflectively: the tests run on the class
     * path, but compile in this module, which does not read java.management.
     */
    private static long allocatedBytes() throws ReflectiveOperationException {
        Object bean = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
        return (long) Class.forName("com.sun.management.ThreadMXBean").getMethod("getCurrentThreadAllocatedBytes").invoke(bean);
    }

    private static ChildJvm.Result probe(Path tmp, String... args) throws Exception {
        return ChildJvm.finish(ChildJvm.startMain(tmp, AdaptiveWaitProbe.class.getName(), args));
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
