package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_cpu;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_engine_create;

import dev.panamadnn.bindings.dnnl.dnnl_h;
import java.lang.foreign.MemorySegment;

/**
 * The CPU engine. One per process is all oneDNN needs, and it is thread-safe, so
 * {@link #cpu()} hands out a shared instance that lives as long as the JVM and is never
 * closed (every primitive refers to it).
 */
public final class Engine extends NativeHandle {
    private static final class Shared {
        static final Engine CPU = create();
    }

    private Engine(MemorySegment handle) {
        super(handle, "engine");
    }

    @Override
    int destroy(MemorySegment handle) {
        return dnnl_h.dnnl_engine_destroy(handle);
    }

    public static Engine cpu() {
        return Shared.CPU;
    }

    private static Engine create() {
        Dnnl.ensureLoaded();
        try (Out pointer = new Out()) {
            return new Engine(pointer.handle(dnnl_engine_create(pointer.segment(), dnnl_cpu(), 0), "dnnl_engine_create", "creating the CPU engine"));
        }
    }
}
