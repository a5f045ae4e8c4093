package dev.panamadnn.natives;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
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
        return start(workDir, env, List.of(jvmOptions), Natives.class.getName());
    }

    /** Starts {@code mainAndArgs} (a main class on the test class path, then its arguments) in a fresh JVM. */
    static Process start(Path workDir, Map<String, String> env, List<String> jvmOptions, String... mainAndArgs) throws IOException {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.addAll(jvmOptions);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.addAll(List.of(mainAndArgs));
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
        return finish(p, 120, "child JVM did not finish in 120 s");
    }

    /** Waits up to {@code seconds} for {@code p}; past that, kills it and fails with {@code late} and its output. */
    static Result finish(Process p, int seconds, String late) throws IOException, InterruptedException {
        // Drain both streams while waiting: a chatty child cannot block on a full pipe, and a child that never exits
        // meets the deadline instead of hanging the test on its open pipes (reading them to the end first did that).
        Drain out = Drain.of(p.getInputStream()), err = Drain.of(p.getErrorStream());
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            throw new AssertionError(late + "; its output:\n" + out.text() + err.text());
        }
        return new Result(p.exitValue(), out.text(), err.text());
    }

    /**
     * Starts {@code main} with {@code args} in a fresh JVM with native access and the natives the tests were given
     * ({@code -Dpanamadnn.natives.dir}, as {@code scripts/test --natives} passes them), so an alternative native set is
     * the one the child loads.
     */
    static Process startMain(Path workDir, String main, String... args) throws IOException {
        List<String> options = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED"));
        String dir = System.getProperty(NativeLoader.DIR_PROPERTY);
        if (dir != null && !dir.isBlank()) options.add("-D" + NativeLoader.DIR_PROPERTY + "=" + dir);
        List<String> mainAndArgs = new ArrayList<>(List.of(main));
        mainAndArgs.addAll(List.of(args));
        return start(workDir, Map.of(), options, mainAndArgs.toArray(String[]::new));
    }

    /** A stream copied on a thread of its own; {@link #text} waits for its end (the child's exit closes it). */
    private record Drain(Thread thread, ByteArrayOutputStream bytes) {
        static Drain of(InputStream in) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            Thread t = Thread.ofPlatform().daemon().start(() -> {
                try {
                    in.transferTo(bytes);
                } catch (IOException ignored) {
                    // the child was destroyed
                }
            });
            return new Drain(t, bytes);
        }

        String text() throws InterruptedException {
            thread.join(10_000);
            return bytes.toString(StandardCharsets.UTF_8);
        }
    }

    static Result run(Path workDir, Map<String, String> env, String... jvmOptions) throws IOException, InterruptedException {
        return finish(start(workDir, env, jvmOptions));
    }
}
