package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObjectBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random requests against a model with variable dims (the GRU tagger of {@link VariableShapeServingTest}, ids
 * INT64 and weights FP32 [N, S], max_shapes 3, so that shapes are built, refused and dropped all along): shapes of any
 * rank with sizes from negative to 2^62, datatypes right and wrong, data too short, too long, nested, of the wrong
 * kinds, inputs missing, repeated or disagreeing on S, binary sizes that lie. Every answer is a 200 with the tagger's
 * outputs or a 4xx with an error message; never a 5xx; and the model answers PyTorch's outputs afterwards. Likewise random
 * shapes and values (up to 1e30) for the image CNN, batched, and the sequence-first encoder served whole.
 */
class VariableShapeFuzzTest {
    @TempDir
    Path dir;

    /** A system property that replaces the fixed seeds (CI's), to run the same fuzz with others: {@code -Dpanamadnn.server.fuzzSeed=N}. */
    static final String SEED_PROPERTY = "panamadnn.server.fuzzSeed";

    /** {@code fixed} (CI's seed), or the {@link #SEED_PROPERTY} seed plus {@code offset} where it is set. */
    static long seed(long fixed, int offset) {
        Long given = Long.getLong(SEED_PROPERTY);
        return given == null ? fixed : given + offset;
    }

    static final long[] DIMS = {-5, -1, 0, 1, 1, 2, 3, 3, 4, 7, 64, 1_000_000, 1L << 40, 1L << 62};

