package dev.panamadnn.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a user's log shows at the first native use (issue 16): one INFO record from
 * {@code dev.panamadnn.natives} naming every library with its version, source and path, one INFO
 * record from {@code dev.panamadnn} with oneDNN's ISA, the threads and Winograd's state, the places
 * tried at DEBUG, and nothing again on later calls. A child JVM, because the records are once per
 * JVM and this one has long since loaded the natives; it exits as soon as its work is done, so this
 * also checks that the records, written off the caller's thread, are not lost at exit.
 */
class RuntimeLoggingTest {

    @Test
    void firstNativeUseLogsTheNativesAndTheRuntimeOnce(@TempDir Path dir) throws Exception {
        // What a user would write: JUL at INFO, this library's loggers at FINE (System.Logger's DEBUG),
        // one line per record on stderr.
        Path config = Files.writeString(dir.resolve("logging.properties"), String.join("\n",
                "handlers=java.util.logging.ConsoleHandler",
                ".level=INFO",
                "dev.panamadnn.level=FINE",
                "java.util.logging.ConsoleHandler.level=FINE",
                "java.util.logging.SimpleFormatter.format=RECORD %4$s %3$s %5$s%n", ""));
        List<String> cmd = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-Dpanamadnn.threads=1",
                "-Djava.util.logging.config.file=" + config,
                "-Dpanamadnn.natives.dir=" + System.getProperty("panamadnn.natives.dir", ""),
                "-cp", System.getProperty("java.class.path"), RuntimeLoggingChild.class.getName());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] bytes = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("the child JVM did not finish in 60 s");
        }
        String out = new String(bytes, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), "child JVM failed; its output:\n" + out);
        assertTrue(out.contains("DONE"), "the child did not finish; its output:\n" + out);

        List<String> natives = out.lines().filter(l -> l.startsWith("RECORD INFO dev.panamadnn.natives ")).toList();
        assertEquals(1, natives.size(), "one INFO record from dev.panamadnn.natives; output:\n" + out);
        String loaded = natives.get(0);
        for (String expected : List.of("libopenblas.so.0", "libdnnl.so.3", "intra-op threads 1 (panamadnn.threads)")) {
            assertTrue(loaded.contains(expected), "the natives record lacks '" + expected + "': " + loaded);
        }
        assertTrue(loaded.matches(".*\\((PACKAGED|SYSTEM|EXPLICIT_DIRECTORY|SOURCE_BUILD): .*"),
                "the natives record names no source: " + loaded);

        List<String> runtime = out.lines().filter(l -> l.startsWith("RECORD INFO dev.panamadnn Panama DNN runtime")).toList();
        assertEquals(1, runtime.size(), "one INFO runtime record from dev.panamadnn; output:\n" + out);
        for (String expected : List.of("oneDNN 3.", "ISA ", "OpenBLAS ", "Winograd convolutions off")) {
            assertTrue(runtime.get(0).contains(expected), "the runtime record lacks '" + expected + "': " + runtime.get(0));
        }
        List<String> records = out.lines().filter(l -> l.startsWith("RECORD INFO")).toList();
        assertTrue(records.indexOf(loaded) < records.indexOf(runtime.get(0)),
                "the natives record must come before the runtime record; output:\n" + out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("RECORD FINE dev.panamadnn.natives ") && l.contains("loaded")),
                "no DEBUG (FINE) record of the places tried; output:\n" + out);
    }
}
