package dev.panamadnn.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.TensorProto;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A model parsed with aliasing from a heap copy of its file, detached from that copy. Parsed so, every {@code bytes}
 * field and every string field not yet read (protobuf-java decodes those lazily) is a view of the one array, so
 * keeping the proto - and an {@link OnnxModel} keeps it, to import again with inputs bound - kept the whole file on
 * the heap for the model's life (ResNet-50: 102 MB, VGG-11: 531 MB). protobuf-java makes a {@link ByteString} of
 * mapped memory only by copying it (without {@code sun.misc.Unsafe}), so the weights leave the proto instead: each
 * graph initializer's {@code raw_data} is cleared and its bytes are given as a slice of the file's mapping, by
 * initializer index ({@link #raw}), which the importer reads in place of the field ({@link TensorProtos#toTensor});
 * what is left (the graph's structure, small tensors, strings: kilobytes) is serialized and parsed again without
 * aliasing, so no field of the result can refer to the heap copy.
 *
 * @param proto the model, holding no view of the heap copy
 * @param raw   per graph initializer (by index), its raw_data as a slice of the mapping, or null where the field stays;
 *              null for a model not loaded from a file
 */
record Detached(ModelProto proto, MemorySegment[] raw) {
    /** A model parsed from bytes, not a file: nothing to detach. */
    static Detached of(ModelProto proto) {
        return new Detached(proto, null);
    }

    /**
     * {@return {@code m} detached from the heap copy it was parsed from}
     *
     * @param m    a model parsed with aliasing from the file's contents (a field's position in that array is its offset
     *             in the file)
     * @param file the file, mapped
     */
    static Detached of(ModelProto m, MemorySegment file) {
        GraphProto g = m.getGraph();
        MemorySegment[] raw = new MemorySegment[g.getInitializerCount()];
        GraphProto.Builder graph = g.toBuilder();
        for (int i = 0; i < raw.length; i++) {
            TensorProto t = g.getInitializer(i);
            raw[i] = inFile(t.getRawData(), file);
            if (raw[i] != null) graph.setInitializer(i, t.toBuilder().clearRawData());
        }
        ModelProto rest = m.hasGraph() ? m.toBuilder().setGraph(graph).build() : m;
        try {
            return new Detached(ModelProto.parseFrom(rest.toByteArray()), raw);   // a fresh array; parseFrom(byte[]) does not alias it
        } catch (InvalidProtocolBufferException e) {   // it was parsed once already
            throw new OnnxException("the model could not be parsed again without its weights: " + e.getMessage(), e);
        }
    }

    /** The bytes of {@code s} as a slice of {@code file} where {@code s} is a view of the heap copy at the same offset, else null. */
    private static MemorySegment inFile(ByteString s, MemorySegment file) {
        if (s.isEmpty()) return null;
        ByteBuffer view = s.asReadOnlyByteBuffer();
        if (view.isDirect()) return null;
        long offset = view.position(), n = s.size();
        if (offset + n > file.byteSize()) return null;
        MemorySegment slice = file.asSlice(offset, n);
        // The parser's view of the heap copy has the file offset as its position; the mapped bytes there are used only if
        // they are the same bytes (checked, so nothing depends on how protobuf builds its views).
        return slice.mismatch(MemorySegment.ofBuffer(view)) == -1 ? slice : null;
    }
}
