package dev.panamadnn.nn;

import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.PostOps;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveCache;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import java.lang.foreign.MemorySegment;

/**
 * {@link Linear}'s oneDNN path: one inner-product primitive per batch size (rows), created on
 * first use with plain row-major layouts (src {@code [rows, in]}, weights {@code [out, in]} as
 * PyTorch stores them, bias {@code [out]}, dst {@code [rows, out]}) and the activation fused as
 * an eltwise post-op. Plain weight layout means no reorder: the primitive reads the live weight
 * tensor on every call, so weights written after creation are seen. Thread-safe.
 */
final class InnerProduct implements AutoCloseable {
    private final int inFeatures;
    private final int outFeatures;
    private final boolean bias;
    private final Activation activation;   // null: none
    private final PrimitiveCache<Long, Compiled> byRows = new PrimitiveCache<>();

    private record Compiled(MemoryDescriptor src, MemoryDescriptor weights, MemoryDescriptor bias, MemoryDescriptor dst,
                            Primitive primitive, String implementation) implements AutoCloseable {
        @Override
        public void close() {
            primitive.close();
            src.close();
            weights.close();
            if (bias != null) bias.close();
            dst.close();
        }
    }

    InnerProduct(int inFeatures, int outFeatures, boolean bias, Activation activation) {
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.bias = bias;
        this.activation = activation;
    }

    /** dst = act(src * weights^T + bias); all segments off-heap and exactly sized (checked by Linear). */
    void execute(long rows, MemorySegment src, MemorySegment weights, MemorySegment biasData, MemorySegment dst) {
        try (PrimitiveCache.Lease<Compiled> lease = byRows.acquire(rows, this::compile)) {
            Compiled c = lease.value();
            if (bias) {
                c.primitive().execute(new int[] {Ops.argSrc(), Ops.argWeights(), Ops.argBias(), Ops.argDst()},
                        new MemoryDescriptor[] {c.src(), c.weights(), c.bias(), c.dst()},
                        new MemorySegment[] {src, weights, biasData, dst});
            } else {
                c.primitive().execute(new int[] {Ops.argSrc(), Ops.argWeights(), Ops.argDst()},
                        new MemoryDescriptor[] {c.src(), c.weights(), c.dst()}, new MemorySegment[] {src, weights, dst});
            }
        }
    }

    /** The oneDNN implementation chosen for {@code rows} rows, e.g. {@code brgemm:avx2}. */
    String implementation(long rows) {
        try (PrimitiveCache.Lease<Compiled> lease = byRows.acquire(rows, this::compile)) {
            return lease.value().implementation();
        }
    }

    private Compiled compile(long rows) {
        MemoryDescriptor src = null, weights = null, biasDesc = null, dst = null;
        String what = "inner product f32[" + rows + ", " + inFeatures + "] x [" + outFeatures + ", " + inFeatures + "]^T"
                + (bias ? " + bias" : "") + (activation == null ? "" : " then " + activation);
        try {
            src = MemoryDescriptor.f32(Ops.plain(2), rows, inFeatures);
            weights = MemoryDescriptor.f32(Ops.plain(2), outFeatures, inFeatures);
            if (bias) biasDesc = MemoryDescriptor.f32(Ops.plain(1), outFeatures);
            dst = MemoryDescriptor.f32(Ops.plain(2), rows, outFeatures);
            try (PostOps postOps = PostOps.create();
                 PrimitiveAttributes attr = activation == null ? PrimitiveAttributes.userScratchpad()
                         : PrimitiveAttributes.userScratchpad(postOps.eltwise(
                                 Ops.eltwise(activation.kind().name(), activation.alpha())));
                 PrimitiveDescriptor pd = Ops.innerProduct(src, weights, biasDesc, dst, attr, what)) {
                return new Compiled(src, weights, biasDesc, dst, Primitive.create(pd), pd.implementation());
            }
        } catch (RuntimeException e) {
            for (MemoryDescriptor d : new MemoryDescriptor[] {src, weights, biasDesc, dst}) if (d != null) d.close();
            throw e;
        }
    }

    @Override
    public void close() {
        byRows.close();
    }
}
