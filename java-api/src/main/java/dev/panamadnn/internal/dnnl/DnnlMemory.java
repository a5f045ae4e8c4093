package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_memory_create;

import dev.panamadnn.bindings.dnnl.dnnl_h;
import java.lang.foreign.MemorySegment;

/**
 * A {@code dnnl_memory_t} over a buffer the caller owns (never a oneDNN allocation): the
 * buffer must be off-heap, because oneDNN keeps the pointer, and at least as large as the
 * descriptor says. One memory object per call or per thread: they are not thread-safe.
 */
public final class DnnlMemory extends NativeHandle {
    private DnnlMemory(MemorySegment handle) {
        super(handle, "memory");
    }

    @Override
    int destroy(MemorySegment handle) {
        return dnnl_h.dnnl_memory_destroy(handle);
    }

    public static DnnlMemory over(MemoryDescriptor desc, MemorySegment buffer) {
        check(desc, buffer);
        try (Out pointer = new Out()) {
            return new DnnlMemory(pointer.handle(dnnl_memory_create(pointer.segment(), desc.handle(), Engine.cpu().handle(), buffer),
                    "dnnl_memory_create", desc.toString()));
        }
    }

    /**
     * A buffer of at least {@code bytes} that oneDNN allocates (64-byte aligned) and {@link #close()} frees. Unlike an
     * {@code Arena} allocation it is not zeroed, so its pages are not touched until they are written: for buffers that
     * are filled before they are read (a reorder's destination) that saves a pass over memory and, for buffers filled
     * later, moves the page faults to whoever fills them.
     */
    public static DnnlMemory allocate(long bytes) {
        if (bytes <= 0) throw new IllegalArgumentException("DnnlMemory.allocate: bytes must be positive, got " + bytes);
        try (MemoryDescriptor desc = MemoryDescriptor.f32(Ops.plain(1), (bytes + 3) / 4)) {
            try (Out pointer = new Out()) {
                return new DnnlMemory(pointer.handle(dnnl_memory_create(pointer.segment(), desc.handle(), Engine.cpu().handle(),
                        dnnl_h.DNNL_MEMORY_ALLOCATE()), "dnnl_memory_create", desc.toString()));
            }
        }
    }

    /** The address of the buffer of a memory made by {@link #allocate}, as a zero-length segment (reinterpret it to its size). */
    public MemorySegment dataAddress() {
        try (Out pointer = new Out()) {
            return pointer.handle(dnnl_h.dnnl_memory_get_data_handle(handle(), pointer.segment()), "dnnl_memory_get_data_handle", "allocated memory");
        }
    }

    /** Throws unless {@code buffer} is off-heap and holds at least {@code desc}'s bytes (what oneDNN will touch). */
    static void check(MemoryDescriptor desc, MemorySegment buffer) {
        if (!buffer.isNative()) {
            throw new IllegalArgumentException("oneDNN memory needs an off-heap segment, got a heap segment");
        }
        long need = desc.byteSize();
        if (buffer.byteSize() < need) {
            throw new IllegalArgumentException("buffer for " + desc + " must hold " + need + " bytes, got " + buffer.byteSize());
        }
    }
}
