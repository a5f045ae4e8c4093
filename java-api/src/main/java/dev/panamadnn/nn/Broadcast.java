package dev.panamadnn.nn;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.dnnl.Args;
import dev.panamadnn.internal.dnnl.BinaryOps;
import dev.panamadnn.internal.dnnl.MemoryDescriptor;
import dev.panamadnn.internal.dnnl.Ops;
import dev.panamadnn.internal.dnnl.Primitive;
import dev.panamadnn.internal.dnnl.PrimitiveAttributes;
import dev.panamadnn.internal.dnnl.PrimitiveCache;
import dev.panamadnn.internal.dnnl.PrimitiveDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.List;

/**
 * Element-wise {@code a + b}, {@code a - b}, {@code a * b}, {@code a / b} with NumPy/PyTorch
 * broadcasting: the shapes are aligned at their last dimension, missing leading dimensions count
 * as 1, and each pair of sizes must be equal or contain a 1; the output has the larger size of
 * each pair ({@code [2, 1, 4] op [3, 1] -> [2, 3, 4]}). f32 arithmetic in IEEE order, so NaN,
 * infinities and division by zero come out as in PyTorch.
 *
 * <p>Native: oneDNN's binary primitive on the output's shape with dimensions of the same
 * broadcast kind merged (at most 5 after merging, else the plain loop runs), {@code b} broadcast by
 * oneDNN; an {@code a} that itself needs broadcasting is swapped with {@code b} for add and mul,
 * else expanded into a temporary first. Primitives are cached per geometry in one process-wide cache
 * (16 most recent; leases keep an evicted one alive until its calls return). Reference: one plain
 * loop. Both give bit-identical results. Thread-safe; every call returns a new tensor the caller owns.
 */
public final class Broadcast {
    private Broadcast() {}

    /** The operation. */
    public enum Op {
        /** a + b. */
        ADD("add"),
        /** a - b. */
        SUB("sub"),
        /** a * b. */
        MUL("mul"),
        /** a / b. */
        DIV("div");

        private final String name;

        Op(String name) {
            this.name = name;
        }

        float apply(float x, float y) {
            return switch (this) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> x / y;
            };
        }

