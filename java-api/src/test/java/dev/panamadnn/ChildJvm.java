package dev.panamadnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs a test's main class in a child JVM (this JVM's class path, native access, the natives directory it was given),
 * so that a crash fails the test, not the suite: {@link #run} returns the child's output after asserting it exited 0,
 * naming the signal when it was killed by one.
 */
public final class ChildJvm {
    private ChildJvm() {}

    /**
     * @param flags   JVM flags beyond native access (e.g. {@code -Dpanamadnn.threads=1}, {@code --add-modules ...})
     * @param main    the class whose {@code main} runs
     * @param seconds how long it may take
     * @param args    its arguments
     * @return its output (stdout and stderr), also printed here
     */
    public static String run(List<String> flags, Class<?> main, int seconds, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        String natives = System.getProperty("panamadnn.natives.dir");
        if (natives != null && !natives.isBlank()) cmd.add("-Dpanamadnn.natives.dir=" + natives);
        cmd.addAll(flags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        // Read while waiting, so that a child that never exits meets the deadline instead of hanging the test on its
        // open pipe (reading it to the end before waiting did that).
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        Thread reader = Thread.ofPlatform().daemon().start(() -> {
            try {
                p.getInputStream().transferTo(out);
            } catch (java.io.IOException ignored) {
                // the child was destroyed
            }
        });
        if (!p.waitFor(seconds, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            reader.join(10_000);
            fail("child JVM did not finish in " + seconds + " s; its output:\n" + out.toString(StandardCharsets.UTF_8));
        }
        reader.join();
        String text = out.toString(StandardCharsets.UTF_8);
        System.out.println(text.strip());
        assertEquals(0, p.exitValue(), "the child JVM exited with " + p.exitValue()
                + (p.exitValue() > 128 ? " (killed by signal " + (p.exitValue() - 128) + ": a crash)" : "") + "; its output:\n" + text);
        return text;
    }
}
