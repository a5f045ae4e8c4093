package dev.panamadnn.bindgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every input the generator cannot map stops it with a message naming the problem, and writes nothing. */
class BadInputTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void needsLibclang() {
        FixtureSupport.assumeLibclang();
    }

    /** Runs on the fixture header with only {@code options}: returns the error message. */
    private String failure(String... options) {
        List<String> args = new ArrayList<>(List.of("--output", tmp.resolve("out").toString()));
        args.addAll(List.of(options));
        args.add(FixtureSupport.header().toString());
        BindgenException e = assertThrows(BindgenException.class, () -> Generator.run(args.toArray(String[]::new)));
        assertTrue(Files.notExists(tmp.resolve("out")), "nothing may be written when generation fails");
        return e.getMessage();
    }

    private static void assertMentions(String message, String... parts) {
        for (String part : parts) {
            assertTrue(message.contains(part), "expected '" + part + "' in: " + message);
        }
    }

    @Test
    void missingHeaderExitsOneNamingTheFile() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        Path missing = tmp.resolve("no_such.h");
        int rc = Main.run(new String[] {"--output", tmp.toString(), missing.toString()},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(1, rc);
        assertMentions(err.toString(StandardCharsets.UTF_8), "header file not found", missing.toString());
    }

    @Test
    void symbolNotInHeader() {
        assertMentions(failure("--include-function fx_nope".split(" ")), "--include-function fx_nope",
                "no function");
        assertMentions(failure("--include-constant", "FX_NOPE"), "FX_NOPE");
        assertMentions(failure("--include-struct", "fx_nope_s"), "fx_nope_s");
        assertMentions(failure("--include-typedef", "fx_nope_t"), "fx_nope_t");
    }

    @Test
    void bitFieldNamesStructAndField() {
        assertMentions(failure("--include-struct", "fx_bits"), "struct fx_bits", "bit-field 'flag'", "fixture.h:");
    }

    @Test
    void functionLikeMacroAsConstant() {
        assertMentions(failure("--include-constant", "FX_MAX"), "FX_MAX", "function-like macro");
    }

    @Test
    void syntaxErrorInHeaderReportsClangsDiagnostic() throws Exception {
        Path broken = tmp.resolve("broken.h");
        Files.writeString(broken, "int fine(int x);\nint broken(int x;\n");
        BindgenException e = assertThrows(BindgenException.class, () -> Generator.run("--output",
                tmp.resolve("out").toString(), "--include-function", "fine", broken.toString()));
        assertMentions(e.getMessage(), "clang reported", "broken.h:2");
    }

    @Test
    void missingIncludeOfTheHeaderIsAClangError() throws Exception {
        Path header = tmp.resolve("includes_missing.h");
        Files.writeString(header, "#include \"not_there.h\"\nint f(void);\n");
        BindgenException e = assertThrows(BindgenException.class, () -> Generator.run("--output",
                tmp.resolve("out").toString(), header.toString()));
        assertMentions(e.getMessage(), "not_there.h", "file not found");
    }

    @Test
    void unknownOptionPrintsUsageAndExitsTwo() {
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = Main.run(new String[] {"--frobnicate", "x", FixtureSupport.header().toString()},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(2, rc);
        assertMentions(err.toString(StandardCharsets.UTF_8), "unknown option: --frobnicate", "usage:");
    }

    @Test
    void variadicFunction() {
        assertMentions(failure("--include-function", "fx_printf_like"), "fx_printf_like", "variadic");
    }

    @Test
    void longDoubleHasNoCarrier() {
        assertMentions(failure("--include-function", "fx_long_double"), "fx_long_double", "'long double'");
    }

    @Test
    void globalVariablesAreRefused() {
        assertMentions(failure("--include-var", "fx_global_counter"), "fx_global_counter", "not supported");
    }

    @Test
    void opaqueStructHasNoLayout() {
        assertMentions(failure("--include-struct", "fx_opaque"), "fx_opaque", "opaque");
    }

    @Test
    void criticalFunctionMustBeIncluded() {
        assertMentions(failure("--critical-function", "fx_fill"), "--critical-function fx_fill",
                "not listed with --include-function");
    }

    @Test
    void missingExtraHeader() {
        assertMentions(failure("-I", tmp.toString(), "--extra-header", "nope/nope.h"), "--extra-header nope/nope.h");
    }

    @Test
    void allProblemsAreReportedAtOnce() {
        assertMentions(failure("--include-function", "fx_nope", "--include-struct", "fx_bits", "--include-constant",
                "FX_MAX"), "3 problem(s)", "fx_nope", "fx_bits", "FX_MAX");
    }
}
