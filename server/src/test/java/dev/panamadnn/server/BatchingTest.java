package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Concurrent requests are merged into batches, and each caller gets exactly its own rows back. The adaptive delay (the
 * default) runs a lone request at once however long the delay, still merges what is queued, and waits for a request
 * that is on its way in; a fixed delay holds a lone request for the whole delay.
 */
class BatchingTest {
    @TempDir
    Path dir;

    /** The value of the first metric line starting with {@code prefix} (Prometheus text), or NaN. */
    static double metric(V2Client client, String prefix) throws Exception {
        for (String line : client.get("/metrics").text().split("\n")) {
            if (line.startsWith(prefix)) return Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
        }
        return Double.NaN;
    }

    @Test
    void concurrentRequestsOfMixedSizesAreMergedWithoutCrossTalk() throws Exception {
        // A long fixed queue delay (300 ms) and one instance so that requests sent together are merged.
        String config = TestServers.digitsConfig("\"max_batch_size\": 16, \"max_queue_delay_us\": 300000, \"adaptive_delay\": false, \"instances\": 1");
        try (InferenceServer server = TestServers.start(TestServers.repository(dir, "digits", config));
             TestServers.Reference reference = new TestServers.Reference();
             var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            V2Client client = TestServers.client(server);
            int requests = 12;
            CountDownLatch go = new CountDownLatch(1);
            List<Future<float[]>> answers = new ArrayList<>();
            List<float[]> inputs = new ArrayList<>();
            for (int i = 0; i < requests; i++) {
                int rows = 1 + i % 3;   // 1, 2 or 3 rows: 24 rows in all, so at least two batches
                float[] images = TestServers.images(i * 3, rows);
                inputs.add(images);
                answers.add(pool.submit(() -> {
                    go.await();
                    return client.infer("digits", "input", images, rows, 1, 8, 8);
                }));
            }
            go.countDown();
            for (int i = 0; i < requests; i++) {
                reference.assertMatches(inputs.get(i), answers.get(i).get(), "request " + i);
            }
            double batches = metric(client, "pdnn_batch_size_count{model=\"digits\"");
            double largest = metric(client, "pdnn_batch_size_max{model=\"digits\"");
            assertTrue(batches < requests, requests + " requests ran as " + batches + " batches: nothing was merged");
            assertTrue(largest > 3, "the largest batch had " + largest + " rows: no two requests were merged");
            assertEquals(24, metric(client, "pdnn_batch_size_sum{model=\"digits\""), 0, "rows run");
        }
    }

    @Test
    void withoutDelayASingleRequestRunsAlone() throws Exception {
        String config = TestServers.digitsConfig("\"max_batch_size\": 8, \"max_queue_delay_us\": 0, \"instances\": 1");
        try (InferenceServer server = TestServers.start(TestServers.repository(dir, "digits", config));
             TestServers.Reference reference = new TestServers.Reference()) {
            V2Client client = TestServers.client(server);
            for (int i = 0; i < 3; i++) {
                float[] images = TestServers.images(40 + i, 3);   // 3 rows run on the padded 4-row plan
                reference.assertMatches(images, client.infer("digits", "input", images, 3, 1, 8, 8), "sequential request " + i);
            }
            assertEquals(3, metric(client, "pdnn_batch_size_count{model=\"digits\""), 0, "batches");
            assertEquals(3, metric(client, "pdnn_padded_rows_sum{model=\"digits\""), 0, "zero rows padded (1 per run)");
        }
    }

    /** A request's images as the little-endian FP32 bytes the batcher takes. */
    static byte[][] bytes(float[] images) {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(4 * images.length).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        for (float f : images) b.putFloat(f);
        return new byte[][] {b.array()};
    }

    @Test
    void anAdaptiveDelayRunsALoneRequestAtOnce() throws Exception {
        // a 10 s delay: a fixed one would hold each of these requests for 10 s
        String config = TestServers.digitsConfig("\"max_batch_size\": 8, \"max_queue_delay_us\": 10000000, \"instances\": 1");
        try (InferenceServer server = TestServers.start(TestServers.repository(dir, "digits", config));
             TestServers.Reference reference = new TestServers.Reference()) {
            V2Client client = TestServers.client(server);
            for (int i = 0; i < 3; i++) {
                float[] images = TestServers.images(20 + i, 2);
                long start = System.nanoTime();
                reference.assertMatches(images, client.infer("digits", "input", images, 2, 1, 8, 8), "request " + i);
                double seconds = (System.nanoTime() - start) / 1e9;
                assertTrue(seconds < 5, "request " + i + " took " + seconds + " s: held for the 10 s delay with nothing else to wait for");
            }
            assertEquals(3, metric(client, "pdnn_batch_size_count{model=\"digits\""), 0, "each ran alone");
            assertTrue(metric(client, "pdnn_queue_latency_seconds_max{model=\"digits\"") < 5, "queue wait");
        }
    }

