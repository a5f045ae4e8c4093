package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backpressure and lifecycle: a full queue answers 503 with Retry-After at once and loses no accepted
 * request; a request past its deadline gets 504 and is dropped before compute; shutting down answers
 * every accepted request before the plans close. The batcher's workers are held (a test seam) so
 * the queue fills deterministically.
 */
class QueueTest {
    @TempDir
    Path dir;

    static final String CONFIG = TestServers.digitsConfig("\"max_batch_size\": 1, \"max_queue_size\": 4, \"instances\": 1, \"max_queue_delay_us\": 0");

    /** Holds the model's workers and waits until one in a blocking poll has surely given up. */
    static ServedModel hold(InferenceServer server) throws InterruptedException {
        ServedModel m = server.model("digits");
        m.pause(true);
        Thread.sleep(120);   // a worker already polling (50 ms timeout) returns empty and then waits
        return m;
    }

    static void awaitQueue(ServedModel m, int depth) throws InterruptedException {
        for (int i = 0; i < 2000 && m.queueDepth() < depth; i++) Thread.sleep(5);
        assertEquals(depth, m.queueDepth(), "queued requests");
    }

    @Test
    void fullQueueAnswers503AtOnceAndLosesNoAcceptedRequest() throws Exception {
        try (InferenceServer server = TestServers.start(TestServers.repository(dir, "digits", CONFIG));
             TestServers.Reference reference = new TestServers.Reference();
             var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            V2Client client = TestServers.client(server);
            ServedModel m = hold(server);
            List<Future<V2Client.Response>> accepted = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String body = V2Client.inferJson("input", TestServers.images(i, 1), 1, 1, 8, 8);
                accepted.add(pool.submit(() -> client.post("/v2/models/digits/infer", body)));
            }
            awaitQueue(m, 4);
            for (int i = 0; i < 3; i++) {   // the queue is full: refused at once, while the workers are still held
                V2Client.Response r = client.post("/v2/models/digits/infer", V2Client.inferJson("input", TestServers.images(9, 1), 1, 1, 8, 8));
                assertEquals(503, r.status(), r.text());
                assertEquals("1", r.header("Retry-After"));
                assertTrue(((JsonObject) r.json()).getString("error").contains("queue full (4 requests waiting)"), r.text());
            }
            m.pause(false);
            for (int i = 0; i < 4; i++) {
                V2Client.Response r = accepted.get(i).get();
                assertEquals(200, r.status(), "accepted request " + i + ": " + r.text());
                reference.assertMatches(TestServers.images(i, 1), V2Client.outputData((JsonObject) r.json()), "accepted request " + i);
            }
        }
    }

    @Test
    void pastItsDeadlineA504AndNoCompute() throws Exception {
        try (InferenceServer server = TestServers.start(TestServers.repository(dir, "digits", CONFIG))) {
            V2Client client = TestServers.client(server);
            ServedModel m = hold(server);
            String body = V2Client.inferJson("input", TestServers.images(0, 1), 1, 1, 8, 8);
            long t0 = System.nanoTime();
            V2Client.Response r = client.post("/v2/models/digits/infer", body.getBytes(), Map.of("Inference-Timeout-Ms", "150"));
            long ms = (System.nanoTime() - t0) / 1_000_000;
            assertEquals(504, r.status(), r.text());
            assertTrue(((JsonObject) r.json()).getString("error").contains("deadline exceeded"), r.text());
            assertTrue(ms >= 150 && ms < 5000, "answered after " + ms + " ms");
            V2Client.Response p = client.post("/v2/models/digits/infer", "{\"parameters\":{\"timeout_ms\":100}," + body.substring(1));
            assertEquals(504, p.status(), "timeout_ms parameter: " + p.text());
            m.pause(false);
            for (int i = 0; i < 200 && m.queueDepth() > 0; i++) Thread.sleep(5);
            Thread.sleep(50);
            assertTrue(Double.isNaN(BatchingTest.metric(client, "pdnn_batch_size_count{model=\"digits\"")),
                    "a request past its deadline was computed anyway");
            assertEquals(200, client.post("/v2/models/digits/infer", body).status(), "a request with the default deadline");
        }
    }

    @Test
    void shutdownAnswersEveryAcceptedRequestThenCloses() throws Exception {
        InferenceServer server = TestServers.start(TestServers.repository(dir, "digits", CONFIG));
        try (TestServers.Reference reference = new TestServers.Reference(); var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            V2Client client = TestServers.client(server);
            ServedModel m = hold(server);
            List<Future<V2Client.Response>> accepted = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                String body = V2Client.inferJson("input", TestServers.images(20 + i, 1), 1, 1, 8, 8);
                accepted.add(pool.submit(() -> client.post("/v2/models/digits/infer", body)));
            }
            awaitQueue(m, 4);
            Future<?> closing = pool.submit(server::close);
            for (int i = 0; i < 200 && !server.isClosing(); i++) Thread.sleep(5);
            assertEquals(400, client.get("/v2/health/ready").status(), "ready while shutting down");
            V2Client.Response late = client.post("/v2/models/digits/infer", V2Client.inferJson("input", TestServers.images(0, 1), 1, 1, 8, 8));
            assertEquals(503, late.status(), "a request after shutdown began: " + late.text());
            m.pause(false);
            for (int i = 0; i < 4; i++) {
                V2Client.Response r = accepted.get(i).get();
                assertEquals(200, r.status(), "accepted request " + i + ": " + r.text());
                reference.assertMatches(TestServers.images(20 + i, 1), V2Client.outputData((JsonObject) r.json()), "accepted request " + i);
            }
            closing.get();
            assertEquals(null, server.model("digits"), "the model is still registered after close");
        } finally {
            server.close();
        }
    }
}