    @Test
    void randomRequestsGetAnAnswerOrANamedRefusalNeverA5xx() throws Exception {
        VariableShapeServingTest.model(dir, "tagger", "tagger", "{\"max_shapes\": 3, \"instances\": 2, \"max_batch_size\": 4}");
        SplittableRandom random = new SplittableRandom(seed(20261206, 0));
        Map<Integer, Integer> statuses = new TreeMap<>();
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            for (int i = 0; i < 400; i++) {
                boolean binary = random.nextInt(5) == 0;
                byte[] body = binary ? binaryBody(random) : jsonBody(random).getBytes(StandardCharsets.UTF_8);
                V2Client.Response r = binary
                        ? client.post("/v2/models/tagger/infer", body, Map.of("Inference-Header-Content-Length", Integer.toString(headerLength)))
                        : client.post("/v2/models/tagger/infer", new String(body, StandardCharsets.UTF_8));
                statuses.merge(r.status(), 1, Integer::sum);
                assertTrue(r.status() == 200 || r.status() >= 400 && r.status() < 500, "request " + i + ": " + r.status() + " " + r.text());
                String sent = new String(body, StandardCharsets.UTF_8);
                boolean onlyTags = !binary && sent.contains("\"outputs\":[{\"name\":\"tags\"}]"), unknown = !binary && sent.contains("\"nope\"");
                assertTrue(!unknown || r.status() != 200, "an unknown requested output: " + r.status() + " " + r.text());
                if (r.status() == 200) {
                    assertTrue(r.text().contains("\"name\":\"tags\""), r.text());
                    assertEquals(!onlyTags, r.text().contains("\"name\":\"summary\""), "the outputs requested: " + sent + " -> " + r.text());
                } else {
                    assertTrue(r.text().startsWith("{\"error\":"), "request " + i + ": " + r.text());
                }
            }
            System.out.println("statuses " + statuses);
            assertTrue(statuses.getOrDefault(200, 0) >= 15, "some requests were valid: " + statuses);
            assertTrue(statuses.getOrDefault(400, 0) >= 100, "most were not: " + statuses);
            VariableShapeServingTest.Case c = VariableShapeServingTest.goldens("tagger").get(2);
            V2Client.Response r = client.post("/v2/models/tagger/infer", VariableShapeServingTest.taggerBody(c));
            assertEquals(200, r.status(), r.text());
            VariableShapeServingTest.assertTagger(c, r.json().asJsonObject(), "after the fuzz");
        }
    }

    /** The image CNN (FP32 [N, 3, H, W]) and the sequence-first encoder served whole (FP32 [T, N, 8]): random shapes and data. */
    @Test
    void randomShapesOfAnImageModelAndAWholeShapeModelGetAnAnswerOrANamedRefusal() throws Exception {
        VariableShapeServingTest.model(dir, "image", "image", "{\"max_shapes\": 2, \"instances\": 2, \"max_batch_size\": 4}");
        VariableShapeServingTest.model(dir, "whole", "encoder", "{\"max_shapes\": 2, \"instances\": 2, \"max_batch_size\": 0}");
        SplittableRandom random = new SplittableRandom(seed(20261207, 1));
        Map<String, Map<Integer, Integer>> statuses = new TreeMap<>();
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            for (int i = 0; i < 300; i++) {
                boolean image = i % 2 == 0;
                long[] shape = image ? new long[] {small(random), 3, small(random), small(random)} : new long[] {small(random), small(random), 8};
                if (random.nextInt(6) == 0) shape[random.nextInt(shape.length)] = DIMS[random.nextInt(DIMS.length)];
                if (random.nextInt(10) == 0) shape = java.util.Arrays.copyOf(shape, shape.length - 1);
                long want = 1;
                for (long d : shape) want = d > 0 && want < 100_000 ? want * d : want;
                int len = (int) Math.min(4000, Math.max(0, random.nextInt(6) == 0 ? want + random.nextInt(3) - 1 : want));
                float[] data = new float[len];
                for (int k = 0; k < len; k++) data[k] = (float) (random.nextGaussian() * (random.nextInt(50) == 0 ? 1e30 : 1));
                String model = image ? "image" : "whole";
                V2Client.Response r = client.post("/v2/models/" + model + "/infer", V2Client.inferJson(image ? "image" : "x", data, shape));
                statuses.computeIfAbsent(model, k -> new TreeMap<>()).merge(r.status(), 1, Integer::sum);
                assertTrue(r.status() == 200 || r.status() >= 400 && r.status() < 500, model + " request " + i + " " + java.util.Arrays.toString(shape) + ": "
                        + r.status() + " " + r.text());
                assertTrue(r.status() == 200 ? r.text().contains("\"outputs\"") : r.text().startsWith("{\"error\":"), r.text());
            }
            System.out.println("statuses " + statuses);
            for (String m : statuses.keySet()) {
                assertTrue(statuses.get(m).getOrDefault(200, 0) >= 15 && statuses.get(m).getOrDefault(400, 0) >= 10, m + ": " + statuses.get(m));
            }
            VariableShapeServingTest.Case c = VariableShapeServingTest.goldens("image").getFirst();
            FixedShapeServingTest.assertClose(c.tensors().get("logits"), client.infer("image", "image", c.tensors().get("image"), c.shapes().get("image")),
                    "after the fuzz");
        }
    }

    /** Mostly 1-6, sometimes 0 or 9. */
    private static long small(SplittableRandom r) {
        return r.nextInt(12) == 0 ? 0 : r.nextInt(12) == 0 ? 9 : 1 + r.nextInt(6);
    }

    private int headerLength;

    /** A JSON request: mostly near-valid (two inputs, small shapes), each part broken at random. */
    private static String jsonBody(SplittableRandom r) {
        long n = r.nextInt(4) == 0 ? DIMS[r.nextInt(DIMS.length)] : 1 + r.nextInt(3);
        long s = r.nextInt(3) == 0 ? DIMS[r.nextInt(DIMS.length)] : 1 + r.nextInt(6);
        JsonArrayBuilder inputs = Json.createArrayBuilder();
        int count = r.nextInt(8) == 0 ? r.nextInt(4) : 2;
        for (int k = 0; k < count; k++) {
            boolean ids = k % 2 == 0;
            long sk = r.nextInt(6) == 0 ? s + 1 : s;
            inputs.add(tensor(r, r.nextInt(10) == 0 ? "other" : ids ? "ids" : "weights", r.nextInt(8) == 0 ? "FP16" : ids ? "INT64" : "FP32",
                    r.nextInt(6) == 0 ? new long[] {n} : r.nextInt(8) == 0 ? new long[] {n, sk, 2} : new long[] {n, sk}, ids));
        }
        JsonObjectBuilder o = Json.createObjectBuilder().add("inputs", inputs);
        if (r.nextInt(6) == 0) o.add("outputs", Json.createArrayBuilder().add(Json.createObjectBuilder().add("name", r.nextBoolean() ? "tags" : "nope")));
        return o.build().toString();
    }

    private static JsonObjectBuilder tensor(SplittableRandom r, String name, String datatype, long[] shape, boolean ids) {
        JsonArrayBuilder dims = Json.createArrayBuilder();
        for (long d : shape) dims.add(d);
        long want = 1;
        for (long d : shape) want = d > 0 && want < 10_000 ? want * d : want;
        int len = (int) Math.min(200, Math.max(0, r.nextInt(5) == 0 ? want + r.nextInt(3) - 1 : want));
        JsonArrayBuilder data = Json.createArrayBuilder();
        for (int i = 0; i < len; i++) {
            switch (r.nextInt(ids ? 40 : 60)) {
                case 0 -> data.add("x");
                case 1 -> data.add(1.5);
                case 2 -> data.add(Json.createArrayBuilder().add(1));
                case 3 -> data.add(true);
                case 4 -> data.add(ids ? 25 : -3);   // an id past the embedding's 20 rows
                case 5 -> data.add(-1);
                default -> {
                    if (ids) data.add(r.nextInt(20));
                    else data.add(r.nextDouble() + 0.5);
                }
            }
        }
        return Json.createObjectBuilder().add("name", name).add("datatype", datatype).add("shape", dims).add("data", data);
    }

    /** A binary-extension request: ids and weights [1, s], the declared sizes sometimes lying. */
    private byte[] binaryBody(SplittableRandom r) {
        int s = 1 + r.nextInt(5);
        int idsBytes = 8 * s + (r.nextInt(4) == 0 ? 8 * (r.nextInt(3) - 1) : 0), weightBytes = 4 * s;
        String header = "{\"inputs\":[{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[1," + s + "],\"parameters\":{\"binary_data_size\":" + idsBytes
                + "}},{\"name\":\"weights\",\"datatype\":\"FP32\",\"shape\":[1," + s + "],\"parameters\":{\"binary_data_size\":" + weightBytes + "}}]}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        headerLength = h.length;
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(h.length + 8 * s + 4 * s + r.nextInt(2) * 4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        b.put(h);
        for (int i = 0; i < s; i++) b.putLong(r.nextInt(8) == 0 ? 1_000_000 : r.nextInt(20));
        for (int i = 0; i < s; i++) b.putFloat(r.nextInt(10) == 0 ? Float.NaN : (float) r.nextDouble());
        return b.array();
    }
}
