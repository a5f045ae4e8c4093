package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.demo.Digits;
import dev.panamadnn.onnx.Onnx;
import dev.panamadnn.onnx.OnnxException;
import dev.panamadnn.onnx.OnnxModel;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.NodeProto;
import dev.panamadnn.onnx.proto.OperatorSetIdProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import jakarta.json.JsonObject;
import java.io.InputStream;
import java.util.Map;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * model.onnx directories: the example repository's digits ONNX model (PyTorch's export of the
 * demo's CNN) served over HTTP answers what the in-process {@link OnnxModel}'s plan set answers
 * for the same rows, and PyTorch's predicted classes for every held-out row the demo carries; an
 * ONNX model loads and unloads under the repository extension; a corrupted model.onnx, a
 * config.json that disagrees with the ONNX model, or an ONNX model the batcher cannot serve
 * (an output without the batch first, or of a datatype not served) is refused by name while the
 * others keep serving; models without a shared symbolic batch serve whole (max_batch_size 0, also
 * {@link FixedShapeServingTest}), models of several inputs or outputs serve.
 */
class OnnxServingTest {
    static final Path EXAMPLES = Path.of("examples/models");

    @TempDir
    Path dir;

    /** The demo's ONNX file (the example holds a copy of it). */
    static Path onnxCopy(Path to) throws Exception {
        try (InputStream in = Digits.class.getResourceAsStream("digits/digits_resnet.onnx")) {
            Files.copy(in, to, StandardCopyOption.REPLACE_EXISTING);
        }
        return to;
    }

    /** A model directory {@code name} with the digits ONNX model and {@code config}. */
    Path onnxModel(String name, String config) throws Exception {
        return onnxModel(dir, name, config);
    }

    /** A model directory {@code name} under repository {@code dir} with the digits ONNX model and {@code config}. */
    static Path onnxModel(Path dir, String name, String config) throws Exception {
        Path m = Files.createDirectories(dir.resolve(name));
        Files.writeString(m.resolve("config.json"), config);
        onnxCopy(m.resolve("model.onnx"));
        return m;
    }

    @Test
    void theExampleIsTheDemosOnnxFile() throws Exception {
        byte[] example = Files.readAllBytes(EXAMPLES.resolve("digits-onnx/model.onnx"));
        try (InputStream in = Digits.class.getResourceAsStream("digits/digits_resnet.onnx")) {
            assertArrayEquals(in.readAllBytes(), example, "server/examples/models/digits-onnx/model.onnx is a copy of the demo's");
        }
    }

    @Test
    void servesTheExampleDigitsOnnxModelAsInProcessAndPyTorch() throws Exception {
        Digits.TestSplit split = Digits.testSplit();
        float[] served = new float[split.count() * 10];
        try (InferenceServer server = TestServers.start(EXAMPLES)) {
            V2Client client = TestServers.client(server);
            JsonObject meta = (JsonObject) client.get("/v2/models/digits-onnx").json();
            assertEquals("panama-dnn_onnx", meta.getString("platform"), meta.toString());
            assertEquals("[{\"name\":\"logits\",\"datatype\":\"FP32\",\"shape\":[-1,10]}]", meta.getJsonArray("outputs").toString());
            for (int from = 0, rows; from < split.count(); from += rows) {   // odd-sized requests: padded batches too
                rows = Math.min(split.count() - from, 1 + from % 31);
                float[] logits = client.infer("digits-onnx", "input", TestServers.images(from, rows), rows, 1, 8, 8);
                assertEquals(rows * 10, logits.length, "rows " + from);
                System.arraycopy(logits, 0, served, from * 10, logits.length);
            }
        }
        float[] inProcess;
        try (OnnxModel model = Onnx.load(EXAMPLES.resolve("digits-onnx/model.onnx"));
             PlanSet plans = model.compile(CompileOptions.defaults().withThreads(1));
             Tensor x = split.batch(0, split.count()); Tensor y = plans.run(x)) {
            inProcess = y.toFloatArray();
        }
        for (int i = 0; i < served.length; i++) {
            assertEquals(inProcess[i], served[i], TestServers.TOLERANCE, "logit " + i + ": server vs in-process OnnxModel");
        }
        assertArrayEquals(split.torchPredictions(), Digits.argmax(served), "predicted classes vs PyTorch's");
        assertTrue(split.count() >= 100, "the demo's held-out split: " + split.count() + " rows");
    }

