package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.NodeProto;
import dev.panamadnn.onnx.proto.OperatorSetIdProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import jakarta.json.JsonArray;
import jakarta.json.JsonNumber;
import jakarta.json.JsonObject;
import jakarta.json.JsonValue;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An ONNX model of several outputs of several datatypes, served: {@code relu} (FP32 [N, 4]), {@code best} (ArgMax, INT64
 * [N]), {@code positive} (Greater, BOOL [N, 4]), {@code log} (FP32 [N, 4]: NaN and -inf for inputs below and at 0) and
 * {@code half} (Cast to FP16 [N, 4]; the test's values are exact in FP16).
 * Expected values are the ops' definitions applied to the request's numbers in the test. Metadata lists every output;
 * a request gets all of them or those it names, in its order; JSON (NaN and infinities as Triton writes them) and the
 * binary extension, per request and per output; config.json may serve a subset; unknown and repeated names are refused.
 */
class MultiOutputServingTest {
    @TempDir
    Path dir;

    private static final float[] X = {1.5f, -2f, 0.25f, 3f, -1f, -0.5f, 2f, 0f};   // two rows of four

    private void writeModel(String name, String config) throws Exception {
        Path m = Files.createDirectories(dir.resolve(name));
        Files.writeString(m.resolve("config.json"), config);
        TensorProto zero = TensorProto.newBuilder().setName("zero").setDataType(TensorProto.DataType.FLOAT_VALUE).addFloatData(0).build();
        GraphProto.Builder g = GraphProto.newBuilder().setName("multi").addInitializer(zero).addInput(tensor("x", TensorProto.DataType.FLOAT_VALUE, "N", 4))
                .addNode(NodeProto.newBuilder().setOpType("Relu").addInput("x").addOutput("relu"))
                .addNode(NodeProto.newBuilder().setOpType("ArgMax").addInput("x").addOutput("best")
                        .addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(1))
                        .addAttribute(AttributeProto.newBuilder().setName("keepdims").setType(AttributeProto.AttributeType.INT).setI(0)))
                .addNode(NodeProto.newBuilder().setOpType("Greater").addInput("x").addInput("zero").addOutput("positive"))
                .addNode(NodeProto.newBuilder().setOpType("Log").addInput("x").addOutput("log"))
                .addNode(NodeProto.newBuilder().setOpType("Cast").addInput("x").addOutput("half")
                        .addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT).setI(TensorProto.DataType.FLOAT16_VALUE)))
                .addOutput(tensor("relu", TensorProto.DataType.FLOAT_VALUE, "N", 4)).addOutput(tensor("best", TensorProto.DataType.INT64_VALUE, "N"))
                .addOutput(tensor("positive", TensorProto.DataType.BOOL_VALUE, "N", 4)).addOutput(tensor("log", TensorProto.DataType.FLOAT_VALUE, "N", 4))
                .addOutput(tensor("half", TensorProto.DataType.FLOAT16_VALUE, "N", 4));
        Files.write(m.resolve("model.onnx"), ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(g).build().toByteArray());
    }

    private static ValueInfoProto tensor(String name, int elem, Object... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            s.addDim(d instanceof String p ? TensorShapeProto.Dimension.newBuilder().setDimParam(p)
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) d).longValue()));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(elem).setShape(s))).build();
    }

    private static String request(float[] x, String extra) {
        StringBuilder data = new StringBuilder();
        for (int i = 0; i < x.length; i++) data.append(i == 0 ? "" : ",").append(x[i]);
        return "{\"inputs\":[{\"name\":\"x\",\"datatype\":\"FP32\",\"shape\":[" + x.length / 4 + ",4],\"data\":[" + data + "]}]" + extra + "}";
    }

    private static float[] floats(JsonArray a) {
        float[] f = new float[a.size()];
        for (int i = 0; i < f.length; i++) f[i] = (float) ((JsonNumber) a.get(i)).doubleValue();
        return f;
    }

    @Test
    void servesEveryOutputOfEachDatatypeAsJsonAndBinary() throws Exception {
        writeModel("multi", "{}");
        float[] pos = {1.5f, 2f, 0.25f, 3f, 1f, 0.5f, 2f, 4f};   // positive: every output finite, strict JSON
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            assertEquals(200, client.get("/v2/models/multi/ready").status(), client.get("/v2/models/multi").text());
            JsonArray meta = client.get("/v2/models/multi").json().asJsonObject().getJsonArray("outputs");
            assertEquals("[{\"name\":\"relu\",\"datatype\":\"FP32\",\"shape\":[-1,4]},{\"name\":\"best\",\"datatype\":\"INT64\",\"shape\":[-1]},"
                    + "{\"name\":\"positive\",\"datatype\":\"BOOL\",\"shape\":[-1,4]},{\"name\":\"log\",\"datatype\":\"FP32\",\"shape\":[-1,4]},"
                    + "{\"name\":\"half\",\"datatype\":\"FP16\",\"shape\":[-1,4]}]", meta.toString());

            V2Client.Response r = client.post("/v2/models/multi/infer", request(pos, ""));
            assertEquals(200, r.status(), r.text());
            JsonArray outs = r.json().asJsonObject().getJsonArray("outputs");
            assertEquals(5, outs.size(), r.text());
            assertArrayEquals(pos, floats(outs.getJsonObject(0).getJsonArray("data")), "relu of positive values");
            assertEquals("[3,3]", outs.getJsonObject(1).getJsonArray("data").toString(), "argmax of each row");
            assertEquals("[2]", outs.getJsonObject(1).getJsonArray("shape").toString());
            assertEquals("[true,true,true,true,true,true,true,true]", outs.getJsonObject(2).getJsonArray("data").toString());
            float[] log = floats(outs.getJsonObject(3).getJsonArray("data"));
            for (int i = 0; i < pos.length; i++) assertEquals(Math.log(pos[i]), log[i], 1e-6, "log " + i);
            assertArrayEquals(pos, floats(outs.getJsonObject(4).getJsonArray("data")), "FP16 of values exact in half precision");

            // named outputs, in the request's order; one as binary data, the other JSON
            r = client.post("/v2/models/multi/infer", request(X, ",\"outputs\":[{\"name\":\"best\"},{\"name\":\"log\",\"parameters\":{\"binary_data\":true}}]"));
            assertEquals(200, r.status(), r.text());
            int headerLength = Integer.parseInt(r.header("Inference-Header-Content-Length"));
            JsonObject head;
            try (var reader = Jsonp.PROVIDER.createReader(new java.io.ByteArrayInputStream(r.body(), 0, headerLength))) {
                head = reader.readObject();
            }
            JsonArray named = head.getJsonArray("outputs");
            assertEquals(2, named.size(), head.toString());
            assertEquals("best", named.getJsonObject(0).getString("name"));
            assertEquals("[3,2]", named.getJsonObject(0).getJsonArray("data").toString(), "argmax: 3.0 in row 0, 2.0 in row 1");
            assertEquals("log", named.getJsonObject(1).getString("name"));
            assertEquals(32, named.getJsonObject(1).getJsonObject("parameters").getInt("binary_data_size"));
            ByteBuffer b = ByteBuffer.wrap(r.body(), headerLength, 32).order(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < X.length; i++) {
                float got = b.getFloat(), want = (float) Math.log(X[i]);
                if (Float.isNaN(want)) assertTrue(Float.isNaN(got), "log(" + X[i] + ") " + got);
                else if (Float.isInfinite(want)) assertEquals(want, got, "log(" + X[i] + ")");
                else assertEquals(want, got, 1e-6, "log(" + X[i] + ")");
            }

            // everything binary: the bytes of each output in turn (FP32, INT64, BOOL, FP32)
            r = client.post("/v2/models/multi/infer", request(X, ",\"parameters\":{\"binary_data_output\":true}"));
            assertEquals(200, r.status(), r.text());
            headerLength = Integer.parseInt(r.header("Inference-Header-Content-Length"));
            assertEquals(headerLength + 32 + 16 + 8 + 32 + 16, r.body().length);
            b = ByteBuffer.wrap(r.body(), headerLength, r.body().length - headerLength).order(ByteOrder.LITTLE_ENDIAN);
            for (float x : X) assertEquals(Math.max(x, 0f), b.getFloat(), 0f, "relu");
            assertEquals(3L, b.getLong());
            assertEquals(2L, b.getLong());
            for (float x : X) assertEquals(x > 0 ? 1 : 0, b.get(), "positive " + x);
            b.position(b.position() + 32);   // log, checked above
            for (float x : X) assertEquals(x, Float.float16ToFloat(b.getShort()), 0f, "half " + x);

            // JSON with NaN and -inf: written as Triton writes them (bare tokens, not strict JSON)
            r = client.post("/v2/models/multi/infer", request(X, ",\"outputs\":[{\"name\":\"log\"}]"));
            assertEquals(200, r.status(), r.text());
            assertTrue(r.text().contains("\"data\":[0.4054651,NaN,-1.3862944,1.0986123,NaN,NaN,0.6931472,-Infinity]"), r.text());
        }
    }

    @Test
    void configServesASubsetAndUnknownOrRepeatedNamesAreRefused() throws Exception {
        writeModel("subset", "{\"outputs\": [{\"name\": \"best\"}, {\"name\": \"relu\"}]}");
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            assertEquals("[{\"name\":\"best\",\"datatype\":\"INT64\",\"shape\":[-1]},{\"name\":\"relu\",\"datatype\":\"FP32\",\"shape\":[-1,4]}]",
                    client.get("/v2/models/subset").json().asJsonObject().getJsonArray("outputs").toString());
            V2Client.Response r = client.post("/v2/models/subset/infer", request(X, ""));
            assertEquals(200, r.status(), r.text());
            JsonArray outs = r.json().asJsonObject().getJsonArray("outputs");
            assertEquals("best", outs.getJsonObject(0).getString("name"));
            assertEquals("relu", outs.getJsonObject(1).getString("name"));
            assertEquals(2, outs.size());
            V2Client.Response unknown = client.post("/v2/models/subset/infer", request(X, ",\"outputs\":[{\"name\":\"log\"}]"));
            assertEquals(400, unknown.status(), unknown.text());
            assertTrue(unknown.text().contains("unknown output 'log'") && unknown.text().contains("[best, relu]"), unknown.text());
            V2Client.Response twice = client.post("/v2/models/subset/infer", request(X, ",\"outputs\":[{\"name\":\"best\"},{\"name\":\"best\"}]"));
            assertEquals(400, twice.status(), twice.text());
            assertTrue(twice.text().contains("requested twice"), twice.text());
            writeModel("wrong", "{\"outputs\": [{\"name\": \"probs\"}]}");
            String error = RepositoryTest.loadError(client, "wrong");
            assertTrue(error.contains("'probs' is not one of the ONNX outputs [relu, best, positive, log, half]"), error);
        }
    }
}
