package dev.panamadnn.nn;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.NormOps;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveCache;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import dev.panamadnn.internal.lifetime.InFlightCalls;
import java.util.Arrays;

/**
 * Element-wise sum of two tensors of the same shape, {@code y = a + b} (PyTorch's {@code a + b}
 * without broadcasting; the residual add). Two inputs, so not a {@link Layer}: call
 * {@link #forward(Tensor, Tensor)}. The output has the inputs' shape and is owned by the caller.
 *
 * <p>Native path: oneDNN binary add over the elements as one 1-D array, one primitive per element
 * count, cached. Reference: a plain loop (f32 addition, which is exact to rounding like oneDNN's,
 * so both paths agree bit for bit). Thread-safe; {@link #close()} waits for calls in flight.
 */
public final class Add implements AutoCloseable {
    private final PrimitiveCache<Long, Kernel> kernels = new PrimitiveCache<>();
    private final InFlightCalls calls = new InFlightCalls();

    private record Kernel(MemoryDescriptor data, Primitive primitive) implements AutoCloseable {
        @Override
        public void close() {
            primitive.close();
            data.close();
        }
    }

    /** An element-wise sum of two inputs of the same shape. */
    public Add() {}

    /**
     * {@link #forward(Tensor, Tensor, Backend)} on {@link Backend#AUTO}.
     *
     * @param a the first addend
     * @param b the second addend, the same shape
     * @return a new tensor owned by the caller (close it)
     */
    public Tensor forward(Tensor a, Tensor b) {
        return forward(a, b, Backend.AUTO);
    }

    /**
     * {@return the plain-Java reference}
     *
     * @param a the first addend
     * @param b the second addend, the same shape
     */
    public Tensor forwardReference(Tensor a, Tensor b) {
        return forward(a, b, Backend.REFERENCE);
    }

    /**
     * {@code a + b} on {@code backend}; a new tensor the caller owns.
     *
     * @param a the first addend
     * @param b the second addend, the same shape
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if an input is null or not f32, or the shapes differ
     * @throws IllegalStateException    if an input's memory was freed or this Add is closed
     * @return a new tensor owned by the caller (close it)
     */
    public Tensor forward(Tensor a, Tensor b, Backend backend) {
        if (backend == null) throw new IllegalArgumentException(this + ": backend must not be null");
        calls.enter(this);
        try {
            return add(a, b, backend);
        } finally {
            calls.exit();
        }
    }

    /**
     * {@link #forwardInto(Tensor, Tensor, Tensor, Backend)} on {@link Backend#AUTO}.
     *
     * @param a the first addend
     * @param b the second addend, the same shape
     * @param out where the sum goes (not closed by the call)
     */
    public void forwardInto(Tensor a, Tensor b, Tensor out) {
        forwardInto(a, b, out, Backend.AUTO);
    }

    /**
     * {@code a + b} on {@code backend} into {@code out}, a tensor the caller provides and keeps (no
     * output allocated): live, F32, contiguous, writable, of the inputs' shape and overlapping
     * neither input. Everything is checked before any native call.
     *
     * @param a the first addend
     * @param b the second addend, the same shape
     * @param out where the sum goes (not closed by the call)
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if an input is null or not f32, the shapes differ, or {@code out} does not fit
     * @throws IllegalStateException    if an input's or {@code out}'s memory was freed or this Add is closed
     */
    public void forwardInto(Tensor a, Tensor b, Tensor out, Backend backend) {
        if (backend == null) throw new IllegalArgumentException(this + ": backend must not be null");
        calls.enter(this);
        try {
            long[] shape = checked(a, b);
            LayerOutputs.check(toString(), out, shape, a, b);
            LayerOutputs.into(toString(), out, y -> run(a, b, backend, y));
        } finally {
            calls.exit();
        }
    }

    private Tensor add(Tensor a, Tensor b, Backend backend) {
        Tensor y = Tensor.zeros(checked(a, b));
        try {
            run(a, b, backend, y);
            return y;
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
    }

    private long[] checked(Tensor a, Tensor b) {
        check("first", a);
        check("second", b);
        return outputShape(a.shape(), b.shape());
    }

    private void run(Tensor a, Tensor b, Backend backend, Tensor y) {
        if (backend == Backend.REFERENCE) {
            float[] x = a.toFloatArray(), z = b.toFloatArray();
            MemorySegment out = y.segment();
            for (int i = 0; i < x.length; i++) out.setAtIndex(ValueLayout.JAVA_FLOAT, i, x[i] + z[i]);
            return;
        }
        Tensor na = Layer.nativeReady(a), nb = Layer.nativeReady(b);
        try {
            try (PrimitiveCache.Lease<Kernel> lease = kernels.acquire(y.numel(), this::createKernel)) {
                Kernel c = lease.value();
                c.primitive().execute(Args.src(c.data(), na.segment()), Args.src1(c.data(), nb.segment()),
                        Args.dst(c.data(), y.segment()));
            }
        } finally {
            if (na != a) na.close();
            if (nb != b) nb.close();
        }
    }

    /**
     * The output shape: the inputs' common shape.
     *
     * @param a the first addend
     * @param b the second addend, the same shape
     * @throws IllegalArgumentException if a shape is null or the shapes differ
     * @return the output shape
     */
    public long[] outputShape(long[] a, long[] b) {
        if (a == null || b == null) throw new IllegalArgumentException(this + ": input shapes must not be null");
        if (!Arrays.equals(a, b)) {
            throw new IllegalArgumentException(this + ": expected two inputs of the same shape, got " + Arrays.toString(a)
                    + " and " + Arrays.toString(b));
        }
        for (long d : a) {   // an empty tensor: nothing for a oneDNN primitive to add
            if (d <= 0) throw new IllegalArgumentException(this + ": expected sizes > 0, got input shape " + Arrays.toString(a));
        }
        return a.clone();
    }

    private void check(String which, Tensor t) {
        if (t == null) throw new IllegalArgumentException(this + ": " + which + " input must not be null");
        if (!t.isAlive()) throw new IllegalStateException(this + ": expected a live " + which + " input, got " + t + " whose memory was freed");
        if (t.dtype() != DataType.F32) {
            throw new IllegalArgumentException(this + ": expected an F32 " + which + " input, got " + t.dtype() + " (shape "
                    + Arrays.toString(t.shape()) + ")");
        }
    }

    private Kernel createKernel(long n) {
        MemoryDescriptor data = MemoryDescriptor.f32(Ops.plain1d(), n);
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = NormOps.add(data, attr, "binary add f32[" + n + "]")) {
            return new Kernel(data, Primitive.create(pd));
        } catch (RuntimeException e) {
            data.close();
            throw e;
        }
    }

    /** Frees the cached primitives once the calls in flight have returned (later calls fail); idempotent. */
    @Override
    public void close() {
        if (calls.close()) kernels.close();
    }

    @Override
    public String toString() {
        return "Add()";
    }
}
