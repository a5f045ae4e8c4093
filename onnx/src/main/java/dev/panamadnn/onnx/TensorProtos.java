package dev.panamadnn.onnx;

import com.google.protobuf.ByteString;
import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.StringStringEntryProto;
import dev.panamadnn.onnx.proto.TensorProto;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * ONNX {@code TensorProto}s as {@link Tensor}s in a model's arena: {@code raw_data} used in
 * place when it is in the model's mapped file ({@link Detached}) aligned for the element type,
 * else copied; the typed fields ({@code float_data}, {@code int64_data}...) copied;
 * external data ({@code data_location: EXTERNAL}) mapped from the file beside the model, checked
 * for path escape and bounds. ONNX stores little-endian, as x86-64 and aarch64 are.
 */
final class TensorProtos {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private TensorProtos() {}

    /** Our dtype of an ONNX element type, or null if we have none (DOUBLE, STRING, COMPLEX64...). */
    static DataType dtype(int elemType) {
        return switch (elemType) {
            case TensorProto.DataType.FLOAT_VALUE -> DataType.F32;
            case TensorProto.DataType.UINT8_VALUE -> DataType.U8;
            case TensorProto.DataType.INT8_VALUE -> DataType.I8;
            case TensorProto.DataType.UINT16_VALUE -> DataType.U16;
            case TensorProto.DataType.INT16_VALUE -> DataType.I16;
            case TensorProto.DataType.INT32_VALUE -> DataType.I32;
            case TensorProto.DataType.UINT32_VALUE -> DataType.U32;
            case TensorProto.DataType.INT64_VALUE -> DataType.I64;
            case TensorProto.DataType.UINT64_VALUE -> DataType.U64;
            case TensorProto.DataType.FLOAT16_VALUE -> DataType.F16;
            case TensorProto.DataType.BFLOAT16_VALUE -> DataType.BF16;
            case TensorProto.DataType.BOOL_VALUE -> named("BOOL");   // once the core library has it
            default -> null;
        };
    }

    private static DataType named(String name) {
        for (DataType d : DataType.values()) if (d.name().equals(name)) return d;
        return null;
    }

    /** The ONNX name of an element type, for messages ("DOUBLE", or the number if unknown). */
    static String elemTypeName(int elemType) {
        TensorProto.DataType t = TensorProto.DataType.forNumber(elemType);
        return t == null ? "element type " + elemType : t.name();
    }

    /**
     * The tensor {@code t} in {@code arena}. {@code baseDir} is the model's directory (null when it
     * was not loaded from a file: external data is then refused).
     *
     * @throws OnnxException naming {@code what} if the tensor is malformed, of an unsupported type,
     *                       or its external data is missing, too short or outside {@code baseDir}
     */
    static Tensor toTensor(TensorProto t, String what, Arena arena, Path baseDir) {
        return toTensor(t, what, arena, baseDir, null);
    }

    /** {@link #toTensor(TensorProto, String, Arena, Path)} of an initializer whose raw_data {@link Detached} moved out, as {@code raw} (else null). */
    static Tensor toTensor(TensorProto t, String what, Arena arena, Path baseDir, MemorySegment raw) {
        DataType dtype = dtype(t.getDataType());
        if (dtype == null) throw new OnnxException(what + ": element type " + elemTypeName(t.getDataType()) + " is not supported");
        if (t.hasSegment()) throw new OnnxException(what + ": segmented tensors are not supported");
        long[] shape = new long[t.getDimsCount()];
        long numel = 1;
        for (int i = 0; i < shape.length; i++) {
            shape[i] = t.getDims(i);
            if (shape[i] < 0) throw new OnnxException(what + ": negative dimension in " + t.getDimsList());
            try {
                numel = Math.multiplyExact(numel, shape[i]);
                Math.multiplyExact(numel, (long) dtype.byteSize());
            } catch (ArithmeticException e) {
                throw new OnnxException(what + ": shape " + t.getDimsList() + " is too large");
            }
        }
        long bytes = numel * dtype.byteSize();
        MemorySegment data;
        if (numel == 0 && t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {   // an empty tensor: no file to read
            data = arena.allocate(0, dtype.byteSize());
        } else if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            data = external(t, what, bytes, dtype.byteSize(), arena, baseDir);
        } else if (raw != null) {
            data = raw(raw, what, bytes, dtype, arena);
        } else if (t.hasRawData()) {
            data = raw(t.getRawData(), what, bytes, dtype, arena);
        } else {
            data = typed(t, what, dtype, numel, arena);
        }
        try {
            return Tensor.wrap(data, dtype, shape);
        } catch (IllegalArgumentException e) {
            throw new OnnxException(what + ": " + e.getMessage(), e);
        }
    }

