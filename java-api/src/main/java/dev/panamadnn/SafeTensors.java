package dev.panamadnn;

import dev.panamadnn.internal.lifetime.NativeAccess;
import dev.panamadnn.internal.safetensors.Header;
import dev.panamadnn.internal.safetensors.HeaderException;
import dev.panamadnn.internal.safetensors.SafeTensorsWriter;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * A Hugging Face {@code .safetensors} file, memory-mapped read-only: tensors are zero-copy views
 * of the mapping. Format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * ({@code name -> {dtype, shape, data_offsets}} plus an optional string-to-string
 * {@code __metadata__}), then the raw little-endian data.
 *
 * <p>{@link #open} validates the whole header before returning, so a file that opens is safe to
 * read: every tensor lies inside the file, has the size its dtype and shape need, and the tensors
 * tile the data area exactly (no overlap, no gap, no trailing bytes), as the reference
 * implementation requires. Anything else is a {@link SafeTensorsException} naming the file, the
 * tensor, the expected and the found value. Only dtypes {@link DataType} has are accepted.
 *
 * <p>Names are in sorted order, whatever order the header lists them in. A zero-size tensor (a
 * dimension of 0, {@code data_offsets} {@code [k, k]}) is valid in the format: {@link #get} returns it as an empty
 * tensor of its shape, and {@link #save} writes one.
 *
 * <p>Ownership: the mapping lives in a shared arena this object owns; {@link #close()} unmaps
 * it, after which every tensor from {@link #get} throws {@link IllegalStateException} on access.
 * The header queries keep working after close. Thread-safe: any number of threads may call
 * {@link #get} and read the tensors concurrently. If another process truncates the file while it
 * is mapped, reading the lost pages from Java fails with an {@link InternalError} (the JVM's
 * SIGBUS handling), and handing such a tensor to a layer or a compiled plan fails with an
 * {@link IllegalStateException}: native code never reads mapped memory directly (layers and
 * plans copy a mapped input first, by Java), because a SIGBUS there would end the process.
 * {@link #save} never truncates, it replaces files by renaming, which leaves existing mappings intact.
 */
public final class SafeTensors implements AutoCloseable {
    private static final ValueLayout.OfLong LENGTH = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Path file;
    private final Arena arena;
    private final MemorySegment data;     // the data area: the read-only mapping after the header
    private final Header header;
    private final AtomicBoolean closed = new AtomicBoolean();

    private SafeTensors(Path file, Arena arena, MemorySegment data, Header header) {
        this.file = file;
        this.arena = arena;
        this.data = data;
        this.header = header;
    }

    /**
     * Maps {@code file} and validates its header.
     *
     * @param file the {@code .safetensors} file
     * @throws SafeTensorsException if the file breaks the format
     * @throws IOException          if it cannot be opened or mapped
     * @return the open file, owned by the caller (close it to unmap)
     */
    public static SafeTensors open(Path file) throws IOException {
        Objects.requireNonNull(file, "file");
        requireLittleEndian();
        Arena arena = Arena.ofShared();
        boolean ok = false;
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = channel.size();
            if (size < 8) throw new HeaderException("the file has " + size + " bytes, too few for the 8-byte header length");
            MemorySegment map = channel.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            long n = map.get(LENGTH, 0);
            if (n < 2 || n > Header.MAX_HEADER_BYTES) {   // n < 0: a length of 2^63 or more, read as signed
                throw new HeaderException("header length " + Long.toUnsignedString(n) + " is outside [2, "
                        + Header.MAX_HEADER_BYTES + "] bytes");
            }
            if (n > size - 8) {
                throw new HeaderException("header length " + n + " is larger than the " + (size - 8) + " bytes after the length field");
            }
            Header header = Header.parse(map.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE), size - 8 - n);
            SafeTensors st = new SafeTensors(file, arena, map.asSlice(8 + n).asReadOnly(), header);
            ok = true;
            return st;
        } catch (HeaderException e) {
            throw new SafeTensorsException(file, e.getMessage(), e);
        } finally {
            if (!ok) arena.close();
        }
    }

    /**
     * Tensor names, sorted.
     *
     * @return the tensor names in the file
     */
    public Set<String> names() {
        return header.tensors().keySet();
    }

    /**
     * {@return the stored element type of tensor {@code name}}
     * @param name a tensor name from {@link #names()}
     * @throws IllegalArgumentException if there is no such tensor
     */
    public DataType dtype(String name) {
        return entry(name).dtype();
    }

    /**
     * {@return a copy of the shape of tensor {@code name}}
     * @param name a tensor name from {@link #names()}
     * @throws IllegalArgumentException if there is no such tensor
     */
    public long[] shape(String name) {
        return entry(name).shape().clone();
    }

    /** {@return the {@code __metadata__} entries, sorted by key; empty if the file has none} */
    public Map<String, String> metadata() {
        return header.metadata();
    }

    /**
     * A zero-copy, read-only view of tensor {@code name} over the mapping (writes throw the
     * JDK's {@link IllegalArgumentException} for read-only segments); valid until {@link #close()}. Its data may be
     * unaligned, which {@link Tensor} handles.
     *
     * @param name a tensor name from {@link #names()}
     * @throws IllegalArgumentException      if there is no such tensor (the message lists some that exist)
     * @throws IllegalStateException         after {@link #close()}
     * @return a read-only view of the tensor (empty for a shape with a 0), valid until this file is closed
     */
    public Tensor get(String name) {
        Header.Entry e = entry(name);
        if (!arena.scope().isAlive()) throw new IllegalStateException(file + " is closed: cannot read tensor '" + name + "'");
        return Tensor.wrap(data.asSlice(e.begin(), e.end() - e.begin()), e.dtype(), e.shape());
    }

    /**
     * Copies every tensor into {@code module}'s parameters; see {@link #load(Module, Path)}.
     *
     * @param module the module whose parameters to fill (strict: names and shapes must match)
     */
    public void loadInto(Module module) {
        StateDictLoader.load(this, module);
    }

    /**
     * Strict state_dict loading: the file must hold exactly the module's parameter names, each
     * with the parameter's shape and dtype. Every missing, unexpected, mis-shaped and mis-typed
     * key is reported in ONE {@link SafeTensorsException}; only when there is none are the
     * values copied, so a failed load leaves the module untouched. One conversion: BF16, F16 and
     * F64 tensors load into F32 parameters with PyTorch's {@code .float()} values (bf16 and f16
     * exactly, subnormals, infinities and NaN included; f64 rounded to nearest, ties to even);
     * any other dtype difference is a mismatch.
     *
     * @param module the module whose parameters to fill (strict: names and shapes must match)
     * @param file the {@code .safetensors} file
     * @throws IOException if the file cannot be read or written
     */
    public static void load(Module module, Path file) throws IOException {
        try (SafeTensors st = open(file)) {
            st.loadInto(module);
        }
    }

    /**
     * Builds a module and loads {@code file} into it ({@link #load(Module, Path)}, strict): the builder
     * runs inside {@link dev.panamadnn.nn.Init#skip}, so no time goes into a random initialisation the
     * load overwrites (0.1-0.2 s for a ResNet in a cold JVM), and the module is returned only once every
     * parameter is loaded; if the load fails, the module is closed and the failure thrown.
     *
     * <pre>{@code
     * try (ResNet net = SafeTensors.build(() -> ResNets.resnet50(1000), Path.of("resnet50.safetensors"))) { ... }
     * }</pre>
     *
     * @param <M> the module type
     * @param builder makes the module with its hyperparameters
     * @param file the {@code .safetensors} file
     * @throws IllegalArgumentException if {@code builder} or {@code file} is null, or the builder returns null
     * @throws SafeTensorsException     if the file does not match the module (see {@link #load(Module, Path)})
     * @throws IOException              if the file cannot be read
     * @return the module with every parameter loaded
     */
    public static <M extends Module> M build(Supplier<M> builder, Path file) throws IOException {
        if (builder == null || file == null) throw new IllegalArgumentException("SafeTensors.build: builder and file must not be null");
        M module = dev.panamadnn.nn.Init.skip(builder);
        if (module == null) throw new IllegalArgumentException("SafeTensors.build: the builder returned null");
        try {
            load(module, file);
            return module;
        } catch (IOException | RuntimeException | Error e) {
            try {
                module.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /**
     * Writes {@code tensors} (views too: they are written row-major) and {@code metadata} to
     * {@code file}: keys sorted, header space-padded to a multiple of 8, data contiguous in key
     * order. The file is replaced atomically (temporary file in the same directory, then rename).
     *
     * @param file the {@code .safetensors} file
     * @param tensors the tensors by name
     * @param metadata string entries for {@code __metadata__}; may be empty or null
     * @throws IllegalArgumentException on a null or reserved ({@code __metadata__}) name, a null tensor or metadata entry
     * @throws IllegalStateException    if a tensor's memory was freed
     * @throws IOException if the file cannot be read or written
     */
    public static void save(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Objects.requireNonNull(file, "file");
        requireLittleEndian();
        if (tensors == null) throw new IllegalArgumentException("SafeTensors.save: tensors must not be null");
        SortedMap<String, Tensor> sorted = new TreeMap<>();
        for (Map.Entry<String, Tensor> e : tensors.entrySet()) {
            String name = e.getKey();
            if (name == null || name.equals("__metadata__") || e.getValue() == null) {
                throw new IllegalArgumentException("SafeTensors.save: tensor names must be non-null and not \"__metadata__\","
                        + " tensors non-null; got " + (name == null ? "null" : "\"" + name + "\"") + " -> " + e.getValue());
            }
            e.getValue().segment();                    // fails now, with the tensor named, if freed
            sorted.put(name, e.getValue());
        }
        SortedMap<String, String> meta = new TreeMap<>();
        if (metadata != null) {
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (e.getKey() == null || e.getValue() == null) {
                    throw new IllegalArgumentException("SafeTensors.save: metadata keys and values must be non-null, got "
                            + e.getKey() + " -> " + e.getValue());
                }
                meta.put(e.getKey(), e.getValue());
            }
        }
        SafeTensorsWriter.write(file, sorted, meta);
    }

    /**
     * Unmaps the file; idempotent. Tensors obtained from {@link #get} are dead afterwards. Waits
     * for native calls using the mapping to return first (in practice none: mapped tensors are
     * copied before they reach native code).
     */
    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) NativeAccess.closeWaiting(arena);
    }

    /** {@return the file this was opened from} */
    public Path file() {
        return file;
    }

    @Override
    public String toString() {
        return "SafeTensors[" + file + ", " + names().size() + " tensors, " + data.byteSize() + " data bytes"
                + (closed.get() ? ", closed]" : "]");
    }

    private Header.Entry entry(String name) {
        Header.Entry e = header.tensors().get(name);
        if (e != null) return e;
        String some = String.join(", ", names().stream().limit(10).toList());
        throw new IllegalArgumentException(file + ": no tensor named '" + name + "'; it has " + names().size() + " tensors"
                + (names().isEmpty() ? "" : ": " + some + (names().size() > 10 ? ", ..." : "")));
    }

    // The format is little-endian and tensors are handed out as raw memory in native order.
    private static void requireLittleEndian() {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("safetensors data is little-endian; this platform is " + ByteOrder.nativeOrder());
        }
    }
}
