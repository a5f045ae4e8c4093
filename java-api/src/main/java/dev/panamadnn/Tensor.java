package dev.panamadnn;

import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.lifetime.NativeAccess;
import dev.panamadnn.internal.lifetime.OwnedMemory;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * An n-dimensional array over a {@link MemorySegment}: shape, element type, strides (in
 * elements; row-major unless a view says otherwise) and the segment itself.
 *
 * <p>Ownership: a tensor made by {@link #allocate} lives in the caller's {@link Arena}; one
 * made by {@link #zeros} or {@link #of} owns a shared arena and frees it on {@link #close()}
 * (then every view of it is dead too). {@link #wrap} adopts an existing segment (a
 * memory-mapped file, say) without copying. Views ({@link #reshape}, {@link #slice}) share
 * memory and never own it; closing a view does nothing. Any access after the memory is freed
 * is an {@link IllegalStateException}, never a crash; memory a native call is using cannot be
 * freed until the call returns ({@link #close()} waits; closing the caller's own arena
 * meanwhile fails with the JDK's "Session is acquired" {@link IllegalStateException}).
 *
 * <p>A size may be 0: such a tensor has no elements and a 0-byte segment (numpy's and ONNX's
 * empty tensors: a Slice past the end, an empty {@code axes} list). Element access on it is out of
 * bounds and {@link #reshape} takes only sizes >= 1; layers and compiled plans refuse it as an
 * input with a message naming the shape, and it never reaches a native call.
 *
 * <p>Not synchronised: concurrent reads are fine, concurrent writes to the same elements are
 * the caller's business.
 */
public final class Tensor implements AutoCloseable {
    private static final ValueLayout.OfFloat F32 = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private final MemorySegment segment;
    private final DataType dtype;
    private final long[] shape;
    private final long[] strides;
    private final OwnedMemory memory;   // non-null for a tensor that owns its memory and for its views
    private final boolean owner;        // true only for the tensor that frees it on close()

    private Tensor(MemorySegment segment, DataType dtype, long[] shape, long[] strides, OwnedMemory memory, boolean owner) {
        this.segment = segment;
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.memory = memory;
        this.owner = owner;
    }

    /**
     * {@return a zero-filled, contiguous tensor in {@code arena} (the caller frees it by closing the arena)}
     *
     * @param arena the arena that owns the memory
     * @param dtype the element type
     * @param shape the shape, outermost dimension first
     */
    public static Tensor allocate(Arena arena, DataType dtype, long... shape) {
        if (arena == null || dtype == null) throw new IllegalArgumentException("Tensor.allocate: arena and dtype must not be null");
        long bytes = Sizes.tensorBytes("Tensor.allocate", shape, dtype.byteSize());
        MemorySegment s = Sizes.allocate(arena, bytes, "Tensor.allocate", dtype, shape);
        return new Tensor(s, dtype, shape.clone(), contiguousStrides(shape), null, false);
    }

    /**
     * A zero-filled f32 tensor that owns its memory: close it (try-with-resources).
     *
     * @param shape the shape, outermost dimension first
     * @throws IllegalArgumentException if a size is negative or the tensor would exceed
     *                                  2^48 bytes (see {@code Sizes.MAX_BYTES})
     * @throws OutOfMemoryError         if the memory is not there; tensor memory is off-heap and
     *                                  counts against {@code -XX:MaxDirectMemorySize}
     * @return a new zero-filled tensor owning its memory (close it)
     */
    public static Tensor zeros(long... shape) {
        long bytes = Sizes.tensorBytes("Tensor.zeros", shape, Float.BYTES);
        Arena arena = Arena.ofShared();
        try {
            MemorySegment s = Sizes.allocate(arena, bytes, "Tensor.zeros", DataType.F32, shape);
            return new Tensor(s, DataType.F32, shape.clone(), contiguousStrides(shape), new OwnedMemory(arena, bytes), true);
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * {@return an f32 tensor owning an off-heap copy of {@code data}, which must hold exactly prod(shape) values}
     *
     * @param data the values, row-major, exactly the product of {@code shape}
     * @param shape the shape, outermost dimension first
     */
    public static Tensor of(float[] data, long... shape) {
        if (data == null) throw new IllegalArgumentException("Tensor.of: data must not be null");
        long n = checkShape("Tensor.of", shape);
        if (data.length != n) {
            throw new IllegalArgumentException("Tensor.of: shape " + Arrays.toString(shape) + " needs " + n
                    + " values, got " + data.length);
        }
        Tensor t = zeros(shape);
        MemorySegment.copy(data, 0, t.segment, F32, 0, data.length);
        return t;
    }

    /**
     * A contiguous tensor over {@code segment} without copying (e.g. a slice of a memory-mapped
     * weights file). The segment must hold exactly prod(shape) elements; its owner keeps it alive.
     *
     * @param segment the memory, at least the shape's bytes
     * @param dtype the element type
     * @param shape the shape, outermost dimension first
     * @return a tensor over {@code segment}, which it does not own
     */
    public static Tensor wrap(MemorySegment segment, DataType dtype, long... shape) {
        if (segment == null || dtype == null) throw new IllegalArgumentException("Tensor.wrap: segment and dtype must not be null");
        long bytes = Sizes.tensorBytes("Tensor.wrap", shape, dtype.byteSize());
        if (segment.byteSize() != bytes) {
            throw new IllegalArgumentException("Tensor.wrap: " + dtype + Arrays.toString(shape) + " needs "
                    + bytes + " bytes, got a segment of " + segment.byteSize());
        }
        return new Tensor(segment, dtype, shape.clone(), contiguousStrides(shape), null, false);
    }

    /** {@return a copy of the shape, outermost dimension first} */
    public long[] shape() {
        return shape.clone();
    }

    /** {@return the number of dimensions} */
    public int rank() {
        return shape.length;
    }

    /**
     * Size of dimension {@code i}; negative {@code i} counts from the end, as in PyTorch.
     *
     * @param i the dimension, 0 to rank - 1
     * @return the size of dimension {@code i}
     */
    public long dim(int i) {
        return shape[axis("dim", i)];
    }

    /**
     * Element strides per dimension.
     *
     * @return a copy of the strides, in elements
     */
    public long[] strides() {
        return strides.clone();
    }

    /** {@return the element type} */
    public DataType dtype() {
        return dtype;
    }

    /** {@return the number of elements (the product of the shape; 1 for a scalar)} */
    public long numel() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    /** {@return whether the elements are dense and row-major (what native kernels take without a copy)} */
    public boolean isContiguous() {
        // Checked in place (no array): compiled plans call this on every run.
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) return numel() <= 1;
            expected *= shape[i];
        }
        return true;
    }

    /**
     * The memory behind this tensor (the documented escape hatch). For a contiguous tensor it is
     * exactly {@code numel() * dtype().byteSize()} bytes; for a strided view it spans from the
     * first to the last element.
     *
     * @throws IllegalStateException if the memory was freed
     * @return the memory behind this tensor
     */
    public MemorySegment segment() {
        checkAlive();
        return segment;
    }

    /** {@return whether the memory is still usable: allocated, and not released by {@link #close()}} */
    public boolean isAlive() {
        return (memory == null || !memory.isReleased()) && segment.scope().isAlive();
    }

    /**
     * Reads one F32 element.
     * @param index one index per dimension
     * @return the element
     * @throws IndexOutOfBoundsException if an index is out of range
     * @throws IllegalStateException if the memory was freed or is another thread's confined arena's, or its
     *                               memory-mapped file was truncated
     */
    public float getFloat(long... index) {
        long offset = offsetOf(index);
        checkThread("getFloat");
        try {
            float v = segment().get(F32, offset);
            if (segment.isMapped()) NativeAccess.deliverPendingFault();   // the fault's error, if any, thrown here
            return v;
        } catch (InternalError e) {   // a mapped file truncated under this tensor
            throw NativeAccess.truncatedRead("Tensor" + Arrays.toString(shape), e);
        }
    }

    /**
     * Writes one F32 element.
     * @param value the value
     * @param index one index per dimension
     * @throws IndexOutOfBoundsException if an index is out of range
     * @throws IllegalStateException if the memory was freed or is another thread's confined arena's
     */
    public void setFloat(float value, long... index) {
        long offset = offsetOf(index);
        checkThread("setFloat");
        segment.set(F32, offset, value);
    }

    /**
     * {@return a row-major copy of the elements (f32 only), whatever the strides}
     * @throws IllegalStateException if the memory was freed (also by another thread meanwhile) or is another thread's
     *                               confined arena's, or its memory-mapped file was truncated (naming this tensor)
     */
    public float[] toFloatArray() {
        requireF32("toFloatArray");
        checkThread("toFloatArray");
        long n = numel();
        if (n > Sizes.MAX_ARRAY_LENGTH) throw new IllegalStateException("toFloatArray: " + n + " elements do not fit a Java array (at most " + Sizes.MAX_ARRAY_LENGTH + ")");
        float[] out = new float[(int) n];
        // Another thread may close the memory meanwhile: an IllegalStateException naming this tensor
        // (and no stray interrupt flag: NativeAccess.freedWhileCopying).
        boolean interruptedBefore = Thread.currentThread().isInterrupted();
        try {
            if (isContiguous()) {
                MemorySegment.copy(segment, F32, 0, out, 0, out.length);
            } else {
                long[] idx = new long[shape.length];
                for (int i = 0; i < out.length; i++) {
                    out[i] = segment.get(F32, byteOffset(idx));
                    for (int d = shape.length - 1; d >= 0 && ++idx[d] == shape[d]; d--) idx[d] = 0;
                }
            }
            if (segment.isMapped()) NativeAccess.deliverPendingFault();   // the fault's error, if any, thrown here
            return out;
        } catch (IllegalStateException e) {
            if (isAlive()) throw e;
            throw NativeAccess.freedWhileCopying("Tensor" + Arrays.toString(shape), interruptedBefore, e);
        } catch (InternalError e) {   // a mapped file truncated under this tensor
            throw NativeAccess.truncatedRead("Tensor" + Arrays.toString(shape), e);
        }
    }

    /**
     * The same elements with another shape, without copying; one dimension may be -1 (inferred).
     * Needs a contiguous tensor.
     *
     * @param newShape the new shape, same number of elements (one dimension may be -1)
     * @return a view sharing this tensor's memory
     */
    public Tensor reshape(long... newShape) {
        checkAlive();
        if (!isContiguous()) throw new IllegalStateException("reshape: tensor with strides " + Arrays.toString(strides) + " is not contiguous");
        if (newShape == null) throw new IllegalArgumentException("reshape: shape must not be null");
        long[] s = newShape.clone();
        int infer = -1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1 && infer < 0) infer = i;
            else if (s[i] <= 0) throw new IllegalArgumentException("reshape: sizes must be > 0 (or one -1), got " + Arrays.toString(newShape));
        }
        if (infer >= 0) {
            s[infer] = 1;
            long known = Sizes.productOrMax(s);   // the tensor's numel is at most 2^48, so a saturated product cannot divide it
            if (known > numel() || numel() % known != 0) {
                throw new IllegalArgumentException("reshape: cannot infer -1 in " + Arrays.toString(newShape) + " for " + numel() + " elements");
            }
            s[infer] = numel() / known;
        }
        long holds = Sizes.productOrMax(s);
        if (holds != numel()) {
            throw new IllegalArgumentException("reshape: " + Arrays.toString(newShape) + " holds "
                    + (holds == Long.MAX_VALUE ? "more than 2^48" : String.valueOf(holds))
                    + " elements, the tensor has " + numel() + " (shape " + Arrays.toString(shape) + ")");
        }
        return new Tensor(segment, dtype, s, contiguousStrides(s), memory, false);
    }

    /**
     * {@return the view {@code [start, end)} along {@code dim} (negative dim counts from the end), without copying; empty
     * where {@code start == end}, as PyTorch's {@code t[2:2]}}
     *
     * @param dim the dimension to slice
     * @param start the first index, inclusive
     * @param end the last index, exclusive
     */
    public Tensor slice(int dim, long start, long end) {
        checkAlive();
        int d = axis("slice", dim);
        if (start < 0 || end > shape[d] || start > end) {
            throw new IllegalArgumentException("slice: expected 0 <= start <= end <= " + shape[d] + " on dim " + dim
                    + ", got [" + start + ", " + end + ")");
        }
        long[] s = shape.clone();
        s[d] = end - start;
        if (numel() == 0 || start == end) return new Tensor(segment.asSlice(0, 0), dtype, s, strides.clone(), memory, false);   // empty on another dim
        long first = start * strides[d] * dtype.byteSize();
        long span = 0;
        for (int i = 0; i < s.length; i++) span += (s[i] - 1) * strides[i];
        return new Tensor(segment.asSlice(first, (span + 1) * dtype.byteSize()), dtype, s, strides.clone(), memory, false);
    }

    /**
     * Frees the memory if this tensor owns it; does nothing for views and borrowed memory. From
     * the moment it is called, this tensor and its views are dead ({@link #isAlive()} false, any
     * use an {@link IllegalStateException}). The memory itself is freed by a background thread
     * microseconds later (closing a shared arena is a JDK handshake with every thread, 60-100 µs
     * that the caller does not wait for; {@code OwnedMemory} says more), and never while a
     * native call on another thread is using it (native calls hold the memory they touch); a
     * raw {@link #segment()} taken before stays readable until then, never freed memory.
     */
    @Override
    public void close() {
        if (owner) memory.release();
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape) + " " + dtype.name().toLowerCase(java.util.Locale.ROOT)
                + (isContiguous() ? "" : " strides " + Arrays.toString(strides)) + (isAlive() ? "" : " (freed)");
    }

    private long offsetOf(long[] index) {
        requireF32("element access");
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index " + Arrays.toString(index) + " has " + index.length
                    + " coordinates, tensor " + Arrays.toString(shape) + " has rank " + shape.length);
        }
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " out of bounds for shape " + Arrays.toString(shape));
            }
        }
        return byteOffset(index);
    }

    private long byteOffset(long[] index) {
        long e = 0;
        for (int i = 0; i < index.length; i++) e += index[i] * strides[i];
        return e * dtype.byteSize();
    }

    private int axis(String op, int dim) {
        int d = dim < 0 ? dim + shape.length : dim;
        if (d < 0 || d >= shape.length) {
            throw new IllegalArgumentException(op + ": dim " + dim + " out of range for rank " + shape.length);
        }
        return d;
    }

    private void requireF32(String op) {
        if (dtype != DataType.F32) throw new IllegalStateException(op + ": expected an f32 tensor, got " + dtype);
    }

    /**
     * {@link #checkAlive()}, and that this thread may touch the memory: one of another thread's confined arena would
     * throw the JDK's bare {@code WrongThreadException} ("Attempted access outside owning thread"), naming nothing.
     */
    private void checkThread(String what) {
        checkAlive();
        if (!segment.isAccessibleBy(Thread.currentThread())) {
            throw new IllegalStateException("Tensor" + Arrays.toString(shape) + "." + what + ": its memory is in a confined arena of another "
                    + "thread, which only that thread may read or write (allocate it in Arena.ofShared() to share it)");
        }
    }

    private void checkAlive() {
        if (!isAlive()) {
            throw new IllegalStateException("Tensor" + Arrays.toString(shape) + ": its memory was freed ("
                    + (segment.scope().isAlive() ? "tensor closed" : "arena closed") + ")");
        }
    }

    static long[] contiguousStrides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= shape[i];
        }
        return s;
    }

    /** Validates a shape (every size >= 0, at most 2^48 bytes of f32: see {@link Sizes}) and returns its element count. */
    static long checkShape(String op, long[] shape) {
        return Sizes.tensorBytes(op, shape, Float.BYTES) / Float.BYTES;
    }
}
