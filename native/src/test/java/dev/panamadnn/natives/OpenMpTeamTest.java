package dev.panamadnn.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

/** Java bodies on libgomp's team: every thread runs once, failures come back to the caller, misuse is a clear exception. */
class OpenMpTeamTest {
    @Test
    void theTeamIsThereExactlyWhenOneDnnRunsOnOpenMp() {
        LoadReport report = Natives.load();
        boolean packaged = report.libraries().stream()
                .anyMatch(l -> l.file().startsWith("libdnnl") && l.source() == LoadReport.Source.PACKAGED);
        if (packaged) assertTrue(OpenMpTeam.available(), "the packaged oneDNN is built with OpenMP (libgomp)");
        assertEquals(ThreadControl.openmp(), OpenMpTeam.available(), "omp_* and GOMP_parallel come together");
        if (!OpenMpTeam.available()) {   // a oneDNN on TBB (scripts/build-natives --cpu-runtime tbb)
            var e = assertThrows(IllegalStateException.class, () -> OpenMpTeam.of((thread, threads) -> { }));
            assertTrue(e.getMessage().contains("no OpenMP runtime"), e.getMessage());
        }
    }

    /** The tests below run Java bodies on the team: only with a oneDNN on OpenMP (the packaged one). */
    private static void requireTeam() {
        assumeTrue(OpenMpTeam.available(), "the loaded oneDNN is not on OpenMP");
    }

    @Test
    void eachTeamThreadRunsTheBodyOnceOnItsOwnThread() {
        requireTeam();
        for (int threads : new int[] {1, 2, 3}) {
            AtomicIntegerArray calls = new AtomicIntegerArray(threads);
            Set<Thread> seen = ConcurrentHashMap.newKeySet();
            int[] sizes = new int[threads];
            try (OpenMpTeam team = OpenMpTeam.of((t, n) -> {
                calls.incrementAndGet(t);
                sizes[t] = n;
                seen.add(Thread.currentThread());
            })) {
                for (int run = 0; run < 100; run++) team.run(threads);
            }
            for (int t = 0; t < threads; t++) {
                assertEquals(100, calls.get(t), "calls of thread " + t + " of " + threads);
                assertEquals(threads, sizes[t], "team size seen by thread " + t);
            }
            assertEquals(threads, seen.size(), "distinct threads");
            assertTrue(seen.contains(Thread.currentThread()), "the caller is thread 0");
            seen.forEach(th -> assertTrue(th == Thread.currentThread() || th.isDaemon(), "team threads attach as daemons: " + th));
        }
    }

    @Test
    void aFailureOnATeamThreadIsRethrownOnTheCaller() {
        requireTeam();
        RuntimeException boom = new IllegalStateException("boom on thread 1");
        try (OpenMpTeam team = OpenMpTeam.of((t, n) -> {
            if (t == 1) throw boom;
        })) {
            assertSame(boom, assertThrows(IllegalStateException.class, () -> team.run(2)));
            team.run(1);   // the next run is clean
        }
        try (OpenMpTeam team = OpenMpTeam.of((t, n) -> {
            throw new AssertionError("an error too");
        })) {
            assertThrows(AssertionError.class, () -> team.run(2));
        }
    }

    @Test
    void misuseIsAClearException() {
        requireTeam();
        assertEquals("OpenMpTeam.of: body must not be null", assertThrows(IllegalArgumentException.class, () -> OpenMpTeam.of(null)).getMessage());
        OpenMpTeam team = OpenMpTeam.of((t, n) -> { });
        assertThrows(IllegalArgumentException.class, () -> team.run(-1));
        team.close();
        team.close();   // idempotent
        assertEquals("OpenMpTeam: closed", assertThrows(IllegalStateException.class, () -> team.run(2)).getMessage());
    }

    @Test
    void registrySlotsAreReused() {
        requireTeam();
        for (int i = 0; i < 100; i++) {
            try (OpenMpTeam team = OpenMpTeam.of((t, n) -> { })) {
                team.run(2);
            }
        }
    }
}