    @Test
    void aFixedDelayHoldsALoneRequestForTheWholeDelay() throws Exception {
        String config = TestServers.digitsConfig("\"max_batch_size\": 8, \"max_queue_delay_us\": 300000, \"adaptive_delay\": false, \"instances\": 1");
        try (InferenceServer server = TestServers.start(TestServers.repository(dir, "digits", config));
             TestServers.Reference reference = new TestServers.Reference()) {
            V2Client client = TestServers.client(server);
            float[] images = TestServers.images(30, 1);
            reference.assertMatches(images, client.infer("digits", "input", images, 1, 1, 8, 8), "the request");
            double waited = metric(client, "pdnn_queue_latency_seconds_max{model=\"digits\"");
            assertTrue(waited >= 0.29, "a fixed 300 ms delay: the lone request waited " + waited + " s before its run");
        }
    }

    @Test
    void anAdaptiveDelayMergesWhatIsQueued() throws Exception {
        String config = TestServers.digitsConfig("\"max_batch_size\": 8, \"max_queue_delay_us\": 10000000, \"instances\": 1");
        try (InferenceServer server = TestServers.start(TestServers.repository(dir, "digits", config));
             TestServers.Reference reference = new TestServers.Reference();
             var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            V2Client client = TestServers.client(server);
            ServedModel m = QueueTest.hold(server);
            List<Future<float[]>> answers = new ArrayList<>();
            for (int i = 0; i < 6; i++) {
                float[] images = TestServers.images(50 + i, 1);
                answers.add(pool.submit(() -> client.infer("digits", "input", images, 1, 1, 8, 8)));
            }
            QueueTest.awaitQueue(m, 6);
            m.pause(false);
            for (int i = 0; i < 6; i++) reference.assertMatches(TestServers.images(50 + i, 1), answers.get(i).get(), "request " + i);
            assertEquals(1, metric(client, "pdnn_batch_size_count{model=\"digits\""), 0, "the six queued requests ran as one batch");
            assertEquals(6, metric(client, "pdnn_batch_size_max{model=\"digits\""), 0, "rows in it");
        }
    }

    /** A request on its way in (received, not yet queued) holds the batch open: the one queued waits for it and they run together. */
    @Test
    void anAdaptiveDelayWaitsForARequestOnItsWayIn() throws Exception {
        String config = TestServers.digitsConfig("\"max_batch_size\": 8, \"max_queue_delay_us\": 10000000, \"instances\": 1");
        try (InferenceServer server = TestServers.start(TestServers.repository(dir, "digits", config));
             TestServers.Reference reference = new TestServers.Reference()) {
            V2Client client = TestServers.client(server);
            ServedModel m = server.model("digits");
            long deadline = System.nanoTime() + 60_000_000_000L;
            float[] first = TestServers.images(60, 2), second = TestServers.images(62, 1);
            java.util.concurrent.CompletableFuture<Batcher.Result> a, b;
            try (ServedModel.Arrival coming = m.arrive()) {   // as the HTTP layer marks a request it is still reading
                a = m.submit(bytes(first), 2, DIGIT, deadline, () -> true);
                Thread.sleep(200);   // the worker holds the first request open while the second is on its way
                assertTrue(!a.isDone(), "the first request ran without waiting for the one on its way in");
                b = m.submit(bytes(second), 1, DIGIT, deadline, () -> true);
            }
            reference.assertMatches(first, floats(a.get().data()), "first");
            reference.assertMatches(second, floats(b.get().data()), "second");
            assertEquals(1, metric(client, "pdnn_batch_size_count{model=\"digits\""), 0, "one batch");
            assertEquals(3, metric(client, "pdnn_batch_size_max{model=\"digits\""), 0, "of both requests' rows");
        }
    }

    /** The digits model's one input shape, per sample. */
    static final long[][] DIGIT = {{1, 8, 8}};

    static float[] floats(byte[][] out) {
        java.nio.FloatBuffer f = java.nio.ByteBuffer.wrap(out[0]).order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[] a = new float[f.remaining()];
        f.get(a);
        return a;
    }
}
