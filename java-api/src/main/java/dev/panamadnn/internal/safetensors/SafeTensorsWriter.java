package dev.panamadnn.internal.safetensors;

import dev.panamadnn.Tensor;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.HexFormat;
import java.util.Map;
import java.util.SortedMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Writes a safetensors file: metadata first, then tensors in key order, their data contiguous
 * in the same order; the header is padded with spaces to a multiple of 8 so that the data area
 * (and every tensor whose offset is a multiple of its size) is 8-byte aligned in the file.
 *
 * <p>The file appears atomically: everything goes to a hidden temporary file in the same
 * directory, is forced to disk, then renamed over the target. A reader that has the old file
 * mapped keeps seeing the old bytes (the rename does not touch its inode).
 */
public final class SafeTensorsWriter {
    /** ByteBuffers address at most 2 GiB; bigger tensors are written in slices of this size. */
    private static final long CHUNK = 1L << 30;

    private SafeTensorsWriter() {
    }

    public static void write(Path file, SortedMap<String, Tensor> tensors, SortedMap<String, String> metadata) throws IOException {
        byte[] header = header(tensors, metadata);
        Path target = file.toAbsolutePath();
        // Not Files.createTempFile: that makes the file 0600, and the rename would keep it so.
        Path tmp = target.resolveSibling("." + target.getFileName() + "."
                + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()) + ".tmp");
        boolean moved = false;
        try {
            try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                writeFully(out, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
                writeFully(out, ByteBuffer.wrap(header));
                for (Tensor t : tensors.values()) writeData(out, t);
                out.force(true);
            }
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } finally {
            if (!moved) Files.deleteIfExists(tmp);
        }
    }

    /** The header JSON, space-padded so that 8 + its length is a multiple of 8. */
    static byte[] header(SortedMap<String, Tensor> tensors, SortedMap<String, String> metadata) {
        StringBuilder sb = new StringBuilder("{");
        if (!metadata.isEmpty()) {
            sb.append("\"__metadata__\":{");
            String sep = "";
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                sb.append(sep);
                quote(sb, e.getKey()).append(':');
                quote(sb, e.getValue());
                sep = ",";
            }
            sb.append('}');
        }
        long offset = 0;
        String sep = metadata.isEmpty() ? "" : ",";
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            Tensor t = e.getValue();
            long bytes = t.numel() * t.dtype().byteSize();   // <= 2^48: Tensor refuses bigger (dev.panamadnn.internal.Sizes)
            if (offset > Long.MAX_VALUE - bytes) {
                throw new IllegalArgumentException("SafeTensors.save: the tensors up to '" + e.getKey() + "' hold more than 2^63 - 1 bytes"
                        + " together, more than a safetensors file can address");
            }
            sb.append(sep);
            quote(sb, e.getKey()).append(":{\"dtype\":\"").append(t.dtype().safetensorsName()).append("\",\"shape\":[");
            long[] shape = t.shape();
            for (int i = 0; i < shape.length; i++) sb.append(i == 0 ? "" : ",").append(shape[i]);
            sb.append("],\"data_offsets\":[").append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
            sep = ",";
        }
        sb.append('}');
        byte[] json = sb.toString().getBytes(StandardCharsets.UTF_8);
        long padded = (json.length + 7L) & ~7L;
        // Refuse here what SafeTensors.open (and the reference reader) would refuse later.
        if (padded > Header.MAX_HEADER_BYTES) {
            throw new IllegalArgumentException("SafeTensors.save: the header (names, shapes, metadata) would take " + padded
                    + " bytes; readers accept at most " + Header.MAX_HEADER_BYTES + " (fewer or shorter names and metadata)");
        }
        if (offset > Long.MAX_VALUE - 8 - padded) {
            throw new IllegalArgumentException("SafeTensors.save: " + offset + " data bytes and a " + padded
                    + "-byte header make a file larger than 2^63 - 1 bytes");
        }
        byte[] out = new byte[(int) padded];
        System.arraycopy(json, 0, out, 0, json.length);
        for (int i = json.length; i < padded; i++) out[i] = ' ';
        return out;
    }

    private static StringBuilder quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c < 0x20) sb.append(String.format("\\u%04x", (int) c));
                    else sb.append(c);                 // non-ASCII stays raw UTF-8, as the reference writes it
                }
            }
        }
        return sb.append('"');
    }

    private static void writeData(FileChannel out, Tensor t) throws IOException {
        long bytes = t.numel() * t.dtype().byteSize();
        if (t.isContiguous()) {
            writeSegment(out, t.segment().asSlice(0, bytes));
            return;
        }
        // A view: gather it row-major into a scratch copy first (costs one tensor's worth of memory).
        try (Arena scratch = Arena.ofConfined()) {
            MemorySegment dense = scratch.allocate(bytes);
            StridedCopy.copy(t.segment(), t.shape(), t.strides(), t.dtype().byteSize(), dense, true);
            writeSegment(out, dense);
        }
    }

    private static void writeSegment(FileChannel out, MemorySegment data) throws IOException {
        for (long at = 0; at < data.byteSize(); at += CHUNK) {
            writeFully(out, data.asSlice(at, Math.min(CHUNK, data.byteSize() - at)).asByteBuffer());
        }
    }

    private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) out.write(buffer);
    }
}
