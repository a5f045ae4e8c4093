package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading from the repository: a model directory that cannot be served is refused with a message
 * that names the problem (400), the server keeps serving the others, and a server whose start-up
 * model is broken does not start.
 */
class RepositoryTest {
    @TempDir
    Path dir;

    static String loadError(V2Client client, String name) throws Exception {
        V2Client.Response r = client.post("/v2/repository/models/" + name + "/load", "");
        assertEquals(400, r.status(), name + ": " + r.text());
        return ((JsonObject) r.json()).getString("error");
    }

    @Test
    void unservableDirectoriesAreRefusedByName() throws Exception {
        TestServers.repository(dir, "digits", TestServers.digitsConfig(""));
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            Path onnx = Files.createDirectories(dir.resolve("onnx1"));
            Files.writeString(onnx.resolve("config.json"), TestServers.digitsConfig(""));
            Files.write(onnx.resolve("model.onnx"), new byte[16]);
            String onnxError = loadError(client, "onnx1");
            assertTrue(onnxError.contains("cannot load model 'onnx1'") && onnxError.contains("model.onnx"), onnxError);

            TestServers.repository(dir, "resnet99", TestServers.digitsConfig("").replace("\"digits\"", "\"resnet99\""));
            assertTrue(loadError(client, "resnet99").contains("unknown architecture 'resnet99'"), "architecture");

            TestServers.repository(dir, "broken", "{\"architecture\": ");
            assertTrue(loadError(client, "broken").contains("config.json: not a JSON object"), "malformed config");

            TestServers.repository(dir, "nobatch", TestServers.digitsConfig("").replace("[-1, 1, 8, 8]", "[1, 1, 8, 8]"));
            assertTrue(loadError(client, "nobatch").contains("symbolic batch"), "fixed batch");

            TestServers.repository(dir, "variable", TestServers.digitsConfig("").replace("[-1, 1, 8, 8]", "[-1, 1, -1, 8]"));
            assertTrue(loadError(client, "variable").contains("inputs[0].shape[2] must be a positive size"), "a -1 dim for a built-in architecture");
            TestServers.repository(dir, "shapes", TestServers.digitsConfig("\"max_shapes\": 4"));
            assertTrue(loadError(client, "shapes").contains("max_shapes is for ONNX models with variable dims"), "max_shapes for a built-in architecture");
            OnnxServingTest.onnxModel(dir, "shapes0", "{\"max_shapes\": 0}");
            assertTrue(loadError(client, "shapes0").contains("max_shapes must be in [1, 1024], got 0"), "max_shapes 0");

            TestServers.repository(dir, "r18", TestServers.digitsConfig("").replace("\"digits\"", "\"resnet18\""));
            assertTrue(loadError(client, "r18").contains("cannot load model 'r18'"), "digits weights for a resnet18");

            assertEquals(200, client.get("/v2/models/digits/ready").status(), "the served model after refused loads");
            assertEquals(404, client.get("/v2/models/onnx1/ready").status());
            assertTrue(client.post("/v2/repository/index", "").text().contains("{\"name\":\"onnx1\",\"version\":\"1\",\"state\":\"UNAVAILABLE\""));
        }
    }

    @Test
    void exitWhenReadyLoadsWarmsAndStopsListening() throws Exception {
        TestServers.repository(dir, "digits", TestServers.digitsConfig(""));
        int port;
        try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        String[] args = {"--models", dir.toString(), "--port", String.valueOf(port), "--no-access-log", "--exit-when-ready"};
        Main.main(args);   // returns once every model is ready, the server stopped
        try (java.net.ServerSocket again = new java.net.ServerSocket(port)) {   // the server closed its socket
            assertEquals(port, again.getLocalPort());
        }
    }

    @Test
    void aBrokenModelStopsTheStart() throws Exception {
        TestServers.repository(dir, "digits", TestServers.digitsConfig("\"max_batch_size\": 0"));
        ApiException e = assertThrows(ApiException.class, () -> TestServers.start(dir));
        assertTrue(e.getMessage().contains("max_batch_size 0 (no batch dim) is for ONNX models; the digits architecture is batched: max_batch_size must be in [1, 1024]"), e.getMessage());
    }

    @Test
    void noThreadsPerInstanceIsRefusedByNameNotDividedBy() throws Exception {
        // with instances left to their default (cores / threads): it divided by zero, a 500 on a repository load
        // (ConfigFuzzTest with -Dpanamadnn.server.fuzzSeed=57001)
        for (String threads : new String[] {"0", "-2"}) {
            TestServers.repository(dir, "digits", TestServers.digitsConfig("\"threads_per_instance\": " + threads));
            ApiException e = assertThrows(ApiException.class, () -> TestServers.start(dir));
            assertTrue(e.getMessage().contains("threads_per_instance must be in [1, 256], got " + threads), e.getMessage());
        }
    }

    @Test
    void moreThreadsInAllThanOneProcessShouldStartAreRefused() throws Exception {
        TestServers.repository(dir, "digits", TestServers.digitsConfig("\"instances\": 64, \"threads_per_instance\": 256"));
        ApiException e = assertThrows(ApiException.class, () -> TestServers.start(dir));
        assertTrue(e.getMessage().contains("instances x threads_per_instance must be at most 1024 threads, got 64 x 256"), e.getMessage());
    }
}
