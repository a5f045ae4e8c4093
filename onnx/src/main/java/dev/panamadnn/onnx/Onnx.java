package dev.panamadnn.onnx;

import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.panamadnn.natives.Natives;
import dev.panamadnn.onnx.proto.ModelProto;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Loads ONNX models ({@code .onnx}, opsets {@value OpTable#MIN_OPSET} to {@value OpTable#MAX_OPSET}
 * of the default domain) into {@link OnnxModel}s:
 * <pre>{@code
 * try (OnnxModel model = Onnx.load(Path.of("resnet18.onnx"));
 *      PlanSet plans = model.compile(CompileOptions.defaults())) {
 *     Tensor logits = plans.run(images);   // [N, 3, 224, 224] -> [N, 1000], any batch N
 * }
 * }</pre>
 * Loading checks the whole model and refuses it, with one {@link OnnxException} listing every
 * problem (each unsupported op, attribute or dtype with the node's name, op, domain and opset),
 * rather than ever computing a wrong result. See docs/onnx.md for the ops supported.
 */
public final class Onnx {
    /** Nesting the parser follows (ONNX models nest a few levels; subgraphs are refused anyway). */
    private static final int RECURSION_LIMIT = 64;

    private Onnx() {}

    /**
     * The model in {@code file}, memory-mapped: weights stored as {@code raw_data} are used in place
     * where aligned for their type (else copied once); external data is mapped from the files
     * beside the model. The mapping lives until the model is closed. Parsing never copies the
     * weights to the heap (a model loads in a heap smaller than its file).
     *
     * <p>Also starts loading the native libraries on a thread of their own, if not yet loaded
     * ({@link Natives#loadInBackground()}: compiling or running the model needs them), so that it
     * overlaps the import; set {@code panamadnn.threads} and the other properties read when they
     * load before this call.
     *
     * @param file the {@code .onnx} file
     * @return the model, owned by the caller (close it to unmap the weights)
     * @throws OnnxException if the file cannot be read, is not a valid ONNX model, or uses anything
     *                       this library does not support (every problem listed)
     */
    public static OnnxModel load(Path file) {
        return load(file, OnnxOptions.defaults());
    }

    /**
     * As {@link #load(Path)}, with input shapes or dim sizes the file does not give ({@link OnnxOptions}): a shape for
     * an input declared without one, a size for a dynamic dim.
     *
     * @param file    the {@code .onnx} file
     * @param options input shapes and dim sizes ({@link OnnxOptions#defaults()}: as the file declares)
     * @return the model, owned by the caller (close it to unmap the weights)
     * @throws OnnxException as {@link #load(Path)}, or if an option names no input or dim of the model or contradicts
     *                       a shape the file declares (every problem listed)
     */
    public static OnnxModel load(Path file, OnnxOptions options) {
        if (file == null) throw new IllegalArgumentException("Onnx.load: file must not be null");
        if (options == null) throw new IllegalArgumentException("Onnx.load: options must not be null (OnnxOptions.defaults() reads the model as declared)");
        Natives.loadInBackground();   // the compile needs them: loading overlaps the import
        Arena arena = Arena.ofShared();
        try {
            try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
                long size = ch.size();
                if (size > Integer.MAX_VALUE - 64) {
                    throw new OnnxException(file + ": " + size + " bytes; a .onnx file over 2 GiB cannot be parsed (keep the weights as external data)");
                }
                MemorySegment mapped = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
                // The weights stay in the mapping: Detached parses every other field, and never copies a raw_data.
                Detached model = options.apply(read(mapped, file.toString()), file.toString());
                Path dir = file.toAbsolutePath().getParent();
                return OnnxModel.create(model, arena, dir, file.toString());
            } catch (IOException e) {
                throw new OnnxException(file + ": cannot read: " + e, e);
            }
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * The model in {@code bytes} (copied where needed: the array may be reused afterwards). External
     * data is refused: it needs {@link #load(Path)} to find its files.
     *
     * @param bytes a serialized {@code ModelProto}
     * @return the model, owned by the caller (close it)
     * @throws OnnxException as {@link #load(Path)}
     */
    public static OnnxModel load(byte[] bytes) {
        return load(bytes, OnnxOptions.defaults());
    }

    /**
     * As {@link #load(byte[])}, with input shapes or dim sizes ({@link #load(Path, OnnxOptions)}).
     *
     * @param bytes   a serialized {@code ModelProto}
     * @param options input shapes and dim sizes
     * @return the model, owned by the caller (close it)
     * @throws OnnxException as {@link #load(Path, OnnxOptions)}
     */
    public static OnnxModel load(byte[] bytes, OnnxOptions options) {
        if (bytes == null) throw new IllegalArgumentException("Onnx.load: bytes must not be null");
        if (options == null) throw new IllegalArgumentException("Onnx.load: options must not be null (OnnxOptions.defaults() reads the model as declared)");
        return load(CodedInputStream.newInstance(bytes), "model bytes", options);
    }

    /**
     * The model read from {@code stream} to its end (not closed). External data is refused.
     *
     * @param stream a serialized {@code ModelProto}
     * @return the model, owned by the caller (close it)
     * @throws OnnxException as {@link #load(Path)}, or if the stream cannot be read
     */
    public static OnnxModel load(InputStream stream) {
        if (stream == null) throw new IllegalArgumentException("Onnx.load: stream must not be null");
        try {
            return load(stream.readAllBytes());
        } catch (IOException e) {
            throw new OnnxException("cannot read the model stream: " + e, e);
        }
    }

    private static OnnxModel load(CodedInputStream in, String source, OnnxOptions options) {
        Natives.loadInBackground();   // the compile needs them: loading overlaps the import
        Arena arena = Arena.ofShared();
        try {
            return OnnxModel.create(options.apply(Detached.of(parse(in, source)), source), arena, null, source);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /** {@link Detached#read} of the mapped file {@code source}, every failure an {@link OnnxException} naming it. */
    static Detached read(MemorySegment mapped, String source) {
        try {
            return Detached.read(mapped, RECURSION_LIMIT);
        } catch (InternalError e) {   // the JVM's report of a fault on the mapping: the file truncated as it was read
            throw new OnnxException(source + ": the file was truncated while mapped, as it was being read (" + OnnxModel.mappedFault(e) + "); reopen it", e);
        } catch (IOException | RuntimeException e) {
            throw unreadable(source, e);
        }
    }

    private static ModelProto parse(CodedInputStream in, String source) {
        in.setRecursionLimit(RECURSION_LIMIT);
        try {
            return ModelProto.parseFrom(in);
        } catch (IOException | RuntimeException e) {
            throw unreadable(source, e);
        }
    }

    /** The refusal of a model that {@code source}'s parse failed to read with {@code e}. */
    private static OnnxException unreadable(String source, Exception e) {
        if (e instanceof InvalidProtocolBufferException) return new OnnxException(source + ": not a valid ONNX model (protobuf: " + e.getMessage() + ")", e);
        if (e instanceof IOException) return new OnnxException(source + ": cannot read the model: " + e, e);
        return new OnnxException(source + ": not a valid ONNX model (" + e + ")", e);   // the parser's own checks (e.g. a length past the end)
    }
}
