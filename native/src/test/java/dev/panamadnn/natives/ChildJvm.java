package dev.panamadnn.natives;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@link Natives#main} in a fresh JVM: a library can be loaded only once per process, so
 * each resolution path is tested in its own. Output and exit code come back for assertions.
 */
final class ChildJvm {
    record Result(int exitCode, String stdout, String stderr) {
        String all() {
            return stdout + stderr;
        }
    }

    private ChildJvm() {}

    static Process start(Path workDir, Map<String, String> env, String... jvmOptions) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(List.of(jvmOptions));
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(Natives.class.getName());
        var pb = new ProcessBuilder(cmd).directory(workDir.toFile());
        pb.environment().remove(NativeLoader.DIR_ENV);
        pb.environment().remove(ThreadControl.ENV);
        pb.environment().remove("GOMP_SPINCOUNT");   // libgomp's own settings, which ThreadControl leaves alone when given
        pb.environment().remove("OMP_WAIT_POLICY");
        pb.environment().remove("OPENBLAS_THREAD_TIMEOUT");
        pb.environment().putAll(env);
        return pb.start();
    }

    static Result finish(Process p) throws IOException, InterruptedException {
        // Drain both streams before waiting, so a chatty child cannot block on a full pipe.
        var out = p.getInputStream().readAllBytes();
        var err = p.getErrorStream().readAllBytes();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("child JVM did not finish in 120 s");
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8), new String(err, StandardCharsets.UTF_8));
    }

    static Result run(Path workDir, Map<String, String> env, String... jvmOptions) throws IOException, InterruptedException {
        return finish(start(workDir, env, jvmOptions));
    }
}
