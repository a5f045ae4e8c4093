package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonArray;
import jakarta.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every endpoint's reply against the Open Inference Protocol (REST) and its extensions' shapes. */
class ProtocolTest {
    @TempDir
    static Path dir;
    static InferenceServer server;
    static V2Client client;
    static TestServers.Reference reference;

    @BeforeAll
    static void start() throws Exception {
        server = TestServers.start(TestServers.repository(dir, "digits", TestServers.digitsConfig("\"max_batch_size\": 8")));
        client = TestServers.client(server);
        reference = new TestServers.Reference();
    }

    @AfterAll
    static void stop() {
        server.close();
        reference.close();
    }

    @Test
    void serverMetadataNamesVersionAndExtensions() throws Exception {
        V2Client.Response r = client.get("/v2");
        assertEquals(200, r.status());
        JsonObject o = (JsonObject) r.json();
        assertEquals("panama-dnn", o.getString("name"));
        assertTrue(o.getString("version").matches("\\d+\\.\\d+\\.\\d+"), o.toString());
        assertEquals(List.of("binary_tensor_data", "model_repository"), o.getJsonArray("extensions").getValuesAs(jakarta.json.JsonString::getString));
    }

    @Test
    void healthIsLiveAndReadyWithEmptyBodies() throws Exception {
        for (String path : List.of("/v2/health/live", "/v2/health/ready", "/v2/models/digits/ready", "/v2/models/digits/versions/1/ready")) {
            V2Client.Response r = client.get(path);
            assertEquals(200, r.status(), path);
            assertEquals(0, r.body().length, path + " body");
        }
        assertEquals(404, client.get("/v2/models/nope/ready").status());
    }

    @Test
    void modelMetadataHasSymbolicBatchShapes() throws Exception {
        for (String path : List.of("/v2/models/digits", "/v2/models/digits/versions/1")) {
            JsonObject o = (JsonObject) client.get(path).json();
            assertEquals("digits", o.getString("name"));
            assertEquals("[\"1\"]", o.getJsonArray("versions").toString());
            assertEquals("panama-dnn_digits", o.getString("platform"));
            JsonObject in = o.getJsonArray("inputs").getJsonObject(0), out = o.getJsonArray("outputs").getJsonObject(0);
            assertEquals("{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,1,8,8]}", in.toString());
            assertEquals("{\"name\":\"logits\",\"datatype\":\"FP32\",\"shape\":[-1,10]}", out.toString());
        }
        V2Client.Response r = client.get("/v2/models/digits/versions/2");
        assertEquals(404, r.status());
        assertTrue(((JsonObject) r.json()).getString("error").contains("no version '2'"), r.text());
    }

    @Test
    void inferJsonFlatAndNestedEqualTheInProcessPlan() throws Exception {
        float[] images = TestServers.images(0, 3);
        V2Client.Response r = client.post("/v2/models/digits/infer", "{\"id\": \"req-7\", " + V2Client.inferJson("input", images, 3, 1, 8, 8).substring(1));
        assertEquals(200, r.status(), r.text());
        JsonObject o = (JsonObject) r.json();
        assertEquals("digits", o.getString("model_name"));
        assertEquals("1", o.getString("model_version"));
        assertEquals("req-7", o.getString("id"));
        JsonObject out = o.getJsonArray("outputs").getJsonObject(0);
        assertEquals("logits", out.getString("name"));
        assertEquals("[3,10]", out.getJsonArray("shape").toString());
        assertEquals("FP32", out.getString("datatype"));
        reference.assertMatches(images, V2Client.outputData(o), "flat data");

        StringBuilder nested = new StringBuilder("[");   // [1][1][8][8] as nested arrays
        nested.append("[[");
        for (int y = 0; y < 8; y++) {
            nested.append(y > 0 ? "," : "").append('[');
            for (int x = 0; x < 8; x++) nested.append(x > 0 ? "," : "").append(images[y * 8 + x]);
            nested.append(']');
        }
        nested.append("]]]");
        V2Client.Response n = client.post("/v2/models/digits/infer",
                "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,8,8],\"datatype\":\"FP32\",\"data\":" + nested + "}],\"outputs\":[{\"name\":\"logits\"}]}");
        assertEquals(200, n.status(), n.text());
        reference.assertMatches(java.util.Arrays.copyOf(images, 64), V2Client.outputData((JsonObject) n.json()), "nested data");
    }

    @Test
    void binaryInputAndOutputRoundTrip() throws Exception {
        float[] images = TestServers.images(5, 2);
        byte[] header = ("{\"inputs\":[{\"name\":\"input\",\"shape\":[2,1,8,8],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":"
                + images.length * 4 + "}}],\"outputs\":[{\"name\":\"logits\",\"parameters\":{\"binary_data\":true}}]}").getBytes(StandardCharsets.UTF_8);
        ByteBuffer body = ByteBuffer.allocate(header.length + images.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        body.put(header).asFloatBuffer().put(images);
        V2Client.Response r = client.post("/v2/models/digits/infer", body.array(),
                Map.of("Inference-Header-Content-Length", Integer.toString(header.length)));
        assertEquals(200, r.status(), r.text());
        int json = Integer.parseInt(r.header("Inference-Header-Content-Length"));
        JsonObject o = (JsonObject) new V2Client.Response(200, Map.of(), java.util.Arrays.copyOf(r.body(), json)).json();
        JsonObject out = o.getJsonArray("outputs").getJsonObject(0);
        assertEquals(80, out.getJsonObject("parameters").getInt("binary_data_size"));
        assertEquals("[2,10]", out.getJsonArray("shape").toString());
        assertEquals(json + 80, r.body().length);
        float[] logits = new float[20];
        ByteBuffer.wrap(r.body(), json, 80).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(logits);
        reference.assertMatches(images, logits, "binary output");
    }

    @Test
    void repositoryIndexListsStates() throws Exception {
        V2Client.Response r = client.post("/v2/repository/index", "{}");
        assertEquals(200, r.status());
        JsonArray a = (JsonArray) r.json();
        assertEquals("[{\"name\":\"digits\",\"version\":\"1\",\"state\":\"READY\"}]", a.toString());
    }

    @Test
    void metricsAreExposedInPrometheusText() throws Exception {
        client.infer("digits", "input", TestServers.images(0, 1), 1, 1, 8, 8);
        V2Client.Response r = client.get("/metrics");
        assertEquals(200, r.status());
        assertTrue(r.header("Content-Type").startsWith("text/plain"), r.header("Content-Type"));
        for (String metric : List.of("pdnn_requests_total{model=\"digits\",status=\"200\"}", "pdnn_request_latency_seconds_bucket",
                "pdnn_queue_latency_seconds_bucket", "pdnn_compute_latency_seconds_bucket", "pdnn_batch_size_bucket",
                "pdnn_queue_depth{model=\"digits\"}", "pdnn_inflight_requests", "pdnn_plans_compiled{model=\"digits\"} 4.0")) {
            assertTrue(r.text().contains(metric), "missing " + metric + " in\n" + r.text());
        }
        java.util.regex.Matcher bytes = java.util.regex.Pattern.compile("pdnn_constant_bytes\\{model=\"digits\"} (\\S+)").matcher(r.text());
        assertTrue(bytes.find(), "missing pdnn_constant_bytes in\n" + r.text());
        assertTrue(Double.parseDouble(bytes.group(1)) > 0, "the digits plans' constants: " + bytes.group(1) + " bytes");
    }
}
