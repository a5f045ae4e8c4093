package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.Descriptors.FieldDescriptor;
import com.google.protobuf.Message;
import com.google.protobuf.UnsafeByteOperations;
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
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * {@link Detached}: a model parsed with aliasing from a heap copy of its file keeps no view of that copy (which would
 * keep the whole file on the heap), wherever onnx.proto lets bytes sit; the main graph's initializers' raw_data
 * become slices of the mapping; the rest of the model is unchanged. (Lazily decoded string fields, which such a view
 * would also be, are what OnnxLoadTest's heap measurement catches.)
 */
class DetachedTest {
    @Test
    void noBytesFieldAnywhereIsLeftAViewOfTheParsedArray() {
        ModelProto written = everyBytesPath();
        byte[] file = written.toByteArray();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mapped = arena.allocate(file.length + 1L, 8).asSlice(1, file.length);   // off by one: raw_data misaligned somewhere
            MemorySegment.copy(file, 0, mapped, ValueLayout.JAVA_BYTE, 0, file.length);
            byte[] copy = mapped.toArray(ValueLayout.JAVA_BYTE);
            ModelProto parsed = aliased(copy);
            List<String> views = new ArrayList<>();
            viewsOfAnotherArray(parsed, "model", views);
            assertFalse(views.isEmpty(), "the parser aliased nothing: the test would prove nothing");
            Detached d = Detached.of(parsed, copy, mapped);
            List<String> left = new ArrayList<>();
            viewsOfAnotherArray(d.proto(), "model", left);
            assertEquals(List.of(), left, "bytes fields still views of the parsed array");

            // The main graph's initializers: raw_data moved out as slices of the file with the same bytes, other fields kept.
            GraphProto g = d.proto().getGraph();
            assertEquals(2, d.raw().length);
            for (int i = 0; i < 2; i++) {
                TensorProto before = written.getGraph().getInitializer(i), after = g.getInitializer(i);
                assertTrue(after.getRawData().isEmpty(), "raw_data cleared");
                assertEquals(before.toBuilder().clearRawData().build(), after);
                MemorySegment raw = d.raw()[i];
                assertNotNull(raw);
                assertTrue(raw.address() >= mapped.address() && raw.address() + raw.byteSize() <= mapped.address() + mapped.byteSize(), "in the file");
                assertArrayEquals(before.getRawData().toByteArray(), raw.toArray(ValueLayout.JAVA_BYTE));
            }
            // Everything else is the same message.
            ModelProto restored = d.proto().toBuilder().setGraph(g.toBuilder().setInitializer(0, written.getGraph().getInitializer(0))
                    .setInitializer(1, written.getGraph().getInitializer(1))).build();
            assertEquals(written, restored);
        }
    }

    @Test
    void onlyAViewOfTheCopyItselfBecomesASliceOfTheFile() {
        byte[] file = new byte[64];
        for (int i = 0; i < file.length; i++) file[i] = (byte) (i * 37 + 5);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment mapped = arena.allocate(file.length);
            MemorySegment.copy(file, 0, mapped, ValueLayout.JAVA_BYTE, 0, file.length);
            byte[] copy = file.clone();
            MemorySegment slice = Detached.inFile(UnsafeByteOperations.unsafeWrap(copy, 10, 20), copy, mapped);
            assertNotNull(slice, "a view of the copy");
            assertEquals(mapped.address() + 10, slice.address());
            assertEquals(20, slice.byteSize());
            // The same bytes, but not a view of the copy: a copy of them, or a view of another array with the same contents.
            assertNull(Detached.inFile(ByteString.copyFrom(copy, 10, 20), copy, mapped), "a copied ByteString");
            assertNull(Detached.inFile(UnsafeByteOperations.unsafeWrap(file, 10, 20), copy, mapped), "a view of another array");
            assertNull(Detached.inFile(UnsafeByteOperations.unsafeWrap(copy, 10, 20).concat(UnsafeByteOperations.unsafeWrap(copy, 30, 4)), copy,
                    mapped), "a rope of two views");
            MemorySegment viaBuffer = Detached.inFile(UnsafeByteOperations.unsafeWrap(ByteBuffer.wrap(copy, 10, 20)), copy, mapped);
            assertEquals(mapped.address() + 10, viaBuffer.address(), "a heap buffer over the copy is a view of it too");
            assertNull(Detached.inFile(ByteString.EMPTY, copy, mapped));
            assertNull(Detached.inFile(UnsafeByteOperations.unsafeWrap(copy, 40, 24), copy, mapped.asSlice(0, 50)), "past the mapping's end");
        }
    }

    @Test
    void aModelNotFromAFileHasNothingMovedOut() {
        Detached d = Detached.of(TestModels.model(13, TestModels.convRelu().build()));
        assertNull(d.raw());
    }

    private static ModelProto aliased(byte[] bytes) {
        try {
            CodedInputStream in = UnsafeByteOperations.unsafeWrap(bytes).newCodedInput();
            in.enableAliasing(true);
            return ModelProto.parseFrom(in);
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
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
