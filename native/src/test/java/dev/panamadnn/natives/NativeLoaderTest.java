package dev.panamadnn.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each resolution step of the loader, and its failure report, in a child JVM of its own. */
class NativeLoaderTest {
    private static final String ACCESS = "--enable-native-access=ALL-UNNAMED";
    private static final List<String> LIBS =
            List.of("libquadmath.so.0", "libgfortran.so.5", "libopenblas.so.0", "libgomp.so.1", "libdnnl.so.3");

    @TempDir
    static Path shared;
    /** The packaged libraries, extracted once for the tests that need a directory of them. */
    static Path extracted;

    @BeforeAll
    static void extractOnce() throws IOException {
        extracted = PackagedNatives.extracted(shared.resolve("cache"));
    }

    private static String cacheOption(Path dir) {
        return "-D" + NativeLoader.CACHE_PROPERTY + "=" + dir;
    }

    @Test
    void loadingOnAThreadWithASmallStackDoesNotCrashTheJvm(@TempDir Path tmp) throws Exception {
        // Natives.main loads on the launcher's main thread, whose stack -Xss sets: at 256 KiB the libraries'
        // initializers overflowed it (SIGSEGV, exit 139, no hs_err) before the load moved to a thread of its own.
        var r = ChildJvm.run(tmp, Map.of(), ACCESS, "-Xss256k", "-D" + NativeLoader.DIR_PROPERTY + "=" + extracted);
        assertEquals(0, r.exitCode(), () -> "exit " + r.exitCode() + (r.exitCode() > 128 ? " (a crash)" : "") + ":\n" + r.all());
        assertTrue(r.stdout().lines().anyMatch(l -> l.startsWith("libdnnl.so.3")), r::all);
    }

    @Test
    void packagedLibrariesAreExtractedToTheCacheAndLoaded(@TempDir Path tmp) throws Exception {
        var r = ChildJvm.run(tmp, Map.of(), ACCESS, cacheOption(tmp.resolve("c")),
                "-D" + NativeLoader.SOURCES_PROPERTY + "=packaged");
        assertEquals(0, r.exitCode(), r::all);
        for (String lib : LIBS) {
            assertTrue(r.stdout().lines().anyMatch(l -> l.startsWith(lib) && l.contains("PACKAGED")
                    && l.contains(tmp.resolve("c").toString())), () -> lib + " not loaded from the cache:\n" + r.all());
        }
    }

    @Test
    void explicitDirectoryWithManifestIsUsed(@TempDir Path tmp) throws Exception {
        var r = ChildJvm.run(tmp, Map.of(), ACCESS, "-D" + NativeLoader.DIR_PROPERTY + "=" + extracted);
        assertEquals(0, r.exitCode(), r::all);
        assertTrue(r.stdout().lines().anyMatch(l -> l.matches("libdnnl.so.3 +3.13 +EXPLICIT_DIRECTORY .*")), r::all);
        assertTrue(r.stdout().lines().filter(l -> l.contains("EXPLICIT_DIRECTORY")).count() == LIBS.size(), r::all);
    }

    @Test
    void explicitDirectoryFromEnvironmentWithoutManifestIsSearchedByName(@TempDir Path tmp) throws Exception {
        Path dir = linkLibraries(tmp.resolve("libs"), false);
        var r = ChildJvm.run(tmp, Map.of(NativeLoader.DIR_ENV, dir.toString()), ACCESS);
        assertEquals(0, r.exitCode(), r::all);
        assertTrue(r.stdout().lines().anyMatch(l -> l.startsWith("libopenblas.so.0") && l.contains("unknown")
                && l.contains("EXPLICIT_DIRECTORY")), r::all);
    }

    @Test
    void anExplicitBuildPrefixIsReadFromItsLibDirectory(@TempDir Path tmp) throws Exception {
        linkLibraries(tmp.resolve("prefix/lib"), true);
        var r = ChildJvm.run(tmp, Map.of(), ACCESS, "-D" + NativeLoader.DIR_PROPERTY + "=" + tmp.resolve("prefix"));
        assertEquals(0, r.exitCode(), r::all);
        assertTrue(r.stdout().lines().anyMatch(l -> l.startsWith("libopenblas.so.0") && l.contains("EXPLICIT_DIRECTORY")
                && l.contains(tmp.resolve("prefix/lib").toString())), r::all);
    }

    @Test
    void aBuildPlantedAboveTheWorkingDirectoryIsNotLoadedUnasked(@TempDir Path tmp) throws Exception {
        // A library dropped in a parent of a server's working directory must not become code run
        // in the server: the default order never walks up to native/build/lib.
        Path planted = linkLibraries(tmp.resolve("native/build/lib"), true);
        Path deeper = Files.createDirectories(tmp.resolve("srv/app"));
        var r = ChildJvm.run(deeper, Map.of(), ACCESS, cacheOption(tmp.resolve("c")));
        assertEquals(0, r.exitCode(), r::all);
        assertFalse(r.all().contains("SOURCE_BUILD"), r::all);
        assertFalse(r.stdout().contains(planted.toString()), r::all);
        for (String lib : LIBS) {
            assertTrue(r.stdout().lines().anyMatch(l -> l.startsWith(lib) && l.contains("PACKAGED")),
                    () -> lib + " not loaded from the packaged copy:\n" + r.all());
        }
    }

