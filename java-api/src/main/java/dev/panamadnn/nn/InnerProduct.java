package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import dev.panamadnn.internal.dnnl.Arg;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.PostOps;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveCache;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.internal.lowering.InnerProductLowering;
import java.lang.foreign.MemorySegment;

/**
 * {@link Linear}'s oneDNN path: one inner-product primitive per batch size (rows), created on
 * first use with plain row-major layouts of {@link InnerProductLowering}'s dims (src {@code [rows, in]},
 * weights {@code [out, in]} as PyTorch stores them, bias {@code [out]}, dst {@code [rows, out]}) and the activation fused as
 * an eltwise post-op. Plain weight layout means no reorder: the primitive reads the live weight
 * tensor (owned by the layer, its memory fixed for the layer's life) on every call, so weights
 * written after creation are seen. Thread-safe.
 */
final class InnerProduct implements AutoCloseable {
    private final int inFeatures;
    private final int outFeatures;
    private final Tensor weight, bias;     // the layer's; bias null: none
    private final Activation activation;   // null: none
    private final PrimitiveCache<Long, Kernel> byRows = new PrimitiveCache<>();

    /** A primitive, its descriptors, and its weights and bias arguments (over the layer's tensors; bias absent without one). */
    private record Kernel(MemoryDescriptor src, MemoryDescriptor dst, Arg weights, Arg bias, Primitive primitive,
                            String implementation) implements AutoCloseable {
        @Override
        public void close() {
            primitive.close();
            src.close();
            weights.md().close();
            if (bias.present()) bias.md().close();
            dst.close();
        }
    }

    InnerProduct(int inFeatures, int outFeatures, Tensor weight, Tensor bias, Activation activation) {
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.weight = weight;
        this.bias = bias;
        this.activation = activation;
    }

    /** dst = act(src * weights^T + bias); both segments off-heap and exactly sized (checked by Linear). */
    void execute(long rows, MemorySegment src, MemorySegment dst) {
        try (PrimitiveCache.Lease<Kernel> lease = byRows.acquire(rows, this::createKernel)) {
            Kernel c = lease.value();
            c.primitive().execute(Args.src(c.src(), src), c.weights(), c.bias(), Args.dst(c.dst(), dst));
        }
    }

    /** The oneDNN implementation chosen for {@code rows} rows, e.g. {@code brgemm:avx2}. */
    String implementation(long rows) {
        try (PrimitiveCache.Lease<Kernel> lease = byRows.acquire(rows, this::createKernel)) {
            return lease.value().implementation();
        }
    }

    private Kernel createKernel(long rows) {
        MemoryDescriptor src = null, weights = null, biasDesc = null, dst = null;
        String what = "inner product f32[" + rows + ", " + inFeatures + "] x [" + outFeatures + ", " + inFeatures + "]^T"
                + (bias != null ? " + bias" : "") + (activation == null ? "" : " then " + activation);
        InnerProductLowering l = new InnerProductLowering(rows, inFeatures, outFeatures, bias != null);
        try {
            src = MemoryDescriptor.f32(Ops.plain(2), l.srcDims());
            weights = MemoryDescriptor.f32(Ops.plain(2), l.weightDims());
            if (bias != null) biasDesc = MemoryDescriptor.f32(Ops.plain(1), l.biasDims());
            dst = MemoryDescriptor.f32(Ops.plain(2), l.dstDims());
            try (PostOps postOps = PostOps.create();
                 PrimitiveAttributes attr = activation == null ? PrimitiveAttributes.userScratchpad()
                         : PrimitiveAttributes.userScratchpad(postOps.eltwise(
                                 Ops.eltwise(activation.kind().name(), activation.alpha())));
                 PrimitiveDescriptor pd = Ops.innerProduct(src, weights, biasDesc, dst, attr, what)) {
                return new Kernel(src, dst, Args.weights(weights, weight.segment()),
                        Args.bias(biasDesc, bias == null ? null : bias.segment()), Primitive.create(pd), pd.implementation());
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
