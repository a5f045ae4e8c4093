package dev.panamadnn.onnx;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.WireFormat;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.TensorProto;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A model with the main graph's initializers' {@code raw_data} (the weights) kept out of the proto, as slices of the
 * model's mapped file by initializer index ({@link #raw}), which the importer reads in place of the field
 * ({@link TensorProtos#toTensor}). The model keeps its proto (to import again with inputs bound), so the proto holds
 * no weight bytes: the graph's structure, small tensors, strings, kilobytes.
 *
 * <p>{@link #read} never copies the weights to the heap. protobuf-java makes a {@link ByteString} of mapped memory only
 * by copying it (without {@code sun.misc.Unsafe}), so parsing the file whole meant parsing a heap copy of all of it
 * (aliased, then detached): the file's size in transient heap (ResNet-50 102 MB, VGG-11 531 MB: more than a 512 MB
 * heap holds), and 50-70 ms of a cold ResNet-18 import in filling that array. Instead, protobuf's own
 * {@link CodedInputStream} reads the tags and lengths of the three levels that lead to {@code raw_data}
 * ({@code ModelProto.graph} (7) -> {@code GraphProto.initializer} (5) -> {@code TensorProto.raw_data} (9)) and skips a
 * raw_data's bytes without reading them; the bytes of every other field, unchanged and in file order, are parsed by
 * the generated classes ({@code mergeFrom}). So protobuf's rules hold as in one parse: the last occurrence of a singular
 * field wins (raw_data's too), occurrences of a message field merge (a graph written in two pieces), repeated fields
 * keep their order, unknown fields are kept, and everything malformed is the parser's own
 * {@link InvalidProtocolBufferException}.
 *
 * @param proto the model, without the raw_data of the initializers in {@code raw}
 * @param raw   per graph initializer (by index), its raw_data as a slice of the mapping, or null where the field stays
 *              (empty, or absent); null for a model not read from a file
 */
record Detached(ModelProto proto, MemorySegment[] raw) {
    private static final int GRAPH = 7, INITIALIZER = 5, RAW_DATA = 9;

    /** A model parsed from bytes, not a file: nothing to detach. */
    static Detached of(ModelProto proto) {
        return new Detached(proto, null);
    }

    /**
     * {@return the model in {@code file}, its main graph's initializers' raw_data slices of {@code file}}
     *
     * @param file           the file's contents (mapped), at most 2 GiB
     * @param recursionLimit how deep messages may nest (as {@link CodedInputStream#setRecursionLimit})
     * @throws InvalidProtocolBufferException if the bytes are not a valid {@code ModelProto}
     * @throws IOException                    never from a mapping (the parser's signature)
     */
    static Detached read(MemorySegment file, int recursionLimit) throws IOException {
        if (file.byteSize() > Integer.MAX_VALUE) throw new IllegalArgumentException("Detached.read: at most 2 GiB, got " + file.byteSize() + " bytes");
        CodedInputStream in = CodedInputStream.newInstance(new SegmentInput(file), 1 << 16);
        in.setSizeLimit(Integer.MAX_VALUE);
        Fields rest = new Fields(file);
        GraphProto.Builder graph = null;
        List<MemorySegment> raw = new ArrayList<>();
        while (true) {
            int start = in.getTotalBytesRead(), tag = in.readTag();
            if (tag == 0) break;
            if (WireFormat.getTagFieldNumber(tag) == GRAPH && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                if (graph == null) graph = GraphProto.newBuilder();
                int limit = in.pushLimit(in.readRawVarint32());
                graph(in, file, graph, raw, recursionLimit - 1);
                endOfMessage(in, limit);
            } else {
                rest.skip(in, tag, start);
            }
        }
        ModelProto.Builder model = ModelProto.newBuilder();
        rest.mergeInto(model, recursionLimit);
        if (graph != null) model.setGraph(graph);
        return new Detached(model.build(), raw.toArray(new MemorySegment[0]));
    }

    /** One occurrence of the graph field, up to the stream's limit: its initializers read by {@link #tensor}, the rest merged. */
    private static void graph(CodedInputStream in, MemorySegment file, GraphProto.Builder graph, List<MemorySegment> raw, int depth) throws IOException {
        if (depth <= 0) throw new InvalidProtocolBufferException("Protocol message had too many levels of nesting.");
        Fields rest = new Fields(file);
        List<TensorProto> initializers = new ArrayList<>();
        while (true) {
            int start = in.getTotalBytesRead(), tag = in.readTag();
            if (tag == 0) break;
            if (WireFormat.getTagFieldNumber(tag) == INITIALIZER && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int limit = in.pushLimit(in.readRawVarint32());
                MemorySegment[] slice = new MemorySegment[1];
                initializers.add(tensor(in, file, slice, depth - 1));
                raw.add(slice[0]);   // by index: the initializers are appended below in this order, after those of earlier occurrences
                endOfMessage(in, limit);
            } else {
                rest.skip(in, tag, start);
            }
        }
        rest.mergeInto(graph, depth);   // the occurrence's other fields first: merging them cannot touch the initializers
        graph.addAllInitializer(initializers);
    }

    /** One initializer, up to the stream's limit: its raw_data (the last occurrence) skipped into {@code slice[0]}, the rest parsed. */
    private static TensorProto tensor(CodedInputStream in, MemorySegment file, MemorySegment[] slice, int depth) throws IOException {
        if (depth <= 0) throw new InvalidProtocolBufferException("Protocol message had too many levels of nesting.");
        Fields rest = new Fields(file);
        long rawAt = -1;
        int rawBytes = 0;
        while (true) {
            int start = in.getTotalBytesRead(), tag = in.readTag();
            if (tag == 0) break;
            if (WireFormat.getTagFieldNumber(tag) == RAW_DATA && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
                int n = in.readRawVarint32();
                if (n < 0) throw new InvalidProtocolBufferException("CodedInputStream encountered an embedded string or message which claimed to have negative size.");
                rawAt = in.getTotalBytesRead();
                rawBytes = n;
                in.skipRawBytes(n);   // past the file's end or the message's: the parser's "truncated" refusal
            } else {
                rest.skip(in, tag, start);
            }
        }
        TensorProto.Builder t = TensorProto.newBuilder();
        rest.mergeInto(t, depth);
        if (rawAt >= 0 && rawBytes == 0) t.setRawData(ByteString.EMPTY);   // present but empty: the field stays, as parsed whole
        else if (rawAt >= 0) slice[0] = file.asSlice(rawAt, rawBytes);
        return t.build();
    }

    /** After a nested message: the file ended inside it unless its whole length was read (the parser's own check). */
    private static void endOfMessage(CodedInputStream in, int limit) throws InvalidProtocolBufferException {
        if (in.getBytesUntilLimit() != 0) {
            throw new InvalidProtocolBufferException("While parsing a protocol message, the input ended unexpectedly in the middle of a field.");
        }
        in.popLimit(limit);
    }

    /** The bytes of the fields a level does not route, in file order, copied from the file as the parser skips them. */
    private static final class Fields {
        private final MemorySegment file;
        private byte[] bytes = new byte[0];
        private int size;

        Fields(MemorySegment file) {
            this.file = file;
        }

        /** Skips the field whose tag {@code tag} was read at {@code start}, keeping its bytes (tag included). */
        void skip(CodedInputStream in, int tag, int start) throws IOException {
            if (!in.skipField(tag)) throw new InvalidProtocolBufferException("Protocol message end-group tag did not match expected tag.");
            int n = in.getTotalBytesRead() - start;
            if (size + n > bytes.length) bytes = Arrays.copyOf(bytes, Math.max(size + n, 2 * bytes.length));
            MemorySegment.copy(file, ValueLayout.JAVA_BYTE, start, bytes, size, n);
            size += n;
        }

        /** Parses the kept fields into {@code b}, messages nesting at most {@code depth} deep. */
        void mergeInto(Message.Builder b, int depth) throws IOException {
            if (size == 0) return;
            CodedInputStream in = CodedInputStream.newInstance(bytes, 0, size);
            in.setRecursionLimit(depth);
            b.mergeFrom(in);
            in.checkLastTagWas(0);
        }
    }

    /** The mapped file as a stream: reads copy from it, skips only move the position (so a skipped raw_data is never read). */
    private static final class SegmentInput extends InputStream {
        private final MemorySegment s;
        private long at;

        SegmentInput(MemorySegment s) {
            this.s = s;
        }

        @Override
        public int read() {
            return at < s.byteSize() ? s.get(ValueLayout.JAVA_BYTE, at++) & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) {
            java.util.Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) return 0;
            int n = (int) Math.min(len, s.byteSize() - at);
            if (n <= 0) return -1;
            MemorySegment.copy(s, ValueLayout.JAVA_BYTE, at, b, off, n);
            at += n;
            return n;
        }

        @Override
        public long skip(long n) {
            long k = Math.max(0, Math.min(n, s.byteSize() - at));
            at += k;
            return k;
        }

        @Override
        public int available() {
            return (int) Math.min(Integer.MAX_VALUE, s.byteSize() - at);
        }
    }
}
