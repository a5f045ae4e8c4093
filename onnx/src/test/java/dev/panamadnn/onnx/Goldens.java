package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * Goldens made by a script of scripts/goldens/ with Debian's /usr/bin/python3 (python3-torch,
 * python3-torchvision) into a cache ({@code -Dpdnn.cache.dir}, {@code $PDNN_CACHE_DIR}, else
 * {@code ~/.cache/panama-dnn}), under a directory named after a hash of the scripts, as
 * tests/ResNetConformanceTest does (so the ResNet goldens are shared with it). Skips (an assumption)
 * naming the package when Python or torch is missing.
 */
final class Goldens {
    private Goldens() {}

    /** The cache directory of {@code script} (under {@code prefix-<hash>}), generated now if {@code marker} is missing. */
    static Path ensure(String prefix, String script, String marker, long timeoutS) throws Exception {
        Path root = repoRoot();
        Path s = root.resolve("scripts/goldens/" + script);
        Path shared = root.resolve("scripts/goldens/" + (Files.readString(s).contains("import backend_cases") ? "backend_cases.py" : "goldens_io.py"));
        Path dir = cacheRoot().resolve(prefix + "-" + hash(s, shared));   // the script and the module it writes with
        if (Files.exists(dir.resolve(marker))) return dir;
        Path python = Path.of("/usr/bin/python3");
        Assumptions.assumeTrue(Files.isExecutable(python), "skipped: /usr/bin/python3 not found (Debian's python3 with python3-torch and "
                + "python3-torchvision generates the goldens; scripts/test installs them)");
        for (String[] mod : new String[][] {{"torch", "python3-torch"}, {"torchvision", "python3-torchvision"}}) {
            Assumptions.assumeTrue(run(List.of(python.toString(), "-c", "import " + mod[0]), root, 120) == 0,
                    "skipped: Debian package " + mod[1] + " is not installed (python3 cannot import " + mod[0] + ")");
        }
        long t0 = System.nanoTime();
        int rc = run(List.of(python.toString(), s.toString(), dir.toString()), root, timeoutS);
        if (rc != 0) fail(script + " failed with exit code " + rc);
        System.out.printf("%s goldens generated in %s in %.1f s%n", prefix, dir, (System.nanoTime() - t0) / 1e9);
        return dir;
    }

    private static int run(List<String> cmd, Path cwd, long timeoutS) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).directory(cwd.toFile()).redirectErrorStream(true).start();
        try (InputStream in = p.getInputStream()) {
            String out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(timeoutS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                fail(String.join(" ", cmd) + " did not finish in " + timeoutS + " s");
            }
            if (!out.isBlank()) System.out.print(out.lines().limit(40).map(l -> "  | " + l + "\n").reduce("", String::concat));
        }
        return p.exitValue();
    }

    static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("scripts/goldens/goldens_io.py"))) return p;
        }
        throw new IllegalStateException("cannot find scripts/goldens above " + Path.of("").toAbsolutePath());
    }

    private static Path cacheRoot() {
        String prop = System.getProperty("pdnn.cache.dir");
        if (prop != null && !prop.isBlank()) return Path.of(prop);
        String env = System.getenv("PDNN_CACHE_DIR");
        if (env != null && !env.isBlank()) return Path.of(env);
        String xdg = System.getenv("XDG_CACHE_HOME");
        return (xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache")).resolve("panama-dnn");
    }

    private static String hash(Path... files) throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256");
        for (Path f : files) md.update(Files.readAllBytes(f));
        return HexFormat.of().formatHex(md.digest()).substring(0, 12);
    }
}
