package dev.panamadnn.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** Argument checks of ThreadControl (the effect on both libraries is tested in a child JVM). */
class ThreadControlTest {
    @Test
    void aThreadCountBelowOneIsRejectedWithTheValue() {
        var e = assertThrows(IllegalArgumentException.class, () -> ThreadControl.setThreads(0));
        assertEquals("ThreadControl.setThreads: expected n >= 1, got 0", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ThreadControl.setThreads(-3));
    }
}