    @Test
    void loadsAndUnloadsAnOnnxModelWithADefaultedConfig() throws Exception {
        TestServers.repository(dir, "digits", TestServers.digitsConfig(""));
        try (InferenceServer server = TestServers.start(dir); TestServers.Reference ref = new TestServers.Reference()) {
            V2Client client = TestServers.client(server);
            onnxModel("late", "{\"max_batch_size\": 4}");   // architecture, inputs, outputs from the ONNX model
            assertEquals(404, client.get("/v2/models/late/ready").status(), "not loaded yet");
            assertEquals(200, client.post("/v2/repository/models/late/load", "").status());
            JsonObject meta = (JsonObject) client.get("/v2/models/late").json();
            assertEquals("[{\"name\":\"input\",\"datatype\":\"FP32\",\"shape\":[-1,1,8,8]}]", meta.getJsonArray("inputs").toString());
            float[] images = TestServers.images(7, 3);
            ref.assertMatches(images, client.infer("late", "input", images, 3, 1, 8, 8), "onnx 'late' vs the safetensors digits");
            assertEquals(200, client.post("/v2/repository/models/late/unload", "").status());
            assertEquals(404, client.get("/v2/models/late/ready").status(), "unloaded");
            assertEquals(200, client.post("/v2/repository/models/late/load", "").status(), "loaded again");
            assertEquals(3 * 10, client.infer("late", "input", images, 3, 1, 8, 8).length);
            assertEquals(200, client.get("/v2/models/digits/ready").status());
        }
    }

