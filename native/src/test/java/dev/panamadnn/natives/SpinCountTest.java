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
 * libgomp's spin count (ThreadControl.SPIN_PROPERTY): adaptive by default, else a fixed count or libgomp's own; set in
 * the process environment before libgomp loads, unless the environment already configures libgomp's waiting; what the child's C environment holds after loading is what
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
        var m = java.util.regex.Pattern.compile("openmp wait: GOMP_SPINCOUNT=(\\S+) OMP_WAIT_POLICY=(\\S+) \\((.*)\\)").matcher(r.stdout());
        assertTrue(m.find(), r.all());
        lastPolicy = m.group(2);
        lastWait = m.group(3);
        return m.group(1);
    }

    private String lastPolicy, lastWait;

    @Test
    void theDefaultIsTheAdaptiveWaitAndThePolicyIsGoneAfterTheLoad() throws Exception {
        assertEquals(ThreadControl.CALM_SPIN_COUNT, spinAfterLoad(Map.of()));
        // libgomp read OMP_WAIT_POLICY=active (its short spin, 1,000) while loading; no other runtime may see it later
        assertEquals("(unset)", lastPolicy);
        assertTrue(lastWait.startsWith("adaptive: 300000 spins while the cores are free, 1000 while other work wants them; now "),
                lastWait);
        assertEquals(ThreadControl.CALM_SPIN_COUNT, spinAfterLoad(Map.of(), "-D" + ThreadControl.SPIN_PROPERTY + "=adaptive"));
    }

    @Test
    void thePropertySetsItOrLeavesLibgompsDefault() throws Exception {
        assertEquals("250", spinAfterLoad(Map.of(), "-D" + ThreadControl.SPIN_PROPERTY + "=250"));
        assertEquals("fixed: GOMP_SPINCOUNT=250", lastWait);
        assertEquals("(unset)", spinAfterLoad(Map.of(), "-D" + ThreadControl.SPIN_PROPERTY + "=libgomp"));
        assertEquals("libgomp's own spin", lastWait);
    }

    @Test
    void libgompsOwnVariablesWin() throws Exception {
        assertEquals("7", spinAfterLoad(Map.of("GOMP_SPINCOUNT", "7"), "-D" + ThreadControl.SPIN_PROPERTY + "=250"));
        assertEquals("(unset)", spinAfterLoad(Map.of("OMP_WAIT_POLICY", "passive")));
        assertEquals("passive", lastPolicy);
        assertEquals("libgomp as the environment sets it (GOMP_SPINCOUNT=null, OMP_WAIT_POLICY=passive)", lastWait);
    }

    @Test
    void aBadValueIsRefusedNamingTheProperty() {
        assertEquals("adaptive", ThreadControl.spinCount(null));
        assertEquals("adaptive", ThreadControl.spinCount(" adaptive"));
        assertEquals("0", ThreadControl.spinCount(" 0 "));
        assertNull(ThreadControl.spinCount("libgomp"));
        var e = assertThrows(IllegalArgumentException.class, () -> ThreadControl.spinCount("fast"));
        assertEquals("panamadnn.gomp.spincount: expected 'adaptive', a spin count (0 or more) or 'libgomp', got 'fast'", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ThreadControl.spinCount("-1"));
    }
}