    /**
     * F32 raw_data of at least this many bytes is used in place even where the file places it off a 4-byte boundary
     * (torch writes initializers at any offset: 3 in 4 of them), as the weights they are: their readers take unaligned
     * access (Tensor's accessors and toFloatArray, byte copies into a plan's staging and constants). A copy would be
     * anonymous memory kept as long as the model (VGG-11-BN: 510 of its 531 MB; ResNet-18: 26.5 of 46.7 MB) where the
     * mapping is evictable page cache, and its zero fill and first touch took ~22% of a cold ResNet-18 import. Smaller
     * ones (scalars, shape vectors, read with aligned layouts in places) and other element types are still copied.
     */
    static final long IN_PLACE_MISALIGNED_F32 = 4096;

    /**
     * raw_data moved out of the proto ({@link Detached}: a slice of the mapped file): in place where aligned for the element
     * type or an F32 block of at least {@link #IN_PLACE_MISALIGNED_F32} bytes, else a copy.
     */
    private static MemorySegment raw(MemorySegment raw, String what, long bytes, DataType dtype, Arena arena) {
        if (raw.byteSize() != bytes) throw new OnnxException(what + ": raw_data holds " + raw.byteSize() + " bytes, the shape needs " + bytes);
        if (raw.address() % dtype.byteSize() == 0) return raw;
        if (dtype == DataType.F32 && bytes >= IN_PLACE_MISALIGNED_F32) return raw;
        MemorySegment copy = arena.allocate(bytes, dtype.byteSize());
        MemorySegment.copy(raw, 0, copy, 0, bytes);
        return copy;
    }

    /** raw_data still in the proto (a model from bytes or a stream, or bytes not found in the mapped file): a copy. */
    private static MemorySegment raw(ByteString raw, String what, long bytes, DataType dtype, Arena arena) {
        if (raw.size() != bytes) throw new OnnxException(what + ": raw_data holds " + raw.size() + " bytes, the shape needs " + bytes);
        MemorySegment copy = arena.allocate(bytes, dtype.byteSize());
        raw.copyTo(copy.asByteBuffer());
        return copy;
    }

