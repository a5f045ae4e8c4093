package dev.panamadnn.natives;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link Natives#loadInBackground()} in child JVMs ({@link PreloadProbe}): it returns at once and the libraries come to
 * be mapped without anyone calling {@link Natives#load()}, the JVM still ends when main returns (the thread is not left
 * behind), and {@value Natives#PRELOAD_PROPERTY}=false or native access off start nothing.
 */
class LoadInBackgroundTest {
    private static String probe(String mode, String... jvmOptions) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(List.of(jvmOptions));
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), PreloadProbe.class.getName(), mode));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the child JVM did not end");
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), text);
        return text;
    }

    @Test
    void theLibrariesLoadWithoutAnyoneAskingAndTheJvmStillEnds() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "needs /proc/self/maps (Linux)");
        String out = probe("wait", "--enable-native-access=ALL-UNNAMED");
        assertTrue(out.contains("mapped before: false"), out);
        assertTrue(out.contains("mapped by the background load: true"), out);
    }

    @Test
    void thePropertyOrNativeAccessOffStartsNothing() throws Exception {
        assumeTrue(Files.isReadable(Path.of("/proc/self/maps")), "needs /proc/self/maps (Linux)");
        String off = probe("none", "--enable-native-access=ALL-UNNAMED", "-D" + Natives.PRELOAD_PROPERTY + "=false");
        assertTrue(off.contains("mapped without a background load: false"), off);
        String noAccess = probe("none");
        assertTrue(noAccess.contains("mapped without a background load: false"), noAccess);
    }
}
