package dev.panamadnn.nn;

import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.PoolOps;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveCache;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.internal.lowering.PoolLowering;
import java.lang.foreign.MemorySegment;

/**
 * The oneDNN side of a pooling layer: one pooling primitive per input shape, its geometry the
 * layer's {@link PoolLowering} for that size (always 2-D: a 1-D layer has height 1), computed when
 * the primitive is created, with plain nchw source and destination, cached, and shared by every
 * thread (user scratchpad; memory objects from a bound call no other call uses at the same time).
 * The cache is bounded ({@link PrimitiveCache}); a {@link #run} leases its entry, so neither
 * eviction nor {@link #close()} frees a primitive while a run uses it.
 */
final class PoolPrimitives implements AutoCloseable {
    /** A layer's geometry for an input of {@code ih x iw}: a function of the size alone. */
    interface Lowering {
        PoolLowering of(long ih, long iw);
    }

    private record Key(long n, long c, long ih, long iw) {}

    private record Kernel(Primitive primitive, MemoryDescriptor src, MemoryDescriptor dst, PoolLowering lowering,
                            String implementation) implements AutoCloseable {
        @Override
        public void close() {
            primitive.close();
            src.close();
            dst.close();
        }
    }

    private final String layer;
    private final Lowering lowering;
    private final PrimitiveCache<Key, Kernel> kernels = new PrimitiveCache<>();

    PoolPrimitives(String layer, Lowering lowering) {
        this.layer = layer;
        this.lowering = lowering;
    }

    /**
     * Pools the contiguous nchw {@code src} {@code [n, c, ih, iw]} into the contiguous nchw {@code dst}
     * of the lowering's output size; returns that lowering (the primitive's, not made per call).
     */
    PoolLowering run(long n, long c, long ih, long iw, MemorySegment src, MemorySegment dst) {
        try (PrimitiveCache.Lease<Kernel> lease = kernels.acquire(new Key(n, c, ih, iw), this::createKernel)) {
            Kernel p = lease.value();
            p.primitive().execute(Args.src(p.src(), src), Args.dst(p.dst(), dst));
            return p.lowering();
        }
    }

    /** The oneDNN implementation chosen, e.g. {@code jit:avx512_core} (compiles it if needed). */
    String implementation(long n, long c, long ih, long iw) {
        try (PrimitiveCache.Lease<Kernel> lease = kernels.acquire(new Key(n, c, ih, iw), this::createKernel)) {
            return lease.value().implementation();
        }
    }

    private Kernel createKernel(Key k) {
        PoolLowering l = lowering.of(k.ih(), k.iw());
        long[] out = l.outputSize();
        String description = layer + " (oneDNN pooling " + l.algorithm() + ") on input [" + k.n() + ", " + k.c() + ", "
                + k.ih() + ", " + k.iw() + "]";
        MemoryDescriptor src = null, dst = null;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad()) {
            src = MemoryDescriptor.f32(Ops.plain(4), k.n(), k.c(), k.ih(), k.iw());
            dst = MemoryDescriptor.f32(Ops.plain(4), k.n(), k.c(), out[0], out[1]);
            try (PrimitiveDescriptor pd = PoolOps.pooling(l.algorithm(), src, dst, l.strides(), l.kernel(), l.dilates(), l.padLeft(),
                    l.padRight(), attr, description)) {
                return new Kernel(Primitive.create(pd), src, dst, l, pd.implementation());
            }
        } catch (RuntimeException e) {
            if (src != null) src.close();
            if (dst != null) dst.close();
            throw e;
        }
    }

    @Override
    public void close() {
        kernels.close();
    }
}
