package dev.panamadnn.bindgen;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Generated sources are committed and checked by regeneration, so they must be byte-for-byte stable. */
class DeterminismTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void needsLibclang() {
        FixtureSupport.assumeLibclang();
    }

    @Test
    void generatingTwiceGivesIdenticalFiles() throws Exception {
        Generator.run(FixtureSupport.generatorArgs(tmp.resolve("a")).toArray(String[]::new));
        Generator.run(FixtureSupport.generatorArgs(tmp.resolve("b")).toArray(String[]::new));
        assertSameTree(tmp.resolve("a"), tmp.resolve("b"));
    }

    @Test
    void orderOfTheIncludeListDoesNotMatter() throws Exception {
        List<String> lines = new ArrayList<>(Files.readAllLines(FixtureSupport.fixtureDir().resolve("fixture_h.txt")));
        Collections.reverse(lines);
        Path reversed = tmp.resolve("reversed.txt");
        Files.write(reversed, lines);
        Generator.run(FixtureSupport.generatorArgs(tmp.resolve("a")).toArray(String[]::new));
        Generator.run("@" + reversed, "--output", tmp.resolve("b").toString(), FixtureSupport.header().toString());
        assertSameTree(tmp.resolve("a"), tmp.resolve("b"));
    }

    private static void assertSameTree(Path a, Path b) throws Exception {
        Map<String, byte[]> first = FixtureSupport.readTree(a);
        Map<String, byte[]> second = FixtureSupport.readTree(b);
        assertFalse(first.isEmpty());
        assertEquals(first.keySet(), second.keySet());
        for (String file : first.keySet()) {
            assertArrayEquals(first.get(file), second.get(file), file + " differs");
        }
    }
}
