package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_primitive_desc_query_md;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_query_impl_info_str;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_primitive_desc_query;

import dev.panamadnn.bindings.dnnl.dnnl_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A {@code dnnl_primitive_desc_t}: oneDNN's choice of implementation (and of memory formats,
 * where we ask for {@code any}) for one operation, shape and attribute set.
 */
public final class PrimitiveDescriptor extends NativeHandle {
    private final String description;

    private PrimitiveDescriptor(MemorySegment handle, String description) {
        super(handle, "primitive_desc");
        this.description = description;
    }

    @Override
    int destroy(MemorySegment handle) {
        return dnnl_h.dnnl_primitive_desc_destroy(handle);
    }

    /**
     * The descriptor a {@code dnnl_*_primitive_desc_create} call wrote into {@code pointer} ({@code pointer.segment()} its
     * first argument, {@code Engine.cpu()} its engine), once its {@code status} is checked.
     */
    static PrimitiveDescriptor created(Out pointer, int status, String function, String description) {
        return new PrimitiveDescriptor(pointer.handle(status, function, description), description);
    }

    /** An owned copy of the descriptor oneDNN chose for {@code what} ({@code dnnl_query_*_md}). */
    public MemoryDescriptor queryMemory(int what, int index) {
        MemorySegment md = dnnl_primitive_desc_query_md(handle(), what, index);
        if (md.equals(MemorySegment.NULL)) {
            throw new IllegalStateException(description + ": no memory descriptor for query " + what + "/" + index);
        }
        return MemoryDescriptor.cloneOf(md, description + " md " + what);
    }

    /**
     * Whether {@code other} chose the same layout for {@code what} ({@code dnnl_query_*_md}) at {@code index}
     * (or neither has one): the two can run on the same buffers.
     */
    public boolean sameMemory(PrimitiveDescriptor other, int what, int index) {
        return sameOrBothNull(dnnl_primitive_desc_query_md(handle(), what, index), dnnl_primitive_desc_query_md(other.handle(), what, index));
    }

    /** Whether two memory descriptors (NULL: none) are equal, or both absent. */
    private static boolean sameOrBothNull(MemorySegment a, MemorySegment b) {
        if (a.equals(MemorySegment.NULL) || b.equals(MemorySegment.NULL)) return a.equals(b);
        return dnnl_h.dnnl_memory_desc_equal(a, b) != 0;
    }

    /**
     * {@return the layout chosen for {@code what} ({@code dnnl_query_*_md}) at {@code index} as a new descriptor the
     * caller closes, or null where there is none}
     */
    public MemoryDescriptor queryMemoryOrNull(int what, int index) {
        MemorySegment md = dnnl_primitive_desc_query_md(handle(), what, index);
        return md.equals(MemorySegment.NULL) ? null : MemoryDescriptor.cloneOf(md, description + " md " + what);
    }

    /** Whether this descriptor chose layout {@code expected} for {@code what} at {@code index} (null: none there). */
    public boolean chose(int what, int index, MemoryDescriptor expected) {
        return sameOrBothNull(dnnl_primitive_desc_query_md(handle(), what, index), expected == null ? MemorySegment.NULL : expected.handle());
    }

    /** The implementation oneDNN picked, e.g. {@code jit:avx512_core}. */
    public String implementation() {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment out = tmp.allocate(dnnl_h.C_POINTER);
            Dnnl.check(dnnl_primitive_desc_query(handle(), dnnl_query_impl_info_str(), 0, out),
                    "dnnl_primitive_desc_query", "impl_info_str of " + description);
            return out.get(dnnl_h.C_POINTER, 0).getString(0);
        }
    }

    @Override
    public String toString() {
        return description;
    }
}
