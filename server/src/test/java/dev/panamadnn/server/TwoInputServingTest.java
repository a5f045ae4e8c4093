package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A model of two inputs: PyTorch's export of a small two-branch network (image [N,1,4,4] and
 * features [N,5] to scores [N,3]; scripts/goldens/export_two_input_onnx.py, random weights with a
 * fixed seed) served from model.onnx answers PyTorch's scores for the same inputs, as JSON and as
 * binary data, sent alone or batched with other requests (each input stacked separately, no
 * cross-talk); a request that leaves out an input, repeats one or disagrees on the batch size is
 * refused with a 400 naming it.
 */
class TwoInputServingTest {
    /**
     * Served vs PyTorch scores: float32 conv and GEMM in another summation order (oneDNN vs
     * PyTorch's CPU kernels) differ by ~1e-6 relative on values of order 1; 1e-4 still catches any
     * swapped, shifted or mixed-up input row (those move a score by order 0.1).
     */
    static final double TOLERANCE = 1e-4;

    @TempDir
    Path dir;

    record Case(int rows, float[] image, float[] features, float[] scores) {}

    static List<Case> goldens() throws Exception {
        try (InputStream in = TwoInputServingTest.class.getResourceAsStream("twoinput/goldens.json")) {
            JsonObject g = Json.createReader(in).readObject();
            List<Case> cases = new ArrayList<>();
            for (JsonObject c : g.getJsonArray("cases").getValuesAs(JsonObject.class)) {
                cases.add(new Case(c.getInt("rows"), floats(c.getJsonArray("image")), floats(c.getJsonArray("features")),
                        floats(c.getJsonArray("scores"))));
            }
            return cases;
        }
    }

    static float[] floats(JsonArray a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) f[i] = (float) a.getJsonNumber(i).doubleValue();
        return f;
    }

    Path repository(String config) throws Exception {
        Path m = Files.createDirectories(dir.resolve("twoin"));
        try (InputStream in = TwoInputServingTest.class.getResourceAsStream("twoinput/model.onnx")) {
            Files.copy(in, m.resolve("model.onnx"));
        }
        Files.writeString(m.resolve("config.json"), config);
        return dir;
    }

    static V2Client.Input[] inputs(Case c) {
        return new V2Client.Input[] {new V2Client.Input("image", c.image(), c.rows(), 1, 4, 4),
            new V2Client.Input("features", c.features(), c.rows(), 5)};
    }

    static void assertScores(Case c, float[] served, String what) {
        assertEquals(c.scores().length, served.length, what + ": output length");
        for (int i = 0; i < served.length; i++) assertEquals(c.scores()[i], served[i], TOLERANCE, what + ": score " + i + " differs from PyTorch's");
    }

    @Test
    void servesPyTorchsScoresAloneInEitherInputOrderAndAsBinary() throws Exception {
        try (InferenceServer server = TestServers.start(repository("{\"max_batch_size\": 4}"))) {
            V2Client client = TestServers.client(server);
            JsonObject meta = (JsonObject) client.get("/v2/models/twoin").json();
            assertEquals("[{\"name\":\"image\",\"datatype\":\"FP32\",\"shape\":[-1,1,4,4]},{\"name\":\"features\",\"datatype\":\"FP32\",\"shape\":[-1,5]}]",
                    meta.getJsonArray("inputs").toString());
            for (Case c : goldens()) {
                assertScores(c, client.infer("twoin", inputs(c)), c.rows() + " rows, JSON");
                V2Client.Input[] reversed = {inputs(c)[1], inputs(c)[0]};
                assertScores(c, client.infer("twoin", reversed), c.rows() + " rows, features sent first");
                assertScores(c, binary(client, c), c.rows() + " rows, binary inputs");
            }
        }
    }

    /** Both inputs as binary data after the JSON header (features first, to check the offsets follow the request's order). */
    static float[] binary(V2Client client, Case c) throws Exception {
        String header = "{\"inputs\":[{\"name\":\"features\",\"shape\":[" + c.rows() + ",5],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":"
                + c.features().length * 4 + "}},{\"name\":\"image\",\"shape\":[" + c.rows() + ",1,4,4],\"datatype\":\"FP32\",\"parameters\":"
                + "{\"binary_data_size\":" + c.image().length * 4 + "}}]}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(h.length + (c.features().length + c.image().length) * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put(h);
        for (float f : c.features()) b.putFloat(f);
        for (float f : c.image()) b.putFloat(f);
        V2Client.Response r = client.post("/v2/models/twoin/infer", b.array(), Map.of("Inference-Header-Content-Length", Integer.toString(h.length)));
        assertEquals(200, r.status(), r.text());
        return V2Client.outputData((JsonObject) r.json());
    }

    @Test
    void requestsBatchedTogetherEachGetTheirOwnScores() throws Exception {
        String config = "{\"max_batch_size\": 8, \"max_queue_delay_us\": 0, \"instances\": 1, \"max_queue_size\": 16}";
        try (InferenceServer server = TestServers.start(repository(config));
             var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            V2Client client = TestServers.client(server);
            ServedModel m = server.model("twoin");
            m.pause(true);
            Thread.sleep(120);   // a worker already polling gives up (as QueueTest.hold)
            List<Case> cases = goldens();   // 1 + 2 + 3 rows: one batch of 6 on the 8-row plan
            List<Future<float[]>> answers = new ArrayList<>();
            for (Case c : cases) answers.add(pool.submit(() -> client.infer("twoin", inputs(c))));
            for (int i = 0; i < 2000 && m.queueDepth() < cases.size(); i++) Thread.sleep(5);
            assertEquals(cases.size(), m.queueDepth(), "queued requests");
            m.pause(false);
            for (int i = 0; i < cases.size(); i++) assertScores(cases.get(i), answers.get(i).get(), "batched request " + i);
            assertEquals(1, BatchingTest.metric(client, "pdnn_batch_size_count{model=\"twoin\""), 0, "one batched run");
            assertEquals(6, BatchingTest.metric(client, "pdnn_batch_size_sum{model=\"twoin\""), 0, "rows in it");
        }
    }

    @Test
    void requestsThatMisstateTheInputsAreRefused() throws Exception {
        try (InferenceServer server = TestServers.start(repository("{\"max_batch_size\": 4}"))) {
            V2Client client = TestServers.client(server);
            Case c = goldens().get(1);   // 2 rows
            V2Client.Input image = inputs(c)[0], features = inputs(c)[1];
            String[][] bad = {
                {V2Client.inferJson(image), "takes 2 inputs [image, features], got 1"},
                {V2Client.inferJson(image, image), "input 'image' appears twice"},
                {V2Client.inferJson(image, new V2Client.Input("feature", c.features(), 2, 5)), "unknown input 'feature'"},
                {V2Client.inferJson(image, new V2Client.Input("features", new float[5], 1, 5)), "batch size 1 differs from input 'image''s 2"},
                {V2Client.inferJson(image, new V2Client.Input("features", c.features(), 2, 6)), "does not match the model's [N,5]"},
                {V2Client.inferJson(image, features, features), "takes 2 inputs"},
            };
            for (String[] b : bad) {
                V2Client.Response r = client.post("/v2/models/twoin/infer", b[0]);
                assertEquals(400, r.status(), b[1] + ": " + r.text());
                String error = ((JsonObject) r.json()).getString("error");
                assertTrue(error.contains(b[1]), "message '" + error + "' lacks '" + b[1] + "'");
            }
            assertScores(c, client.infer("twoin", image, features), "after the refused requests");
        }
    }
}
