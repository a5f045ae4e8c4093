package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a test program in a child JVM with this one's class path, so that a crash fails the test, not the suite. */
final class ChildJvm {
    private ChildJvm() {}

    /**
     * Runs {@code main(args)} of {@code program} in a child JVM and returns its output (stdout and stderr, also
     * printed here); fails the test if it did not exit 0 within {@code timeoutS} (a signal's exit code named as a crash).
     */
    static String run(Class<?> program, long timeoutS, String... args) throws Exception {
        return run(List.of(), program, timeoutS, args);
    }

    /** As {@link #run(Class, long, String...)}, the child started with {@code jvmOptions} too. */
    static String run(List<String> jvmOptions, Class<?> program, long timeoutS, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), program.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        Thread reader = new Thread(() -> {   // read while waiting, so that a child that never exits meets the timeout
            try {
                p.getInputStream().transferTo(out);
            } catch (java.io.IOException ignored) {
                // the child was destroyed
            }
        });
        reader.start();
        if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            reader.join(5_000);
            fail("the child JVM running " + program.getSimpleName() + " did not finish in " + timeoutS + " s; its output:\n" + out);
        }
        reader.join();
        String text = out.toString(StandardCharsets.UTF_8);
        System.out.println(text.strip());
        assertEquals(0, p.exitValue(), "the child JVM exited with " + p.exitValue()
                + (p.exitValue() > 128 ? " (killed by signal " + (p.exitValue() - 128) + ": a crash)" : "") + "; its output:\n" + text);
        return text;
    }
}
