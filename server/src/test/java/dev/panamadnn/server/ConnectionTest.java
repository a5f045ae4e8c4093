package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.StringReader;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP connection under a request: a request whose client disconnected while it was queued is
 * dropped before compute (and a connected one in the same batch still answered); watching for that
 * leaves keep-alive and pipelined requests on the connection intact; HTTP/1.0 is refused with 505
 * and a message saying to speak HTTP/1.1.
 */
class ConnectionTest {
    @TempDir
    Path dir;

    static final String CONFIG = TestServers.digitsConfig("\"max_batch_size\": 4, \"instances\": 1, \"max_queue_delay_us\": 0");

    /** A keep-alive infer request for {@code rows} images from {@code from}, as raw HTTP/1.1. */
    static byte[] request(int from, int rows, String version) throws IOException {
        byte[] body = V2Client.inferJson("input", TestServers.images(from, rows), rows, 1, 8, 8).getBytes(StandardCharsets.UTF_8);
        String head = "POST /v2/models/digits/infer " + version + "\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length + "\r\n\r\n";
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.write(head.getBytes(StandardCharsets.US_ASCII));
        b.write(body);
        return b.toByteArray();
    }

    /** Reads one HTTP response (status line, headers, Content-Length body) and returns {@code status + "\n" + body}. */
    static String response(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) throw new IOException("connection closed after " + head);
            head.append((char) c);
        }
        int length = 0;
        for (String line : head.toString().split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) length = Integer.parseInt(line.substring(15).trim());
        }
        String status = head.substring(0, head.indexOf("\r\n"));
        return status + "\n" + new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }

    static float[] logits(String response) {
        String body = response.substring(response.indexOf('\n') + 1);
        return V2Client.outputData(Json.createReader(new StringReader(body)).readObject());
    }

    @Test
    void aRequestWhoseClientLeftIsDroppedBeforeComputeAndItsBatchMateAnswered() throws Exception {
        try (InferenceServer server = TestServers.start(TestServers.repository(dir, "digits", CONFIG));
             TestServers.Reference reference = new TestServers.Reference();
             var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            V2Client client = TestServers.client(server);
            ServedModel m = QueueTest.hold(server);
            Socket leaving = new Socket("localhost", server.port());
            leaving.getOutputStream().write(request(0, 1, "HTTP/1.1"));
            QueueTest.awaitQueue(m, 1);
            float[] stayingImages = TestServers.images(5, 2);
            Future<float[]> staying = pool.submit(() -> client.infer("digits", "input", stayingImages, 2, 1, 8, 8));
            QueueTest.awaitQueue(m, 2);
            leaving.close();
            for (int i = 0; i < 2000 && m.disconnectedWaiting() < 1; i++) Thread.sleep(5);
            assertEquals(1, m.disconnectedWaiting(), "the closed connection is seen while its request is still queued");
            m.pause(false);
            reference.assertMatches(stayingImages, staying.get(), "the connected request batched with the dropped one");
            assertEquals(1, BatchingTest.metric(client, "pdnn_dropped_disconnected_total{model=\"digits\""), 0, "dropped requests");
            assertEquals(2, BatchingTest.metric(client, "pdnn_batch_size_sum{model=\"digits\""), 0,
                    "rows computed: only the connected request's 2, none of the dropped one's");
            for (int i = 0; i < 2000 && BatchingTest.metric(client, "pdnn_requests_total{model=\"digits\",status=\"499\"") != 1; i++) {
                Thread.sleep(5);
            }
            assertEquals(1, BatchingTest.metric(client, "pdnn_requests_total{model=\"digits\",status=\"499\"") , 0,
                    "the dropped request is counted as 499 (client closed request)");
        }
    }

    @Test
    void aClientThatLeavesMidBodyIsCountedAs499NotAsAServerFailure() throws Exception {
        try (InferenceServer server = TestServers.start(TestServers.repository(dir, "digits", CONFIG))) {
            V2Client client = TestServers.client(server);
            byte[] whole = request(0, 1, "HTTP/1.1");
            try (Socket leaving = new Socket("localhost", server.port())) {
                leaving.getOutputStream().write(java.util.Arrays.copyOf(whole, whole.length - 100));   // Content-Length promises 100 more
            }
            String status499 = "pdnn_requests_total{model=\"digits\",status=\"499\"";
            for (int i = 0; i < 2000 && Double.isNaN(BatchingTest.metric(client, status499)); i++) Thread.sleep(5);
            assertEquals(1, BatchingTest.metric(client, status499), 0, "the truncated request, counted as client gone");
            assertTrue(!client.get("/metrics").text().contains("status=\"500\""), "a truncated body was counted as a server failure");
            assertEquals(200, client.post("/v2/models/digits/infer", V2Client.inferJson("input", TestServers.images(1, 1), 1, 1, 8, 8)).status());
        }
    }

    @Test
    void keepAliveAndPipelinedRequestsStillWorkWhileConnectionsAreWatched() throws Exception {
        try (InferenceServer server = TestServers.start(TestServers.repository(dir, "digits", CONFIG));
             TestServers.Reference reference = new TestServers.Reference();
             Socket socket = new Socket("localhost", server.port())) {
            socket.setSoTimeout(30_000);
            var out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            for (int i = 0; i < 3; i++) {   // one after another on the same connection
                out.write(request(10 + i, 1, "HTTP/1.1"));
                String r = response(in);
                assertTrue(r.startsWith("HTTP/1.1 200"), "keep-alive request " + i + ": " + r);
                reference.assertMatches(TestServers.images(10 + i, 1), logits(r), "keep-alive request " + i);
            }
            ByteArrayOutputStream two = new ByteArrayOutputStream();   // pipelined: the second arrives while the first waits
            two.write(request(20, 1, "HTTP/1.1"));
            two.write(request(21, 3, "HTTP/1.1"));
            out.write(two.toByteArray());
            String first = response(in), second = response(in);
            reference.assertMatches(TestServers.images(20, 1), logits(first), "first pipelined request");
            reference.assertMatches(TestServers.images(21, 3), logits(second), "second pipelined request");
            assertEquals(0, BatchingTest.metric(TestServers.client(server), "pdnn_dropped_disconnected_total{model=\"digits\""), 0,
                    "no request of a live connection was dropped");
        }
    }

    @Test
    void http10IsRefusedWith505AndTheRemedy() throws Exception {
        try (InferenceServer server = TestServers.start(TestServers.repository(dir, "digits", CONFIG));
             Socket socket = new Socket("localhost", server.port())) {
            socket.setSoTimeout(30_000);
            socket.getOutputStream().write(request(0, 1, "HTTP/1.0"));
            String r = response(socket.getInputStream());
            assertTrue(r.startsWith("HTTP/1.1 505"), r);
            String error = ((JsonObject) Json.createReader(new StringReader(r.substring(r.indexOf('\n') + 1))).readObject()).getString("error");
            assertTrue(error.contains("speaks HTTP/1.1") && error.contains("proxy_http_version 1.1"), error);
            assertEquals(200, TestServers.client(server).get("/v2/health/ready").status(), "the server after an HTTP/1.0 request");
        }
    }
}
