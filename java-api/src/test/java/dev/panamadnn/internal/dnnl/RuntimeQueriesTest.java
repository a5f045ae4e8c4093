package dev.panamadnn.internal.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.NativeRuntime;
import dev.panamadnn.natives.ThreadControl;
import org.junit.jupiter.api.Test;

class RuntimeQueriesTest {
    /** The names of oneDNN's DNNL_RUNTIME_* values (dnnl_config.h: SEQ 1, OMP 2, TBB 4, THREADPOOL 8). */
    @Test
    void namesEachCpuRuntime() {
        assertEquals("sequential", RuntimeQueries.cpuRuntime(1));
        assertEquals("OpenMP", RuntimeQueries.cpuRuntime(2));
        assertEquals("TBB", RuntimeQueries.cpuRuntime(4));
        assertEquals("threadpool", RuntimeQueries.cpuRuntime(8));
        assertEquals("unknown (256)", RuntimeQueries.cpuRuntime(256));
    }

    /**
     * What oneDNN says it was built on agrees with what ThreadControl found: the omp_* functions exactly when the
     * runtime is OpenMP (the packaged library; a TBB build from scripts/build-natives has none, and then the team
     * size reported is the cores).
     */
    @Test
    void theReportedRuntimeMatchesTheThreadControls() {
        NativeRuntime rt = NativeRuntime.describe();
        assertEquals(rt.cpuRuntime().equals("OpenMP"), ThreadControl.openmp(), "runtime " + rt.cpuRuntime());
        if (!ThreadControl.openmp()) assertEquals(Runtime.getRuntime().availableProcessors(), rt.openmpThreads());
    }
}
