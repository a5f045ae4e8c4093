package dev.panamadnn.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Argument checks of ThreadControl (the effect on both libraries is tested in a child JVM). */
class ThreadControlTest {
    @Test
    void aThreadCountBelowOneIsRejectedWithTheValue() {
        var e = assertThrows(IllegalArgumentException.class, () -> ThreadControl.setThreads(0));
        assertEquals("ThreadControl.setThreads: expected a thread count from 1 to 1024, got 0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ThreadControl.setThreads(-3));
    }

    @Test
    void aThreadCountAboveTheLimitIsRejectedBeforeAnyThreadIsStarted() {
        // 10,000 OpenMP threads ended the JVM with a SIGSEGV at the first parallel region (2-vCPU, 24 GiB VM)
        var e = assertThrows(IllegalArgumentException.class, () -> ThreadControl.setThreads(10_000));
        assertEquals("ThreadControl.setThreads: expected a thread count from 1 to 1024, got 10000", e.getMessage());
        var a = assertThrows(IllegalArgumentException.class, () -> ThreadControl.applyToCurrentThread(ThreadControl.MAX_THREADS + 1));
        assertEquals("ThreadControl.applyToCurrentThread: expected a thread count from 1 to 1024, got 1025", a.getMessage());
        if (!OpenMpTeam.available()) return;   // a oneDNN on TBB: no team (OpenMpTeamTest)
        try (OpenMpTeam team = OpenMpTeam.of((thread, threads) -> { })) {
            var t = assertThrows(IllegalArgumentException.class, () -> team.run(10_000));
            assertEquals("OpenMpTeam.run (0 = the default): expected a thread count from 1 to 1024, got 10000", t.getMessage());
            assertThrows(IllegalArgumentException.class, () -> team.run(-1));
        }
    }
}