        @Override
        public String toString() {
            return name;
        }
    }

    private record Key(Op op, List<Long> dims, List<Long> src1) {}

    private record Kernel(MemoryDescriptor data, MemoryDescriptor src1, Primitive primitive) implements AutoCloseable {
        @Override
        public void close() {
            primitive.close();
            data.close();
            src1.close();
        }
    }

    private static final PrimitiveCache<Key, Kernel> KERNELS = new PrimitiveCache<>();

    /**
     * {@return a + b with NumPy broadcasting, a new tensor the caller owns}
     * @param a the first operand
     * @param b the second operand
     * @throws IllegalArgumentException if the shapes do not broadcast
     */
    public static Tensor add(Tensor a, Tensor b) {
        return apply(Op.ADD, a, b, Backend.AUTO);
    }

    /**
     * {@return a - b with NumPy broadcasting, a new tensor the caller owns}
     * @param a the first operand
     * @param b the second operand
     * @throws IllegalArgumentException if the shapes do not broadcast
     */
    public static Tensor sub(Tensor a, Tensor b) {
        return apply(Op.SUB, a, b, Backend.AUTO);
    }

    /**
     * {@return a * b with NumPy broadcasting, a new tensor the caller owns}
     * @param a the first operand
     * @param b the second operand
     * @throws IllegalArgumentException if the shapes do not broadcast
     */
    public static Tensor mul(Tensor a, Tensor b) {
        return apply(Op.MUL, a, b, Backend.AUTO);
    }

    /**
     * {@return a / b with NumPy broadcasting, a new tensor the caller owns}
     * @param a the first operand
     * @param b the second operand
     * @throws IllegalArgumentException if the shapes do not broadcast
     */
    public static Tensor div(Tensor a, Tensor b) {
        return apply(Op.DIV, a, b, Backend.AUTO);
    }

    /**
     * {@code a op b} broadcast, on {@code backend}; a new tensor of {@link #shape(long[], long[]) the
     * broadcast shape} that the caller owns.
     *
     * @param op the operation
     * @param a the first operand's shape or tensor
     * @param b the second operand's shape or tensor
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if an argument is null, an input is not f32, or the shapes do not broadcast
     * @throws IllegalStateException    if an input's memory was freed
     * @return a new tensor owned by the caller (close it)
     */
    public static Tensor apply(Op op, Tensor a, Tensor b, Backend backend) {
        long[] out = checked(op, a, b, backend);
        Tensor y = Tensor.zeros(out);
        try {
            run(op, a, b, out, y, backend);
            return y;
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
    }

    /**
     * {@code a op b} broadcast, on {@code backend}, into {@code out}, a tensor the caller provides
     * and keeps: live, F32, contiguous, writable, exactly {@link #shape(long[], long[]) the broadcast
     * shape}, and overlapping neither input. Everything is checked before any native call.
     *
     * @param op the operation
     * @param a the first operand
     * @param b the second operand
     * @param out where the result goes (not closed by the call)
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if an argument is null, an input is not f32, the shapes do not
     *                                  broadcast, or {@code out} does not fit
     * @throws IllegalStateException    if an input's or {@code out}'s memory was freed
     */
    public static void applyInto(Op op, Tensor a, Tensor b, Tensor out, Backend backend) {
        long[] shape = checked(op, a, b, backend);
        String who = "Broadcast." + op;
        LayerOutputs.check(who, out, shape, a, b);
        LayerOutputs.into(who, out, y -> run(op, a, b, shape, y, backend));
    }

    /** The broadcast shape after checking every argument (before any allocation or native call). */
    private static long[] checked(Op op, Tensor a, Tensor b, Backend backend) {
        if (op == null) throw new IllegalArgumentException("Broadcast: op must not be null");
        String who = "Broadcast." + op;
        if (backend == null) throw new IllegalArgumentException(who + ": backend must not be null");
        check(who, "first", a);
        check(who, "second", b);
        long[] out = shape(who, a.shape(), b.shape());
        Sizes.f32Bytes(who + ": output", out);
        if (backend == Backend.REFERENCE) {
            Sizes.arrayLength(who, "the output " + Arrays.toString(out), Sizes.numel(who, out));
        }
        return out;
    }

    private static void run(Op op, Tensor a, Tensor b, long[] out, Tensor y, Backend backend) {
        if (backend == Backend.REFERENCE) reference(op, a.toFloatArray(), a.shape(), b.toFloatArray(), b.shape(), out, y.segment());
        else nativeApply(op, a, b, out, y);
    }

    /**
     * The broadcast shape of {@code a} and {@code b}.
     *
     * @param a the first operand's shape or tensor
     * @param b the second operand's shape or tensor
     * @throws IllegalArgumentException if a shape is null, has a size {@code < 1}, or the shapes do not broadcast
     * @return the broadcast shape
     */
    public static long[] shape(long[] a, long[] b) {
        return shape("Broadcast", a, b);
    }

    private static long[] shape(String who, long[] a, long[] b) {
        if (a == null || b == null) throw new IllegalArgumentException(who + ": input shapes must not be null");
        for (long[] s : new long[][] {a, b}) {
            for (long d : s) if (d < 1) throw new IllegalArgumentException(who + ": expected sizes >= 1, got shape " + Arrays.toString(s));
        }
        int r = Math.max(a.length, b.length);
        long[] out = new long[r];
        for (int i = 0; i < r; i++) {
            long x = dimAligned(a, r, i), z = dimAligned(b, r, i);
            if (x != z && x != 1 && z != 1) {
                throw new IllegalArgumentException(who + ": shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                        + " do not broadcast: expected equal sizes or a 1 at dimension " + (i - r) + ", got " + x + " and " + z);
            }
            out[i] = Math.max(x, z);
        }
        return out;
    }

    private static long dimAligned(long[] s, int rank, int i) {
        int j = i - (rank - s.length);
        return j < 0 ? 1 : s[j];
    }

    private static void check(String who, String which, Tensor t) {
        if (t == null) throw new IllegalArgumentException(who + ": " + which + " input must not be null");
        if (!t.isAlive()) throw new IllegalStateException(who + ": expected a live " + which + " input, got " + t + " whose memory was freed");
        if (t.dtype() != DataType.F32) {
            throw new IllegalArgumentException(who + ": expected an F32 " + which + " input, got " + t.dtype() + " (shape "
                    + Arrays.toString(t.shape()) + ")");
        }
    }

    /** The plain loop: each output index reads a and b at that index, size-1 dimensions pinned to 0. */
    static void reference(Op op, float[] a, long[] as, float[] b, long[] bs, long[] out, MemorySegment y) {
        int r = out.length;
        long[] sa = strides(as, r), sb = strides(bs, r);
        long n = Sizes.productOrMax(out);
        long[] idx = new long[r];
        for (long i = 0; i < n; i++) {
            long ia = 0, ib = 0;
            for (int d = 0; d < r; d++) {
                ia += idx[d] * sa[d];
                ib += idx[d] * sb[d];
            }
            y.setAtIndex(ValueLayout.JAVA_FLOAT, i, op.apply(a[(int) ia], b[(int) ib]));
            for (int d = r - 1; d >= 0 && ++idx[d] == out[d]; d--) idx[d] = 0;
        }
    }

    /** Row-major strides of {@code s} aligned to {@code rank} dimensions, 0 where the size is 1 (broadcast). */
    private static long[] strides(long[] s, int rank) {
        long[] st = new long[rank];
        long step = 1;
        for (int i = rank - 1; i >= 0; i--) {
            long d = dimAligned(s, rank, i);
            st[i] = d == 1 ? 0 : step;
            step *= d;
        }
        return st;
    }

    private static void nativeApply(Op op, Tensor a, Tensor b, long[] out, Tensor y) {
        Tensor first = a, second = b;
        if (!Arrays.equals(aligned(a.shape(), out.length), out) && (op == Op.ADD || op == Op.MUL)
                && Arrays.equals(aligned(b.shape(), out.length), out)) {
            first = b;   // oneDNN broadcasts only src1; add and mul commute exactly
            second = a;
        }
        long[][] merged = merge(aligned(second.shape(), out.length), out);
        if (merged[0].length > 5) {
            reference(op, a.toFloatArray(), a.shape(), b.toFloatArray(), b.shape(), out, y.segment());
            return;
        }
        Tensor x0 = Arrays.equals(aligned(first.shape(), out.length), out) ? Layer.nativeReady(first) : expand(first, out);
        Tensor x1 = Layer.nativeReady(second);
        try {
            Key key = new Key(op, boxed(merged[0]), boxed(merged[1]));
            try (PrimitiveCache.Lease<Kernel> lease = KERNELS.acquire(key, Broadcast::createKernel)) {
                Kernel k = lease.value();
                k.primitive().execute(Args.src(k.data(), x0.segment()), Args.src1(k.src1(), x1.segment()), Args.dst(k.data(), y.segment()));
            }
        } finally {
            if (x0 != first) x0.close();
            if (x1 != second) x1.close();
        }
    }

    private static long[] aligned(long[] s, int rank) {
        long[] r = new long[rank];
        for (int i = 0; i < rank; i++) r[i] = dimAligned(s, rank, i);
        return r;
    }

    /** {@code t} materialized at the shape {@code out} (a contiguous off-heap copy the caller closes). */
    private static Tensor expand(Tensor t, long[] out) {
        Tensor e = Tensor.zeros(out);
        try {
            float[] x = t.toFloatArray();
            long[] st = strides(t.shape(), out.length);
            long[] idx = new long[out.length];
            MemorySegment y = e.segment();
            for (long i = 0, n = e.numel(); i < n; i++) {
                long j = 0;
                for (int d = 0; d < out.length; d++) j += idx[d] * st[d];
                y.setAtIndex(ValueLayout.JAVA_FLOAT, i, x[(int) j]);
                for (int d = out.length - 1; d >= 0 && ++idx[d] == out[d]; d--) idx[d] = 0;
            }
            return e;
        } catch (RuntimeException | Error ex) {
            e.close();
            throw ex;
        }
    }

    /**
     * {out dims, src1 dims} with size-1 output dimensions dropped and neighbours of the same kind
     * (src1 full, or src1 broadcast) multiplied together: the same element order, fewer dimensions.
     */
    private static long[][] merge(long[] src1, long[] out) {
        long[] dims = new long[out.length], s1 = new long[out.length];
        int r = 0;
        Boolean lastFull = null;
        for (int i = 0; i < out.length; i++) {
            if (out[i] == 1) continue;
            boolean full = src1[i] == out[i];
            if (lastFull != null && lastFull == full) {
                dims[r - 1] *= out[i];
                s1[r - 1] = full ? dims[r - 1] : 1;
            } else {
                dims[r] = out[i];
                s1[r] = full ? out[i] : 1;
                r++;
            }
            lastFull = full;
        }
        if (r == 0) return new long[][] {{1}, {1}};
        return new long[][] {Arrays.copyOf(dims, r), Arrays.copyOf(s1, r)};
    }

    private static List<Long> boxed(long[] v) {
        return Arrays.stream(v).boxed().toList();
    }

    private static Kernel createKernel(Key key) {
        long[] dims = key.dims().stream().mapToLong(Long::longValue).toArray();
        long[] s1 = key.src1().stream().mapToLong(Long::longValue).toArray();
        MemoryDescriptor data = null, src1 = null;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad()) {
            data = MemoryDescriptor.f32(Ops.plain(dims.length), dims);
            src1 = MemoryDescriptor.f32(Ops.plain(s1.length), s1);
            String description = "binary " + key.op() + " f32" + Arrays.toString(dims) + " with " + Arrays.toString(s1);
            try (PrimitiveDescriptor pd = BinaryOps.binary(BinaryOps.algorithm(key.op().toString()), data, src1, data, attr, description)) {
                return new Kernel(data, src1, Primitive.create(pd));
            }
        } catch (RuntimeException e) {
            if (data != null) data.close();
            if (src1 != null) src1.close();
            throw e;
        }
    }
}
