package dev.panamadnn.benchmarks;

import dev.panamadnn.SafeTensors;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The files scripts/goldens/export_sequence_models.py writes for a {@link SeqSpec}'s model
 * ({@code M.onnx}, {@code M.safetensors}, {@code M.io.safetensors}): under the cache root
 * ({@link OnnxRuntimeResNetBenchmark#cacheRoot}) in {@code seq-<hash of the script>}, produced on
 * first use with Debian's {@code /usr/bin/python3} (python3-torch). Both {@link SequenceBenchmark}
 * (ours, the state_dict loaded by name) and {@link OnnxRuntimeSequenceBenchmark} (the .onnx) use
 * them, so both run the same weights and both check PyTorch's output once before timing.
 */
final class SequenceModels {
    private SequenceModels() {}

    /** Largest |ours - PyTorch| accepted by the one check before timing (f32 sums over 512-2048 terms). */
    static final double TOLERANCE = 1e-4;

    /** The directory holding {@code model}'s files, exporting them first if none has them. */
    static Path directory(String model) throws IOException, InterruptedException {
        Path repo = OnnxRuntimeResNetBenchmark.repoRoot();
        if (repo == null) throw new IllegalStateException("scripts/goldens/ not found above " + Path.of("").toAbsolutePath()
                + ": run the sequence benchmarks from the repository (scripts/bench does)");
        Path script = repo.resolve("scripts/goldens/export_sequence_models.py");
        Path dir = OnnxRuntimeResNetBenchmark.cacheRoot().resolve("seq-" + OnnxRuntimeResNetBenchmark.hash(script,
                repo.resolve("scripts/goldens/goldens_io.py")));
        if (Files.isRegularFile(dir.resolve(model + ".io.safetensors"))) return dir;
        Path python = Path.of("/usr/bin/python3");
        if (!Files.isExecutable(python)) {
            throw new IllegalStateException("no " + model + " files in " + dir + " and no /usr/bin/python3 to export them: install Debian's "
                    + "python3-torch (scripts/test does), or run " + script + " " + dir + " elsewhere and copy the files there");
        }
        System.out.println("\n" + model + " not found in " + dir + ": running " + script + " (once, about 20 s)");
        Process p = new ProcessBuilder(List.of(python.toString(), script.toString(), dir.toString(), "--models", model))
                .directory(repo.toFile()).redirectErrorStream(true).start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(600, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException(script + " did not finish in 600 s");
        }
        if (p.exitValue() != 0 || !Files.isRegularFile(dir.resolve(model + ".io.safetensors"))) {
            throw new IllegalStateException(script + " failed (exit " + p.exitValue() + "; it needs Debian's python3-torch). Its output:\n" + out);
        }
        return dir;
    }

    /** PyTorch's input and output for the check: {@code [0]} input {@code [128, 1, E]}, {@code [1]} output. */
    static float[][] io(Path dir, String model) throws IOException {
        try (SafeTensors st = SafeTensors.open(dir.resolve(model + ".io.safetensors"))) {
            return new float[][] {st.get("input").toFloatArray(), st.get("output").toFloatArray()};
        }
    }

    /** Throws if {@code got} differs from PyTorch's {@code want} by more than {@link #TOLERANCE} anywhere. */
    static void check(String who, float[] got, float[] want) {
        if (got.length != want.length) throw new IllegalStateException(who + ": " + got.length + " outputs, PyTorch has " + want.length);
        double worst = 0;
        int at = 0;
        for (int i = 0; i < got.length; i++) {
            double d = Math.abs((double) got[i] - want[i]);
            if (!(d <= worst)) {
                worst = d;
                at = i;
            }
        }
        if (!(worst <= TOLERANCE)) {
            throw new IllegalStateException(who + ": output[" + at + "] = " + got[at] + ", PyTorch " + want[at] + " (|diff| " + worst
                    + " > " + TOLERANCE + ")");
        }
        System.out.printf("%n%s matches PyTorch (max |diff| %.2g)%n", who, worst);
    }
}
