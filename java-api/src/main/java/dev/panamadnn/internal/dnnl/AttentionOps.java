package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_acb;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_eltwise_linear;

/**
 * The two oneDNN pieces attention needs beyond {@link Ops}: a transposed view of the keys for the
 * {@code q k^T} batched matmul, and the scale as a post-op. Kept in its own file so attention
 * stays apart from the operation families other layers share.
 */
public final class AttentionOps {
    private AttentionOps() {}

    /**
     * The descriptor of {@code k^T}, dims {@code [B, E, S]}, over keys stored row-major as
     * {@code [B, S, E]} (format {@code acb}): the matmul reads the keys in place, no transpose copy.
     */
    public static MemoryDescriptor transposedKeys(long batch, long seqKeys, long embed) {
        return MemoryDescriptor.f32(dnnl_acb(), batch, embed, seqKeys);
    }

    /** {@code dst = scale * dst} ({@code eltwise_linear}, alpha = scale, beta = 0), for the scores' post-ops. */
    public static Ops.EltwiseOp scale(float scale) {
        return new Ops.EltwiseOp(dnnl_eltwise_linear(), scale, 0f);
    }
}
