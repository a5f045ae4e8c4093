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

/** Concurrent requests are merged into batches, and each caller gets exactly its own rows back. */
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
        // A long queue delay (300 ms) and one instance so that requests sent together are merged.
        String config = TestServers.digitsConfig("\"max_batch_size\": 16, \"max_queue_delay_us\": 300000, \"instances\": 1");
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
}
