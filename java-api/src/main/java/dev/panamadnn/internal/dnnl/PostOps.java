package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_binary_add;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_f32;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_post_ops_append_binary;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_post_ops_append_eltwise;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_post_ops_append_sum;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_post_ops_create;

import dev.panamadnn.bindings.dnnl.dnnl_h;
import java.lang.foreign.MemorySegment;

/**
 * A {@code dnnl_post_ops_t}: operations oneDNN fuses after a primitive's main computation
 * (here: an element-wise activation on the destination). The attributes copy it when it is
 * attached, so it is a short-lived, method-local object.
 */
public final class PostOps extends NativeHandle {
    private PostOps(MemorySegment handle) {
        super(handle, "post_ops");
    }

    @Override
    int destroy(MemorySegment handle) {
        return dnnl_h.dnnl_post_ops_destroy(handle);
    }

    public static PostOps create() {
        Dnnl.ensureLoaded();
        try (Out pointer = new Out()) {
            return new PostOps(pointer.handle(dnnl_post_ops_create(pointer.segment()), "dnnl_post_ops_create", ""));
        }
    }

    /** Appends {@code dst = op(dst)} ({@link Ops#eltwise(String, float)} gives the op of an activation). */
    public PostOps eltwise(Ops.EltwiseOp op) {
        Dnnl.check(dnnl_post_ops_append_eltwise(handle(), op.algorithm(), op.alpha(), op.beta()), "dnnl_post_ops_append_eltwise",
                "algorithm " + op.algorithm() + ", alpha " + op.alpha() + ", beta " + op.beta());
        return this;
    }

    /**
     * Appends {@code dst = dst + src1}, {@code src1} described by {@code src1} (it may broadcast
     * over dimensions of size 1) and passed at execution under {@link Args#postOpSrc1(int, MemoryDescriptor, MemorySegment)}
     * with this post-op's index.
     */
    public PostOps add(MemoryDescriptor src1) {
        Dnnl.check(dnnl_post_ops_append_binary(handle(), dnnl_binary_add(), src1.handle()), "dnnl_post_ops_append_binary",
                "binary_add with " + src1);
        return this;
    }

    /**
     * Appends {@code dst = dst op src1} ({@link MathOps.Binary}: add, sub, mul...), {@code src1} passed at execution as
     * {@link #add} says.
     */
    public PostOps binary(MathOps.Binary op, MemoryDescriptor src1) {
        Dnnl.check(dnnl_post_ops_append_binary(handle(), op.algorithm(), src1.handle()), "dnnl_post_ops_append_binary",
                op + " with " + src1);
        return this;
    }

    /**
     * Appends {@code dst = scale * dst + result}: the primitive accumulates into what the
     * destination buffer already holds (e.g. a residual shortcut), which must be in the
     * destination's layout.
     */
    public PostOps sum(float scale) {
        Dnnl.check(dnnl_post_ops_append_sum(handle(), scale, 0, dnnl_f32()), "dnnl_post_ops_append_sum", "scale " + scale);
        return this;
    }
}
