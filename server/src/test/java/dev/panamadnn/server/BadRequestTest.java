package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.JsonObject;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad requests: each gets its 4xx status and a {@code {"error": ...}} naming what was wrong, never a
 * 500 or a stack trace; afterwards the server still answers a good request correctly.
 */
class BadRequestTest {
    @TempDir
    static Path dir;
    static InferenceServer server;
    static V2Client client;

    /** A bad request: the path, the body, extra headers, the expected status and a fragment of the message. */
    record Case(String label, String path, byte[] body, Map<String, String> headers, int status, String message) {
        @Override
        public String toString() {
            return label;
        }
    }

    @BeforeAll
    static void start() throws Exception {
        server = TestServers.start(TestServers.repository(dir, "digits", TestServers.digitsConfig("\"max_batch_size\": 4")));
        client = TestServers.client(server);
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    static final String INFER = "/v2/models/digits/infer";
    static final String ZEROS = zeros(64);

    static String zeros(int n) {
        return "[" + String.join(",", java.util.Collections.nCopies(n, "0")) + "]";
    }

    static String input(String name, String shape, String dtype, String data) {
        return "{\"inputs\":[{\"name\":" + name + ",\"shape\":" + shape + ",\"datatype\":" + dtype + ",\"data\":" + data + "}]}";
    }

    static Case json(String label, String body, int status, String message) {
        return new Case(label, INFER, body.getBytes(StandardCharsets.UTF_8), Map.of(), status, message);
    }

    /** A binary-extension request: JSON header, {@code floats} little-endian, the header length as given. */
    static Case binary(String label, String header, float[] floats, String headerLength, int status, String message) {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(h.length + floats.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        b.put(h).asFloatBuffer().put(floats);
        String len = headerLength != null ? headerLength : Integer.toString(h.length);
        return new Case(label, INFER, b.array(), Map.of("Inference-Header-Content-Length", len), status, message);
    }

    static String binaryHeader(long size) {
        return "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,8,8],\"datatype\":\"FP32\",\"parameters\":{\"binary_data_size\":" + size + "}}]}";
    }

    static Stream<Case> cases() {
        List<Case> c = new ArrayList<>();
        String ok = "\"input\"", shape = "[1,1,8,8]", fp32 = "\"FP32\"";
        c.add(json("empty body", "", 400, "empty request body"));
        c.add(json("malformed JSON", "{\"inputs\": [", 400, "malformed JSON"));
        c.add(json("trailing garbage", "{} x", 400, "JSON"));
        c.add(json("not JSON at all", "hello", 400, "JSON"));
        c.add(json("JSON array", "[1,2]", 400, "must be a JSON object"));
        c.add(json("JSON number", "42", 400, "must be a JSON object"));
        c.add(json("no inputs", "{}", 400, "\"inputs\" must be an array"));
        c.add(json("inputs an object", "{\"inputs\":{}}", 400, "\"inputs\" must be an array"));
        c.add(json("inputs empty", "{\"inputs\":[]}", 400, "takes 1 input"));
        c.add(json("two inputs", "{\"inputs\":[{},{}]}", 400, "takes 1 input"));
        c.add(json("input not an object", "{\"inputs\":[3]}", 400, "inputs[0] must be an object"));
        c.add(json("name missing", "{\"inputs\":[{\"shape\":[1,1,8,8],\"datatype\":\"FP32\",\"data\":" + ZEROS + "}]}", 400, "name must be a string"));
        c.add(json("name a number", input("5", shape, fp32, ZEROS), 400, "name must be a string"));
        c.add(json("wrong name", input("\"pixels\"", shape, fp32, ZEROS), 400, "unknown input 'pixels'"));
        c.add(json("datatype missing", "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,8,8],\"data\":" + ZEROS + "}]}", 400, "datatype must be a string"));
        c.add(json("datatype INT64", input(ok, shape, "\"INT64\"", ZEROS), 400, "datatype INT64 does not match the model's FP32"));
        c.add(json("datatype FP16", input(ok, shape, "\"FP16\"", ZEROS), 400, "datatype FP16"));
        c.add(json("datatype BYTES", input(ok, shape, "\"BYTES\"", ZEROS), 400, "datatype BYTES"));
        c.add(json("datatype lower case", input(ok, shape, "\"fp32\"", ZEROS), 400, "datatype fp32"));
        c.add(json("shape missing", "{\"inputs\":[{\"name\":\"input\",\"datatype\":\"FP32\",\"data\":" + ZEROS + "}]}", 400, "shape must be an array"));
        c.add(json("shape a string", input(ok, "\"1,1,8,8\"", fp32, ZEROS), 400, "shape must be an array"));
        c.add(json("shape rank 3", input(ok, "[1,8,8]", fp32, ZEROS), 400, "has rank 3, expected 4"));
        c.add(json("shape rank 5", input(ok, "[1,1,1,8,8]", fp32, ZEROS), 400, "has rank 5"));
        c.add(json("shape wrong sample", input(ok, "[1,1,4,16]", fp32, ZEROS), 400, "does not match the model's [N,1,8,8]"));
        c.add(json("shape fractional", input(ok, "[1,1,8,8.5]", fp32, ZEROS), 400, "non-integer dim"));
        c.add(json("shape string dim", input(ok, "[\"N\",1,8,8]", fp32, ZEROS), 400, "non-integer dim"));
        c.add(json("batch 0", input(ok, "[0,1,8,8]", fp32, "[]"), 400, "batch size must be >= 1"));
        c.add(json("batch negative", input(ok, "[-1,1,8,8]", fp32, ZEROS), 400, "batch size must be >= 1"));
        c.add(json("batch over max", input(ok, "[5,1,8,8]", fp32, zeros(320)), 400, "exceeds max_batch_size 4"));
        // batch sizes past a long were reported as "got -1"; the message now quotes what the client sent
        c.add(json("batch 2^63-1", input(ok, "[9223372036854775807,1,8,8]", fp32, ZEROS), 400,
                "batch size 9223372036854775807 exceeds max_batch_size 4"));
        c.add(json("batch past a long", input(ok, "[99999999999999999999999,1,8,8]", fp32, ZEROS), 400,
                "batch size 99999999999999999999999 exceeds max_batch_size 4"));
        c.add(json("batch below a long", input(ok, "[-99999999999999999999999,1,8,8]", fp32, ZEROS), 400,
                "batch size must be >= 1, got -99999999999999999999999"));
        c.add(json("batch huge", input(ok, "[99999999999999999999,1,8,8]", fp32, ZEROS), 400, "batch size"));
        c.add(json("data missing", "{\"inputs\":[{\"name\":\"input\",\"shape\":[1,1,8,8],\"datatype\":\"FP32\"}]}", 400, "no \"data\""));
        c.add(json("data too short", input(ok, shape, fp32, zeros(63)), 400, "data has 63 elements, shape [1,1,8,8] needs 64"));
        c.add(json("data too long", input(ok, shape, fp32, zeros(65)), 400, "data has 65 elements"));
        c.add(json("data for 2 rows, shape says 1", input(ok, shape, fp32, zeros(128)), 400, "data has 128 elements"));
        c.add(json("data a string element", input(ok, shape, fp32, ZEROS.replaceFirst("0", "\"0\"")), 400, "data element 0 is STRING"));
        c.add(json("data a null element", input(ok, shape, fp32, ZEROS.replaceFirst("0", "null")), 400, "is NULL, not a number"));
        c.add(json("data a boolean", input(ok, shape, fp32, ZEROS.replaceFirst("0", "true")), 400, "is TRUE, not a number"));
        c.add(json("data \"NaN\" string", input(ok, shape, fp32, ZEROS.replaceFirst("0", "\"NaN\"")), 400, "not a number"));
        c.add(json("data bare NaN token", input(ok, shape, fp32, ZEROS.replaceFirst("0", "NaN")), 400, "JSON"));
        c.add(json("data overflows FP32", input(ok, shape, fp32, ZEROS.replaceFirst("0", "1e39")), 400, "not a finite FP32 value"));
        c.add(json("data an object", input(ok, shape, fp32, "{\"a\":1}"), 400, "is OBJECT"));
        c.add(json("data nested too deep", input(ok, shape, fp32, "[".repeat(40) + "0" + "]".repeat(40)), 400, "nested deeper"));
        c.add(json("data nested 100000 deep", input(ok, shape, fp32, "[".repeat(100_000) + "0" + "]".repeat(100_000)), 400, ""));
        c.add(json("data a 5000-digit number", input(ok, shape, fp32, ZEROS.replaceFirst("0", "1" + "0".repeat(5000))), 400, ""));
        c.add(json("data a huge exponent", input(ok, shape, fp32, ZEROS.replaceFirst("0", "1e999999999")), 400, "not a finite FP32 value"));
        c.add(json("shape dim a huge exponent", input(ok, "[1e999999999,1,8,8]", fp32, ZEROS), 400, ""));
        c.add(json("shape dim 5000 digits", input(ok, "[1" + "0".repeat(5000) + ",1,8,8]", fp32, ZEROS), 400, ""));
        c.add(json("id a number", "{\"id\":5," + input(ok, shape, fp32, ZEROS).substring(1), 400, "\"id\" must be a string"));
        c.add(json("parameters an array", "{\"parameters\":[]," + input(ok, shape, fp32, ZEROS).substring(1), 400, "\"parameters\" must be an object"));
        c.add(json("timeout_ms zero", "{\"parameters\":{\"timeout_ms\":0}," + input(ok, shape, fp32, ZEROS).substring(1), 400, "timeout_ms must be >= 1"));
        c.add(json("timeout_ms text", "{\"parameters\":{\"timeout_ms\":\"soon\"}," + input(ok, shape, fp32, ZEROS).substring(1), 400, "timeout_ms must be an integer"));
        c.add(json("timeout_ms too long", "{\"parameters\":{\"timeout_ms\":99999999}," + input(ok, shape, fp32, ZEROS).substring(1), 400, "exceeds 600000"));
        c.add(json("outputs not an array", input(ok, shape, fp32, ZEROS).replace("}]}", "}],\"outputs\":{}}"), 400, "\"outputs\" must be an array"));
        c.add(json("unknown output", input(ok, shape, fp32, ZEROS).replace("}]}", "}],\"outputs\":[{\"name\":\"probs\"}]}"), 400, "unknown output 'probs'"));
        c.add(json("binary_data not boolean", input(ok, shape, fp32, ZEROS).replace("}]}", "}],\"outputs\":[{\"name\":\"logits\",\"parameters\":{\"binary_data\":1}}]}"), 400, "binary_data must be true or false"));
        float[] one = new float[64];
        c.add(binary("binary header length not a number", binaryHeader(256), one, "abc", 400, "Inference-Header-Content-Length must be an integer"));
        c.add(binary("binary header length negative", binaryHeader(256), one, "-4", 400, "must be >= 0"));
        c.add(binary("binary header length beyond body", binaryHeader(256), one, "100000", 400, "exceeds the body's"));
        c.add(binary("binary header length cuts the JSON", binaryHeader(256), one, "20", 400, "JSON"));
        c.add(binary("binary size lies (too small)", binaryHeader(128), one, null, 400, "binary_data_size 128 != 64 FP32 elements x 4 bytes"));
        c.add(binary("binary size not a number", binaryHeader(256).replace("256", "\"x\""), one, null, 400, "binary_data_size must be an integer"));
        c.add(binary("binary bytes missing", binaryHeader(256), new float[32], null, 400, "but 128 binary bytes follow"));
        c.add(binary("binary bytes extra", binaryHeader(256), new float[80], null, 400, "but 320 binary bytes follow"));
        c.add(binary("binary with data too", binaryHeader(256).replace("\"parameters\"", "\"data\":" + ZEROS + ",\"parameters\""), one, null, 400, "both \"data\" and a binary_data_size"));
        c.add(binary("binary bytes, no binary input", input(ok, shape, fp32, ZEROS), one, null, 400, "no input has a binary_data_size"));
        float[] nan = new float[64];
        nan[17] = Float.NaN;
        c.add(binary("binary NaN", binaryHeader(256), nan, null, 400, "binary element 17 is NaN"));
        float[] inf = new float[64];
        inf[3] = Float.NEGATIVE_INFINITY;
        c.add(binary("binary infinity", binaryHeader(256), inf, null, 400, "binary element 3 is -Infinity"));
        c.add(new Case("unknown model", "/v2/models/nope/infer", ZEROS.getBytes(), Map.of(), 404, "unknown model 'nope'"));
        c.add(new Case("unknown version", "/v2/models/digits/versions/9/infer", ZEROS.getBytes(), Map.of(), 404, "no version '9'"));
        c.add(new Case("unknown route", "/v2/nothing", new byte[0], Map.of(), 404, "no route POST /v2/nothing"));
        c.add(new Case("load a model not in the repository", "/v2/repository/models/ghost/load", new byte[0], Map.of(), 404, "no model 'ghost'"));
        c.add(new Case("load a path escape", "/v2/repository/models/..%2F..%2Fetc/load", new byte[0], Map.of(), 404, ""));
        c.add(new Case("unload a model not loaded", "/v2/repository/models/ghost/unload", new byte[0], Map.of(), 404, "is not loaded"));
        c.add(new Case("deadline header not a number", INFER, input(ok, shape, fp32, ZEROS).getBytes(), Map.of("Inference-Timeout-Ms", "later"), 400, "timeout_ms must be an integer"));
        return c.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void refusedWithStatusAndMessage(Case c) throws Exception {
        V2Client.Response r = client.post(c.path(), c.body(), c.headers());
        assertEquals(c.status(), r.status(), c.label() + ": " + r.text());
        assertFalse(r.text().contains("Exception") || r.text().contains("\tat "), c.label() + ": a stack trace reached the client: " + r.text());
        {
            String error = ((JsonObject) r.json()).getString("error");
            assertTrue(error.contains(c.message()), c.label() + ": message '" + error + "' lacks '" + c.message() + "'");
        }
    }

    /** Sends raw HTTP (the body over the limit may be refused before it is read, so no client library that insists on writing it). */
    static String raw(String head, byte[] body) throws Exception {
        try (java.net.Socket socket = new java.net.Socket("localhost", server.port())) {
            socket.setSoTimeout(10_000);
            var out = socket.getOutputStream();
            out.write(head.getBytes(StandardCharsets.US_ASCII));
            try {
                out.write(body);
                out.flush();
            } catch (java.io.IOException refusedEarly) {
                // the server answered and closed before the whole body was written: read its answer
            }
            return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void bodyOverTheLimitByContentLengthIs413() throws Exception {
        String reply = raw("POST " + INFER + " HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2000000\r\nConnection: close\r\n\r\n", new byte[0]);
        assertTrue(reply.startsWith("HTTP/1.1 413"), reply);
        assertTrue(reply.contains("{\"error\":\"request body exceeds the server's limit of 1048576 bytes\"}"), reply);
    }

    @Test
    void chunkedBodyOverTheLimitIs413() throws Exception {
        byte[] chunk = new byte[256 * 1024];
        Arrays.fill(chunk, (byte) ' ');
        java.io.ByteArrayOutputStream body = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < 6; i++) {   // 1.5 MiB in 256 KiB chunks
            body.write((Integer.toHexString(chunk.length) + "\r\n").getBytes(StandardCharsets.US_ASCII));
            body.write(chunk);
            body.write("\r\n".getBytes(StandardCharsets.US_ASCII));
        }
        body.write("0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        String reply = raw("POST " + INFER + " HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n", body.toByteArray());
        assertTrue(reply.startsWith("HTTP/1.1 413"), reply);
        assertTrue(reply.contains("\"error\":"), reply);
    }

    @Test
    void atLeastFortyBadRequests() {
        assertTrue(cases().count() >= 40, "cases: " + cases().count());
    }

    @Test
    void serverStillAnswersAfterEveryBadRequest() throws Exception {
        cases().forEach(c -> {
            try {
                client.post(c.path(), c.body(), c.headers());
            } catch (Exception e) {
                throw new AssertionError(c.label(), e);
            }
        });
        try (TestServers.Reference reference = new TestServers.Reference()) {
            float[] images = TestServers.images(9, 1);
            reference.assertMatches(images, client.infer("digits", "input", images, 1, 1, 8, 8), "after the bad requests");
        }
        assertTrue(client.get("/metrics").text().contains("pdnn_requests_total{model=\"digits\",status=\"400\"}"));
        String metrics = client.get("/metrics").text();
        assertFalse(metrics.contains("status=\"500\""), "a bad request was counted as a 500");
        assertFalse(metrics.contains("model=\"nope\""), "an unknown model name became a metric label");
    }
}
