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
 * dnnl_seq_bench.c (the sequence models' C twin) compiles with {@code gcc -O2 -Wall -Wextra -Werror}
 * against the libdnnl the loader resolves, and on tiny LSTM, GRU, MultiheadAttention and encoder specs
 * prints one row each whose check (recurrent: every output of sequence 0; attention: three query rows,
 * against plain loops in double) passed, with per-step lines when asked. Skipped without gcc or the
 * unpacked oneDNN headers (native/target/headers).
 */
class DnnlSeqHarnessTest {
    private static final Path ROOT = Path.of(System.getProperty("basedir", ".")).toAbsolutePath().getParent();
    private static final Path C = ROOT.resolve("benchmarks/src/main/c");
    private static final Path HEADERS = ROOT.resolve("native/target/headers");

    @TempDir
    static Path dir;
    private static Path binary;

    @BeforeAll
    static void compile() throws Exception {
        assumeTrue(Files.exists(HEADERS.resolve("dnnl/oneapi/dnnl/dnnl.h")), "no oneDNN headers under " + HEADERS);
        assumeTrue(exitCode(List.of("gcc", "--version")) == 0, "no gcc on the PATH");
        Path dnnlFile = Natives.load().library("libdnnl").path();
        Path dnnl = dnnlFile.getParent();
        binary = dir.resolve("dnnl_seq_bench");
        Result r = run(List.of("gcc", "-O2", "-Wall", "-Wextra", "-Werror", "-o", binary.toString(), C.resolve("dnnl_seq_bench.c").toString(),
                C.resolve("dnnl_seq_attention.c").toString(), "-I" + HEADERS.resolve("dnnl"), "-L" + dnnl, "-l:" + dnnlFile.getFileName(),
                "-l:libgomp.so.1", "-lm", "-Wl,-rpath," + dnnl), Map.of());
        assertEquals(0, r.exit, "gcc failed:\n" + r.err);
        assertEquals("", r.err.strip(), "gcc printed warnings");
    }

    @Test
    void everyKindRunsAndPassesItsCheck() throws Exception {
        List<String> specs = List.of("lstm:16>8@5#3", "gru:16>8@5#3", "lstm:8>12@4#1", "mha:16h4@6#2", "mha:8h1@3#1", "encoder:16h4f32@6#2");
        List<String> command = new ArrayList<>(List.of(binary.toString(), "1", "0", "1", "0.001"));
        command.addAll(specs);
        Result r = run(command, Map.of("SEQ_BENCH_STEPS", "1"));
        assertEquals(0, r.exit, "harness failed:\n" + r.out + r.err);
        Map<String, CHarness.Row> rows = CHarness.parse(r.out.lines().toList());
        assertEquals(specs, List.copyOf(rows.keySet()), "one row per spec, in order:\n" + r.out);
        for (CHarness.Row row : rows.values()) {
            assertTrue(row.checked(), row.spec() + " failed its check");
            assertTrue(row.meanUs() > 0 && row.calls() >= 1 && row.iterations() == 1, row.toString());
        }
        // the encoder's steps, as CompiledModel.describe() lists the compiled plan's
        for (String step : List.of("q_proj", "v_transpose", "scores+scaled+q_transpose+k_transpose", "softmax", "attend+merge", "out_proj", "add1", "norm1",
                "linear1+relu", "linear2", "add2", "norm2")) {
            assertTrue(r.out.contains("# step " + step + "\t"), "no step " + step + ":\n" + r.out);
        }
    }

    @Test
    void badSpecsAreUsageErrors() throws Exception {
        for (String bad : List.of("lstm:8>4", "mha:8h3@4", "encoder:8h2@4", "gru:8h2>4@3", "rnn:8>4@3")) {
            assertEquals(2, run(List.of(binary.toString(), "1", "0", "1", "0.001", bad), Map.of()).exit, bad);
        }
    }

    private record Result(int exit, String out, String err) {}

    private static Result run(List<String> command, Map<String, String> env) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "out", ".txt"), err = Files.createTempFile(dir, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + command);
        }
        return new Result(p.exitValue(), Files.readString(out, StandardCharsets.UTF_8), Files.readString(err, StandardCharsets.UTF_8));
    }

    private static int exitCode(List<String> command) {
        try {
            return run(command, Map.of()).exit;
        } catch (IOException | InterruptedException e) {
            return -1;
        }
    }
}