    /**
     * The typed field of {@code t}'s element type (onnx.proto): float_data, int64_data, uint64_data (UINT32 and UINT64, one
     * value per element), int32_data (every narrower type, one value or 16-bit pattern per element).
     */
    private static MemorySegment typed(TensorProto t, String what, DataType dtype, long numel, Arena arena) {
        int count = switch (t.getDataType()) {
            case TensorProto.DataType.FLOAT_VALUE -> t.getFloatDataCount();
            case TensorProto.DataType.INT64_VALUE -> t.getInt64DataCount();
            case TensorProto.DataType.UINT32_VALUE, TensorProto.DataType.UINT64_VALUE -> t.getUint64DataCount();
            default -> t.getInt32DataCount();
        };
        if (count != numel) {
            throw new OnnxException(what + ": holds " + count + " values (and no raw_data), the shape " + t.getDimsList() + " needs " + numel);
        }
        MemorySegment s = arena.allocate(numel * dtype.byteSize(), dtype.byteSize());
        for (int i = 0; i < count; i++) {
            switch (t.getDataType()) {
                case TensorProto.DataType.FLOAT_VALUE -> s.setAtIndex(ValueLayout.JAVA_FLOAT, i, t.getFloatData(i));
                case TensorProto.DataType.INT64_VALUE -> s.setAtIndex(ValueLayout.JAVA_LONG, i, t.getInt64Data(i));
                case TensorProto.DataType.UINT64_VALUE -> s.setAtIndex(ValueLayout.JAVA_LONG, i, t.getUint64Data(i));
                case TensorProto.DataType.UINT32_VALUE -> s.setAtIndex(ValueLayout.JAVA_INT, i, (int) t.getUint64Data(i));
                default -> {   // int32_data holds every narrower type, one value (or 16-bit pattern) per element
                    int v = t.getInt32Data(i);
                    switch (dtype.byteSize()) {
                        case 1 -> s.set(ValueLayout.JAVA_BYTE, i, (byte) v);
                        case 2 -> s.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) v);
                        default -> s.setAtIndex(ValueLayout.JAVA_INT, i, v);
                    }
                }
            }
        }
        return s;
    }

    /** External data: {@code location} relative to the model's directory, {@code offset}, {@code length}. */
    private static MemorySegment external(TensorProto t, String what, long bytes, int elementBytes, Arena arena, Path baseDir) {
        String location = null;
        long offset = 0, length = -1;
        for (StringStringEntryProto e : t.getExternalDataList()) {
            try {
                switch (e.getKey()) {
                    case "location" -> location = e.getValue();
                    case "offset" -> offset = Long.parseLong(e.getValue());
                    case "length" -> length = Long.parseLong(e.getValue());
                    case "checksum" -> { }
                    default -> throw new OnnxException(what + ": unknown external_data key '" + e.getKey() + "'");
                }
            } catch (NumberFormatException x) {
                throw new OnnxException(what + ": external_data " + e.getKey() + " '" + e.getValue() + "' is not a number");
            }
        }
        if (location == null || location.isEmpty()) throw new OnnxException(what + ": external data without a location");
        if (baseDir == null) throw new OnnxException(what + ": external data '" + location + "' needs the model loaded from a file (Onnx.load(Path))");
        if (offset < 0 || length < -1) throw new OnnxException(what + ": external data offset " + offset + " / length " + length + " is negative");
        if (length != -1 && length != bytes) throw new OnnxException(what + ": external data length " + length + ", the shape needs " + bytes);
        Path file;
        try {
            Path rel = Path.of(location);
            file = baseDir.resolve(rel).normalize();
            if (rel.isAbsolute() || !file.startsWith(baseDir.normalize())) {
                throw new OnnxException(what + ": external data location '" + location + "' is outside the model's directory " + baseDir);
            }
            if (!Files.isRegularFile(file)) throw new OnnxException(what + ": external data file " + file + " does not exist");
            Path real = file.toRealPath(), realBase = baseDir.toRealPath();
            if (!real.startsWith(realBase)) {
                throw new OnnxException(what + ": external data location '" + location + "' leads outside the model's directory (" + real + ")");
            }
        } catch (java.nio.file.InvalidPathException | IOException e) {
            throw new OnnxException(what + ": external data location '" + location + "': " + e.getMessage(), e);
        }
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (offset > size || bytes > size - offset) {
                throw new OnnxException(what + ": external data file " + file + " is too short: " + size + " bytes, the tensor needs "
                        + bytes + " from offset " + offset);
            }
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, offset, bytes, arena);
            if (mapped.address() % elementBytes == 0) return mapped;
            return arena.allocate(bytes, elementBytes).copyFrom(mapped);   // an odd offset: copied once
        } catch (IOException e) {
            throw new OnnxException(what + ": reading external data " + file + ": " + e.getMessage(), e);
        }
    }

    /** Floats of a small F32 list, as an owned tensor in {@code arena} (Clip/Pad constants of old opsets). */
    static Tensor floats(Arena arena, float[] values, long... shape) {
        MemorySegment s = arena.allocate((long) values.length * 4, 4);
        for (int i = 0; i < values.length; i++) s.setAtIndex(F32, i, values[i]);
        return Tensor.wrap(s, DataType.F32, shape);
    }

    /**
     * Element {@code i} of a known INT64, INT32 or BOOL tensor (sizes, positions, trip counts, conditions read when
     * importing), as a long; null for another dtype.
     */
    static Long integer(Tensor t, long i) {
        return switch (t.dtype()) {
            case I64 -> t.segment().getAtIndex(ValueLayout.JAVA_LONG_UNALIGNED, i);
            case I32 -> (long) t.segment().getAtIndex(ValueLayout.JAVA_INT_UNALIGNED, i);
            case BOOL -> t.segment().get(ValueLayout.JAVA_BYTE, i) != 0 ? 1L : 0L;
            default -> null;
        };
    }

    /** Longs as an owned I64 tensor in {@code arena} (axes, pads, starts... of old opsets). */
    static Tensor longs(Arena arena, long[] values, long... shape) {
        MemorySegment s = arena.allocate((long) Math.max(values.length, 1) * 8, 8);
        for (int i = 0; i < values.length; i++) s.setAtIndex(ValueLayout.JAVA_LONG, i, values[i]);
        return Tensor.wrap(values.length == 0 ? s.asSlice(0, 0) : s, DataType.I64, shape);
    }
}
