package dev.panamadnn.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The packaged binaries match their pins, and extraction is atomic under contention. */
class PackagedNativesTest {

    private static Manifest packagedManifest() throws IOException {
        String text = NativeLoader.readResource(PackagedNatives.RESOURCE_DIR + Manifest.FILE_NAME);
        return Manifest.parse(text, "packaged");
    }

    @Test
    void everyPackagedFileMatchesThePinnedSha256() throws Exception {
        Manifest m = packagedManifest();
        assertEquals(List.of("libquadmath.so.0", "libgfortran.so.5", "libopenblas.so.0", "libgomp.so.1", "libdnnl.so.3"),
                m.entries().stream().map(Manifest.Entry::file).toList());
        for (Manifest.Entry e : m.entries()) {
            try (InputStream in = PackagedNatives.class.getResourceAsStream(PackagedNatives.RESOURCE_DIR + e.file())) {
                assertTrue(in != null, () -> e.file() + " is not packaged");
                assertEquals(e.sha256(), PackagedNatives.sha256(in.readAllBytes()),
                        () -> e.file() + " differs from the pinned upstream binary: update natives.manifest on purpose or fix the build");
            }
        }
    }

    @Test
    void concurrentExtractionsAgreeOnOneCompleteDirectory(@TempDir Path cache) throws Exception {
        int n = 4;
        var barrier = new CyclicBarrier(n);
        ExecutorService pool = Executors.newFixedThreadPool(n);
        try {
            List<Future<Path>> results = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                Callable<Path> task = () -> {
                    barrier.await();
                    return PackagedNatives.extracted(cache);
                };
                results.add(pool.submit(task));
            }
            Path first = results.get(0).get();
            for (Future<Path> f : results) assertEquals(first, f.get());
            for (Manifest.Entry e : packagedManifest().entries()) {
                assertEquals(e.sha256(), PackagedNatives.sha256(Files.readAllBytes(first.resolve(e.file()))), e.file());
            }
            try (Stream<Path> s = Files.list(cache)) {
                assertEquals(List.of(first), s.toList(), "no staging directory may be left behind");
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aCacheDirectoryMissingAFileIsReportedNotUsed(@TempDir Path cache) throws Exception {
        Path dir = PackagedNatives.extracted(cache);
        Files.delete(dir.resolve("libgomp.so.1"));
        var e = assertThrows(IOException.class, () -> PackagedNatives.extracted(cache));
        assertTrue(e.getMessage().contains("lacks libgomp.so.1"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("libgomp.so.1")));
    }

    @Test
    void malformedManifestLinesNameTheLine() {
        var e = assertThrows(IllegalArgumentException.class,
                () -> Manifest.parse("# c\nlibx.so|1.0\n", "m"));
        assertEquals("m:2: expected 'file|version|sha256' with a plain file name, got 'libx.so|1.0'", e.getMessage());
        var bad = assertThrows(IllegalArgumentException.class,
                () -> Manifest.parse("libx.so|1.0|abc\n", "m"));
        assertTrue(bad.getMessage().contains("expected a 64-digit hex sha256, got 'abc'"), bad.getMessage());
        var path = assertThrows(IllegalArgumentException.class,
                () -> Manifest.parse("../libx.so|1|" + "0".repeat(64), "m"));
        assertTrue(path.getMessage().contains("plain file name"), path.getMessage());
    }

    @Test
    void cacheIdTellsManifestsApartThatDifferInOneDigit() {
        String line = "libx.so.1|1.0|" + "0".repeat(63);
        String a = PackagedNatives.cacheId(line + "0\n"), b = PackagedNatives.cacheId(line + "1\n");
        assertTrue(a.matches("[0-9a-f]{16}"), "16 lower-case hex digits expected, got " + a);
        assertFalse(a.equals(b), "one sha256 digit changed, the cache id did not: " + a);
        assertEquals(a, PackagedNatives.cacheId(line + "0\n"), "the same manifest must give the same id");
    }
}
