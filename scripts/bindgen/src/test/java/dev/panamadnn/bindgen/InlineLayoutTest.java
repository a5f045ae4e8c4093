package dev.panamadnn.bindgen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A listed function may pass an unlisted struct by value: its layout is written inline, no class is pulled in. */
class InlineLayoutTest {
    @Test
    void unlistedStructPassedByValueIsLaidOutInline(@TempDir Path tmp) throws Throwable {
        FixtureSupport.assumeLibclang();
        FixtureSupport.assumeGcc();
        System.setProperty("fixture.lib", FixtureSupport.buildLibrary(tmp).toString());
        Path src = tmp.resolve("src");
        Generator.run("--target-package", "inline.gen", "--header-class-name", "fixture_h", "--symbol-lookup",
                "java.lang.foreign.SymbolLookup.libraryLookup(System.getProperty(\"fixture.lib\"), "
                        + "java.lang.foreign.Arena.global())",
                "--include-function", "fx_make_padded", "--include-function", "fx_padded_sum",
                "--include-function", "fx_layout", "--output", src.toString(), FixtureSupport.header().toString());
        try (var files = Files.list(src.resolve("inline/gen"))) {
            assertEquals(1, files.count(), "only the header class: no struct class for the unlisted fx_padded");
        }
        Files.createDirectories(tmp.resolve("classes"));
        Class<?> header = FixtureSupport.compile(src, tmp.resolve("classes")).loadClass("inline.gen.fixture_h");

        try (Arena arena = Arena.ofConfined()) {
            FunctionDescriptor desc = (FunctionDescriptor) FixtureSupport.call(header, "fx_make_padded$descriptor");
            long cSize = (long) FixtureSupport.call(header, "fx_layout", arena.allocateFrom("sizeof struct fx_padded"));
            assertEquals(cSize, desc.returnLayout().orElseThrow().byteSize());
            MemorySegment padded = (MemorySegment) FixtureSupport.call(header, "fx_make_padded", arena, (byte) 1, 2.0,
                    (short) 3, 4L);
            double sum = (double) FixtureSupport.call(header, "fx_padded_sum", padded);
            assertTrue(sum == 1 + 2.0 + 3 + 4 + 'z', "C summed " + sum);
        }
    }
}
