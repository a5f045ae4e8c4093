package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_cpu;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_engine_create;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_engine_destroy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * The CPU engine. One per process is all oneDNN needs, and it is thread-safe, so
 * {@link #cpu()} hands out a shared instance that lives as long as the JVM (closing it is
 * refused, since every primitive refers to it).
 */
public final class Engine extends NativeHandle {
    private static final class Shared {
        static final Engine CPU = create();
    }

    private Engine(MemorySegment handle) {
        super(handle);
    }

    public static Engine cpu() {
        return Shared.CPU;
    }

    private static Engine create() {
        Dnnl.ensureLoaded();
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment out = Dnnl.outPointer(tmp);
            Dnnl.check(dnnl_engine_create(out, dnnl_cpu(), 0), "dnnl_engine_create", "creating the CPU engine");
            return new Engine(out.get(ValueLayout.ADDRESS, 0));
        }
    }

    MemorySegment raw() {
        return handle();
    }

    @Override
    int destroy(MemorySegment handle) {
        return dnnl_engine_destroy(handle);
    }

    @Override
    String kind() {
        return "engine";
    }
}
