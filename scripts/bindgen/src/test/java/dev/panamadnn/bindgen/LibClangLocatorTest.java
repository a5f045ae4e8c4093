package dev.panamadnn.bindgen;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibClangLocatorTest {
    @Test
    void explicitPathThatDoesNotExistIsReportedWithTheInstallHint(@TempDir Path tmp) {
        String old = System.getProperty(LibClangLocator.PROPERTY);
        System.setProperty(LibClangLocator.PROPERTY, tmp.resolve("libclang.so.404").toString());
        try {
            BindgenException e = assertThrows(BindgenException.class, LibClangLocator::locate);
            assertTrue(e.getMessage().contains("libclang.so.404") && e.getMessage().contains("apt-get install"),
                    e.getMessage());
        } finally {
            if (old == null) {
                System.clearProperty(LibClangLocator.PROPERTY);
            } else {
                System.setProperty(LibClangLocator.PROPERTY, old);
            }
        }
    }

    @Test
    void builtinHeadersAreFoundNextToTheLibrary() {
        FixtureSupport.assumeLibclang();
        Path include = LibClangLocator.locate().builtinIncludes();
        assertTrue(include != null && include.resolve("stddef.h").toFile().isFile(), "no stddef.h in " + include);
    }
}
