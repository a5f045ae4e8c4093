package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.demo.Digits;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObject;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models with variable dims beyond the batch (config.json dims of -1, the default for an ONNX input's symbolic dim that
 * config.json does not size): ONNX files exported by PyTorch with a dynamic sequence length and a dynamic image size
 * (scripts/goldens/export_variable_shape_onnx.py: a GRU tagger of token ids and per-token weights [N, S] to per-token
 * tags [N, S, 4] and a summary [N, 3]; a CNN of images [N, 3, H, W] to logits [N, 5]) answer PyTorch's outputs at every
 * size, alone and with requests of several sizes at once (a batch only ever holds one size); a size config.json gives
 * still serves that size only; shapes the inputs disagree on, the model cannot take, or bigger than the body are refused
 * by name, and the cache of compiled shapes stays within max_shapes. A sequence-first transformer encoder layer (x [T, N, 8],
 * both dynamic, as torch exports its default layout) is refused as a batched model (its first dim is time: {@link
 * RowCheck}) and served whole with T and N sized per request.
 */
class VariableShapeServingTest {
    @TempDir
    Path dir;

    /** A model directory {@code name} holding the resource model {@code variable/<model>/model.onnx} and {@code config}. */
    Path model(String name, String model, String config) throws Exception {
        return model(dir, name, model, config);
    }

    /** As {@link #model(String, String, String)}, in repository {@code dir}. */
    static Path model(Path dir, String name, String model, String config) throws Exception {
        Path m = Files.createDirectories(dir.resolve(name));
        try (InputStream in = VariableShapeServingTest.class.getResourceAsStream("variable/" + model + "/model.onnx")) {
            Files.copy(in, m.resolve("model.onnx"));
        }
        Files.writeString(m.resolve("config.json"), config);
        return m;
    }

    /** A PyTorch case: each input's shape, and every tensor by name, flat. */
    record Case(Map<String, long[]> shapes, Map<String, float[]> tensors) {}

    static List<Case> goldens(String model) throws Exception {
        try (InputStream in = VariableShapeServingTest.class.getResourceAsStream("variable/" + model + "/goldens.json")) {
            List<Case> cases = new ArrayList<>();
            for (JsonObject c : Json.createReader(in).readObject().getJsonArray("cases").getValuesAs(JsonObject.class)) {
                Map<String, long[]> shapes = new LinkedHashMap<>();
                JsonObject s = c.getJsonObject("shapes");
                for (String k : s.keySet()) shapes.put(k, s.getJsonArray(k).getValuesAs(jakarta.json.JsonNumber.class).stream().mapToLong(n -> n.longValue()).toArray());
                Map<String, float[]> tensors = new LinkedHashMap<>();
                for (String k : c.keySet()) if (!k.equals("shapes")) tensors.put(k, TwoInputServingTest.floats(c.getJsonArray(k)));
                cases.add(new Case(shapes, tensors));
            }
            return cases;
        }
    }

    /** A tagger request: ids as INT64 and weights as FP32, of {@code idsShape} and {@code weightsShape}. */
    static String taggerBody(float[] ids, long[] idsShape, float[] weights, long[] weightsShape) {
        JsonArrayBuilder idData = Json.createArrayBuilder(), weightData = Json.createArrayBuilder();
        for (float f : ids) idData.add((long) f);
        for (float f : weights) weightData.add(f);
        return Json.createObjectBuilder().add("inputs", Json.createArrayBuilder()
                .add(Json.createObjectBuilder().add("name", "ids").add("datatype", "INT64").add("shape", shape(idsShape)).add("data", idData))
                .add(Json.createObjectBuilder().add("name", "weights").add("datatype", "FP32").add("shape", shape(weightsShape)).add("data", weightData)))
                .build().toString();
    }

    static String taggerBody(Case c) {
        return taggerBody(c.tensors().get("ids"), c.shapes().get("ids"), c.tensors().get("weights"), c.shapes().get("weights"));
    }

