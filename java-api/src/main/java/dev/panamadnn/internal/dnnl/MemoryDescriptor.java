package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.DNNL_MAX_NDIMS;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_f32;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_memory_desc_clone;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_memory_desc_create_with_tag;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_memory_desc_equal;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_memory_desc_get_size;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_memory_desc_query;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_query_dims;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_query_ndims_s32;

import dev.panamadnn.bindings.dnnl.dnnl_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * An owned {@code dnnl_memory_desc_t}: shape, data type and memory format. Descriptors that
 * oneDNN returns from a query belong to the primitive descriptor, so {@link #cloneOf} makes
 * an owned copy; every instance here is destroyed by its own {@link #close()}.
 * Immutable once created, so safe to share between threads.
 */
public final class MemoryDescriptor extends NativeHandle {
    /** DNNL_MAX_NDIMS of the headers the bindings were generated from. */
    static final int MAX_NDIMS = DNNL_MAX_NDIMS();

    private final String description;

    private MemoryDescriptor(MemorySegment handle, String description) {
        super(handle, "memory_desc");
        this.description = description;
    }

    @Override
    int destroy(MemorySegment handle) {
        return dnnl_h.dnnl_memory_desc_destroy(handle);
    }

    /** An f32 descriptor of {@code dims} in the given {@code dnnl_format_tag_t}. */
    public static MemoryDescriptor f32(int formatTag, long... shape) {
        long[] dims = shape.length == 0 ? new long[] {1} : shape;   // a scalar (rank 0, a graph value): its one element, as [1] (tag a, Ops.plain(0))
        for (long d : dims) {
            if (d <= 0) throw new IllegalArgumentException("memory descriptor: every dimension must be > 0, got " + Arrays.toString(dims));
        }
        if (dims.length > MAX_NDIMS) {
            throw new IllegalArgumentException("memory descriptor: oneDNN takes at most " + MAX_NDIMS + " dimensions, got " + Arrays.toString(dims));
        }
        Dnnl.ensureLoaded();
        String description = "f32" + Arrays.toString(dims);
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment dimsArray = Dnnl.dims(tmp, dims);
            MemorySegment out = tmp.allocate(java.lang.foreign.ValueLayout.ADDRESS);
            return new MemoryDescriptor(created(dnnl_memory_desc_create_with_tag(out, dims.length, dimsArray, dnnl_f32(), formatTag), out,
                    "dnnl_memory_desc_create_with_tag", "describing " + description), description);
        } catch (dev.panamadnn.DnnlException e) {
            // Sizes are checked in Java (dev.panamadnn.internal.Sizes) before this point, but oneDNN
            // 3.13.0 also refuses some plain descriptors inside those bounds: measured, [2^30, 4] and
            // [2^28, 4096] are refused while [2^29, 8] and [7, 2^29 - 1, 64] are not. What it refuses is
            // a size the caller chose, so it is reported as one, not as a native failure.
            if (e.status() != dnnl_h.dnnl_invalid_arguments()) throw e;
            throw new IllegalArgumentException("memory descriptor: oneDNN refuses to describe " + description
                    + " (invalid_arguments: a size beyond what it handles in this layout; split the batch)", e);
        }
    }

    /**
     * An f32 descriptor of {@code dims} with explicit element {@code strides} (one per dim): e.g. a
     * transpose's destination, the source dims laid out in the permuted order.
     */
    public static MemoryDescriptor f32Strided(long[] dims, long[] strides) {
        if (dims.length != strides.length || dims.length == 0 || dims.length > MAX_NDIMS) {
            throw new IllegalArgumentException("memory descriptor: " + dims.length + " dims and " + strides.length + " strides (1 to "
                    + MAX_NDIMS + " each, equal counts)");
        }
        for (long d : dims) {
            if (d <= 0) throw new IllegalArgumentException("memory descriptor: every dimension must be > 0, got " + Arrays.toString(dims));
        }
        Dnnl.ensureLoaded();
        String description = "f32" + Arrays.toString(dims) + " strides " + Arrays.toString(strides);
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment dimsArray = Dnnl.dims(tmp, dims), stridesArray = Dnnl.dims(tmp, strides);
            MemorySegment out = tmp.allocate(java.lang.foreign.ValueLayout.ADDRESS);
            return new MemoryDescriptor(created(dnnl_h.dnnl_memory_desc_create_with_strides(out, dims.length, dimsArray, dnnl_f32(), stridesArray),
                    out, "dnnl_memory_desc_create_with_strides", "describing " + description), description);
        }
    }

    /**
     * The part {@code [offsets, offsets + dims)} of a buffer described by {@code this}, as a descriptor over the
     * same buffer (same strides, an offset): a reorder from it copies that part out. Each part must lie inside
     * the parent (checked here, before oneDNN sees it).
     */
    public MemoryDescriptor submemory(long[] dims, long[] offsets) {
        if (dims.length != offsets.length || dims.length == 0 || dims.length > MAX_NDIMS) {
            throw new IllegalArgumentException("submemory of " + description + ": " + dims.length + " dims and " + offsets.length + " offsets");
        }
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] <= 0 || offsets[i] < 0) {
                throw new IllegalArgumentException("submemory of " + description + ": dims " + Arrays.toString(dims) + " at "
                        + Arrays.toString(offsets));
            }
        }
        String sub = description + " part " + Arrays.toString(dims) + " at " + Arrays.toString(offsets);
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment d = Dnnl.dims(tmp, dims), o = Dnnl.dims(tmp, offsets);
            MemorySegment out = tmp.allocate(java.lang.foreign.ValueLayout.ADDRESS);
            return new MemoryDescriptor(created(dnnl_h.dnnl_memory_desc_create_submemory(out, handle(), d, o), out,
                    "dnnl_memory_desc_create_submemory", "describing " + sub), sub);
        }
    }

    /** An owned copy of a descriptor that belongs to someone else (e.g. a query result). */
    static MemoryDescriptor cloneOf(MemorySegment borrowed, String description) {
        try (Out pointer = new Out()) {
            return new MemoryDescriptor(pointer.handle(dnnl_memory_desc_clone(pointer.segment(), borrowed), "dnnl_memory_desc_clone", description),
                    description);
        }
    }

    /** {@return an owned copy of this descriptor (the caller closes it), e.g. to outlive the plan that made this one} */
    public MemoryDescriptor copy() {
        return cloneOf(handle(), description);
    }

    /** Bytes a buffer in this layout needs (blocked layouts may pad). */
    public long byteSize() {
        return dnnl_memory_desc_get_size(handle());
    }

    /** {@return the logical dims ({@code dnnl_query_ndims_s32}, {@code dnnl_query_dims})} */
    public long[] dims() {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment ndims = tmp.allocate(ValueLayout.JAVA_INT), dims = tmp.allocate(ValueLayout.ADDRESS);
            Dnnl.check(dnnl_memory_desc_query(handle(), dnnl_query_ndims_s32(), ndims), "dnnl_memory_desc_query", description);
            Dnnl.check(dnnl_memory_desc_query(handle(), dnnl_query_dims(), dims), "dnnl_memory_desc_query", description);
            int n = ndims.get(ValueLayout.JAVA_INT, 0);
            return dims.get(ValueLayout.ADDRESS, 0).reinterpret(8L * n).toArray(ValueLayout.JAVA_LONG);
        }
    }

    public boolean sameLayoutAs(MemoryDescriptor other) {
        return dnnl_memory_desc_equal(handle(), other.handle()) != 0;
    }

    @Override
    public String toString() {
        return description;
    }
}
