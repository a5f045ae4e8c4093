package dev.panamadnn.bindgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line and argfiles; no libclang needed. */
class OptionsTest {
    @TempDir
    Path tmp;

    @Test
    void argfilesAndCommandLineCombine() throws Exception {
        Path a = Files.writeString(tmp.resolve("a.txt"), """
                # comment line
                --target-package p.q
                --include-function f1   # trailing comment

                --symbol-lookup Foo.lookup(System.getProperty("x"), Arena.global())
                """);
        Path b = Files.writeString(tmp.resolve("b.txt"), "--include-function f2\n--critical-function f2\n");
        Options o = Options.parse(List.of("@" + a, "@" + b, "--include-function", "f3", "-I", "inc", "-Dm=1",
                "--output=out", "h.h"));
        assertEquals("p.q", o.targetPackage());
        assertEquals(List.of("f1", "f2", "f3"), List.copyOf(o.includes().get(Options.Kind.FUNCTION)));
        assertEquals(Set.of("f2"), o.criticalFunctions());
        assertEquals("Foo.lookup(System.getProperty(\"x\"), Arena.global())", o.symbolLookup());
        assertEquals(List.of(Path.of("inc")), o.includeDirs());
        assertEquals(List.of("m=1"), o.defines());
        assertEquals(Path.of("out"), o.output());
        assertEquals("h_h", o.headerClassName(), "jextract's default: <header>_h");
    }

    @Test
    void unknownOptionInArgfileNamesFileAndLine() throws Exception {
        Path a = Files.writeString(tmp.resolve("a.txt"), "--include-function f\n--include-fnuction g\n");
        Options.UsageException e = assertThrows(Options.UsageException.class,
                () -> Options.parse(List.of("@" + a, "--output", "o", "h.h")));
        assertTrue(e.getMessage().contains("a.txt:2") && e.getMessage().contains("--include-fnuction"),
                e.getMessage());
    }

    @Test
    void missingValueAndMissingHeaderAreUsageErrors() {
        assertThrows(Options.UsageException.class, () -> Options.parse(List.of("h.h", "--output")));
        assertThrows(Options.UsageException.class, () -> Options.parse(List.of("--output", "o")));
        assertThrows(Options.UsageException.class, () -> Options.parse(List.of("h.h")));
    }
}
