package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_memory_create;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_memory_destroy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A {@code dnnl_memory_t} over a buffer the caller owns (never a oneDNN allocation): the
 * buffer must be off-heap, because oneDNN keeps the pointer, and at least as large as the
 * descriptor says. One memory object per call or per thread: they are not thread-safe.
 */
public final class DnnlMemory extends NativeHandle {
    private DnnlMemory(MemorySegment handle) {
        super(handle);
    }

    public static DnnlMemory over(MemoryDescriptor desc, MemorySegment buffer) {
        if (!buffer.isNative()) {
            throw new IllegalArgumentException("oneDNN memory needs an off-heap segment, got a heap segment");
        }
        long need = desc.byteSize();
        if (buffer.byteSize() < need) {
            throw new IllegalArgumentException("buffer for " + desc + " must hold " + need + " bytes, got " + buffer.byteSize());
        }
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment out = Dnnl.outPointer(tmp);
            Dnnl.check(dnnl_memory_create(out, desc.raw(), Engine.cpu().raw(), buffer), "dnnl_memory_create", desc.toString());
            return new DnnlMemory(out.get(ValueLayout.ADDRESS, 0));
        }
    }

    MemorySegment raw() {
        return handle();
    }

    @Override
    int destroy(MemorySegment handle) {
        return dnnl_memory_destroy(handle);
    }

    @Override
    String kind() {
        return "memory";
    }
}
