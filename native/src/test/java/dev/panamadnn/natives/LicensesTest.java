package dev.panamadnn.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every shared library this jar redistributes comes with the license texts that govern it
 * (META-INF/licenses/NATIVES.txt maps each to its texts), and the jar carries the project's own
 * LICENSE and NOTICE.
 */
class LicensesTest {
    private static final String DIR = "/META-INF/licenses/";

    private static String resource(String name) throws IOException {
        try (InputStream in = LicensesTest.class.getResourceAsStream(name)) {
            assertNotNull(in, name + " is not packaged");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** file -> license text files, from NATIVES.txt. */
    private static Map<String, List<String>> licenseEntries() throws IOException {
        Map<String, List<String>> m = new LinkedHashMap<>();
        for (String line : resource(DIR + "NATIVES.txt").split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            String[] f = line.split("\\|");
            assertEquals(4, f.length, () -> "NATIVES.txt line needs file|project|license|texts: " + line);
            assertFalse(f[2].isBlank(), () -> "no license named for " + f[0]);
            m.put(f[0], List.of(f[3].split(",")));
        }
        return m;
    }

    @Test
    void everyPackagedLibraryHasItsLicenseTexts() throws Exception {
        Map<String, List<String>> entries = licenseEntries();
        Manifest manifest = Manifest.parse(NativeLoader.readResource(PackagedNatives.RESOURCE_DIR + Manifest.FILE_NAME), "packaged");
        for (Manifest.Entry e : manifest.entries()) {
            List<String> texts = entries.get(e.file());
            assertNotNull(texts, () -> e.file() + " is packaged but META-INF/licenses/NATIVES.txt names no license for it");
            for (String t : texts) {
                assertTrue(resource(DIR + t).length() > 500, () -> t + " (license of " + e.file() + ") is missing or too short to be a license text");
            }
        }
        // The other direction: every shared library file actually in the packaged directory is in the manifest
        // (so it is covered above), and NATIVES.txt names nothing that is not shipped.
        Path dir = Path.of(LicensesTest.class.getResource(PackagedNatives.RESOURCE_DIR + Manifest.FILE_NAME).toURI()).getParent();
        List<String> manifestFiles = manifest.entries().stream().map(Manifest.Entry::file).toList();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path p : files.filter(p -> p.getFileName().toString().contains(".so")).toList()) {
                assertTrue(manifestFiles.contains(p.getFileName().toString()), () -> p.getFileName() + " is packaged but not in the manifest");
            }
        }
        assertEquals(manifestFiles.stream().sorted().toList(), entries.keySet().stream().sorted().toList(),
                "NATIVES.txt and natives.manifest must name the same libraries");
    }

    @Test
    void theLicenseTextsAreTheExpectedOnes() throws Exception {
        assertTrue(resource(DIR + "OpenBLAS-BSD-3-Clause.txt").contains("The OpenBLAS Project"));
        assertTrue(resource(DIR + "LAPACK-BSD-3-Clause.txt").contains("University of Tennessee"));
        assertTrue(resource(DIR + "oneDNN-LICENSE.txt").contains("Apache License"));
        assertTrue(resource(DIR + "oneDNN-THIRD-PARTY-PROGRAMS.txt").contains("Xbyak"));
        assertTrue(resource(DIR + "GPL-3.0.txt").contains("GNU GENERAL PUBLIC LICENSE") && resource(DIR + "GPL-3.0.txt").contains("Version 3"));
        assertTrue(resource(DIR + "GCC-RUNTIME-LIBRARY-EXCEPTION-3.1.txt").contains("GCC RUNTIME LIBRARY EXCEPTION"));
        assertTrue(resource(DIR + "LGPL-2.1.txt").contains("Version 2.1"));
    }

    @Test
    void theJarCarriesTheProjectLicenseAndNotice() throws Exception {
        // Read from this module's own output, not the first META-INF/LICENSE on the class path (many jars have one).
        Path classes = Path.of(PackagedNatives.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Path root = Path.of(System.getProperty("user.dir")).getParent();   // surefire runs in the module directory
        for (String f : List.of("LICENSE", "NOTICE")) {
            Path packaged = classes.resolve("META-INF").resolve(f);
            assertTrue(Files.exists(packaged), () -> "META-INF/" + f + " is not packaged in " + classes);
            assertEquals(Files.readString(root.resolve(f)), Files.readString(packaged), "META-INF/" + f + " must be the project's " + f);
        }
        assertTrue(Files.readString(root.resolve("LICENSE")).contains("Apache License"));
    }
}
