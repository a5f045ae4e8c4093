package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.demo.Digits;
import jakarta.json.Json;
import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Models served without a batch dim ({@code "max_batch_size": 0}, the Open Inference Protocol's convention): ONNX files
 * exported without {@code dynamic_axes} (scripts/goldens/export_fixed_shape_onnx.py: a sequence-first GRU, x [6, 3, 5]
 * to its output sequence [6, 3, 8], batch on dim 1, and scores [3, 4]; a CNN with its batch of 1 fixed) load with a
 * defaulted config.json and answer PyTorch's outputs, as JSON and binary data, alone and concurrently; a model with a
 * symbolic batch served whole at the size config.json gives answers PyTorch's predictions; shapes that are not the
 * whole shape, a batch asked of a model that has none and configurations that do not fit are refused by name.
 */
class FixedShapeServingTest {
    /** Served vs PyTorch (float32 GRU and GEMM in other summation orders): as {@link TwoInputServingTest#TOLERANCE}. */
    static final double TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    /** A model directory {@code name} holding the resource model {@code fixed/<model>/model.onnx} and {@code config}. */
    Path model(String name, String model, String config) throws Exception {
        Path m = Files.createDirectories(dir.resolve(name));
        try (InputStream in = FixedShapeServingTest.class.getResourceAsStream("fixed/" + model + "/model.onnx")) {
            Files.copy(in, m.resolve("model.onnx"));
        }
        Files.writeString(m.resolve("config.json"), config);
        return m;
    }

    /** PyTorch's cases of {@code fixed/<model>/goldens.json}: each tensor by name, flat. */
    static List<Map<String, float[]>> goldens(String model) throws Exception {
        try (InputStream in = FixedShapeServingTest.class.getResourceAsStream("fixed/" + model + "/goldens.json")) {
            List<Map<String, float[]>> cases = new ArrayList<>();
            for (JsonObject c : Json.createReader(in).readObject().getJsonArray("cases").getValuesAs(JsonObject.class)) {
                Map<String, float[]> tensors = new java.util.HashMap<>();
                for (String k : c.keySet()) tensors.put(k, TwoInputServingTest.floats(c.getJsonArray(k)));
                cases.add(tensors);
            }
            return cases;
        }
    }

    static void assertClose(float[] expected, float[] served, String what) {
        assertEquals(expected.length, served.length, what + ": length");
        for (int i = 0; i < served.length; i++) assertEquals(expected[i], served[i], TOLERANCE, what + ": element " + i + " differs from PyTorch's");
    }

    /** Output {@code k} of a response: its name, shape and data. */
    static float[] output(JsonObject response, int k, String name, String shape) {
        JsonObject out = response.getJsonArray("outputs").getJsonObject(k);
        assertEquals(name, out.getString("name"), response.toString());
        assertEquals(shape, out.getJsonArray("shape").toString(), name + "'s shape");
        JsonArray data = out.getJsonArray("data");
        float[] f = new float[data.size()];
        for (int i = 0; i < f.length; i++) f[i] = (float) data.getJsonNumber(i).doubleValue();
        return f;
    }

    @Test
    void servesASequenceFirstGruExportedWithFixedShapes() throws Exception {
        model("gru", "gru", "{\"instances\": 2}");   // max_batch_size defaults to 0: x [6, 3, 5] has no symbolic batch
        List<Map<String, float[]>> cases = goldens("gru");
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            JsonObject meta = (JsonObject) client.get("/v2/models/gru").json();
            assertEquals("[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[6,3,5]}]", meta.getJsonArray("inputs").toString());
            assertEquals("[{\"name\":\"seq\",\"datatype\":\"FP32\",\"shape\":[6,3,8]},{\"name\":\"scores\",\"datatype\":\"FP32\",\"shape\":[3,4]}]",
                    meta.getJsonArray("outputs").toString());
            for (int c = 0; c < cases.size(); c++) {
                V2Client.Response r = client.post("/v2/models/gru/infer", V2Client.inferJson("x", cases.get(c).get("x"), 6, 3, 5));
                assertEquals(200, r.status(), r.text());
                JsonObject o = r.json().asJsonObject();
                assertClose(cases.get(c).get("seq"), output(o, 0, "seq", "[6,3,8]"), "case " + c + " seq");
                assertClose(cases.get(c).get("scores"), output(o, 1, "scores", "[3,4]"), "case " + c + " scores");
            }
            // the binary extension: x as little-endian FP32 after the JSON header, scores asked for alone
            float[] x = cases.get(1).get("x");
            ByteBuffer bin = ByteBuffer.allocate(4 * x.length).order(ByteOrder.LITTLE_ENDIAN);
            for (float f : x) bin.putFloat(f);
            byte[] h = ("{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[6,3,5],\"parameters\":{\"binary_data_size\":" + bin.capacity()
                    + "}}],\"outputs\":[{\"name\":\"scores\"}]}").getBytes(StandardCharsets.UTF_8);
            byte[] body = Arrays.copyOf(h, h.length + bin.capacity());
            System.arraycopy(bin.array(), 0, body, h.length, bin.capacity());
            V2Client.Response r = client.post("/v2/models/gru/infer", body, Map.of("Inference-Header-Content-Length", Integer.toString(h.length)));
            assertEquals(200, r.status(), r.text());
            assertClose(cases.get(1).get("scores"), output(r.json().asJsonObject(), 0, "scores", "[3,4]"), "binary input");

            // many at once on two instances: each answer is its own request's (runs never mix requests)
            try (var pool = Executors.newFixedThreadPool(6)) {
                List<Future<float[]>> answers = new ArrayList<>();
                for (int i = 0; i < 30; i++) {
                    float[] in = cases.get(i % cases.size()).get("x");
                    answers.add(pool.submit(() -> V2Client.outputData(client.post("/v2/models/gru/infer",
                            V2Client.inferJson("x", in, 6, 3, 5)).json().asJsonObject())));
                }
                for (int i = 0; i < answers.size(); i++) {
                    float[] first = Arrays.copyOf(answers.get(i).get(), 6 * 3 * 8);   // outputData: the first output, seq
                    assertClose(cases.get(i % cases.size()).get("seq"), first, "concurrent request " + i);
                }
            }
            assertTrue(client.get("/metrics").text().contains("pdnn_plans_compiled{model=\"gru\"} 1.0"), "one plan");
        }
    }

    @Test
    void servesACnnExportedWithItsBatchOfOneFixed() throws Exception {
        model("cnn", "cnn", "{}");
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            assertTrue(client.get("/v2/models/cnn").text().contains("\"inputs\":[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[1,2,6,6]}]"),
                    client.get("/v2/models/cnn").text());
            for (Map<String, float[]> c : goldens("cnn")) {
                assertClose(c.get("logits"), client.infer("cnn", "image", c.get("image"), 1, 2, 6, 6), "logits");
            }
            String[][] bad = {
                {V2Client.inferJson("image", new float[144], 2, 2, 6, 6), "shape [2,2,6,6] does not match the model's [1,2,6,6] (the whole shape"},
                {V2Client.inferJson("image", new float[72], 2, 6, 6), "has rank 3, expected 4 [1,2,6,6] (the whole shape: this model has no batch dim"},
                {V2Client.inferJson("image", new float[71], 1, 2, 6, 6), "data has 71 elements, shape [1,2,6,6] (the whole shape"},
            };
            for (String[] b : bad) {
                V2Client.Response r = client.post("/v2/models/cnn/infer", b[0]);
                assertEquals(400, r.status(), b[1]);
                assertTrue(r.text().contains(b[1]), b[1] + ": " + r.text());
            }
        }
    }

    /** The demo's digits ONNX model has a symbolic batch; with max_batch_size 0 it serves at config.json's 5 rows, whole. */
    @Test
    void aModelWithABatchServesWholeAtTheSizeConfigGives() throws Exception {
        OnnxServingTest.onnxModel(dir, "five", "{\"max_batch_size\": 0, \"inputs\": [{\"name\": \"input\", \"shape\": [5, 1, 8, 8]}]}");
        Digits.TestSplit split = Digits.testSplit();
        int requests = split.count() / 5;
        float[] served = new float[requests * 5 * 10];
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            assertTrue(client.get("/v2/models/five").text().contains("\"shape\":[5,10]"), client.get("/v2/models/five").text());
            for (int q = 0; q < requests; q++) {
                float[] logits = client.infer("five", "input", TestServers.images(5 * q, 5), 5, 1, 8, 8);
                System.arraycopy(logits, 0, served, q * 50, 50);
            }
            V2Client.Response r = client.post("/v2/models/five/infer", V2Client.inferJson("input", TestServers.images(0, 4), 4, 1, 8, 8));
            assertEquals(400, r.status());
            assertTrue(r.text().contains("does not match the model's [5,1,8,8]"), r.text());
        }
        assertArrayEquals(Arrays.copyOf(split.torchPredictions(), requests * 5), Digits.argmax(served), "predicted classes vs PyTorch's");
    }

    @Test
    void configurationsThatDoNotFitAreRefusedByName() throws Exception {
        TestServers.repository(dir, "digits", TestServers.digitsConfig(""));
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            String[][] cases = {
                {"gru", "{\"max_batch_size\": 8}", "max_batch_size 8, but ONNX input 'x' [6, 3, 5] has no symbolic batch as its first dim: serve it with max_batch_size 0"},
                {"gru", "{\"max_batch_size\": 0, \"preferred_batch_sizes\": [2]}", "preferred_batch_sizes must be empty with max_batch_size 0"},
                {"gru", "{\"inputs\": [{\"name\": \"x\", \"shape\": [6, 3, 4]}]}", "input 'x' shape [6, 3, 4] is not the ONNX [6, 3, 5]"},
                {"gru", "{\"inputs\": [{\"name\": \"x\", \"shape\": [-1, 3, 5]}]}", "input 'x' shape [-1, 3, 5] is not the ONNX [6, 3, 5]"},
                {"gru", "{\"inputs\": [{\"name\": \"x\", \"shape\": [0, 3, 5]}]}", "inputs[0].shape[0] must be a positive size or -1 (sized by each request)"},
                {"cnn", "{\"max_batch_size\": -1}", "max_batch_size must be in [0, 1024]"},
            };
            for (int i = 0; i < cases.length; i++) {
                model("m" + i, cases[i][0], cases[i][1]);
                String error = RepositoryTest.loadError(client, "m" + i);
                assertTrue(error.contains(cases[i][2]), cases[i][1] + ": " + error);
            }
            String error;
            TestServers.repository(dir, "builtin", TestServers.digitsConfig("\"max_batch_size\": 0"));
            error = RepositoryTest.loadError(client, "builtin");
            assertTrue(error.contains("max_batch_size 0 (no batch dim) is for ONNX models; the digits architecture is batched"), error);
            assertEquals(200, client.get("/v2/models/digits/ready").status(), "the served model after refused loads");
        }
    }
}
