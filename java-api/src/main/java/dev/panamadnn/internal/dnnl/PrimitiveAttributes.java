package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.DNNL_ARG_SRC;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_primitive_attr_create;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_primitive_attr_set_post_ops;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_primitive_attr_set_scratchpad_mode;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_scratchpad_mode_user;

import dev.panamadnn.bindings.dnnl.dnnl_h;
import java.lang.foreign.MemorySegment;

/**
 * Primitive attributes. Always {@code scratchpad_mode = user}: with oneDNN's default
 * (library-owned) scratchpad a primitive is unsafe to share between threads; with a user
 * scratchpad every execution brings its own, so one primitive serves any number of threads.
 */
public final class PrimitiveAttributes extends NativeHandle {
    private PrimitiveAttributes(MemorySegment handle) {
        super(handle, "primitive_attr");
    }

    @Override
    int destroy(MemorySegment handle) {
        return dnnl_h.dnnl_primitive_attr_destroy(handle);
    }

    public static PrimitiveAttributes userScratchpad() {
        Dnnl.ensureLoaded();
        PrimitiveAttributes attr;
        try (Out pointer = new Out()) {
            attr = new PrimitiveAttributes(pointer.handle(dnnl_primitive_attr_create(pointer.segment()), "dnnl_primitive_attr_create", ""));
        }
        try {
            Dnnl.check(dnnl_primitive_attr_set_scratchpad_mode(attr.handle(), dnnl_scratchpad_mode_user()),
                    "dnnl_primitive_attr_set_scratchpad_mode", "");
            return attr;
        } catch (RuntimeException e) {
            attr.close();
            throw e;
        }
    }

    /** User scratchpad plus {@code postOps} (copied: the caller still closes {@code postOps}). */
    public static PrimitiveAttributes userScratchpad(PostOps postOps) {
        PrimitiveAttributes attr = userScratchpad();
        try {
            Dnnl.check(dnnl_primitive_attr_set_post_ops(attr.handle(), postOps.handle()),
                    "dnnl_primitive_attr_set_post_ops", "");
            return attr;
        } catch (RuntimeException e) {
            attr.close();
            throw e;
        }
    }

    /**
     * This attribute with per-slice scales of the source (mask: the dims they vary over, bit 0 the first); the execution
     * passes them as {@link Args#SRC_SCALES}, one F32 per slice. For a reorder: {@code dst = src * scale}.
     */
    public PrimitiveAttributes withSourceScales(int mask) {
        Dnnl.check(dnnl_h.dnnl_primitive_attr_set_scales_mask(handle(), DNNL_ARG_SRC(), mask), "dnnl_primitive_attr_set_scales_mask", "");
        return this;
    }
}
