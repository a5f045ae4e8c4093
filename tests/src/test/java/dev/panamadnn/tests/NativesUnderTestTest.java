package dev.panamadnn.tests;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.NativeRuntime;
import dev.panamadnn.natives.LoadReport;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * Says which native libraries this test run uses, and when {@code scripts/test --natives DIR}
 * asked for a directory, proves that every library really came from there (so a run "against
 * the source build" cannot silently test the packaged binaries).
 */
class NativesUnderTestTest {
    @Test
    void theRequestedNativesAreTheOnesLoaded() {
        NativeRuntime rt = NativeRuntime.describe();
        System.out.println("natives under test:\n" + rt.libraries() + "oneDNN " + rt.onednnVersion() + ", " + rt.openblasConfig());
        String dir = System.getProperty("panamadnn.natives.dir", "");
        if (dir.isBlank()) return;   // default order: whatever the loader picked is printed above
        Path expected = Path.of(dir).toAbsolutePath().normalize();
        assertTrue(rt.libraries().libraries().size() >= 2, rt.libraries()::toString);
        for (LoadReport.Library lib : rt.libraries().libraries()) {
            assertEquals(LoadReport.Source.EXPLICIT_DIRECTORY, lib.source(), lib::toString);
            assertTrue(lib.path().toAbsolutePath().normalize().startsWith(expected), () -> lib + " is not under " + expected);
        }
    }
}
