package dev.panamadnn.nn;

import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.PoolOps;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveCache;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import java.lang.foreign.MemorySegment;

/**
 * The oneDNN side of a pooling layer: one pooling primitive per {@link Geometry} (input shape
 * plus window), created on first use with plain nchw source and destination, cached, and shared
 * by every thread (user scratchpad; memory objects from a bound call no other call uses at the same time). The
 * cache is bounded ({@link PrimitiveCache}); a {@link #run} leases its entry, so neither eviction nor
 * {@link #close()} frees a primitive while a run uses it.
 */
final class PoolPrimitives implements AutoCloseable {
    /**
     * Everything one primitive is compiled for, already in oneDNN's terms: [n, c, ih, iw] to
     * [n, c, oh, ow], dilation 0-based, padding per side (a 1-D layer has height 1 throughout).
     */
    record Geometry(PoolOps.Algorithm algorithm, long n, long c, long ih, long iw, long oh, long ow, long kh, long kw,
                    long sh, long sw, long dh, long dw, long padTop, long padLeft, long padBottom, long padRight) {}

    private record Compiled(Primitive primitive, MemoryDescriptor src, MemoryDescriptor dst, String implementation)
            implements AutoCloseable {
        @Override
        public void close() {
            primitive.close();
            src.close();
            dst.close();
        }
    }

    private final String layer;
    private final PrimitiveCache<Geometry, Compiled> compiled = new PrimitiveCache<>();

    PoolPrimitives(String layer) {
        this.layer = layer;
    }

    /** Pools the contiguous nchw {@code src} into the contiguous nchw {@code dst}, both sized as {@code g} says. */
    void run(Geometry g, MemorySegment src, MemorySegment dst) {
        try (PrimitiveCache.Lease<Compiled> lease = compiled.acquire(g, this::compile)) {
            Compiled c = lease.value();
            c.primitive().execute(new int[] {Ops.argSrc(), Ops.argDst()}, new MemoryDescriptor[] {c.src(), c.dst()},
                    new MemorySegment[] {src, dst});
        }
    }

    /** The oneDNN implementation chosen for {@code g}, e.g. {@code jit:avx512_core} (compiles it if needed). */
    String implementation(Geometry g) {
        try (PrimitiveCache.Lease<Compiled> lease = compiled.acquire(g, this::compile)) {
            return lease.value().implementation();
        }
    }

    private Compiled compile(Geometry g) {
        String description = layer + " (oneDNN pooling " + g.algorithm() + ") on input [" + g.n() + ", " + g.c() + ", "
                + g.ih() + ", " + g.iw() + "]";
        MemoryDescriptor src = null, dst = null;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad()) {
            src = MemoryDescriptor.f32(Ops.plain(4), g.n(), g.c(), g.ih(), g.iw());
            dst = MemoryDescriptor.f32(Ops.plain(4), g.n(), g.c(), g.oh(), g.ow());
            try (PrimitiveDescriptor pd = PoolOps.pooling(g.algorithm(), src, dst, new long[] {g.sh(), g.sw()},
                    new long[] {g.kh(), g.kw()}, new long[] {g.dh(), g.dw()}, new long[] {g.padTop(), g.padLeft()},
                    new long[] {g.padBottom(), g.padRight()}, attr, description)) {
                return new Compiled(Primitive.create(pd), src, dst, pd.implementation());
            }
        } catch (RuntimeException e) {
            if (src != null) src.close();
            if (dst != null) dst.close();
            throw e;
        }
    }

    @Override
    public void close() {
        compiled.close();
    }
}
