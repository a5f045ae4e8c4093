package dev.panamadnn;

import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveCache;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import dev.panamadnn.internal.lifetime.InFlightCalls;
import dev.panamadnn.internal.reference.Erf;
import dev.panamadnn.internal.reference.SpecialValues;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * An element-wise activation over f32 data, on oneDNN's eltwise primitive, with a plain-Java
 * {@link #reference}. {@code y[i] = f(x[i])}; source and destination may be the same segment.
 *
 * <p>NaN, infinities and huge values come out as in PyTorch (docs/numerics.md). One oneDNN
 * kernel needs help for that: exact GELU forms {@code x * (1 + erf(x / sqrt 2))} before halving,
 * so it gives +inf from {@code x >= 2^127} and NaN for +inf, where PyTorch gives x; when a scan
 * of the input finds a value {@code >= 2^126} (or a NaN), those elements are recomputed with
 * {@link #reference} after the primitive.
 *
 * <p>A primitive is created once per element count and reused (the 16 most recently used counts
 * are kept; system property {@code panamadnn.primitiveCache.size}); one instance may be called from
 * many threads at once (each call brings its own scratchpad). Closing releases the primitives.
 */
public final class Eltwise implements AutoCloseable {

    /** The activation, with oneDNN's algorithm and the meaning of {@code alpha}. */
    public enum Kind {
        /** max(x, 0); with alpha != 0 the negative slope (LeakyReLU). */
        RELU,
        /** tanh(x). */
        TANH,
        /** 1 / (1 + e^-x). */
        SIGMOID,
        /** x for x > 0, alpha * (e^x - 1) otherwise. */
        ELU,
        /** x * Phi(x) with the exact erf. */
        GELU_ERF,
        /** GELU with the tanh approximation. */
        GELU_TANH,
        /** x * sigmoid(alpha * x); alpha = 1 is SiLU. */
        SWISH
    }

    /** From here on oneDNN's exact GELU may overflow (at 2^127); GELU(x) = x there in float. */
    private static final float GELU_ERF_REPAIR_FROM = 0x1p126f;

    private final Kind kind;
    private final float alpha;
    private final PrimitiveCache<Long, Kernel> kernels = new PrimitiveCache<>();
    private final InFlightCalls calls = new InFlightCalls();

    private record Kernel(MemoryDescriptor desc, Primitive primitive, String implementation) implements AutoCloseable {
        @Override
        public void close() {
            primitive.close();
            desc.close();
        }
    }

    /**
     * An element-wise operation of {@code kind} with parameter {@code alpha} (see {@link Kind}).
     * @param kind  the operation
     * @param alpha its parameter, finite
     * @throws IllegalArgumentException if {@code kind} is null or {@code alpha} is not finite
     */
    public Eltwise(Kind kind, float alpha) {
        if (kind == null) throw new IllegalArgumentException("Eltwise: kind must not be null");
        if (!Float.isFinite(alpha)) throw new IllegalArgumentException("Eltwise: alpha must be finite, got " + alpha);
        this.kind = kind;
        this.alpha = alpha;
    }

    /**
     * An element-wise operation of {@code kind} with its default alpha (1 for ELU and SWISH, else 0).
     * @param kind the operation
     * @throws IllegalArgumentException if {@code kind} is null
     */
    public Eltwise(Kind kind) {
        this(kind, kind == Kind.ELU || kind == Kind.SWISH ? 1f : 0f);
    }

    /**
     * Computes {@code dst = f(src)} natively. Both segments hold {@code count} floats and must be
     * off-heap (oneDNN keeps pointers).
     *
     * @param src the input, f32
     * @param dst the output, f32, as long as {@code src} (may be {@code src} itself)
     */
    public void forward(MemorySegment src, MemorySegment dst) {
        calls.enter(this);
        try {
            long count = checkPair(src, dst);
            if (count == 0) return;
            if (!src.isNative() || !dst.isNative()) {
                throw new IllegalArgumentException("Eltwise.forward: oneDNN needs off-heap segments, got "
                        + (src.isNative() ? "" : "a heap src ") + (dst.isNative() ? "" : "a heap dst"));
            }
            boolean repair = kind == Kind.GELU_ERF && SpecialValues.anyAtLeast(src, count, GELU_ERF_REPAIR_FROM);
            if (!repair) {
                execute(count, src, dst);
                return;
            }
            try (Arena tmp = Arena.ofConfined()) {
                // The primitive may overwrite src (in place): keep the inputs the repair reads.
                MemorySegment in = src.asOverlappingSlice(dst).isPresent() ? tmp.allocate(src.byteSize(), 64).copyFrom(src) : src;
                execute(count, in, dst);
                for (long i = 0; i < count; i++) {
                    float x = in.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    if (x >= GELU_ERF_REPAIR_FROM || x != x) {
                        dst.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) apply(kind, alpha, x));
                    }
                }
            }
        } finally {
            calls.exit();
        }
    }

    private void execute(long count, MemorySegment src, MemorySegment dst) {
        try (PrimitiveCache.Lease<Kernel> lease = kernels.acquire(count, this::createKernel)) {
            Kernel c = lease.value();
            c.primitive().execute(Args.src(c.desc(), src), Args.dst(c.desc(), dst));
        }
    }

    /**
     * {@return the oneDNN implementation used for {@code count} elements, e.g. {@code jit:avx512_core}}
     *
     * @param count the number of elements
     */
    public String implementation(long count) {
        if (count <= 0) throw new IllegalArgumentException("Eltwise.implementation: expected count > 0, got " + count);
        calls.enter(this);
        try {
            try (PrimitiveCache.Lease<Kernel> lease = kernels.acquire(count, this::createKernel)) {
                return lease.value().implementation();
            }
        } finally {
            calls.exit();
        }
    }

    private Kernel createKernel(long count) {
        MemoryDescriptor desc = MemoryDescriptor.f32(Ops.plain1d(), count);
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = Ops.eltwise(Ops.eltwise(kind.name(), alpha), desc, attr,
                     "eltwise " + kind + " f32[" + count + "]")) {
            return new Kernel(desc, Primitive.create(pd), pd.implementation());
        } catch (RuntimeException e) {
            desc.close();
            throw e;
        }
    }

    /**
     * The plain-Java reference: one loop over {@code count} floats, computed in double, with
     * PyTorch's special values: ReLU keeps NaN and sends -inf to 0 (not {@code 0 * -inf}).
     *
     * @param kind the operation
     * @param alpha its parameter (see {@link Kind})
     * @param src the input, f32
     * @param dst the output, f32, as long as {@code src} (may be {@code src} itself)
     */
    public static void reference(Kind kind, float alpha, MemorySegment src, MemorySegment dst) {
        long count = checkPair(src, dst);
        for (long i = 0; i < count; i++) {
            dst.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) apply(kind, alpha, src.getAtIndex(ValueLayout.JAVA_FLOAT, i)));
        }
    }

    private static double apply(Kind kind, float alpha, double x) {
        return switch (kind) {
            case RELU -> x > 0 || x != x ? x : alpha == 0 ? 0 : alpha * x;
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case ELU -> x > 0 ? x : alpha * (Math.exp(x) - 1);
            case GELU_ERF -> 0.5 * x * (1 + Erf.erf(x / Math.sqrt(2)));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case SWISH -> x / (1 + Math.exp(-alpha * x));
        };
    }

    private static long checkPair(MemorySegment src, MemorySegment dst) {
        if (src == null || dst == null) throw new IllegalArgumentException("Eltwise: src and dst must not be null");
        if (!src.scope().isAlive() || !dst.scope().isAlive()) {
            throw new IllegalStateException("Eltwise: the arena of " + (src.scope().isAlive() ? "dst" : "src") + " is closed");
        }
        if (src.byteSize() % Float.BYTES != 0) {
            throw new IllegalArgumentException("Eltwise: src must hold whole floats, got " + src.byteSize() + " bytes");
        }
        if (dst.byteSize() != src.byteSize()) {
            throw new IllegalArgumentException("Eltwise: dst must have src's size " + src.byteSize() + " bytes, got " + dst.byteSize());
        }
        if (dst.isReadOnly()) throw new IllegalArgumentException("Eltwise: dst must be writable, got a read-only segment");
        return src.byteSize() / Float.BYTES;
    }

    /** Frees the cached primitives once calls in flight on other threads have returned (later calls fail); idempotent. */
    @Override
    public void close() {
        if (calls.close()) kernels.close();
    }

    @Override
    public String toString() {
        return "Eltwise(" + kind + (alpha != 0 ? ", alpha=" + alpha : "") + ")";
    }
}
