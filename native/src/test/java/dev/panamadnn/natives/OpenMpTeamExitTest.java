package dev.panamadnn.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A JVM whose OpenMP worker threads ran Java ({@link OpenMpTeam}) still exits. An OpenMP runtime that joins its worker
 * threads when the process exits (Intel's and LLVM's do; GNU libgomp, the packaged one, does not) deadlocks there: a
 * worker the JDK attached for the upcalls detaches as it ends, and a detach after the VM has exited blocks for ever
 * (docs/benchmarks.md, "Intel's OpenMP runtime and an adaptive wait"). Run in a child JVM with a deadline, so such a
 * runtime fails this test instead of hanging the suite; an alternative native set given to the tests
 * ({@code -Dpanamadnn.natives.dir}, as {@code scripts/test --natives} does) is the one the child loads.
 */
class OpenMpTeamExitTest {
    private static final int DEADLINE_SECONDS = 60;

    @Test
    void theJvmExitsAfterJavaRanOnTheTeamsOfThreadsThatEnded(@TempDir Path tmp) throws Exception {
        assumeTrue(OpenMpTeam.available(), "the loaded oneDNN is not on OpenMP");
        var r = ChildJvm.finish(ChildJvm.startMain(tmp, TeamsThenExit.class.getName(), "16"), DEADLINE_SECONDS,
                "the child JVM did not exit within " + DEADLINE_SECONDS + " s of System.exit after its OpenMP workers ran Java"
                        + " (an OpenMP runtime that joins its threads at exit?)");
        String text = r.all();
        assertEquals(0, r.exitCode(), () -> "exit " + r.exitCode() + (r.exitCode() > 128 ? " (a crash)" : "") + ":\n" + text);
        assertTrue(text.contains("teams ran on 17 threads"), text);
    }
}
