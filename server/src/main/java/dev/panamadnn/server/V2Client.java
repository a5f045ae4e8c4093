package dev.panamadnn.server;

import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * A small Open Inference Protocol client on {@code java.net.http}, for tests and examples:
 * <pre>{@code
 * var client = new V2Client(URI.create("http://localhost:8080"));
 * float[] logits = client.infer("digits", "input", pixels, 1, 1, 8, 8);   // [1, 10]
 * }</pre>
 * Thread-safe (one {@link HttpClient}).
 */
public final class V2Client {
    /** A reply: status, headers and body. */
    public record Response(int status, Map<String, java.util.List<String>> headers, byte[] body) {
        /** The body as UTF-8 text. */
        public String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        /** The body parsed as JSON. */
        public JsonValue json() {
            try (var r = Jsonp.PROVIDER.createReader(new ByteArrayInputStream(body))) {
                return r.readValue();
            }
        }

        /** The first value of header {@code name} (case-insensitive), or null. */
        public String header(String name) {
            return headers.entrySet().stream().filter(e -> e.getKey().equalsIgnoreCase(name)).findFirst()
                    .map(e -> e.getValue().getFirst()).orElse(null);
        }
    }

    private final URI base;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    /** A client of the server at {@code base}, e.g. {@code http://localhost:8080}. */
    public V2Client(URI base) {
        this.base = base;
    }

    /** {@code GET path}. */
    public Response get(String path) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(base.resolve(path)).GET(), Map.of());
    }

    /** {@code POST path} with a JSON body. */
    public Response post(String path, String json) throws IOException, InterruptedException {
        return post(path, json.getBytes(StandardCharsets.UTF_8), Map.of("Content-Type", "application/json"));
    }

    /** {@code POST path} with raw bytes and extra headers (e.g. {@code Inference-Header-Content-Length}). */
    public Response post(String path, byte[] body, Map<String, String> headers) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(base.resolve(path)).POST(HttpRequest.BodyPublishers.ofByteArray(body)), headers);
    }

    /** One FP32 input of a request: its name, flat data and shape (batch first). */
    public record Input(String name, float[] data, long... shape) {}

    /** The v2 JSON request for one FP32 input {@code [shape]} with flat data. */
    public static String inferJson(String input, float[] data, long... shape) {
        return inferJson(new Input(input, data, shape));
    }

    /** The v2 JSON request for FP32 inputs, in the order given. */
    public static String inferJson(Input... inputs) {
        JsonArrayBuilder all = Jsonp.PROVIDER.createArrayBuilder();
        for (Input in : inputs) {
            JsonArrayBuilder s = Jsonp.PROVIDER.createArrayBuilder(), d = Jsonp.PROVIDER.createArrayBuilder();
            for (long x : in.shape()) s.add(x);
            for (float f : in.data()) d.add(new java.math.BigDecimal(Float.toString(f)));
            all.add(Jsonp.PROVIDER.createObjectBuilder().add("name", in.name()).add("shape", s).add("datatype", "FP32").add("data", d));
        }
        return Jsonp.PROVIDER.createObjectBuilder().add("inputs", all).build().toString();
    }

    /**
     * Runs {@code model} on one FP32 input and returns its first output's data, flat.
     *
     * @throws IOException if the server answers other than 200 (the message has its error)
     */
    public float[] infer(String model, String input, float[] data, long... shape) throws IOException, InterruptedException {
        return infer(model, new Input(input, data, shape));
    }

    /**
     * Runs {@code model} on FP32 inputs (a model of several inputs takes them all, same batch) and
     * returns its first output's data, flat.
     *
     * @throws IOException if the server answers other than 200 (the message has its error)
     */
    public float[] infer(String model, Input... inputs) throws IOException, InterruptedException {
        Response r = post("/v2/models/" + model + "/infer", inferJson(inputs));
        if (r.status() != 200) throw new IOException("infer " + model + ": HTTP " + r.status() + ": " + r.text());
        return outputData((JsonObject) r.json());
    }

    /** The first output's {@code data} of a JSON inference response, flat. */
    public static float[] outputData(JsonObject response) {
        var data = response.getJsonArray("outputs").getJsonObject(0).getJsonArray("data");
        float[] out = new float[data.size()];
        for (int i = 0; i < out.length; i++) out[i] = (float) ((JsonNumber) data.get(i)).doubleValue();
        return out;
    }

    private Response send(HttpRequest.Builder b, Map<String, String> headers) throws IOException, InterruptedException {
        headers.forEach(b::header);
        HttpResponse<byte[]> r = http.send(b.timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofByteArray());
        return new Response(r.statusCode(), r.headers().map(), r.body());
    }
}
