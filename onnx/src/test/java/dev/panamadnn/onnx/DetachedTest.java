package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.FunctionProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.NodeProto;
import dev.panamadnn.onnx.proto.SparseTensorProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TrainingInfoProto;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * {@link Detached#read}: the model in a mapped file, parsed by protobuf's generated classes from every field but the
 * main graph's initializers' raw_data, which become slices of the file, never copied. The result is what one parse of
 * the whole file gives (checked against {@code ModelProto.parseFrom} on hand-made wire forms, every truncation and
 * seeded corruptions), the proto keeps no view of any array, and reading a model allocates far less heap than its weights.
 */
class DetachedTest {
    private static final int LIMIT = 64;

    @Test
    void everyFieldIsKeptAndOnlyTheMainGraphsRawDataMovesOut() throws Exception {
        ModelProto written = everyBytesPath();
        byte[] file = written.toByteArray();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mapped = arena.allocate(file.length + 1L, 8).asSlice(1, file.length);   // off by one: raw_data misaligned somewhere
            MemorySegment.copy(file, 0, mapped, ValueLayout.JAVA_BYTE, 0, file.length);
            Detached d = Detached.read(mapped, LIMIT);
            List<String> views = new ArrayList<>();
            viewsOfAnotherArray(d.proto(), "model", views);
            assertEquals(List.of(), views, "bytes fields that are views of a larger array (the proto would keep it)");

            // The main graph's initializers: raw_data moved out as slices of the file with the same bytes, other fields kept.
            GraphProto g = d.proto().getGraph();
            assertEquals(2, d.raw().length);
            for (int i = 0; i < 2; i++) {
                TensorProto before = written.getGraph().getInitializer(i), after = g.getInitializer(i);
                assertFalse(after.hasRawData(), "raw_data moved out");
                assertEquals(before.toBuilder().clearRawData().build(), after);
                MemorySegment raw = d.raw()[i];
                assertNotNull(raw);
                assertTrue(raw.address() >= mapped.address() && raw.address() + raw.byteSize() <= mapped.address() + mapped.byteSize(), "in the file");
                assertArrayEquals(before.getRawData().toByteArray(), raw.toArray(ValueLayout.JAVA_BYTE));
            }
            // Everything else (raw_data in subgraphs, attributes, functions, sparse tensors...) is the same message.
            assertEquals(written, restored(d));
        }
    }

    @Test
    void protobufsRulesHoldAcrossTheRoutedFields() throws Exception {
        TensorProto w = TestModels.weights("W", new float[] {1, 2, 3}, 3), v = TestModels.weights("V", new float[] {4, 5}, 2);
        // a graph written in two occurrences of field 7 (they merge), an initializer before the nodes, unknown fields at every
        // level, raw_data twice in one tensor (the last wins) and present but empty in another, fields after raw_data
        byte[] tensorTwice = cat(TensorProto.newBuilder().setName("T").setRawData(ByteString.copyFromUtf8("first")).build().toByteArray(),
                unknown(90), TensorProto.newBuilder().setRawData(ByteString.copyFromUtf8("the second wins")).addDims(15).build().toByteArray(),
                TensorProto.newBuilder().setDataType(TensorProto.DataType.UINT8_VALUE).build().toByteArray());
        byte[] empty = TensorProto.newBuilder().setName("E").setDataType(TensorProto.DataType.FLOAT_VALUE).addDims(0).setRawData(ByteString.EMPTY).build().toByteArray();
        byte[] graph1 = cat(field(5, w.toByteArray()), unknown(91), GraphProto.newBuilder().setName("g").addNode(NodeProto.newBuilder().setName("a")).build().toByteArray(),
                field(5, tensorTwice));
        byte[] graph2 = cat(GraphProto.newBuilder().addNode(NodeProto.newBuilder().setName("b")).setDocString("second piece").build().toByteArray(),
                field(5, empty), field(5, v.toByteArray()));
        byte[] model = cat(ModelProto.newBuilder().setIrVersion(8).build().toByteArray(), field(7, graph1), unknown(92),
                ModelProto.newBuilder().setProducerName("p").build().toByteArray(), field(7, graph2),
                ModelProto.newBuilder().setIrVersion(9).build().toByteArray());
        ModelProto whole = ModelProto.parseFrom(model);
        assertEquals(4, whole.getGraph().getInitializerCount(), "the two pieces of the graph merged");
        assertEquals("the second wins", whole.getGraph().getInitializer(1).getRawData().toStringUtf8());
        assertEquals(9, whole.getIrVersion());
        assertFalse(whole.getUnknownFields().asMap().isEmpty());
        try (Arena arena = Arena.ofConfined()) {
            Detached d = Detached.read(segment(arena, model), LIMIT);
            assertEquals(whole, restored(d));
            assertNull(d.raw()[2], "an empty raw_data stays in the proto");
            assertTrue(d.proto().getGraph().getInitializer(2).hasRawData());
            assertEquals("the second wins", new String(d.raw()[1].toArray(ValueLayout.JAVA_BYTE), java.nio.charset.StandardCharsets.UTF_8));
        }
    }

    @Test
    void everyTruncationIsRefusedExactlyWhereTheParserRefusesIt() throws Exception {
        byte[] model = TestModels.model(13, TestModels.convRelu().build()).toByteArray();
        int refused = 0;
        for (int n = 0; n <= model.length; n++) refused += sameOutcome(Arrays.copyOf(model, n), "the first " + n + " bytes") ? 0 : 1;
        assertTrue(refused > model.length / 2, "most truncations are refused: " + refused + " of " + model.length);
    }

    @Test
    void seededCorruptionsGiveWhatOneParseGives() throws Exception {
        byte[] model = everyBytesPath().toByteArray();
        Random r = new Random(20261207);
        int parsed = 0, refused = 0;
        for (int k = 0; k < 3000; k++) {
            byte[] bad = model.clone();
            int edits = 1 + r.nextInt(3);
            for (int e = 0; e < edits; e++) {
                int at = r.nextInt(bad.length);
                switch (r.nextInt(3)) {
                    case 0 -> bad[at] = (byte) r.nextInt(256);
                    case 1 -> bad[at] ^= (byte) (1 << r.nextInt(8));
                    default -> bad = cat(Arrays.copyOf(bad, at), new byte[] {(byte) r.nextInt(256)}, Arrays.copyOfRange(bad, at, bad.length));
                }
            }
            if (sameOutcome(bad, "corruption " + k)) parsed++;
            else refused++;
        }
        assertTrue(parsed > 100 && refused > 100, "both outcomes occur: " + parsed + " parsed, " + refused + " refused");
    }

    @Test
    void nestingIsLimitedAsOneParseLimitsIt() throws Exception {
        // If nodes holding If nodes in their branches: refused past the recursion limit by both, taken below it by both
        for (int depth : new int[] {5, 20, 21, 22, 40}) {
            GraphProto g = GraphProto.newBuilder().setName("leaf").addInitializer(TestModels.weights("W", new float[] {1, 2}, 2)).build();
            for (int i = 0; i < depth; i++) {
                AttributeProto branch = AttributeProto.newBuilder().setName("then_branch").setType(AttributeProto.AttributeType.GRAPH).setG(g).build();
                g = GraphProto.newBuilder().setName("g" + i).addNode(NodeProto.newBuilder().setOpType("If").addAttribute(branch))
                        .addInitializer(TestModels.weights("W" + i, new float[] {i}, 1)).build();
            }
            byte[] model = TestModels.model(13, g).toByteArray();
            boolean parsed = sameOutcome(model, "nesting " + depth);   // the same outcome as one parse, either way
            // each If is three messages deeper (node, attribute, graph) below the main graph: 3 x 21 + 1 = 64 is the limit
            assertEquals(depth <= 20, parsed, "nesting " + depth);
        }
    }

    @Test
    void readingAModelAllocatesFarLessHeapThanItsWeights() throws Exception {
        float[] big = new float[4 << 20];   // 16 MB of raw_data
        for (int i = 0; i < big.length; i += 1024) big[i] = i;
        byte[] file = TestModels.model(13, GraphProto.newBuilder().setName("g").addInitializer(TestModels.weights("W", big, big.length)).build()).toByteArray();
        big = null;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mapped = segment(arena, file);
            file = null;
            Detached.read(mapped, LIMIT);   // once to load the classes
            long before = allocatedByThisThread();
            Detached d = Detached.read(mapped, LIMIT);
            long allocated = allocatedByThisThread() - before;
            assertEquals(16L << 20, d.raw()[0].byteSize());
            assertTrue(allocated < 1 << 20, "reading a model with 16 MB of weights allocated " + allocated + " heap bytes");
        }
    }

    @Test
    void aModelNotFromAFileHasNothingMovedOut() {
        Detached d = Detached.of(TestModels.model(13, TestModels.convRelu().build()));
        assertNull(d.raw());
    }

    /**
     * Whether {@code bytes} parse (else both refuse them with InvalidProtocolBufferException): read's model with its
     * slices put back is the whole parse's, field for field.
     */
    private static boolean sameOutcome(byte[] bytes, String what) throws Exception {
        ModelProto whole;
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setRecursionLimit(LIMIT);
            whole = ModelProto.parseFrom(in);
        } catch (InvalidProtocolBufferException e) {
            whole = null;
        }
        try (Arena arena = Arena.ofConfined()) {
            Detached d;
            try {
                d = Detached.read(segment(arena, bytes), LIMIT);
            } catch (InvalidProtocolBufferException e) {
                assertNull(whole, what + ": read refused what one parse takes: " + e.getMessage());
                return false;
            }
            assertNotNull(whole, what + ": read took what one parse refuses");
            assertEquals(whole, restored(d), what);
            return true;
        }
    }

    /** {@code d}'s model with each slice put back as its initializer's raw_data. */
    private static ModelProto restored(Detached d) {
        if (!d.proto().hasGraph()) return d.proto();
        GraphProto.Builder g = d.proto().getGraph().toBuilder();
        for (int i = 0; i < d.raw().length; i++) {
            if (d.raw()[i] != null) g.setInitializer(i, g.getInitializer(i).toBuilder().setRawData(ByteString.copyFrom(d.raw()[i].toArray(ValueLayout.JAVA_BYTE))));
        }
        return d.proto().toBuilder().setGraph(g).build();
    }

    private static MemorySegment segment(Arena arena, byte[] bytes) {
        MemorySegment s = arena.allocate(Math.max(1, bytes.length)).asSlice(0, bytes.length);
        MemorySegment.copy(bytes, 0, s, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return s;
    }

    /** Field {@code number} holding {@code payload}, length-delimited, on the wire. */
    private static byte[] field(int number, byte[] payload) throws java.io.IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        CodedOutputStream c = CodedOutputStream.newInstance(out);
        c.writeByteArray(number, payload);
        c.flush();
        return out.toByteArray();
    }

    /** An unknown varint field {@code number} on the wire. */
    private static byte[] unknown(int number) throws java.io.IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        CodedOutputStream c = CodedOutputStream.newInstance(out);
        c.writeUInt64(number, 1234567);
        c.flush();
        return out.toByteArray();
    }

    private static byte[] cat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) out.writeBytes(p);
        return out.toByteArray();
    }

    /** As PlanHeapTest: {@code com.sun.management.ThreadMXBean.getCurrentThreadAllocatedBytes()}, reflectively. */
    private static long allocatedByThisThread() {
        try {
            Object bean = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
            return (long) Class.forName("com.sun.management.ThreadMXBean").getMethod("getCurrentThreadAllocatedBytes").invoke(bean);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("no per-thread allocation count in this JVM", e);
        }
    }

    /** Adds the path of every non-empty bytes field of {@code m} that is a view of a larger array than its own bytes. */
    private static void viewsOfAnotherArray(Message m, String path, List<String> out) {
        for (Map.Entry<FieldDescriptor, Object> e : m.getAllFields().entrySet()) {
            FieldDescriptor f = e.getKey();
            List<?> values = f.isRepeated() ? (List<?>) e.getValue() : List.of(e.getValue());
            for (int i = 0; i < values.size(); i++) {
                String at = path + "." + f.getName() + (f.isRepeated() ? "[" + i + "]" : "");
                if (values.get(i) instanceof ByteString s && !s.isEmpty()) {
                    ByteBuffer view = s.asReadOnlyByteBuffer();
                    if (view.isDirect() || view.capacity() != s.size()) out.add(at);
                } else if (values.get(i) instanceof Message child) {
                    viewsOfAnotherArray(child, at, out);
                }
            }
        }
    }

    /** A model with bytes at the end of every path onnx.proto has (the importer would refuse it; Detached must not care). */
    private static ModelProto everyBytesPath() {
        TensorProto w = TestModels.weights("W", new float[] {1, 2, 3, 4, 5, 6, 7, 8}, 2, 4);
        TensorProto strings = TensorProto.newBuilder().setName("S").setDataType(TensorProto.DataType.STRING_VALUE).addDims(2)
                .addStringData(bytes("first string, long enough")).addStringData(bytes("second")).build();
        SparseTensorProto sparse = SparseTensorProto.newBuilder().setValues(TestModels.weights("v", new float[] {9, 10}, 2))
                .setIndices(TensorProto.newBuilder().setName("i").setDataType(TensorProto.DataType.INT64_VALUE).addDims(2)
                        .setRawData(bytes("0123456789abcdef"))).addDims(8).build();
        GraphProto sub = GraphProto.newBuilder().setName("sub").addInitializer(TestModels.weights("subW", new float[] {3, 1, 4, 1, 5}, 5))
                .addNode(node("subnode", AttributeProto.newBuilder().setName("s").setType(AttributeProto.AttributeType.STRING)
                        .setS(bytes("an attribute string inside a subgraph")).build())).build();
        AttributeProto all = AttributeProto.newBuilder().setName("all").setS(bytes("s: a string attribute"))
                .addStrings(bytes("strings[0]")).addStrings(bytes("strings[1]")).setT(TestModels.weights("t", new float[] {2, 7, 1, 8}, 4))
                .addTensors(TestModels.weights("t0", new float[] {1, 1, 2, 3, 5}, 5)).addTensors(strings).setSparseTensor(sparse)
                .addSparseTensors(sparse).setG(sub).addGraphs(sub).build();
        GraphProto main = GraphProto.newBuilder().setName("main").addInitializer(w)
                .addInitializer(TestModels.weights("W2", new float[] {0.5f, 0.25f, 0.125f}, 3)).addSparseInitializer(sparse)
                .addNode(node("n", all)).build();
        return TestModels.model(13, main).toBuilder().setDocString("x")
                .addFunctions(FunctionProto.newBuilder().setName("f").setDomain("d").addNode(node("fn", all)))
                .addTrainingInfo(TrainingInfoProto.newBuilder().setInitialization(sub).setAlgorithm(sub)).build();
    }

    private static NodeProto node(String name, AttributeProto a) {
        return NodeProto.newBuilder().setName(name).setOpType("Custom").addAttribute(a).build();
    }

    private static ByteString bytes(String s) {
        return ByteString.copyFromUtf8(s);
    }
}
