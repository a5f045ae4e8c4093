package dev.panamadnn.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How long an idle OpenBLAS worker spins (ThreadControl.OPENBLAS_TIMEOUT_PROPERTY): set in the process environment
 * before OpenBLAS loads unless the environment sets OPENBLAS_THREAD_TIMEOUT itself; checked in a child JVM both as the
 * C environment holds it and as OpenBLAS itself read it ({@code openblas_thread_timeout()}, 0 when unset).
 */
class OpenBlasTimeoutTest {
    @TempDir
    Path tmp;

    /** {@return "environment value / value OpenBLAS read"} in a child JVM after loading */
    private String timeoutAfterLoad(Map<String, String> env, String... options) throws Exception {
        String[] all = new String[options.length + 1];
        all[0] = "--enable-native-access=ALL-UNNAMED";
        System.arraycopy(options, 0, all, 1, options.length);
        var r = ChildJvm.run(tmp, env, all);
        assertEquals(0, r.exitCode(), r.all());
        var m = java.util.regex.Pattern.compile("openblas wait: OPENBLAS_THREAD_TIMEOUT=(\\S+) \\(read by OpenBLAS: (-?\\d+)\\)").matcher(r.stdout());
        assertTrue(m.find(), r.all());
        return m.group(1) + " / " + m.group(2);
    }

    @Test
    void theDefaultIsSetWhenNothingConfiguresOpenBlas() throws Exception {
        assertEquals(ThreadControl.DEFAULT_OPENBLAS_TIMEOUT + " / " + ThreadControl.DEFAULT_OPENBLAS_TIMEOUT, timeoutAfterLoad(Map.of()));
    }

    @Test
    void thePropertySetsItOrLeavesOpenBlassDefault() throws Exception {
        assertEquals("22 / 22", timeoutAfterLoad(Map.of(), "-D" + ThreadControl.OPENBLAS_TIMEOUT_PROPERTY + "=22"));
        assertEquals("(unset) / 0", timeoutAfterLoad(Map.of(), "-D" + ThreadControl.OPENBLAS_TIMEOUT_PROPERTY + "=openblas"));
    }

    @Test
    void openBlassOwnVariableWins() throws Exception {
        assertEquals("9 / 9", timeoutAfterLoad(Map.of("OPENBLAS_THREAD_TIMEOUT", "9"), "-D" + ThreadControl.OPENBLAS_TIMEOUT_PROPERTY + "=22"));
    }

    @Test
    void aBadValueIsRefusedNamingTheProperty() {
        assertEquals("16", ThreadControl.openblasTimeout(null));
        assertEquals("4", ThreadControl.openblasTimeout(" 04 "));
        assertEquals("30", ThreadControl.openblasTimeout("30"));
        assertNull(ThreadControl.openblasTimeout("openblas"));
        var e = assertThrows(IllegalArgumentException.class, () -> ThreadControl.openblasTimeout("long"));
        assertEquals("panamadnn.openblas.timeout: expected 4 to 30 (2^n cycles) or 'openblas', got 'long'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ThreadControl.openblasTimeout("3"));
        assertThrows(IllegalArgumentException.class, () -> ThreadControl.openblasTimeout("31"));
        assertThrows(IllegalArgumentException.class, () -> ThreadControl.openblasTimeout("-5"));
    }
}