    static JsonArrayBuilder shape(long[] dims) {
        JsonArrayBuilder a = Json.createArrayBuilder();
        for (long d : dims) a.add(d);
        return a;
    }

    static String text(long... dims) {
        return Arrays.toString(dims).replace(" ", "");
    }

    /** Checks a tagger answer against PyTorch's case: both outputs, their shapes [n, s, 4] and [n, 3]. */
    static void assertTagger(Case c, JsonObject response, String what) {
        long n = c.shapes().get("ids")[0], s = c.shapes().get("ids")[1];
        FixedShapeServingTest.assertClose(c.tensors().get("tags"), FixedShapeServingTest.output(response, 0, "tags", text(n, s, 4)), what + " tags");
        FixedShapeServingTest.assertClose(c.tensors().get("summary"), FixedShapeServingTest.output(response, 1, "summary", text(n, 3)), what + " summary");
    }

    static double metric(V2Client client, String line) throws Exception {
        for (String l : client.get("/metrics").text().split("\n")) if (l.startsWith(line + " ")) return Double.parseDouble(l.substring(line.length() + 1));
        throw new AssertionError("no metric " + line);
    }

    @Test
    void servesATaggerAtEverySequenceLength() throws Exception {
        model("tagger", "tagger", "{\"instances\": 2, \"max_batch_size\": 8}");   // S is left variable: config.json does not size it
        List<Case> cases = goldens("tagger");
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            JsonObject meta = (JsonObject) client.get("/v2/models/tagger").json();
            assertEquals("[{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[-1,-1]},{\"name\":\"weights\",\"datatype\":\"FP32\",\"shape\":[-1,-1]}]",
                    meta.getJsonArray("inputs").toString());
            assertEquals("[{\"name\":\"tags\",\"datatype\":\"FP32\",\"shape\":[-1,-1,4]},{\"name\":\"summary\",\"datatype\":\"FP32\",\"shape\":[-1,3]}]",
                    meta.getJsonArray("outputs").toString());
            assertEquals(200, client.get("/v2/models/tagger/ready").status(), "ready with nothing compiled");
            for (int i = 0; i < cases.size(); i++) {
                V2Client.Response r = client.post("/v2/models/tagger/infer", taggerBody(cases.get(i)));
                assertEquals(200, r.status(), r.text());
                assertTagger(cases.get(i), r.json().asJsonObject(), "case " + i);
            }
            assertEquals(3, metric(client, "pdnn_shapes_cached{model=\"tagger\"}"), 0, "sequence lengths 3, 5 and 9");

            // many at once, of every length, on two instances: each answer is its own request's
            try (var pool = Executors.newFixedThreadPool(8)) {
                List<Future<V2Client.Response>> answers = new ArrayList<>();
                for (int i = 0; i < 48; i++) {
                    String body = taggerBody(cases.get(i % cases.size()));
                    answers.add(pool.submit(() -> client.post("/v2/models/tagger/infer", body)));
                }
                for (int i = 0; i < answers.size(); i++) {
                    V2Client.Response r = answers.get(i).get();
                    assertEquals(200, r.status(), r.text());
                    assertTagger(cases.get(i % cases.size()), r.json().asJsonObject(), "concurrent request " + i);
                }
            }
            assertTrue(metric(client, "pdnn_batch_size_max{model=\"tagger\"}") >= 2, "requests of one length were batched");

            float[] one = {1}, four = new float[4], five = new float[5];
            String[][] bad = {
                {taggerBody(four, new long[] {1, 4}, five, new long[] {1, 5}),
                    "input 'weights' sizes dim 1 5 but input 'ids' sizes dim 1 4 (both are the model's symbolic dim S)"},
                {taggerBody(one, new long[] {1, 1_000_000_000_000L}, one, new long[] {1, 1_000_000_000_000L}),
                    "input 'ids': shape [1,1000000000000] has 1000000000000 elements; the request body has"},
                {taggerBody(new float[0], new long[] {1, 0}, new float[0], new long[] {1, 0}),
                    "does not match the model's [N,-1] (dim 1 is sized by the request: at least 1)"},
                {taggerBody(four, new long[] {1, 4}, four, new long[] {4}), "input 'weights': shape [4] has rank 1, expected 2"},
                {taggerBody(five, new long[] {1, 4}, four, new long[] {1, 4}), "input 'ids': data has 5 elements, shape [1,4] needs 4"},
            };
            for (String[] b : bad) {
                V2Client.Response r = client.post("/v2/models/tagger/infer", b[0]);
                assertEquals(400, r.status(), b[1] + ": " + r.text());
                assertTrue(r.text().contains(b[1]), b[1] + ": " + r.text());
            }
            assertEquals(3, metric(client, "pdnn_shapes_cached{model=\"tagger\"}"), 0, "refused before any import");
        }
    }

    @Test
    void imageSizesVaryWithinMaxShapesAndSizesTheModelCannotTakeAreRefused() throws Exception {
        model("image", "image", "{\"max_shapes\": 2, \"instances\": 1}");
        List<Case> cases = goldens("image");
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            assertTrue(client.get("/v2/models/image").text().contains("\"shape\":[-1,3,-1,-1]"), client.get("/v2/models/image").text());
            for (int round = 0; round < 3; round++) {   // three sizes through a cache of two: each size built again after it was dropped
                for (Case c : cases) {
                    long[] s = c.shapes().get("image");
                    float[] logits = client.infer("image", "image", c.tensors().get("image"), s);
                    FixedShapeServingTest.assertClose(c.tensors().get("logits"), logits, "round " + round + " " + text(s));
                    assertTrue(metric(client, "pdnn_shapes_cached{model=\"image\"}") <= 2, "at most max_shapes");
                }
            }
            // 2x2: the stride-2 3x3 convolution has no output; refused by name, each time, and the model serves on
            for (int i = 0; i < 2; i++) {
                V2Client.Response r = client.post("/v2/models/image/infer", V2Client.inferJson("image", new float[12], 1, 3, 2, 2));
                assertEquals(400, r.status(), r.text());
                assertTrue(r.text().contains("model image: cannot serve inputs of shapes [[3,2,2]]: "), r.text());
            }
            V2Client.Response r = client.post("/v2/models/image/infer", V2Client.inferJson("image", new float[12], 1, 3, 1, 4));
            assertEquals(400, r.status(), r.text());
            Case c = cases.getFirst();
            FixedShapeServingTest.assertClose(c.tensors().get("logits"), client.infer("image", "image", c.tensors().get("image"), c.shapes().get("image")),
                    "after the refusals");
        }
    }

    @Test
    void aSizeConfigGivesServesThatSizeOnly() throws Exception {
        model("five", "tagger", "{\"inputs\": [{\"name\": \"ids\", \"shape\": [-1, 5]}, {\"name\": \"weights\", \"shape\": [-1, 5]}]}");
        Case c = goldens("tagger").get(1);   // n = 2, s = 5
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            assertTrue(client.get("/v2/models/five").text().contains("\"shape\":[-1,5,4]"), client.get("/v2/models/five").text());
            V2Client.Response r = client.post("/v2/models/five/infer", taggerBody(c));
            assertEquals(200, r.status(), r.text());
            assertTagger(c, r.json().asJsonObject(), "at the configured length");
            r = client.post("/v2/models/five/infer", taggerBody(new float[3], new long[] {1, 3}, new float[3], new long[] {1, 3}));
            assertEquals(400, r.status(), r.text());
            assertTrue(r.text().contains("does not match the model's [N,5]"), r.text());
            model("mixed", "tagger", "{\"inputs\": [{\"name\": \"ids\", \"shape\": [-1, -1]}, {\"name\": \"weights\", \"shape\": [-1, 5]}]}");
            String error = RepositoryTest.loadError(client, "mixed");
            assertTrue(error.contains("input 'weights' gives S = 5, an earlier input leaves it variable (-1)"), error);
        }
    }

    /** The demo's digits model served without a batch dim and its batch symbol unsized: each request's whole shape, any rows. */
    @Test
    void aModelWithoutABatchDimTakesEachRequestsWholeShape() throws Exception {
        OnnxServingTest.onnxModel(dir, "whole", "{\"max_batch_size\": 0}");
        Digits.TestSplit split = Digits.testSplit();
        int[] rows = {3, 5, 1, 7, 3};
        int total = Arrays.stream(rows).sum();
        float[] served = new float[total * 10];
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            assertTrue(client.get("/v2/models/whole").text().contains("\"shape\":[-1,1,8,8]"), client.get("/v2/models/whole").text());
            int at = 0;
            for (int n : rows) {
                float[] logits = client.infer("whole", "input", TestServers.images(at, n), n, 1, 8, 8);
                System.arraycopy(logits, 0, served, at * 10, n * 10);
                at += n;
            }
            assertEquals(4, metric(client, "pdnn_shapes_cached{model=\"whole\"}"), 0, "1, 3, 5 and 7 rows");
        }
        assertArrayEquals(Arrays.copyOf(split.torchPredictions(), total), Digits.argmax(served), "predicted classes vs PyTorch's");
    }

    @Test
    void aSequenceFirstEncoderIsNotBatchedAlongTimeAndServesWhole() throws Exception {
        model("whole", "encoder", "{\"max_batch_size\": 0, \"instances\": 2}");
        List<Case> cases = goldens("encoder");
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            model("batched", "encoder", "{}");   // its first dim, steps, is symbolic: taken for a batch unless the check refuses it
            String error = RepositoryTest.loadError(client, "batched");
            assertTrue(error.contains("batched: its first input dim is not a batch: output 'y' differs by up to") && error.contains("\"max_batch_size\": 0"), error);
            assertTrue(client.get("/v2/models/whole").text().contains("\"shape\":[-1,-1,8]"), client.get("/v2/models/whole").text());
            try (var pool = Executors.newFixedThreadPool(4)) {
                List<Future<float[]>> answers = new ArrayList<>();
                for (int i = 0; i < 12; i++) {
                    Case c = cases.get(i % cases.size());
                    answers.add(pool.submit(() -> client.infer("whole", "x", c.tensors().get("x"), c.shapes().get("x"))));
                }
                for (int i = 0; i < answers.size(); i++) {
                    Case c = cases.get(i % cases.size());
                    FixedShapeServingTest.assertClose(c.tensors().get("y"), answers.get(i).get(), "request " + i + " " + text(c.shapes().get("x")));
                }
            }
        }
    }

    /** The shapes' imports share the loaded model's one mapping of the file (dropped shapes close without unmapping it), none after unload. */
    @Test
    void theShapesShareOneMappingAndAnUnloadUnmapsIt() throws Exception {
        Path m = model("tagger", "tagger", "{\"max_shapes\": 2, \"instances\": 1}");
        Path file = m.resolve("model.onnx").toRealPath();
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            int most = 0;
            for (int s = 1; s <= 8; s++) {
                float[] ids = new float[s], weights = new float[s];
                Arrays.fill(weights, 1);
                V2Client.Response r = client.post("/v2/models/tagger/infer", taggerBody(ids, new long[] {1, s}, weights, new long[] {1, s}));
                assertEquals(200, r.status(), r.text());
                most = Math.max(most, mappings(file));
            }
            assertEquals(1, most, "mapped once: every shape's import reads the loaded model's mapping (OnnxModel.withOptions)");
            assertEquals(200, client.post("/v2/repository/models/tagger/unload", "").status());
            assertEquals(0, mappings(file), "nothing mapped after the unload");
        }
    }

    private static int mappings(Path file) throws Exception {
        return (int) Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(l -> l.endsWith(" " + file)).count();
    }

    /** A token id past the embedding's rows, batched with a good request: the bad one gets a 400 naming it, the good one its answer. */
    @Test
    void aBadIdFailsOnlyItsOwnRequestInABatch() throws Exception {
        model("tagger", "tagger", "{\"instances\": 1, \"max_batch_size\": 8}");
        Case c = goldens("tagger").getFirst();   // n = 1, s = 3
        long[] shape = c.shapes().get("ids");
        float[] badIds = c.tensors().get("ids").clone();
        badIds[1] = 25;
        try (InferenceServer server = TestServers.start(dir); var pool = Executors.newFixedThreadPool(2)) {
            V2Client client = TestServers.client(server);
            ServedModel m = server.model("tagger");
            m.pause(true);   // both queued before a worker looks: they run as one batch
            Thread.sleep(120);   // a worker already polling gives up (as QueueTest.hold)
            Future<V2Client.Response> good = pool.submit(() -> client.post("/v2/models/tagger/infer", taggerBody(c)));
            Future<V2Client.Response> bad = pool.submit(() -> client.post("/v2/models/tagger/infer",
                    taggerBody(badIds, shape, c.tensors().get("weights"), shape)));
            for (int i = 0; i < 1000 && m.queueDepth() < 2; i++) Thread.sleep(10);
            assertEquals(2, m.queueDepth(), "both requests queued");
            m.pause(false);
            V2Client.Response r = good.get();
            assertEquals(200, r.status(), r.text());
            assertTagger(c, r.json().asJsonObject(), "the good request batched with a bad one");
            r = bad.get();
            assertEquals(400, r.status(), r.text());
            assertTrue(r.text().contains("model tagger: ") && r.text().contains("index 25") && r.text().contains("out of range for 20 rows"), r.text());
        }
    }

    /**
     * The shapes of one model share its weights: a model with a 32 KiB weight (x [N, S, 32] -> Linear(32, 256) -> ReLU ->
     * Linear(256, 4)) at three sequence lengths holds its constants about once, and answers PyTorch's outputs at each;
     * so does the same model served without a batch dim (a plan per whole shape).
     */
    @Test
    void theShapesOfAModelHoldItsWeightsOnce() throws Exception {
        model("wide", "wide", "{\"instances\": 1}");
        model("whole", "wide", "{\"instances\": 1, \"max_batch_size\": 0}");   // N and S both per request: one plan per shape
        List<Case> cases = goldens("wide");
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            for (String m : List.of("wide", "whole")) {
                double[] bytes = new double[cases.size()];
                for (int i = 0; i < cases.size(); i++) {
                    Case c = cases.get(i);
                    long[] s = c.shapes().get("x");
                    FixedShapeServingTest.assertClose(c.tensors().get("y"), client.infer(m, "x", c.tensors().get("x"), s), m + " " + text(s));
                    bytes[i] = metric(client, "pdnn_constant_bytes{model=\"" + m + "\"}");
                }
                assertEquals(3, metric(client, "pdnn_shapes_cached{model=\"" + m + "\"}"), 0);
                assertTrue(bytes[0] >= 32 * 1024, m + ": one shape holds the weight: " + bytes[0]);
                assertTrue(bytes[2] < 1.5 * bytes[0], m + ": three shapes hold " + bytes[2] + " bytes of constants, one shape " + bytes[0]);
            }
        }
    }

    /** A new shape is imported from the model as loaded, not from the file: replacing model.onnx on disk changes nothing before a reload. */
    @Test
    void newShapesComeFromTheModelAsLoadedNotTheFileOnDisk() throws Exception {
        Path m = model("tagger", "tagger", "{\"instances\": 1}");
        List<Case> cases = goldens("tagger");
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            V2Client.Response r = client.post("/v2/models/tagger/infer", taggerBody(cases.get(0)));
            assertEquals(200, r.status(), r.text());
            try (InputStream other = VariableShapeServingTest.class.getResourceAsStream("variable/image/model.onnx")) {
                Files.copy(other, m.resolve("model.onnx.new"));
            }
            Files.move(m.resolve("model.onnx.new"), m.resolve("model.onnx"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            for (int i = 1; i < cases.size(); i++) {   // lengths 5 and 9: shapes not built before the file was replaced
                r = client.post("/v2/models/tagger/infer", taggerBody(cases.get(i)));
                assertEquals(200, r.status(), r.text());
                assertTagger(cases.get(i), r.json().asJsonObject(), "case " + i + " after model.onnx was replaced");
            }
        }
    }

    /** warm_shapes: built and warmed at load (ready includes them); shapes config.json gives wrong are refused at load, named. */
    @Test
    void warmShapesAreBuiltAtLoadAndWrongOnesRefused() throws Exception {
        model("tagger", "tagger", "{\"instances\": 1, \"max_batch_size\": 4, \"warm_shapes\": [{\"ids\": [-1, 5], \"weights\": [-1, 5]},"
                + " {\"ids\": [-1, 9], \"weights\": [-1, 9]}]}");
        List<Case> cases = goldens("tagger");
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            assertEquals(2, metric(client, "pdnn_shapes_cached{model=\"tagger\"}"), 0, "lengths 5 and 9 built at load");
            assertEquals(2 * 3, metric(client, "pdnn_plans_compiled{model=\"tagger\"}"), 0, "each at batch 1, 2 and 4");
            V2Client.Response r = client.post("/v2/models/tagger/infer", taggerBody(cases.get(1)));   // n = 2, s = 5
            assertEquals(200, r.status(), r.text());
            assertTagger(cases.get(1), r.json().asJsonObject(), "a warmed length");
            assertEquals(2, metric(client, "pdnn_shapes_cached{model=\"tagger\"}"), 0, "no new shape for it");
            String[][] bad = {
                {"tagger", "{\"warm_shapes\": [{\"ids\": [-1, 5]}]}", "warm_shapes[0] must give the shape of every input [ids, weights], got [ids]"},
                {"tagger", "{\"warm_shapes\": [{\"ids\": [-1, 0], \"weights\": [-1, 0]}]}", "input ids shape [-1,0] must be [-1, sizes...]"},
                {"tagger", "{\"warm_shapes\": [{\"ids\": [-1, 4], \"weights\": [-1, 5]}]}", "warm_shapes[0]: input 'weights' sizes dim 1 5 but input 'ids' sizes dim 1 4"},
                {"tagger", "{\"max_shapes\": 1, \"warm_shapes\": [{\"ids\": [-1, 4], \"weights\": [-1, 4]}, {\"ids\": [-1, 5], \"weights\": [-1, 5]}]}",
                    "warm_shapes gives 2 shapes, more than max_shapes 1 keeps"},
                {"tagger", "{\"warm_shapes\": {}}", "warm_shapes must be an array of objects"},
                {"image", "{\"warm_shapes\": [{\"image\": [-1, 3, 2, 2]}]}", "warm_shapes[0]: model w5: cannot serve inputs of shapes [[3,2,2]]"},
                {"image", "{\"warm_shapes\": [{\"image\": [-1, 4, 8, 8]}]}", "input image shape [-1,4,8,8] must be [-1, sizes...] (the batch, then sizes) fitting the model's [-1, 3, -1, -1]"},
                {"image", "{\"inputs\": [{\"name\": \"image\", \"shape\": [-1, 3, 8, 8]}], \"warm_shapes\": [{\"image\": [-1, 3, 8, 8]}]}",
                    "warm_shapes is for a model with variable dims"},
            };
            for (int i = 0; i < bad.length; i++) {
                model("w" + i, bad[i][0], bad[i][1]);
                String error = RepositoryTest.loadError(client, "w" + i);
                assertTrue(error.contains(bad[i][2]), bad[i][1] + ": " + error);
            }
        }
    }
}
