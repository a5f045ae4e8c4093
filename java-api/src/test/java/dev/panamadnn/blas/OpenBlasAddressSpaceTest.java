package dev.panamadnn.blas;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * OpenBLAS under address-space pressure, each case in a child JVM ({@link OpenBlasPressure}):
 * OpenBLAS itself ends the process when it cannot map a work buffer; {@code Blas.sgemm} must not.
 * 8 callers x 4 sgemms (512^3), {@code RLIMIT_AS} at the process size + 64 MiB (half a buffer),
 * 2 caller slots.
 */
class OpenBlasAddressSpaceTest {
    private static final String OPENBLAS_GIVES_UP = "OpenBLAS error: Memory allocation still failed after 10 retries, giving up.";
    private static final Pattern SUMMARY = Pattern.compile("pressure (\\w+): (\\d+) calls, (\\d+) completed, (\\d+) refused, (\\d+) unexpected");
    private static final int CALLS = 8 * 4;

    record Child(int exitCode, String output) {}

    private static Child run(int openblasThreads, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        String natives = System.getProperty("panamadnn.natives.dir");   // as ChildJvm: the natives under test
        if (natives != null && !natives.isBlank()) cmd.add("-Dpanamadnn.natives.dir=" + natives);
        cmd.add("-Dpanamadnn.threads=" + openblasThreads);
        cmd.add("-Dpanamadnn.blas.callers=2");
        // The raw control below ends its JVM on purpose, sometimes with a crash log: keep that out of the checkout.
        cmd.add("-XX:ErrorFile=" + Path.of(System.getProperty("java.io.tmpdir"), "pdnn-openblas-pressure-hs_err_%p.log"));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(OpenBlasPressure.class.getName());
        cmd.addAll(List.of(args));
        var pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("PANAMADNN_BLAS_CALLERS");
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("child JVM did not finish in 120 s");
        }
        String text = new String(out, StandardCharsets.UTF_8);
        System.out.println(text.strip());
        return new Child(p.exitValue(), text);
    }

    /** The child's summary, after checking that it lived: {completed, refused}. */
    private static int[] survived(Child child) {
        assertEquals(0, child.exitCode(), "the child JVM exited with " + child.exitCode()
                + (child.exitCode() > 128 ? " (signal " + (child.exitCode() - 128) + ")" : "") + "; its output:\n" + child.output());
        assertFalse(child.output().contains(OPENBLAS_GIVES_UP), "OpenBLAS failed to map a buffer; output:\n" + child.output());
        Matcher m = SUMMARY.matcher(child.output());
        assertTrue(m.find(), "no summary line; output:\n" + child.output());
        assertEquals(Integer.toString(CALLS), m.group(2), "calls made");
        assertEquals("0", m.group(5), "unexpected outcomes; output:\n" + child.output());
        return new int[] {Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4))};
    }

    /**
     * The control: what the gate protects against, shown on the generated binding itself (which
     * only java-api may call: its packages are exported to dev.panamadnn alone), never through the
     * API. cblas_sgemm called directly (no gate) under the lowered address-space limit ends the
     * child process: OpenBLAS's exit(1), and, while exit() tears the JVM down with the other
     * caller threads still inside OpenBLAS, sometimes a SIGSEGV in libc during that teardown
     * (seen in CI: hs_err in libc.so.6, exit code 134; its log goes to java.io.tmpdir). If this
     * starts failing, OpenBLAS changed; re-read memory.c.
     */
    @Test
    void openblasAloneEndsTheProcess() throws Exception {
        Child child = run(1, "raw", "after", "8", "4", "64");
        assertNotEquals(0, child.exitCode(), "expected OpenBLAS to end the process; output:\n" + child.output());
        assertTrue(child.output().contains(OPENBLAS_GIVES_UP), "output:\n" + child.output());
    }

    /** Buffers reserved at first use, callers beyond the 2 slots wait: every call completes. */
    @ParameterizedTest(name = "{0} OpenBLAS thread(s)")
    @ValueSource(ints = {1, 2})
    void sgemmCompletesUnderPressureAfterFirstUse(int openblasThreads) throws Exception {
        int[] outcome = survived(run(openblasThreads, "api", "after", "8", "4", "64"));
        assertEquals(CALLS, outcome[0], "completed calls");
    }

    /** No buffer fits at first use: every call is an IllegalStateException saying why, the process lives. */
    @Test
    void sgemmRefusesWhenNoBufferFitsAtFirstUse() throws Exception {
        Child child = run(1, "api", "before", "8", "4", "64");
        int[] outcome = survived(child);
        assertEquals(CALLS, outcome[1], "refused calls");
        assertTrue(child.output().contains("not one work buffer (128 MiB of address space) could be reserved"),
                "refusal message; output:\n" + child.output());
    }
}
