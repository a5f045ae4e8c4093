package dev.panamadnn.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
        String dir = System.getProperty(NativeLoader.DIR_PROPERTY);
        if (dir != null && !dir.isBlank()) cmd.add("-D" + NativeLoader.DIR_PROPERTY + "=" + dir);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), TeamsThenExit.class.getName(), "16"));
        Path out = tmp.resolve("out.txt");
        Process p = new ProcessBuilder(cmd).directory(tmp.toFile()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        if (!p.waitFor(DEADLINE_SECONDS, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            fail("the child JVM did not exit within " + DEADLINE_SECONDS + " s of System.exit after its OpenMP workers ran Java"
                    + " (an OpenMP runtime that joins its threads at exit?):\n" + Files.readString(out));
        }
        String text = Files.readString(out);
        assertEquals(0, p.exitValue(), () -> "exit " + p.exitValue() + (p.exitValue() > 128 ? " (a crash)" : "") + ":\n" + text);
        assertTrue(text.contains("teams ran on 17 threads"), text);
    }
}
