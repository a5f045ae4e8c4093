package dev.panamadnn.benchmarks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.panamadnn.natives.Natives;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * dnnl_layer_bench.c compiles with {@code gcc -O2 -Wall -Wextra -Werror} against the libraries
 * the loader resolves, and on tiny shapes of every kind prints one row each whose spot check
 * (64 outputs against plain loops) passed. Skipped where gcc or the unpacked oneDNN headers
 * (native/target/headers, written by the native module's build) are missing.
 */
class DnnlLayerHarnessTest {
    private static final Path ROOT = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().getParent();
    private static final Path SOURCE = ROOT.resolve("benchmarks/src/main/c/dnnl_layer_bench.c");
    private static final Path HEADERS = ROOT.resolve("native/target/headers");

    @TempDir
    static Path dir;
    private static Path binary;

    @BeforeAll
    static void compile() throws Exception {
        assumeTrue(Files.exists(HEADERS.resolve("dnnl/oneapi/dnnl/dnnl.h")), "no oneDNN headers under " + HEADERS);
        assumeTrue(exitCode(List.of("gcc", "--version")) == 0, "no gcc on the PATH");
        var report = Natives.load();
        Path dnnlFile = report.library("libdnnl").path();   // libdnnl.so.3, or Debian's libdnnl.so.3.6 in native/build
        Path dnnl = dnnlFile.getParent(), openblas = report.library("libopenblas").path().getParent();
        binary = dir.resolve("dnnl_layer_bench");
        List<String> gcc = List.of("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", binary.toString(), SOURCE.toString(),
                "-I" + HEADERS.resolve("dnnl"), "-I" + HEADERS.resolve("openblas"), "-L" + dnnl, "-l:" + dnnlFile.getFileName(), "-l:libgomp.so.1",
                "-L" + openblas, "-l:libopenblas.so.0", "-lm", "-Wl,-rpath," + dnnl, "-Wl,-rpath," + openblas);
        Result r = run(gcc);
        assertEquals(0, r.exit, "gcc failed:\n" + r.err);
        assertEquals("", r.err.strip(), "gcc printed warnings");
    }

    @Test
    void everyKindRunsAndPassesItsSpotCheck() throws Exception {
        List<String> specs = List.of("conv2d:4>8:3/2@9", "conv2d:3>4:7/2@16#2", "conv1d:4>4:3@16", "conv1d:4>4:3c@16",
                "conv1d:4>4:3d2@16", "convT2d:4>2:4/2@5", "maxpool2d:4:3/2@9", "avgpool2d:4:2/2@8", "linear:8>4#2",
                "linear:600>1000#1", "bare:conv2d:4>4:3@6", "bare:linear:8>4#2", "relu:16");
        List<String> command = new ArrayList<>(List.of(binary.toString(), "1", "0", "1", "0.001"));
        command.addAll(specs);
        command.add("basicblock:4@8");
        Result r = run(command);
        assertEquals(0, r.exit, "harness failed:\n" + r.out + r.err);
        Map<String, CHarness.Row> rows = CHarness.parse(r.out.lines().toList());
        assertEquals(specs, List.copyOf(rows.keySet()), "one row per spec, in order:\n" + r.out);
        for (CHarness.Row row : rows.values()) {
            assertTrue(row.checked(), row.spec() + " failed its spot check");
            assertTrue(row.meanUs() > 0 && row.calls() >= 1 && row.iterations() == 1, row.toString());
        }
        assertTrue(r.out.contains("# skipped basicblock:4@8"), r.out);
        assertTrue(r.out.lines().findFirst().orElseThrow().startsWith("# oneDNN "), r.out);
    }

    @Test
    void linearFollowsAutoBackendsRule() throws Exception {
        Result r = run(List.of(binary.toString(), "1", "0", "1", "0.001", "linear:8>4#2", "linear:600>1000#1"));
        Map<String, CHarness.Row> rows = CHarness.parse(r.out.lines().toList());
        assertEquals("openblas cblas_sgemm", rows.get("linear:8>4#2").kernel(), "64 multiply-adds: Linear.autoBackend picks OpenBLAS");
        assertTrue(!rows.get("linear:600>1000#1").kernel().startsWith("openblas"), "600000 > 2^19 multiply-adds: oneDNN");
    }

    @Test
    void aBadSpecIsAUsageError() throws Exception {
        assertEquals(2, run(List.of(binary.toString(), "1", "0", "1", "0.001", "conv2d:4>")).exit);
    }

    private record Result(int exit, String out, String err) {}

    private static Result run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "out", ".txt"), err = Files.createTempFile(dir, "err", ".txt");
        Process p = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    private static int exitCode(List<String> command) {
        try {
            return run(command).exit;
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }
}
