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
 * libgomp's spin count (ThreadControl.SPIN_PROPERTY): set in the process environment before libgomp loads, unless the
 * environment already configures libgomp's waiting; what the child's C environment holds after loading is what
 * libgomp read.
 */
class SpinCountTest {
    private static final String ACCESS = "--enable-native-access=ALL-UNNAMED";

    @TempDir
    Path tmp;

    private String spinAfterLoad(Map<String, String> env, String... options) throws Exception {
        String[] all = new String[options.length + 1];
        all[0] = ACCESS;
        System.arraycopy(options, 0, all, 1, options.length);
        var r = ChildJvm.run(tmp, env, all);
        assertEquals(0, r.exitCode(), r.all());
        var m = java.util.regex.Pattern.compile("openmp wait: GOMP_SPINCOUNT=(\\S+)").matcher(r.stdout());
        assertTrue(m.find(), r.all());
        return m.group(1);
    }

    @Test
    void theDefaultIsSetWhenNothingConfiguresLibgomp() throws Exception {
        assertEquals(ThreadControl.DEFAULT_SPIN_COUNT, spinAfterLoad(Map.of()));
    }

    @Test
    void thePropertySetsItOrLeavesLibgompsDefault() throws Exception {
        assertEquals("250", spinAfterLoad(Map.of(), "-D" + ThreadControl.SPIN_PROPERTY + "=250"));
        assertEquals("(unset)", spinAfterLoad(Map.of(), "-D" + ThreadControl.SPIN_PROPERTY + "=libgomp"));
    }

    @Test
    void libgompsOwnVariablesWin() throws Exception {
        assertEquals("7", spinAfterLoad(Map.of("GOMP_SPINCOUNT", "7"), "-D" + ThreadControl.SPIN_PROPERTY + "=250"));
        assertEquals("(unset)", spinAfterLoad(Map.of("OMP_WAIT_POLICY", "passive")));
    }

    @Test
    void aBadValueIsRefusedNamingTheProperty() {
        assertEquals("1000", ThreadControl.spinCount(null));
        assertEquals("0", ThreadControl.spinCount(" 0 "));
        assertNull(ThreadControl.spinCount("libgomp"));
        var e = assertThrows(IllegalArgumentException.class, () -> ThreadControl.spinCount("fast"));
        assertEquals("panamadnn.gomp.spincount: expected a spin count (0 or more) or 'libgomp', got 'fast'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ThreadControl.spinCount("-1"));
    }
}
