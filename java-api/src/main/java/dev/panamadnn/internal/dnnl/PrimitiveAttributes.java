package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_primitive_attr_create;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_primitive_attr_destroy;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_primitive_attr_set_scratchpad_mode;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_scratchpad_mode_user;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Primitive attributes. Always {@code scratchpad_mode = user}: with oneDNN's default
 * (library-owned) scratchpad a primitive is unsafe to share between threads; with a user
 * scratchpad every execution brings its own, so one primitive serves any number of threads.
 */
public final class PrimitiveAttributes extends NativeHandle {
    private PrimitiveAttributes(MemorySegment handle) {
        super(handle);
    }

    public static PrimitiveAttributes userScratchpad() {
        Dnnl.ensureLoaded();
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment out = Dnnl.outPointer(tmp);
            Dnnl.check(dnnl_primitive_attr_create(out), "dnnl_primitive_attr_create", "");
            var attr = new PrimitiveAttributes(out.get(ValueLayout.ADDRESS, 0));
            Dnnl.check(dnnl_primitive_attr_set_scratchpad_mode(attr.raw(), dnnl_scratchpad_mode_user()),
                    "dnnl_primitive_attr_set_scratchpad_mode", "");
            return attr;
        }
    }

    MemorySegment raw() {
        return handle();
    }

    @Override
    int destroy(MemorySegment handle) {
        return dnnl_primitive_attr_destroy(handle);
    }

    @Override
    String kind() {
        return "primitive_attr";
    }
}
