package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.StringStringEntryProto;
import dev.panamadnn.onnx.proto.TensorProto;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Loading from a file, a stream and with external data, checked against ONNX's own test data for
 * PyTorch's Conv2d (pytorch-converted/test_Conv2d: weights as initializers, output from PyTorch).
 */
class OnnxLoadTest {
    static final Path CASE = TestModels.backendCase("pytorch-converted/test_Conv2d");

    @BeforeAll
    static void data() {
        assumeTrue(Files.exists(CASE.resolve("model.onnx")), "ONNX backend test data not installed (apt-get install libonnx-testdata)");
    }

    /** Runs {@code m} on the case's input and compares with its expected output (rtol 1e-3, atol 1e-7). */
    private static void assertMatchesTestData(OnnxModel m) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            Tensor in = TensorProtos.toTensor(TensorProto.parseFrom(Files.readAllBytes(CASE.resolve("test_data_set_0/input_0.pb"))), "input", arena, null);
            Tensor want = TensorProtos.toTensor(TensorProto.parseFrom(Files.readAllBytes(CASE.resolve("test_data_set_0/output_0.pb"))), "output", arena, null);
            Map<String, Tensor> out = m.run(Map.of(m.inputs().get(0).name(), in));
            try (Tensor got = out.get(m.outputs().get(0).name())) {
                assertNull(BackendCase.compare(got, want));
            }
        }
    }

    @Test
    void fromPath() throws IOException {
        try (OnnxModel m = Onnx.load(CASE.resolve("model.onnx"))) {
            assertTrue(m.producer().startsWith("pytorch"), m.producer());
            assertMatchesTestData(m);
        }
    }

    @Test
    void fromStream() throws IOException {
        try (InputStream s = Files.newInputStream(CASE.resolve("model.onnx")); OnnxModel m = Onnx.load(s)) {
            assertMatchesTestData(m);
        }
    }

    /** The model with every initializer's bytes moved to {@code weights.bin} beside it, {@code pad} bytes apart. */
    private static ModelProto withExternalData(Path dir, String location, int pad) throws IOException {
        ModelProto m = ModelProto.parseFrom(Files.readAllBytes(CASE.resolve("model.onnx")));
        GraphProto.Builder g = m.getGraph().toBuilder();
        ByteArrayOutputStream bin = new ByteArrayOutputStream();
        try (Arena arena = Arena.ofConfined()) {
            for (int i = 0; i < g.getInitializerCount(); i++) {
                TensorProto t = g.getInitializer(i);
                byte[] bytes = TensorProtos.toTensor(t, t.getName(), arena, null).segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                bin.write(new byte[pad]);
                long offset = bin.size();
                bin.write(bytes);
                g.setInitializer(i, t.toBuilder().clearRawData().clearFloatData().setDataLocation(TensorProto.DataLocation.EXTERNAL)
                        .addExternalData(StringStringEntryProto.newBuilder().setKey("location").setValue(location))
                        .addExternalData(StringStringEntryProto.newBuilder().setKey("offset").setValue(Long.toString(offset)))
                        .addExternalData(StringStringEntryProto.newBuilder().setKey("length").setValue(Long.toString(bytes.length))));
            }
        }
        Files.write(dir.resolve("weights.bin"), bin.toByteArray());
        return m.toBuilder().setGraph(g).build();
    }

    @Test
    void externalDataAlignedAndNot(@TempDir Path dir) throws IOException {
        for (int pad : new int[] {0, 3}) {   // 3: offsets not a multiple of 4, so the weights are copied
            Files.write(dir.resolve("model.onnx"), withExternalData(dir, "weights.bin", pad).toByteArray());
            try (OnnxModel m = Onnx.load(dir.resolve("model.onnx"))) {
                assertMatchesTestData(m);
            }
        }
    }

    @Test
    void externalDataMissingShortOrOutside(@TempDir Path dir) throws IOException {
        ModelProto m = withExternalData(dir, "weights.bin", 0);
        Files.write(dir.resolve("model.onnx"), m.toByteArray());
        OnnxException bytes = assertThrows(OnnxException.class, () -> Onnx.load(m.toByteArray()));
        assertTrue(bytes.getMessage().contains("needs the model loaded from a file"), bytes.getMessage());

        Files.write(dir.resolve("weights.bin"), new byte[10]);
        OnnxException shortFile = assertThrows(OnnxException.class, () -> Onnx.load(dir.resolve("model.onnx")));
        assertTrue(shortFile.getMessage().contains("is too short"), shortFile.getMessage());

        Files.delete(dir.resolve("weights.bin"));
        OnnxException missing = assertThrows(OnnxException.class, () -> Onnx.load(dir.resolve("model.onnx")));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());

        for (String escape : new String[] {"../weights.bin", "/etc/passwd", "sub/../../weights.bin"}) {
            Path sub = Files.createDirectories(dir.resolve("m"));
            Files.write(sub.resolve("model.onnx"), withExternalData(dir, escape, 0).toByteArray());
            OnnxException outside = assertThrows(OnnxException.class, () -> Onnx.load(sub.resolve("model.onnx")), escape);
            assertTrue(outside.getMessage().contains("outside the model's directory"), outside.getMessage());
            assertTrue(outside.getMessage().contains("initializer '"), "names the tensor: " + outside.getMessage());
        }
    }

    @Test
    void weightsAreMappedNotCopiedWhereAligned(@TempDir Path dir) throws IOException {
        Files.write(dir.resolve("model.onnx"), withExternalData(dir, "weights.bin", 0).toByteArray());
        try (OnnxModel m = Onnx.load(dir.resolve("model.onnx"))) {
            for (Tensor t : m.toGraph().initializers().values()) assertTrue(t.segment().isMapped(), "mapped: " + t);
        }
        // raw_data inside the model file: the parser aliases the mapping; an aligned tensor is used in place, a misaligned one copied.
        try (OnnxModel m = Onnx.load(CASE.resolve("model.onnx"))) {
            int inPlace = 0;
            for (Tensor t : m.toGraph().initializers().values()) {
                if (t.segment().isMapped()) inPlace++;
                else assertTrue(t.segment().address() % 4 == 0 && !t.segment().isReadOnly(), "a copy, aligned: " + t);
            }
            System.out.println("test_Conv2d: " + inPlace + " of " + m.toGraph().initializers().size() + " initializers used in place");
        }
    }

    @Test
    void rawDataIsUsedInPlaceWhenAligned(@TempDir Path dir) throws IOException {
        // The base model with a doc_string of 0-3 bytes, so that W's raw_data lands at a 4-byte-aligned and then at a misaligned file offset.
        float[] w = {0.5f, -1.25f, 2f, 0.75f, -0.5f, 1.5f};
        byte[] pattern = TestModels.weights("W", w, 3, 2, 1, 1).getRawData().toByteArray();
        boolean sawAligned = false, sawMisaligned = false;
        for (int pad = 0; pad < 4; pad++) {
            var g = TestModels.convRelu().setInitializer(0, TestModels.weights("W", w, 3, 2, 1, 1));
            byte[] bytes = TestModels.model(13, g.build()).toBuilder().setDocString("x".repeat(pad)).build().toByteArray();
            int offset = indexOf(bytes, pattern);
            Files.write(dir.resolve("m.onnx"), bytes);
            try (OnnxModel m = Onnx.load(dir.resolve("m.onnx"))) {
                Tensor t = m.toGraph().initializers().get("W");
                assertEquals(offset % 4 == 0, t.segment().isMapped(), "offset " + offset + ": in place only when aligned");
                assertArrayEquals(w, t.toFloatArray());
            }
            sawAligned |= offset % 4 == 0;
            sawMisaligned |= offset % 4 != 0;
        }
        assertTrue(sawAligned && sawMisaligned);
    }

    /**
     * An F32 weight of 4 KiB or more is used in place wherever the file puts it (torch writes initializers at any offset):
     * a Conv's and a MatMul's weights at each of the four offsets modulo 4 are views of the mapping, read back exactly, and
     * the model's outputs (one-off run and a compiled plan set) are bit-identical whatever the offset.
     */
    @Test
    void largeF32WeightsAreUsedInPlaceAtAnyOffset(@TempDir Path dir) throws IOException {
        var random = new java.util.SplittableRandom(11);
        float[] wc = new float[16 * 8 * 3 * 3], wm = new float[16 * 64];   // 4,608 and 4,096 bytes
        for (int i = 0; i < wc.length; i++) wc[i] = (float) random.nextDouble(-1, 1);
        for (int i = 0; i < wm.length; i++) wm[i] = (float) random.nextDouble(-1, 1);
        float[] x = new float[2 * 8 * 4 * 4];
        for (int i = 0; i < x.length; i++) x[i] = (float) random.nextDouble(-2, 2);
        float[] first = null;
        boolean[] offsets = new boolean[4];
        for (int pad = 0; pad < 8; pad++) {
            var g = GraphProto.newBuilder().setName("conv_matmul").addInput(TestModels.f32("x", "N", 8, 4, 4)).addOutput(TestModels.f32("y", "N", 64))
                    .addInitializer(TestModels.weights("Wc", wc, 16, 8, 3, 3)).addInitializer(TestModels.weights("Wm", wm, 16, 64))
                    .addNode(TestModels.node("conv", "Conv", new String[] {"x", "Wc"}, new String[] {"c"}, TestModels.ints("kernel_shape", 3, 3),
                            TestModels.ints("pads", 1, 1, 1, 1)))
                    .addNode(TestModels.node("pool", "GlobalAveragePool", new String[] {"c"}, new String[] {"p"}))
                    .addNode(TestModels.node("flat", "Flatten", new String[] {"p"}, new String[] {"f"}))
                    .addNode(TestModels.node("mm", "MatMul", new String[] {"f", "Wm"}, new String[] {"y"}));
            byte[] bytes = TestModels.model(13, g.build()).toBuilder().setDocString("x".repeat(pad)).build().toByteArray();
            Files.write(dir.resolve("m.onnx"), bytes);
            try (OnnxModel m = Onnx.load(dir.resolve("m.onnx")); Arena arena = Arena.ofConfined()) {
                for (String name : new String[] {"Wc", "Wm"}) {
                    Tensor t = m.toGraph().initializers().get(name);
                    assertTrue(t.segment().isMapped(), name + " in place at file offset " + t.segment().address() % 4 + " mod 4 (pad " + pad + ")");
                    offsets[(int) (t.segment().address() % 4)] = true;
                    assertArrayEquals(name.equals("Wc") ? wc : wm, t.toFloatArray(), name + " read back");
                }
                Tensor in = Tensor.allocate(arena, dev.panamadnn.DataType.F32, 2, 8, 4, 4);
                java.lang.foreign.MemorySegment.copy(x, 0, in.segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, x.length);
                float[] once = TestModels.outputValues(m, Map.of("x", in), "y");
                float[] planned;
                try (var plans = m.compile(dev.panamadnn.compile.CompileOptions.defaults()); Tensor y = plans.run(in)) {
                    planned = y.toFloatArray();
                }
                if (first == null) first = once;
                assertArrayEquals(first, once, "one-off run, pad " + pad);
                assertArrayEquals(first, planned, "plan set, pad " + pad);
            }
        }
        for (int o = 0; o < 4; o++) assertTrue(offsets[o], "a weight was placed at offset " + o + " mod 4");
    }

    /**
     * The parser reads the file into a heap array whose views every bytes field is; the model keeps its proto (to import
     * again with inputs bound), which kept the whole array, i.e. the file, on the heap for the model's life. Now its
     * weights leave the proto as slices of the mapping and the rest is copied: the heap holds no copy of a 16 MB weight.
     */
    @Test
    void aLoadedModelKeepsNoHeapCopyOfItsFile(@TempDir Path dir) throws IOException {
        int k = 2048;
        float[] w = new float[k * k];
        var random = new java.util.SplittableRandom(5);
        for (int i = 0; i < w.length; i++) w[i] = (float) random.nextDouble(-1, 1);
        var g = dev.panamadnn.onnx.proto.GraphProto.newBuilder().setName("matmul").addInput(TestModels.f32("x", "N", k))
                .addOutput(TestModels.f32("y", "N", k)).addInitializer(TestModels.weights("W", w, k, k))
                .addNode(TestModels.node("mm", "MatMul", new String[] {"x", "W"}, new String[] {"y"}));
        Path file = dir.resolve("matmul.onnx");
        Files.write(file, TestModels.model(13, g.build()).toByteArray());
        w = null;   // not held by this test while the heap is measured
        long before = heapAfterGc();
        try (OnnxModel m = Onnx.load(file)) {
            long held = heapAfterGc() - before;
            assertTrue(held < 4 << 20, "the loaded model holds " + held + " more heap bytes (a 16 MB weight)");
            Tensor weight = m.toGraph().initializers().get("W");
            float[] read = weight.toFloatArray();
            random = new java.util.SplittableRandom(5);
            for (int i = 0; i < read.length; i++) {
                float expected = (float) random.nextDouble(-1, 1);
                if (read[i] != expected) assertEquals(expected, read[i], "W[" + i + "] as written to the file");
            }
        }
    }

    private static long heapAfterGc() {
        System.gc();
        Runtime r = Runtime.getRuntime();
        return r.totalMemory() - r.freeMemory();
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) if (haystack[i + j] != needle[j]) continue outer;
            return i;
        }
        throw new AssertionError("pattern not found");
    }

    /** OnnxModel.run with two inputs by name: ONNX's node/test_concat_2d_axis_1 (its expected output from ONNX's reference). */
    @Test
    void runTakesSeveralInputsByName() throws IOException {
        Path c = TestModels.backendCase("node/test_concat_2d_axis_1");
        try (Arena arena = Arena.ofConfined(); OnnxModel m = Onnx.load(c.resolve("model.onnx"))) {
            assertEquals(2, m.inputs().size());
            java.util.Map<String, Tensor> in = new java.util.HashMap<>();
            for (int k = 0; k < 2; k++) {
                in.put(m.inputs().get(k).name(), TensorProtos.toTensor(TensorProto.parseFrom(Files.readAllBytes(c.resolve("test_data_set_0/input_" + k + ".pb"))), "in", arena, null));
            }
            Tensor want = TensorProtos.toTensor(TensorProto.parseFrom(Files.readAllBytes(c.resolve("test_data_set_0/output_0.pb"))), "out", arena, null);
            Map<String, Tensor> out = m.run(in);
            assertEquals(java.util.List.of(m.outputs().get(0).name()), java.util.List.copyOf(out.keySet()));
            try (Tensor got = out.get(m.outputs().get(0).name())) {
                assertNull(BackendCase.compare(got, want));
            }
            in.remove(m.inputs().get(1).name());
            OnnxException missing = assertThrows(OnnxException.class, () -> m.run(in));
            assertTrue(missing.getMessage().contains("input '" + m.inputs().get(1).name() + "'"), missing.getMessage());
        }
    }

    @Test
    void concurrentRunsAgree() throws Exception {
        try (OnnxModel m = Onnx.load(CASE.resolve("model.onnx"))) {
            java.util.List<java.util.concurrent.Callable<Void>> runs = new java.util.ArrayList<>();
            for (int t = 0; t < 4; t++) {
                runs.add(() -> {
                    for (int i = 0; i < 10; i++) assertMatchesTestData(m);
                    return null;
                });
            }
            try (var pool = java.util.concurrent.Executors.newFixedThreadPool(4)) {
                for (var f : pool.invokeAll(runs)) f.get();
            }
        }
    }
}
