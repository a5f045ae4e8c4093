package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The repository extension under load: reloading model a swaps it without failing a single request
 * of it, and unloading/loading b answers b's requests with 200 (correct), 404 (unloaded) or 503
 * (draining) only, while a is never disturbed.
 */
class ReloadTest {
    @TempDir
    Path dir;

    @Test
    void unloadAndLoadUnderLoadDropNothingElse() throws Exception {
        String config = TestServers.digitsConfig("\"max_batch_size\": 4, \"max_queue_delay_us\": 1000, \"max_queue_size\": 1000");
        try (InferenceServer server = TestServers.start(TestServers.repository(dir, "a", config, "b", config));
             TestServers.Reference reference = new TestServers.Reference();
             var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            V2Client client = TestServers.client(server);
            float[] images = TestServers.images(7, 1);
            float[] expected = reference.logits(images);
            String body = V2Client.inferJson("input", images, 1, 1, 8, 8);
            AtomicBoolean stop = new AtomicBoolean();
            Map<String, Set<Integer>> statuses = new ConcurrentHashMap<>();
            AtomicInteger answered = new AtomicInteger();
            List<Future<?>> load = new ArrayList<>();
            for (int t = 0; t < 6; t++) {
                String model = t % 2 == 0 ? "a" : "b";
                load.add(pool.submit(() -> {
                    while (!stop.get()) {
                        V2Client.Response r = client.post("/v2/models/" + model + "/infer", body);
                        statuses.computeIfAbsent(model, k -> ConcurrentHashMap.newKeySet()).add(r.status());
                        if (r.status() == 200) reference.assertMatches(images, V2Client.outputData((JsonObject) r.json()), model);
                        answered.incrementAndGet();
                    }
                    return null;
                }));
            }
            Thread.sleep(200);
            for (int round = 0; round < 2; round++) {
                assertEquals(200, client.post("/v2/repository/models/b/unload", "").status());
                assertEquals("[{\"name\":\"a\",\"version\":\"1\",\"state\":\"READY\"},{\"name\":\"b\",\"version\":\"1\",\"state\":\"UNAVAILABLE\",\"reason\":\"unloaded\"}]",
                        client.post("/v2/repository/index", "").json().toString());
                Thread.sleep(100);
                assertEquals(200, client.post("/v2/repository/models/b/load", "").status());
                assertEquals(200, client.post("/v2/repository/models/a/load", "").status(), "reload of a while it serves");
                Thread.sleep(100);
            }
            stop.set(true);
            for (Future<?> f : load) f.get();
            assertEquals(Set.of(200), statuses.get("a"), "model a's statuses while a and b were reloaded");
            assertTrue(Set.of(200, 404, 503).containsAll(statuses.get("b")), "model b's statuses: " + statuses.get("b"));
            assertTrue(statuses.get("b").contains(200), "b answered nothing");
            assertTrue(answered.get() > 20, "only " + answered.get() + " requests answered");
            assertEquals(expected.length, client.infer("b", "input", images, 1, 1, 8, 8).length);
        }
    }
}
