package dev.panamadnn.onnx;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.TensorProto;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;

/**
 * A model parsed with aliasing from a heap copy of its file, detached from that copy. Parsed so, every {@code bytes}
 * field and every string field not yet read (protobuf-java decodes those lazily) is a view of the one array, so
 * keeping the proto - and an {@link OnnxModel} keeps it, to import again with inputs bound - kept the whole file on
 * the heap for the model's life (ResNet-50: 102 MB, VGG-11: 531 MB). protobuf-java makes a {@link ByteString} of
 * mapped memory only by copying it (without {@code sun.misc.Unsafe}), so the weights leave the proto instead: each
 * graph initializer's {@code raw_data} that is a view of the heap copy ({@link #inFile}) is cleared and its bytes are
 * given as a slice of the file's mapping, by initializer index ({@link #raw}), which the importer reads in place of the
 * field ({@link TensorProtos#toTensor});
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
     * @param m      a model parsed with aliasing from {@code copy}
     * @param copy   the heap copy of the file's contents it was parsed from (a byte's index there is its offset in the file)
     * @param file   the file, mapped
     */
    static Detached of(ModelProto m, byte[] copy, MemorySegment file) {
        GraphProto g = m.getGraph();
        MemorySegment[] raw = new MemorySegment[g.getInitializerCount()];
        GraphProto.Builder graph = g.toBuilder();
        for (int i = 0; i < raw.length; i++) {
            TensorProto t = g.getInitializer(i);
            raw[i] = inFile(t.getRawData(), copy, file);
            if (raw[i] != null) graph.setInitializer(i, t.toBuilder().clearRawData());
        }
        ModelProto rest = m.hasGraph() ? m.toBuilder().setGraph(graph).build() : m;
        try {
            return new Detached(ModelProto.parseFrom(rest.toByteArray()), raw);   // a fresh array; parseFrom(byte[]) does not alias it
        } catch (InvalidProtocolBufferException e) {   // it was parsed once already
            throw new OnnxException("the model could not be parsed again without its weights: " + e.getMessage(), e);
        }
    }

    /**
     * The bytes of {@code s} as a slice of {@code file} where {@code s} is a view of {@code copy} itself (so its offset there
     * is its offset in the file), else null. Proved by identity, not by comparing the bytes: protobuf hands a view's backing
     * array and offset to a {@link ByteOutput}'s {@code writeLazy} without copying ({@link UnsafeByteOperations#unsafeWriteTo}),
     * so the slice is used only when that array is {@code copy}. (Comparing the bytes, as before, read every weight twice
     * more in a cold JVM: 30-36 ms of a ResNet-18 import, 49-51 ms of a ResNet-50's.)
     */
    static MemorySegment inFile(ByteString s, byte[] copy, MemorySegment file) {
        if (s.isEmpty()) return null;
        Backing b = new Backing();
        try {
            UnsafeByteOperations.unsafeWriteTo(s, b);
        } catch (IOException e) {   // Backing throws none
            throw new UncheckedIOException(e);
        }
        if (b.array != copy || b.pieces != 1 || b.length != s.size()) return null;
        if ((long) b.offset + b.length > file.byteSize()) return null;
        return file.asSlice(b.offset, b.length);
    }

    /** Where a {@link ByteString}'s bytes live: the array and offset of its one lazy piece, else nothing. */
    private static final class Backing extends ByteOutput {
        byte[] array;
        int offset, length, pieces;

        @Override
        public void write(byte value) {
            pieces += 2;   // a copied byte: not a view
        }

        @Override
        public void write(byte[] value, int offset, int length) {
            pieces += 2;
        }

        @Override
        public void writeLazy(byte[] value, int offset, int length) {
            pieces++;
            array = value;
            this.offset = offset;
            this.length = length;
        }

        @Override
        public void write(ByteBuffer value) {
            pieces += 2;
        }

        @Override
        public void writeLazy(ByteBuffer value) {
            pieces += 2;
        }
    }
}
