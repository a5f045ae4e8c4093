package dev.panamadnn.tests;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.models.ResNet;
import dev.panamadnn.models.ResNets;
import dev.panamadnn.nn.Backend;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * torchvision ResNet-18 and ResNet-50, end to end against PyTorch 1.13 / torchvision 0.14.
 *
 * <p>{@code scripts/goldens/export_resnet.py} writes the weights (random, fixed seed, BatchNorm
 * statistics randomized), inputs and PyTorch's logits into a cache directory: {@code -Dpdnn.cache.dir}
 * or {@code $PDNN_CACHE_DIR}, else {@code ~/.cache/panama-dnn}, under {@code resnet-<hash of the
 * script>} so that editing the script regenerates. If the files are missing, this test runs the
 * script with Debian's {@code /usr/bin/python3} (about 15-30 s once); without python3-torch /
 * python3-torchvision it is skipped with a message naming the package ({@code scripts/test}
 * installs both).
 *
 * <p>Tolerance: {@code |ours - torch| <= 1e-4 * max|torch| + 1e-4} per logit. Both sides compute
 * in fp32 but with different summation orders (oneDNN's blocked convolutions vs PyTorch's
 * kernels, and the plain-Java reference's own order): each of the ~20 (ResNet-18) / ~50 (ResNet-50)
 * convolutions sums up to 4608 products, so it contributes a relative rounding error of order
 * sqrt(K) * 2^-24 ~ 4e-6 of its output scale; BatchNorm with small running variances and the
 * residual additions carry these forward, so a few 1e-5 of the logits' scale is the expected
 * spread and 1e-4 of the logits' max-abs leaves a margin of several times while any real bug
 * (a wrong stride, padding, statistic, key mapping) moves logits by O(max|torch|). The absolute
 * 1e-4 covers logits near zero. The measured errors are printed.
 */
class ResNetConformanceTest {
    static final double REL = 1e-4, ABS = 1e-4;
    static Path dir;

    @BeforeAll
    static void goldens() throws Exception {
        Path root = repoRoot();
        Path script = root.resolve("scripts/goldens/export_resnet.py");
        dir = cacheRoot().resolve("resnet-" + hash(script, root.resolve("scripts/goldens/goldens_io.py")));
        if (Files.exists(dir.resolve("resnet18.goldens.safetensors")) && Files.exists(dir.resolve("resnet50.goldens.safetensors"))) return;
        Path python = Path.of("/usr/bin/python3");
        Assumptions.assumeTrue(Files.isExecutable(python), "skipped: /usr/bin/python3 not found (Debian's python3 with python3-torch and "
                + "python3-torchvision generates the ResNet goldens; scripts/test installs them)");
        for (String[] mod : new String[][] {{"torch", "python3-torch"}, {"torchvision", "python3-torchvision"}}) {
            Assumptions.assumeTrue(run(List.of(python.toString(), "-c", "import " + mod[0]), root, 120) == 0,
                    "skipped: Debian package " + mod[1] + " is not installed (python3 cannot import " + mod[0]
                            + "): apt-get install -y " + mod[1] + ", or run scripts/test which installs it");
        }
        long t0 = System.nanoTime();
        int rc = run(List.of(python.toString(), script.toString(), dir.toString()), root, 600);
        if (rc != 0) fail(script + " exited with " + rc + " (output above)");
        System.out.printf("ResNet goldens generated in %s in %.1f s%n", dir, (System.nanoTime() - t0) / 1e9);
    }

    @Test
    void resnet18NativeMatchesPyTorch() throws IOException {
        check("resnet18", ResNets::resnet18, "input", "logits", Backend.AUTO);
    }

    @Test
    void resnet50NativeMatchesPyTorch() throws IOException {
        check("resnet50", ResNets::resnet50, "input", "logits", Backend.AUTO);
    }

    /** The plain-Java reference is slow (about 0.15 GFLOP here): one 64x64 image. */
    @Test
    void resnet18ReferenceMatchesPyTorch() throws IOException {
        check("resnet18", ResNets::resnet18, "input_small", "logits_small", Backend.REFERENCE);
    }

    @Test
    void resnet18NativeSmallImageMatchesPyTorch() throws IOException {
        check("resnet18", ResNets::resnet18, "input_small", "logits_small", Backend.AUTO);
    }

    private static void check(String name, IntFunction<ResNet> builder, String inputKey, String logitsKey, Backend backend) throws IOException {
        try (SafeTensors goldens = SafeTensors.open(dir.resolve(name + ".goldens.safetensors"));
             ResNet model = builder.apply(1000)) {
            long t0 = System.nanoTime();
            SafeTensors.load(model, dir.resolve(name + ".safetensors"));   // strict: every key, shape and dtype
            long t1 = System.nanoTime();
            Tensor x = goldens.get(inputKey);
            float[] expected = goldens.get(logitsKey).toFloatArray();
            try (Tensor y = model.forward(x, backend)) {
                long t2 = System.nanoTime();
                assertArrayEquals(goldens.shape(logitsKey), y.shape());
                float[] actual = y.toFloatArray();
                double maxAbs = 0, err = 0;
                for (float v : expected) maxAbs = Math.max(maxAbs, Math.abs(v));
                int worst = 0;
                for (int i = 0; i < actual.length; i++) {
                    double d = Math.abs(actual[i] - expected[i]);
                    if (d > err) {
                        err = d;
                        worst = i;
                    }
                }
                double tol = REL * maxAbs + ABS;
                System.out.printf("%s %s %s %s: max |err| %.3g (%.3g of max|logit| %.4g), tolerance %.3g; load %.0f ms, forward %.0f ms%n",
                        name, backend, inputKey, java.util.Arrays.toString(x.shape()), err, err / maxAbs, maxAbs, tol,
                        (t1 - t0) / 1e6, (t2 - t1) / 1e6);
                assertTrue(err <= tol, String.format("%s %s: logit %d is %s, PyTorch %s (|err| %.3g > tolerance %.3g)",
                        name, backend, worst, actual[worst], expected[worst], err, tol));
                assertEquals(argmaxes(expected, 1000), argmaxes(actual, 1000), "top-1 classes");
            }
            // The same logits through forwardInto, into an out that starts full of NaN.
            try (Tensor out = Tensor.zeros(goldens.shape(logitsKey))) {
                out.segment().fill((byte) 0xFF);
                model.forwardInto(x, out, backend);
                float[] into = out.toFloatArray();
                double maxAbs = 0;
                for (float v : expected) maxAbs = Math.max(maxAbs, Math.abs(v));
                double tol = REL * maxAbs + ABS;
                for (int i = 0; i < into.length; i++) {
                    double d = Math.abs((double) into[i] - expected[i]);
                    int at = i;
                    assertTrue(d <= tol, () -> String.format("%s %s forwardInto: logit %d is %s, PyTorch %s (|err| %.3g > tolerance %.3g)",
                            name, backend, at, into[at], expected[at], d, tol));
                }
            }
        }
    }

    private static List<Integer> argmaxes(float[] logits, int classes) {
        var out = new java.util.ArrayList<Integer>();
        for (int n = 0; n < logits.length / classes; n++) {
            int best = 0;
            for (int c = 1; c < classes; c++) if (logits[n * classes + c] > logits[n * classes + best]) best = c;
            out.add(best);
        }
        return out;
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

    private static Path repoRoot() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("scripts/goldens/export_resnet.py"))) return p;
        }
        throw new IllegalStateException("cannot find scripts/goldens/export_resnet.py above " + Path.of("").toAbsolutePath());
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
