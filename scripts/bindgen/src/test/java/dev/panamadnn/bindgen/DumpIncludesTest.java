package dev.panamadnn.bindgen;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DumpIncludesTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void needsLibclang() {
        FixtureSupport.assumeLibclang();
    }

    private List<String> dump() throws Exception {
        Path out = tmp.resolve("dump.txt");
        Generator.run("--dump-includes", out.toString(), FixtureSupport.header().toString());
        return Files.readAllLines(out);
    }

    @Test
    void listsEveryKindOfDeclarationWithWhereItIs() throws Exception {
        List<String> lines = dump();
        assertContainsLine(lines, "--include-function fx_add_int", "# fixture.h:");
        assertContainsLine(lines, "--include-constant FX_GREEN", "enum fx_color");
        assertContainsLine(lines, "--include-constant FX_SHIFT", "# fixture.h:");
        assertContainsLine(lines, "--include-struct fx_padded", "");
        assertContainsLine(lines, "--include-union fx_number", "");
        assertContainsLine(lines, "--include-typedef fx_binary_op", "");
        assertContainsLine(lines, "--include-var fx_global_counter", "");
    }

    @Test
    void leavesOutSystemHeadersFunctionLikeMacrosAndAbsolutePaths() throws Exception {
        List<String> lines = dump();
        assertFalse(lines.stream().anyMatch(l -> l.contains(" size_t ") || l.contains("int64_t ")), "stdint/stddef");
        assertFalse(lines.stream().anyMatch(l -> l.contains("FX_MAX")), "function-like macro");
        assertFalse(lines.stream().anyMatch(l -> l.contains(FixtureSupport.fixtureDir().toString())), "absolute path");
    }

    @Test
    void dumpIsAValidArgumentFile() throws Exception {
        dump();
        // Every line parses as an option (trailing "# file:line" comments are allowed in argfiles).
        Options o = Options.parse(List.of("@" + tmp.resolve("dump.txt"), "--output", "x", "h.h"));
        assertTrue(o.includes().get(Options.Kind.FUNCTION).contains("fx_add_int"));
    }

    private static void assertContainsLine(List<String> lines, String start, String alsoContains) {
        assertTrue(lines.stream().anyMatch(l -> l.startsWith(start + " ") && l.contains(alsoContains)),
                "no line '" + start + " ... " + alsoContains + "' in dump");
    }
}