    @Test
    void aCorruptedOnnxFileIsRefusedWithTheImportersMessage() throws Exception {
        TestServers.repository(dir, "digits", TestServers.digitsConfig(""));
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            Path m = onnxModel("cut", "{}");
            byte[] bytes = Files.readAllBytes(m.resolve("model.onnx"));
            Files.write(m.resolve("model.onnx"), Arrays.copyOf(bytes, bytes.length / 2));
            String error = RepositoryTest.loadError(client, "cut");
            assertTrue(error.contains("cannot load model 'cut'") && error.contains("model.onnx"), error);
            assertTrue(error.contains("not a valid ONNX model") || error.contains("cannot import"), error);

            Files.write(onnxModel("zeros", "{}").resolve("model.onnx"), new byte[16]);
            assertTrue(RepositoryTest.loadError(client, "zeros").contains("cannot load model 'zeros'"), "16 zero bytes");

            float[] images = TestServers.images(0, 2);
            assertEquals(20, client.infer("digits", "input", images, 2, 1, 8, 8).length, "the other model keeps serving");
            assertTrue(client.post("/v2/repository/index", "").text().contains("{\"name\":\"cut\",\"version\":\"1\",\"state\":\"UNAVAILABLE\""));
        }
    }

    @Test
    void aConfigThatDisagreesWithTheOnnxModelIsRefusedByName() throws Exception {
        TestServers.repository(dir, "digits", TestServers.digitsConfig(""));
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            String good = TestServers.digitsConfig("").replace("\"digits\"", "\"onnx\"");
            String[][] cases = {
                {"inname", good.replace("\"name\": \"input\"", "\"name\": \"x\""), "input name 'x' is not the ONNX input 'input'"},
                {"shape", good.replace("[-1, 1, 8, 8]", "[-1, 1, 8, 9]"), "shape [-1, 1, 8, 9] is not the ONNX"},
                {"rank", good.replace("[-1, 1, 8, 8]", "[-1, 64]"), "shape [-1, 64] is not the ONNX"},
                {"outname", good.replace("\"logits\"", "\"probs\""), "output name 'probs' is not one of the ONNX outputs [logits]"},
                {"dtype", good.replace("\"FP32\"", "\"INT64\""), "input 'input' datatype INT64 is not the ONNX FP32"},
                {"fp64", good.replace("\"FP32\"", "\"FP64\""), "datatype FP64 is not served"},
                {"arch", TestServers.digitsConfig(""), "architecture 'digits' with a model.onnx"},
                {"batch", good.replace("[-1, 1, 8, 8]", "[1, 1, 8, 8]"), "symbolic batch"},
            };
            for (String[] c : cases) {
                onnxModel(c[0], c[1]);
                String error = RepositoryTest.loadError(client, c[0]);
                assertTrue(error.contains(c[2]), c[0] + ": " + error);
            }
            TestServers.repository(dir, "notonnx", good);
            assertTrue(RepositoryTest.loadError(client, "notonnx").contains("architecture 'onnx' needs a model.onnx"), "onnx without the file");
            assertEquals(200, client.get("/v2/models/digits/ready").status(), "the served model after refused loads");
        }
    }

    @Test
    void onnxModelsTheBatcherCannotServeAreRefusedAtLoad() throws Exception {
        TestServers.repository(dir, "digits", TestServers.digitsConfig(""));
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            NodeProto add = NodeProto.newBuilder().setOpType("Add").addInput("a").addInput("b").addOutput("c").build();
            NodeProto relu = NodeProto.newBuilder().setOpType("Relu").addInput("x").addOutput("y").build();
            writeModel("twobatches", GraphProto.newBuilder().setName("g").addNode(relu).addInput(f32("x", "N", 4)).addInput(f32("b", "M", 4))
                    .addOutput(f32("y", "N", 4)));
            // no shared batch: served whole, N and M sized by each request (VariableShapeServingTest)
            assertEquals(200, client.post("/v2/repository/models/twobatches/load", "").status(), "two batches: served whole, variable");
            assertArrayEquals(new float[] {0, 2, 0, 4, 5, 0, 7, 0}, client.infer("twobatches", new V2Client.Input("x", new float[] {-1, 2, -3, 4, 5, -6, 7, -8}, 2, 4),
                    new V2Client.Input("b", new float[12], 3, 4)));
            String error;

            NodeProto neg = NodeProto.newBuilder().setOpType("Neg").addInput("x").addOutput("z").build();
            writeModel("twoout", GraphProto.newBuilder().setName("g").addNode(relu).addNode(neg).addInput(f32("x", "N", 4))
                    .addOutput(f32("y", "N", 4)).addOutput(f32("z", "N", 4)));
            assertEquals(200, client.post("/v2/repository/models/twoout/load", "").status(), "two outputs serve (MultiOutputServingTest)");
            JsonObject both = client.post("/v2/models/twoout/infer", V2Client.inferJson("x", new float[] {1, -2, 3, -4}, 1, 4)).json().asJsonObject();
            assertEquals("[1,0,3,0]", both.getJsonArray("outputs").getJsonObject(0).getJsonArray("data").toString().replace(".0", ""));
            assertEquals("[-1,2,-3,4]", both.getJsonArray("outputs").getJsonObject(1).getJsonArray("data").toString().replace(".0", ""));

            NodeProto sum = NodeProto.newBuilder().setOpType("ReduceSum").addInput("x").addInput("axis0").addOutput("s")
                    .addAttribute(AttributeProto.newBuilder().setName("keepdims").setType(AttributeProto.AttributeType.INT).setI(0)).build();
            writeModel("overbatch", GraphProto.newBuilder().setName("g").addNode(sum).addInput(f32("x", "N", 4)).addOutput(f32("s", 4))
                    .addInitializer(TensorProto.newBuilder().setName("axis0").setDataType(TensorProto.DataType.INT64_VALUE).addDims(1).addInt64Data(0)));
            error = RepositoryTest.loadError(client, "overbatch");
            assertTrue(error.contains("ONNX output 's'") && error.contains("must be [N, fixed sizes...]"), error);

            writeModel("twoin", GraphProto.newBuilder().setName("g").addNode(add).addInput(f32("a", "N", 4)).addInput(f32("b", "N", 4))
                    .addOutput(f32("c", "N", 4)));
            assertEquals(200, client.post("/v2/repository/models/twoin/load", "").status(), "two inputs of one batch serve");
            assertArrayEquals(new float[] {11, 22, 33, 44}, client.infer("twoin", new V2Client.Input("b", new float[] {10, 20, 30, 40}, 1, 4),
                    new V2Client.Input("a", new float[] {1, 2, 3, 4}, 1, 4)));

            writeModel("fixed", GraphProto.newBuilder().setName("g").addNode(relu).addInput(f32("x", 2, 4)).addOutput(f32("y", 2, 4)));
            assertEquals(200, client.post("/v2/repository/models/fixed/load", "").status(), "no symbolic batch: served whole (FixedShapeServingTest)");
            assertArrayEquals(new float[] {0, 2, 0, 4, 5, 0, 7, 0}, client.infer("fixed", "x", new float[] {-1, 2, -3, 4, 5, -6, 7, -8}, 2, 4));

            writeModel("ragged", GraphProto.newBuilder().setName("g").addNode(relu).addInput(f32("x", "N", "L")).addOutput(f32("y", "N", "L")));
            assertEquals(200, client.post("/v2/repository/models/ragged/load", "").status(), "symbolic dim 1 with no size in config.json: variable");
            assertArrayEquals(new float[] {0, 2, 0}, client.infer("ragged", "x", new float[] {-1, 2, -3}, 1, 3));
            assertArrayEquals(new float[] {0, 2, 0, 4, 0, 6, 0, 8, 0, 10}, client.infer("ragged", "x", new float[] {-1, 2, -3, 4, -5, 6, -7, 8, -9, 10}, 2, 5));
            assertTrue(client.get("/v2/models/ragged").text().contains("\"shape\":[-1,-1]"), client.get("/v2/models/ragged").text());
            // the same model with L's size in config.json (a model exported with a dynamic length, served at one)
            writeModel("sized", GraphProto.newBuilder().setName("g").addNode(relu).addInput(f32("x", "N", "L")).addOutput(f32("y", "N", "L")));
            Files.writeString(dir.resolve("sized/config.json"), "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [-1, 3]}]}");
            assertEquals(200, client.post("/v2/repository/models/sized/load", "").status(), "L bound to config.json's 3");
            assertArrayEquals(new float[] {0, 2, 0, 4, 0, 6}, client.infer("sized", "x", new float[] {-1, 2, -3, 4, -5, 6}, 2, 3));
            assertTrue(client.get("/v2/models/sized").text().contains("\"shape\":[-1,3]"), client.get("/v2/models/sized").text());
            // served whole at sizes whose tensors cannot be allocated (4e12 bytes): refused by name, not an Error that ends the server
            writeModel("huge", GraphProto.newBuilder().setName("g").addNode(relu).addInput(f32("x", "N", "L")).addOutput(f32("y", "N", "L")));
            Files.writeString(dir.resolve("huge/config.json"), "{\"max_batch_size\": 0, \"inputs\": [{\"name\": \"x\", \"shape\": [1000000, 1000000]}]}");
            error = RepositoryTest.loadError(client, "huge");
            assertTrue(error.contains("huge: its plans cannot be allocated at the configured sizes") && error.contains("4000000000000 bytes"), error);
            NodeProto add2 = NodeProto.newBuilder().setOpType("Add").addInput("a").addInput("b").addOutput("c").build();
            writeModel("disagree", GraphProto.newBuilder().setName("g").addNode(add2).addInput(f32("a", "N", "L")).addInput(f32("b", "N", "L"))
                    .addOutput(f32("c", "N", "L")));
            Files.writeString(dir.resolve("disagree/config.json"), "{\"inputs\": [{\"name\": \"a\", \"shape\": [-1, 3]}, "
                    + "{\"name\": \"b\", \"shape\": [-1, 4]}]}");
            error = RepositoryTest.loadError(client, "disagree");
            assertTrue(error.contains("input 'b' gives L = 4, an earlier input 3"), error);

            writeModel("transposed", GraphProto.newBuilder().setName("g").addNode(NodeProto.newBuilder().setOpType("Transpose").addInput("x")
                    .addOutput("y").addAttribute(AttributeProto.newBuilder().setName("perm").setType(AttributeProto.AttributeType.INTS)
                            .addInts(1).addInts(0))).addInput(f32("x", "N", 4)).addOutput(f32("y", 4, "N")));
            error = RepositoryTest.loadError(client, "transposed");
            assertTrue(error.contains("ONNX output 'y'") && error.contains("the input's batch first") && error.contains("\"max_batch_size\": 0"), error);
            // served whole at a size config.json gives, the transposed output is the whole [4, 2]
            Files.writeString(dir.resolve("transposed/config.json"), "{\"max_batch_size\": 0, \"inputs\": [{\"name\": \"x\", \"shape\": [2, 4]}]}");
            assertEquals(200, client.post("/v2/repository/models/transposed/load", "").status(), "whole");
            JsonObject t = client.post("/v2/models/transposed/infer", V2Client.inferJson("x", new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 4)).json().asJsonObject();
            assertEquals("[4,2]", t.getJsonArray("outputs").getJsonObject(0).getJsonArray("shape").toString());
            assertArrayEquals(new float[] {1, 5, 2, 6, 3, 7, 4, 8}, V2Client.outputData(t), "x transposed");

            writeModel("int64", GraphProto.newBuilder().setName("g").addNode(NodeProto.newBuilder().setOpType("Cast").addInput("x")
                    .addOutput("y").addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT)
                            .setI(TensorProto.DataType.INT64_VALUE))).addInput(f32("x", "N", 4)).addOutput(f32("y", "N", 4)));
            assertEquals(200, client.post("/v2/repository/models/int64/load", "").status(), "an INT64 output serves");
            JsonObject ints = client.post("/v2/models/int64/infer", V2Client.inferJson("x", new float[] {1.7f, -2.2f, 3f, -4.9f}, 1, 4)).json().asJsonObject();
            assertEquals("INT64", ints.getJsonArray("outputs").getJsonObject(0).getString("datatype"));
            assertEquals("[1,-2,3,-4]", ints.getJsonArray("outputs").getJsonObject(0).getJsonArray("data").toString(), "ONNX Cast truncates toward 0");
            writeModel("int8", GraphProto.newBuilder().setName("g").addNode(NodeProto.newBuilder().setOpType("Cast").addInput("x")
                    .addOutput("y").addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT)
                            .setI(TensorProto.DataType.INT8_VALUE))).addInput(f32("x", "N", 4)).addOutput(f32("y", "N", 4)));
            error = RepositoryTest.loadError(client, "int8");
            assertTrue(error.contains("ONNX output 'y' is I8; served outputs are"), error);

            writeModel("relu", GraphProto.newBuilder().setName("g").addNode(relu).addInput(f32("x", "N", 4)).addOutput(f32("y", "N", 4)));
            assertEquals(200, client.post("/v2/repository/models/relu/load", "").status(), "the same graph with a batch serves");
            float[] y = client.infer("relu", "x", new float[] {-1, 2, -3, 4, 5, -6, 7, -8}, 2, 4);
            assertArrayEquals(new float[] {0, 2, 0, 4, 5, 0, 7, 0}, y);
            assertEquals(200, client.get("/v2/models/digits/ready").status());
        }
    }

    /**
     * Two intra-op threads per instance: the plans of this small model run a batch as two single-threaded halves on
     * helper threads (split_batch) over the batcher's stacked input: the served logits equal the in-process plan's.
     */
    @Test
    void aSplitPlanReadsTheStackedBatchFromItsHelperThreads() throws Exception {
        Path m = onnxModel("split", "{\"max_batch_size\": 16, \"instances\": 1, \"threads_per_instance\": 2}");
        float[] images = TestServers.images(0, 16), inProcess;
        try (OnnxModel model = Onnx.load(m.resolve("model.onnx"));
             dev.panamadnn.compile.CompiledModel plan = dev.panamadnn.compile.CompiledModel.compile(model.toGraph(),
                     CompileOptions.defaults().withThreads(2), Map.of("input", new long[] {16, 1, 8, 8}));
             Tensor x = Tensor.of(images, 16, 1, 8, 8); Tensor y = plan.run(x)) {
            inProcess = y.toFloatArray();
            assertTrue(plan.rulesFired().stream().anyMatch(r -> r.startsWith("split_batch")), "a split plan at batch 16: " + plan.rulesFired());
        }
        try (InferenceServer server = TestServers.start(dir)) {
            float[] served = TestServers.client(server).infer("split", "input", images, 16, 1, 8, 8);
            for (int i = 0; i < served.length; i++) assertEquals(inProcess[i], served[i], TestServers.TOLERANCE, "logit " + i);
        }
    }

    /**
     * A text model with an INT64 attention mask computed with inside the plan (as a BERT export's extended mask and a
     * mean pooling read it: Cast to float, Unsqueeze, Mul, ReduceSum, Div): served through its plan set, against the
     * mean of the kept rows of the embedding table, computed here by hand. Before, an INT64 input read by a Cast made
     * the model unservable (a plan set could not be built).
     */
    @Test
    void servesAModelThatComputesWithItsInt64Mask() throws Exception {
        float[] table = new float[10 * 3];
        for (int i = 0; i < table.length; i++) table[i] = (i % 5 - 2) * 0.5f + i * 0.01f;
        TensorProto weights = TensorProto.newBuilder().setName("table").setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(10).addDims(3)
                .addAllFloatData(java.util.stream.IntStream.range(0, table.length).mapToObj(i -> table[i]).toList()).build();
        TensorProto axis1 = TensorProto.newBuilder().setName("axis1").setDataType(TensorProto.DataType.INT64_VALUE).addDims(1).addInt64Data(1).build();
        TensorProto axis2 = TensorProto.newBuilder().setName("axis2").setDataType(TensorProto.DataType.INT64_VALUE).addDims(1).addInt64Data(2).build();
        AttributeProto toFloat = AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT).setI(TensorProto.DataType.FLOAT_VALUE).build();
        GraphProto.Builder g = GraphProto.newBuilder().setName("meanpool").addInitializer(weights).addInitializer(axis1).addInitializer(axis2)
                .addInput(typed("ids", TensorProto.DataType.INT64_VALUE, "N", 4)).addInput(typed("mask", TensorProto.DataType.INT64_VALUE, "N", 4))
                .addNode(NodeProto.newBuilder().setOpType("Gather").addInput("table").addInput("ids").addOutput("e"))   // [N, 4, 3]
                .addNode(NodeProto.newBuilder().setOpType("Cast").addInput("mask").addOutput("m").addAttribute(toFloat))   // [N, 4]
                .addNode(NodeProto.newBuilder().setOpType("Unsqueeze").addInput("m").addInput("axis2").addOutput("m3"))   // [N, 4, 1]
                .addNode(NodeProto.newBuilder().setOpType("Mul").addInput("e").addInput("m3").addOutput("kept"))
                .addNode(NodeProto.newBuilder().setOpType("ReduceSum").addInput("kept").addInput("axis1").addOutput("total")
                        .addAttribute(AttributeProto.newBuilder().setName("keepdims").setType(AttributeProto.AttributeType.INT).setI(0)))   // [N, 3]
                .addNode(NodeProto.newBuilder().setOpType("ReduceSum").addInput("m").addInput("axis1").addOutput("count"))   // [N, 1]
                .addNode(NodeProto.newBuilder().setOpType("Div").addInput("total").addInput("count").addOutput("y"))
                .addOutput(f32("y", "N", 3));
        writeModel("meanpool", g);
        long[] ids = {3, 0, 9, 3, 7, 7, 1, 2};
        long[] mask = {1, 1, 0, 1, 1, 1, 0, 0};
        float[] byHand = new float[6];
        for (int r = 0; r < 2; r++) {
            int kept = 0;
            for (int t = 0; t < 4; t++) {
                if (mask[r * 4 + t] == 0) continue;
                kept++;
                for (int c = 0; c < 3; c++) byHand[r * 3 + c] += table[(int) ids[r * 4 + t] * 3 + c];
            }
            for (int c = 0; c < 3; c++) byHand[r * 3 + c] /= kept;
        }
        TestServers.repository(dir, "digits", TestServers.digitsConfig(""));
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            V2Client.Response load = client.post("/v2/repository/models/meanpool/load", "");
            assertEquals(200, load.status(), load.text());
            String json = "{\"inputs\":[{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[2,4],\"data\":[3,0,9,3,7,7,1,2]},"
                    + "{\"name\":\"mask\",\"datatype\":\"INT64\",\"shape\":[2,4],\"data\":[1,1,0,1,1,1,0,0]}]}";
            V2Client.Response r = client.post("/v2/models/meanpool/infer", json);
            assertEquals(200, r.status(), r.text());
            assertArrayEquals(byHand, V2Client.outputData(r.json().asJsonObject()), 1e-6f, "mean of the kept rows");
        }
    }

    /**
     * INT64 token ids and a BOOL mask (a text model's inputs): JSON and the binary extension, against the same model run
     * in process; integers that are not integers or do not fit, and BOOL values that are not booleans, refused by name.
     */
    @Test
    void servesInt64AndBoolInputs() throws Exception {
        float[] table = new float[10 * 3];
        for (int i = 0; i < table.length; i++) table[i] = (i % 7 - 3) * 0.25f;
        TensorProto weights = TensorProto.newBuilder().setName("table").setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(10).addDims(3)
                .addAllFloatData(java.util.stream.IntStream.range(0, table.length).mapToObj(i -> table[i]).toList()).build();
        TensorProto zero = TensorProto.newBuilder().setName("zero").setDataType(TensorProto.DataType.FLOAT_VALUE).addFloatData(0).build();
        GraphProto.Builder g = GraphProto.newBuilder().setName("text").addInitializer(weights).addInitializer(zero)
                .addInput(typed("ids", TensorProto.DataType.INT64_VALUE, "N", 4)).addInput(typed("keep", TensorProto.DataType.BOOL_VALUE, "N", 4))
                .addNode(NodeProto.newBuilder().setOpType("Gather").addInput("table").addInput("ids").addOutput("e"))   // [N, 4, 3]
                .addNode(NodeProto.newBuilder().setOpType("Unsqueeze").addInput("keep").addInput("axis").addOutput("k"))
                .addInitializer(TensorProto.newBuilder().setName("axis").setDataType(TensorProto.DataType.INT64_VALUE).addDims(1).addInt64Data(2))
                .addNode(NodeProto.newBuilder().setOpType("Where").addInput("k").addInput("e").addInput("zero").addOutput("m"))
                .addNode(NodeProto.newBuilder().setOpType("ReduceSum").addInput("m").addInput("axis1").addOutput("y")
                        .addAttribute(AttributeProto.newBuilder().setName("keepdims").setType(AttributeProto.AttributeType.INT).setI(0)))
                .addInitializer(TensorProto.newBuilder().setName("axis1").setDataType(TensorProto.DataType.INT64_VALUE).addDims(1).addInt64Data(1))
                .addOutput(f32("y", "N", 3));
        writeModel("text", g);
        long[] ids = {3, 0, 9, 3, 7, 7, 1, 2};
        boolean[] keep = {true, true, false, true, false, true, true, true};
        float[] expected;
        try (OnnxModel m = Onnx.load(dir.resolve("text/model.onnx")); java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            Tensor idt = Tensor.allocate(arena, dev.panamadnn.DataType.I64, 2, 4), kt = Tensor.allocate(arena, dev.panamadnn.DataType.BOOL, 2, 4);
            for (int i = 0; i < 8; i++) {
                idt.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, i, ids[i]);
                kt.segment().set(java.lang.foreign.ValueLayout.JAVA_BYTE, i, (byte) (keep[i] ? 1 : 0));
            }
            expected = m.run(Map.of("ids", idt, "keep", kt)).get("y").toFloatArray();
        }
        float[] byHand = new float[6];   // the kept rows of the table summed per sample
        for (int i = 0; i < 8; i++) for (int c = 0; c < 3 && keep[i]; c++) byHand[(i / 4) * 3 + c] += table[(int) ids[i] * 3 + c];
        assertArrayEquals(byHand, expected, 1e-6f, "in process");
        TestServers.repository(dir, "digits", TestServers.digitsConfig(""));
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            assertEquals(200, client.post("/v2/repository/models/text/load", "").status());
            assertTrue(client.get("/v2/models/text").text().contains("{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[-1,4]}"),
                    client.get("/v2/models/text").text());
            String keepJson = "{\"name\":\"keep\",\"datatype\":\"BOOL\",\"shape\":[2,4],\"data\":[true,true,false,true,false,true,true,true]}";
            String json = "{\"inputs\":[{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[2,4],\"data\":[[3,0,9,3],[7,7,1,2]]}," + keepJson + "]}";
            V2Client.Response r = client.post("/v2/models/text/infer", json);
            assertEquals(200, r.status(), r.text());
            assertArrayEquals(expected, V2Client.outputData(r.json().asJsonObject()), "JSON INT64 and BOOL");
            // the binary extension: ids as 8-byte little-endian integers after the JSON header
            java.nio.ByteBuffer bin = java.nio.ByteBuffer.allocate(64).order(java.nio.ByteOrder.LITTLE_ENDIAN);
            for (long id : ids) bin.putLong(id);
            String header = "{\"inputs\":[{\"name\":\"ids\",\"datatype\":\"INT64\",\"shape\":[2,4],\"parameters\":{\"binary_data_size\":64}},"
                    + keepJson + "]}";
            byte[] h = header.getBytes(java.nio.charset.StandardCharsets.UTF_8), body = java.util.Arrays.copyOf(h, h.length + 64);
            System.arraycopy(bin.array(), 0, body, h.length, 64);
            r = client.post("/v2/models/text/infer", body, Map.of("Inference-Header-Content-Length", Integer.toString(h.length)));
            assertEquals(200, r.status(), r.text());
            assertArrayEquals(expected, V2Client.outputData(r.json().asJsonObject()), "binary INT64");
            String[][] bad = {
                {json.replace("[[3,0,9,3]", "[[3,0.5,9,3]"), "data element 1 (0.5) is not an integer (INT64)"},
                {json.replace("[[3,0,9,3]", "[[3,9223372036854775808,9,3]"), "out of INT64's range"},
                {json.replace("[true,true,false", "[1,true,false"), "data element 0 is NUMBER, not a boolean (BOOL)"},
                {json.replace("\"datatype\":\"INT64\"", "\"datatype\":\"FP32\""), "datatype FP32 does not match the model's INT64"},
            };
            for (String[] c : bad) {
                r = client.post("/v2/models/text/infer", c[0]);
                assertEquals(400, r.status(), c[1]);
                assertTrue(r.text().contains(c[1]), c[1] + ": " + r.text());
            }
        }
    }

    @Test
    void anOnnxModelIsUnmappedWhenUnloadedOrRefused() throws Exception {
        TestServers.repository(dir, "digits", TestServers.digitsConfig(""));
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            Path served = onnxModel("served", "{}").resolve("model.onnx").toAbsolutePath();
            assertEquals(200, client.post("/v2/repository/models/served/load", "").status());
            assertTrue(mapped(served), "a served ONNX model keeps its file mapped (weights used in place)");
            assertEquals(200, client.post("/v2/repository/models/served/unload", "").status());
            assertTrue(!mapped(served), "unloading closes the OnnxModel: its mapping is gone");

            Path refused = onnxModel("refused", "{\"outputs\": [{\"name\": \"probs\"}]}").resolve("model.onnx").toAbsolutePath();
            assertTrue(RepositoryTest.loadError(client, "refused").contains("output name 'probs'"));
            assertTrue(!mapped(refused), "a model refused after Onnx.load is closed: nothing stays mapped");
        }
    }

    /**
     * A model whose shapes need both its dynamic dims (x [N, L] reshaped to [Shape(x)[0], -1, 2], the target computed from
     * Shape as torch exports it, then the max of each pair): imported alone it is no graph (L unknown), so before, it could
     * not be served at all; with L's size in config.json the server imports it with L fixed and serves it over the batch,
     * against the pairwise maxima computed here.
     */
    @Test
    void servesAModelWhoseShapesNeedConfigsSize() throws Exception {
        TensorProto zero = TensorProto.newBuilder().setName("zero").setDataType(TensorProto.DataType.INT64_VALUE).addInt64Data(0).build();
        TensorProto axes0 = TensorProto.newBuilder().setName("axes0").setDataType(TensorProto.DataType.INT64_VALUE).addDims(1).addInt64Data(0).build();
        TensorProto rest = TensorProto.newBuilder().setName("rest").setDataType(TensorProto.DataType.INT64_VALUE).addDims(2).addInt64Data(-1)
                .addInt64Data(2).build();
        GraphProto.Builder g = GraphProto.newBuilder().setName("pairs").addInitializer(zero).addInitializer(axes0).addInitializer(rest)
                .addInput(f32("x", "N", "L"))
                .addNode(NodeProto.newBuilder().setOpType("Shape").addInput("x").addOutput("s"))
                .addNode(NodeProto.newBuilder().setOpType("Gather").addInput("s").addInput("zero").addOutput("n"))
                .addNode(NodeProto.newBuilder().setOpType("Unsqueeze").addInput("n").addInput("axes0").addOutput("n1"))
                .addNode(NodeProto.newBuilder().setOpType("Concat").addInput("n1").addInput("rest").addOutput("target")
                        .addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(0)))
                .addNode(NodeProto.newBuilder().setOpType("Reshape").addInput("x").addInput("target").addOutput("r"))
                .addNode(NodeProto.newBuilder().setOpType("ReduceMax").addInput("r").addOutput("y")
                        .addAttribute(AttributeProto.newBuilder().setName("axes").setType(AttributeProto.AttributeType.INTS).addInts(2))
                        .addAttribute(AttributeProto.newBuilder().setName("keepdims").setType(AttributeProto.AttributeType.INT).setI(0)))
                .addOutput(f32("y", "N", "H"));
        writeModel("pairs", g);
        try (OnnxModel alone = Onnx.load(dir.resolve("pairs/model.onnx"))) {
            assertThrows(OnnxException.class, alone::toGraph, "L unknown: no graph");
        }
        Files.writeString(dir.resolve("pairs/config.json"), "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [-1, 6]}]}");
        TestServers.repository(dir, "digits", TestServers.digitsConfig(""));
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            V2Client.Response load = client.post("/v2/repository/models/pairs/load", "");
            assertEquals(200, load.status(), load.text());
            assertTrue(client.get("/v2/models/pairs").text().contains("\"shape\":[-1,3]"), client.get("/v2/models/pairs").text());
            float[] x = {1, -2, 5, 3, -1, -4, 0, 7, 2, 2, -3, -5};
            float[] pairMax = new float[6];
            for (int i = 0; i < 6; i++) pairMax[i] = Math.max(x[2 * i], x[2 * i + 1]);
            assertArrayEquals(pairMax, client.infer("pairs", "x", x, 2, 6), "the max of each pair, two rows");
            assertArrayEquals(Arrays.copyOf(pairMax, 3), client.infer("pairs", "x", Arrays.copyOf(x, 6), 1, 6), "one row");
        }
    }

    /**
     * A model.onnx whose input and output declare no shape (other exporters write such files): refused naming what
     * config.json must give; with the input's name and shape in config.json, imported with that shape and served.
     */
    @Test
    void aModelWithoutInputShapesTakesThemFromConfig() throws Exception {
        ValueInfoProto noShape = ValueInfoProto.newBuilder().setName("x").setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))).build();
        ValueInfoProto noShapeOut = noShape.toBuilder().setName("y").build();
        GraphProto.Builder g = GraphProto.newBuilder().setName("g").addInput(noShape).addOutput(noShapeOut)
                .addNode(NodeProto.newBuilder().setOpType("Relu").addInput("x").addOutput("y"));
        TestServers.repository(dir, "digits", TestServers.digitsConfig(""));
        try (InferenceServer server = TestServers.start(dir)) {
            V2Client client = TestServers.client(server);
            writeModel("shapeless", g);
            String error = RepositoryTest.loadError(client, "shapeless");
            assertTrue(error.contains("graph input 'x': has no shape") && error.contains("give each input's name, datatype and shape"), error);
            Files.writeString(dir.resolve("shapeless/config.json"), "{\"inputs\": [{\"name\": \"x\", \"datatype\": \"FP32\", \"shape\": [-1, 4]}]}");
            V2Client.Response load = client.post("/v2/repository/models/shapeless/load", "");
            assertEquals(200, load.status(), load.text());
            assertArrayEquals(new float[] {0, 2, 0, 4, 5, 0, 7, 0}, client.infer("shapeless", "x", new float[] {-1, 2, -3, 4, 5, -6, 7, -8}, 2, 4));
            assertTrue(client.get("/v2/models/shapeless").text().contains("\"shape\":[-1,4]"), client.get("/v2/models/shapeless").text());
        }
    }

    /** Whether {@code file} is memory-mapped in this process (Linux: /proc/self/maps). */
    private static boolean mapped(Path file) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().anyMatch(l -> l.endsWith(" " + file));
    }

    /** A model directory {@code name} with {@code graph} (opset 13) as model.onnx and an empty config.json. */
    private void writeModel(String name, GraphProto.Builder graph) throws Exception {
        Path m = Files.createDirectories(dir.resolve(name));
        Files.writeString(m.resolve("config.json"), "{}");
        Files.write(m.resolve("model.onnx"), ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(graph).build().toByteArray());
    }

    /** A graph input of ONNX element type {@code elem}; a String dim is symbolic. */
    private static ValueInfoProto typed(String name, int elem, Object... dims) {
        ValueInfoProto v = f32(name, dims);
        return v.toBuilder().setType(v.getType().toBuilder().setTensorType(v.getType().getTensorType().toBuilder().setElemType(elem))).build();
    }

    /** An FP32 graph input or output; a String dim is symbolic. */
    private static ValueInfoProto f32(String name, Object... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            s.addDim(d instanceof String p ? TensorShapeProto.Dimension.newBuilder().setDimParam(p)
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) d).longValue()));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s))).build();
    }
}
