package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.demo.Digits;
import dev.panamadnn.nn.Sequential;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;

/**
 * Test fixtures: a model repository of digits models in a temporary directory (the bundled trained
 * weights + a config.json per model), a server on a free port, and the in-process reference: the
 * same weights compiled here, whose output for the same input is what the server must answer.
 */
final class TestServers {
    /**
     * Server vs in-process logits: the server may run an input inside a larger padded batch (another
     * compiled plan, so another oneDNN kernel and summation order), so allow Digits' own logit
     * tolerance (1e-4, below half the smallest top-2 margin); logits of different images differ by far more.
     */
    static final double TOLERANCE = Digits.LOGIT_TOLERANCE;

    private TestServers() {}

    /** A repository with a digits model per {@code name -> config.json} pair. */
    static Path repository(Path dir, String... namesAndConfigs) throws IOException {
        for (int i = 0; i < namesAndConfigs.length; i += 2) {
            Path m = Files.createDirectories(dir.resolve(namesAndConfigs[i]));
            Files.writeString(m.resolve("config.json"), namesAndConfigs[i + 1]);
            try (InputStream in = Digits.class.getResourceAsStream("digits/digits_resnet.safetensors")) {
                Files.copy(in, m.resolve("model.safetensors"), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        return dir;
    }

    /** A digits config.json with the given extra fields (e.g. {@code "\"max_queue_size\": 2"}). */
    static String digitsConfig(String extra) {
        return "{\"architecture\": \"digits\", \"inputs\": [{\"name\": \"input\", \"datatype\": \"FP32\", \"shape\": [-1, 1, 8, 8]}],"
                + " \"outputs\": [{\"name\": \"logits\"}]" + (extra.isEmpty() ? "" : ", " + extra) + "}";
    }

    static InferenceServer start(Path repository) throws IOException {
        return InferenceServer.start(InferenceServer.Options.defaults().withModels(repository).withPort(0)
                .withMaxBodyBytes(1 << 20).withAccessLog(false));
    }

    static V2Client client(InferenceServer s) {
        return new V2Client(URI.create("http://localhost:" + s.port()));
    }

    /** {@code rows} images of the held-out split from image {@code from}, flat {@code [rows,1,8,8]}. */
    static float[] images(int from, int rows) throws IOException {
        Digits.TestSplit split = Digits.testSplit();
        return Arrays.copyOfRange(split.images(), from * 64, (from + rows) * 64);
    }

    /** The in-process reference: the trained digits model compiled here. Close after use. */
    static final class Reference implements AutoCloseable {
        private final Sequential model = Digits.trainedModel();
        private final PlanSet plans = PlanSet.of(model, CompileOptions.defaults().withThreads(1), 1, 8, 8);

        Reference() throws IOException {}

        float[] logits(float[] images) {
            try (Tensor in = Tensor.of(images, images.length / 64, 1, 8, 8); Tensor out = plans.run(in)) {
                return out.toFloatArray();
            }
        }

        void assertMatches(float[] images, float[] served, String what) {
            float[] expected = logits(images);
            assertEquals(expected.length, served.length, what + ": output length");
            for (int i = 0; i < expected.length; i++) {
                assertEquals(expected[i], served[i], TOLERANCE, what + ": logit " + i + " differs from the in-process plan's");
            }
        }

        @Override
        public void close() {
            plans.close();
            model.close();
        }
    }
}