    @Test
    void sourceBuildAboveTheWorkingDirectoryIsLoadedWhenAskedFor(@TempDir Path tmp) throws Exception {
        linkLibraries(tmp.resolve("native/build/lib"), true);
        Path deeper = Files.createDirectories(tmp.resolve("tests/sub"));
        var r = ChildJvm.run(deeper, Map.of(), ACCESS, cacheOption(tmp.resolve("c")),
                "-D" + NativeLoader.SOURCES_PROPERTY + "=build,packaged,system");
        assertEquals(0, r.exitCode(), r::all);
        assertTrue(r.stdout().lines().filter(l -> l.contains("SOURCE_BUILD")).count() == LIBS.size(), r::all);
        assertFalse(Files.exists(tmp.resolve("c")), "the packaged copy must not be extracted when a build is found");
    }

    @Test
    void systemLibraryPathIsTheLastResort(@TempDir Path tmp) throws Exception {
        Path dir = linkLibraries(tmp.resolve("sys"), false);
        var r = ChildJvm.run(tmp, Map.of("LD_LIBRARY_PATH", dir.toString()), ACCESS,
                "-D" + NativeLoader.SOURCES_PROPERTY + "=build,system");
        assertEquals(0, r.exitCode(), r::all);
        assertTrue(r.stdout().lines().anyMatch(l -> l.startsWith("libopenblas.so.0") && l.contains("SYSTEM")), r::all);
        assertTrue(r.stdout().lines().anyMatch(l -> l.startsWith("libdnnl.so.3") && l.contains("SYSTEM")), r::all);
    }

    @Test
    void whenNothingLoadsOneMessageListsEveryPlaceTried(@TempDir Path tmp) throws Exception {
        // The system step cannot be made to fail portably (a machine may have its own
        // libopenblas.so.0, Debian's python3-torch brings one), so this run tries the source
        // build (absent above tmp) and the packaged copy with a cache that cannot be created.
        Path notADirectory = Files.writeString(tmp.resolve("plain-file"), "x");
        var r = ChildJvm.run(tmp, Map.of(), ACCESS, cacheOption(notADirectory.resolve("cache")),
                "-D" + NativeLoader.SOURCES_PROPERTY + "=build,packaged");
        assertEquals(1, r.exitCode(), r::all);
        String err = r.stderr();
        assertTrue(err.contains("Panama DNN could not load openblas."), err);
        assertTrue(err.contains("openblas from SOURCE_BUILD"), err);
        assertTrue(err.contains("openblas from PACKAGED (jar resources /dev/panamadnn/natives/linux-x86_64/)"), err);
        assertTrue(err.contains("plain-file"), () -> "the packaged failure must say which path failed:\n" + err);
        assertTrue(err.contains("-Dpanamadnn.natives.dir=DIR"), err);
        assertFalse(err.contains("\tat "), () -> "expected a message, not a stack trace:\n" + err);
    }

    @Test
    void anExplicitDirectoryThatFailsIsNotSilentlyReplaced(@TempDir Path tmp) throws Exception {
        Path empty = Files.createDirectories(tmp.resolve("empty"));
        var r = ChildJvm.run(tmp, Map.of(), ACCESS, "-D" + NativeLoader.DIR_PROPERTY + "=" + empty);
        assertEquals(1, r.exitCode(), r::all);
        assertTrue(r.stderr().contains("openblas from EXPLICIT_DIRECTORY (" + empty + "): no libopenblas.so* file"), r::all);
        assertFalse(r.stderr().contains("PACKAGED"), r::all);
    }

    @Test
    void missingNativeAccessBecomesAHint(@TempDir Path tmp) throws Exception {
        var r = ChildJvm.run(tmp, Map.of(), "--illegal-native-access=deny", cacheOption(tmp.resolve("c")));
        assertEquals(1, r.exitCode(), r::all);
        assertTrue(r.stderr().contains("native access is not enabled"), r::all);
        assertTrue(r.stderr().contains("--enable-native-access=ALL-UNNAMED"), r::all);
        assertFalse(r.stderr().contains("\tat "), () -> "expected a hint, not a stack trace:\n" + r.all());
    }

    @Test
    void threadCountFromThePropertyReachesBothLibraries(@TempDir Path tmp) throws Exception {
        var r = ChildJvm.run(tmp, Map.of(), ACCESS, "-D" + NativeLoader.DIR_PROPERTY + "=" + extracted,
                "-D" + ThreadControl.PROPERTY + "=1");
        assertEquals(0, r.exitCode(), r::all);
        assertTrue(r.stdout().contains("threads: openblas=1 openmp(max, this thread)=1"), r::all);
    }

    @Test
    void twoJvmsExtractingAtOnceBothSucceedWithOneVerifiedCopy(@TempDir Path tmp) throws Exception {
        Path cache = tmp.resolve("cache");
        String[] opts = {ACCESS, cacheOption(cache), "-D" + NativeLoader.SOURCES_PROPERTY + "=packaged"};
        Process a = ChildJvm.start(tmp, Map.of(), opts);
        Process b = ChildJvm.start(tmp, Map.of(), opts);
        var ra = ChildJvm.finish(a);
        var rb = ChildJvm.finish(b);
        assertEquals(0, ra.exitCode(), ra::all);
        assertEquals(0, rb.exitCode(), rb::all);
        try (Stream<Path> entries = Files.list(cache)) {
            List<String> names = entries.map(p -> p.getFileName().toString()).toList();
            assertEquals(1, names.size(), () -> "expected one natives-* directory and no staging leftovers, got " + names);
            assertTrue(names.get(0).startsWith("natives-"), names::toString);
        }
    }

    /** A directory of hard links to (same file system, no copy) the extracted libraries, with or without the manifest. */
    private static Path linkLibraries(Path dir, boolean withManifest) throws IOException {
        Files.createDirectories(dir);
        for (String lib : LIBS) Files.createLink(dir.resolve(lib), extracted.resolve(lib));
        if (withManifest) Files.copy(extracted.resolve(Manifest.FILE_NAME), dir.resolve(Manifest.FILE_NAME));
        return dir;
    }
}
