package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import jakarta.json.Json;
import jakarta.json.JsonArrayBuilder;
import jakarta.json.JsonObjectBuilder;
import jakarta.json.JsonValue;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Seeded random config.json files, loaded through the repository API into a running server: for the digits ONNX model,
 * the variable-shape tagger and the built-in digits architecture, every field with values of every JSON kind (sizes from
 * -2^63 to 1e30, fractions, strings, booleans, null, arrays, objects) and some fields twice as wrong as others. Each load
 * is a 200 (the model then answers a request) or a 400 naming the problem; never a 5xx, and the server keeps serving.
 */
class ConfigFuzzTest {
    @TempDir
    Path dir;

    static final String[] FIELDS = {"architecture", "num_classes", "inputs", "outputs", "max_batch_size", "max_queue_delay_us", "adaptive_delay",
        "preferred_batch_sizes", "instances", "threads_per_instance", "max_queue_size", "timeout_ms", "max_shapes", "warm_shapes"};

    @Test
    void randomConfigsLoadOrAreRefusedByNameNeverA5xx() throws Exception {
        TestServers.repository(dir, "digits", TestServers.digitsConfig(""));
        Path onnx = Files.createDirectories(dir.resolve("m-onnx"));
        OnnxServingTest.onnxCopy(onnx.resolve("model.onnx"));
        VariableShapeServingTest.model(dir, "m-tagger", "tagger", "{}");
        TestServers.repository(dir, "m-builtin", TestServers.digitsConfig(""));
        SplittableRandom random = new SplittableRandom(VariableShapeFuzzTest.seed(20261206, 2));
        Map<String, Integer> statuses = new TreeMap<>();
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            String[] models = {"m-onnx", "m-tagger", "m-builtin"};
            for (int i = 0; i < 240; i++) {
                String m = models[i % models.length];
                String config = config(random, m);
                Files.writeString(dir.resolve(m).resolve("config.json"), config);
                V2Client.Response r = client.post("/v2/repository/models/" + m + "/load", "");
                statuses.merge(m + " " + r.status(), 1, Integer::sum);
                assertTrue(r.status() == 200 || r.status() == 400, m + " config " + config + ": " + r.status() + " " + r.text());
                if (r.status() == 400) {
                    String error = r.json().asJsonObject().getString("error");
                    assertTrue(error.startsWith("cannot load model '" + m + "': ") && error.length() > 40, error);
                } else {
                    assertEquals(200, client.get("/v2/models/" + m + "/ready").status(), config);
                }
                client.post("/v2/repository/models/" + m + "/unload", "");
            }
            System.out.println("statuses " + statuses);
            for (String m : models) assertTrue(statuses.getOrDefault(m + " 200", 0) >= 1, m + " loaded with some configs: " + statuses);
            assertEquals(10, client.infer("digits", "input", TestServers.images(0, 1), 1, 1, 8, 8).length, "the served model after the fuzz");
        }
    }

    /** A config for model {@code m}: each field absent, valid for the model, or a random JSON value. */
    private static String config(SplittableRandom r, String m) {
        JsonObjectBuilder o = Json.createObjectBuilder();
        boolean builtin = m.equals("m-builtin");
        if (builtin) {
            o.add("architecture", "digits");
            o.add("inputs", Json.createArrayBuilder().add(Json.createObjectBuilder().add("name", "input").add("datatype", "FP32")
                    .add("shape", Json.createArrayBuilder().add(-1).add(1).add(8).add(8))));
        }
        for (String f : FIELDS) {
            int kind = r.nextInt(10);
            if (kind < 5) continue;   // absent (or the built-in's fixed part)
            if (kind < 9) {
                o.add(f, valid(r, f, m));
            } else {
                o.add(f, random(r, 0));
            }
        }
        return o.build().toString();
    }

    private static JsonValue valid(SplittableRandom r, String field, String m) {
        return switch (field) {
            case "architecture" -> Json.createValue(m.equals("m-builtin") ? "digits" : "onnx");
            case "num_classes" -> Json.createValue(10);
            case "adaptive_delay" -> r.nextBoolean() ? JsonValue.TRUE : JsonValue.FALSE;
            case "preferred_batch_sizes" -> Json.createArrayBuilder().add(1 + r.nextInt(4)).build();
            case "instances", "threads_per_instance" -> Json.createValue(1 + r.nextInt(2));
            case "max_batch_size" -> Json.createValue(m.equals("m-builtin") ? 1 + r.nextInt(8) : r.nextInt(9));
            case "max_shapes" -> Json.createValue(1 + r.nextInt(8));
            case "inputs" -> m.equals("m-tagger")
                    ? Json.createArrayBuilder().add(Json.createObjectBuilder().add("name", "ids").add("shape", shape(r)))
                            .add(Json.createObjectBuilder().add("name", "weights").add("shape", shape(r))).build()
                    : Json.createArrayBuilder().add(Json.createObjectBuilder().add("name", "input").add("shape",
                            Json.createArrayBuilder().add(-1).add(1).add(r.nextBoolean() ? 8 : -1).add(8))).build();
            case "outputs" -> Json.createArrayBuilder().add(Json.createObjectBuilder().add("name", m.equals("m-tagger") ? "tags" : "logits")).build();
            case "warm_shapes" -> m.equals("m-tagger")
                    ? Json.createArrayBuilder().add(Json.createObjectBuilder().add("ids", shape(r)).add("weights", shape(r))).build()
                    : Json.createArrayBuilder().add(Json.createObjectBuilder().add("input", Json.createArrayBuilder().add(-1).add(1).add(8).add(8))).build();
            default -> Json.createValue(1 + r.nextInt(5000));
        };
    }

    private static JsonArrayBuilder shape(SplittableRandom r) {
        return Json.createArrayBuilder().add(-1).add(r.nextBoolean() ? -1 : 1 + r.nextInt(6));
    }

    /** Any JSON value, now and then a nested one. */
    private static JsonValue random(SplittableRandom r, int depth) {
        return switch (r.nextInt(depth > 1 ? 9 : 11)) {
            case 0 -> Json.createValue(Long.MIN_VALUE);
            case 1 -> Json.createValue(Long.MAX_VALUE);
            case 2 -> Json.createValue(1e30);
            case 3 -> Json.createValue(-r.nextInt(1000));
            case 4 -> Json.createValue(r.nextDouble() * 10);
            case 5 -> Json.createValue("x" + r.nextInt(10));
            case 6 -> r.nextBoolean() ? JsonValue.TRUE : JsonValue.FALSE;
            case 7 -> JsonValue.NULL;
            case 8 -> Json.createValue(r.nextInt(3));
            case 9 -> Json.createArrayBuilder().add(random(r, depth + 1)).add(random(r, depth + 1)).build();
            default -> Json.createObjectBuilder().add("name", random(r, depth + 1)).add("shape", random(r, depth + 1)).build();
        };
    }
}
