package dev.panamadnn.nn;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.internal.Sizes;
import dev.panamadnn.internal.dnnl.Arg;
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
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * PyTorch's {@code torch.cat}, {@code torch.split} and {@code torch.chunk} on f32 tensors. A
 * negative {@code dim} counts from the end. {@link #cat} returns a new tensor the caller owns;
 * {@link #split} and {@link #chunk} return views of the input (as PyTorch does): no copy, nothing to
 * close, valid while the input is.
 *
 * <p>cat, native: oneDNN's concat primitive on the inputs viewed as {@code [outer, d_i, inner]}
 * (cached per geometry, process-wide, 16 most recent), for up to {@link BinaryOps#MAX_CONCAT_SOURCES}
 * inputs; more inputs are copied block by block. Reference: a plain element loop. Both exact.
 * Thread-safe.
 */
public final class Concat {
    private Concat() {}

    private record Kernel(MemoryDescriptor dst, MemoryDescriptor[] sources, Primitive primitive) implements AutoCloseable {
        @Override
        public void close() {
            primitive.close();
            dst.close();
            for (MemoryDescriptor d : sources) d.close();
        }
    }

    private static final PrimitiveCache<List<Long>, Kernel> KERNELS = new PrimitiveCache<>();

    /**
     * {@link #cat(int, Backend, Tensor...)} on {@link Backend#AUTO}.
     *
     * @param dim the dimension
     * @param tensors the tensors, equal in every other dimension
     * @return a new tensor owned by the caller (close it)
     */
    public static Tensor cat(int dim, Tensor... tensors) {
        return cat(dim, Backend.AUTO, tensors);
    }

    /**
     * The tensors joined along {@code dim}; all must have the same rank and the same sizes except on {@code dim} (empty tensors
     * are joined too: they add nothing, as in {@code torch.cat}).
     *
     * @param dim the dimension
     * @param tensors the tensors, equal in every other dimension
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @throws IllegalArgumentException if there are no tensors, one is null or not f32, {@code dim} is
     *                                  out of range, or the shapes differ elsewhere than on {@code dim}
     * @throws IllegalStateException    if an input's memory was freed
     * @return a new tensor owned by the caller (close it)
     */
    public static Tensor cat(int dim, Backend backend, Tensor... tensors) {
        Plan p = plan(dim, backend, tensors);
        Tensor y = Tensor.zeros(p.out());
        try {
            run(p, backend, tensors, y);
            return y;
        } catch (RuntimeException | Error e) {
            y.close();
            throw e;
        }
    }

    /**
     * {@link #catInto(int, Backend, Tensor, Tensor...)} on {@link Backend#AUTO}.
     *
     * @param dim the dimension
     * @param out where the result goes (not closed by the call)
     * @param tensors the tensors, equal in every other dimension
     */
    public static void catInto(int dim, Tensor out, Tensor... tensors) {
        catInto(dim, Backend.AUTO, out, tensors);
    }

    /**
     * The tensors joined along {@code dim} into {@code out}, a tensor the caller provides and keeps
     * (no output allocated): live, F32, contiguous, writable, of the joined shape and overlapping
     * no input. Everything is checked before any native call.
     *
     * @param dim the dimension
     * @param backend which implementation runs it ({@link Backend#AUTO}: the fastest native one)
     * @param out where the result goes (not closed by the call)
     * @param tensors the tensors, equal in every other dimension
     * @throws IllegalArgumentException as {@link #cat(int, Backend, Tensor...)}, or if {@code out} does not fit
     * @throws IllegalStateException    if an input's or {@code out}'s memory was freed
     */
    public static void catInto(int dim, Backend backend, Tensor out, Tensor... tensors) {
        Plan p = plan(dim, backend, tensors);
        LayerOutputs.check("cat", out, p.out(), tensors);
        LayerOutputs.into("cat", out, y -> run(p, backend, tensors, y));
    }

    /** The joined shape, the axis and the blocks around it. */
    private record Plan(long[] out, int d, long outer, long inner) {
    }

    private static Plan plan(int dim, Backend backend, Tensor... tensors) {
        if (backend == null) throw new IllegalArgumentException("cat: backend must not be null");
        if (tensors == null || tensors.length == 0) throw new IllegalArgumentException("cat: expected a non-empty list of tensors, got none");
        for (int i = 0; i < tensors.length; i++) {
            Tensor t = tensors[i];
            if (t == null) throw new IllegalArgumentException("cat: tensor " + i + " must not be null");
            if (!t.isAlive()) throw new IllegalStateException("cat: expected a live tensor " + i + ", got " + t + " whose memory was freed");
            if (t.dtype() != DataType.F32) throw new IllegalArgumentException("cat: expected F32 tensors, got " + t.dtype() + " for tensor " + i);
        }
        long[] first = tensors[0].shape();
        int d = axis("cat", dim, first.length);
        long[] out = first.clone();
        out[d] = 0;
        for (int i = 0; i < tensors.length; i++) {
            long[] s = tensors[i].shape();
            boolean same = s.length == first.length;
            for (int j = 0; same && j < s.length; j++) same = j == d || s[j] == first[j];
            if (!same) {
                throw new IllegalArgumentException("cat: sizes of tensors must match except in dimension " + dim + ": expected "
                        + Arrays.toString(first) + " (any size at " + d + "), got " + Arrays.toString(s) + " for tensor " + i);
            }
            out[d] += s[d];
        }
        long bytes = Sizes.tensorBytes("cat: output", out, Float.BYTES);   // empty when every input is
        if (backend == Backend.REFERENCE && bytes > 0) Sizes.arrayLength("cat", "the output " + Arrays.toString(out), Sizes.numel("cat", out));
        long outer = 1, inner = 1;
        for (int j = 0; j < d; j++) outer *= out[j];
        for (int j = d + 1; j < out.length; j++) inner *= out[j];
        return new Plan(out, d, outer, inner);
    }

    private static void run(Plan p, Backend backend, Tensor[] all, Tensor y) {
        // Empty inputs add nothing (as torch.cat's); no empty tensor reaches a oneDNN primitive, and an empty result needs no run.
        if (y.numel() == 0) return;
        Tensor[] tensors = Arrays.stream(all).filter(t -> t.numel() > 0).toArray(Tensor[]::new);
        if (backend == Backend.REFERENCE) reference(tensors, p.d(), p.outer(), p.inner(), p.out()[p.d()], y.segment());
        else if (tensors.length <= BinaryOps.MAX_CONCAT_SOURCES) concatNative(tensors, p.d(), p.outer(), p.inner(), p.out()[p.d()], y);
        else copyBlocks(tensors, p.d(), p.outer(), p.inner(), p.out()[p.d()], y);
    }

    private static void reference(Tensor[] tensors, int d, long outer, long inner, long total, MemorySegment y) {
        long offset = 0;
        for (Tensor t : tensors) {
            float[] x = t.toFloatArray();
            long n = t.shape()[d];
            for (long o = 0; o < outer; o++) {
                for (long i = 0; i < n * inner; i++) y.setAtIndex(ValueLayout.JAVA_FLOAT, (o * total + offset) * inner + i, x[(int) (o * n * inner + i)]);
            }
            offset += n;
        }
    }

    private static void copyBlocks(Tensor[] tensors, int d, long outer, long inner, long total, Tensor y) {
        long offset = 0;
        for (Tensor t : tensors) {
            Tensor x = Layer.nativeReady(t);
            try {
                long n = t.shape()[d], block = n * inner * Float.BYTES;
                for (long o = 0; o < outer; o++) MemorySegment.copy(x.segment(), o * block, y.segment(), (o * total + offset) * inner * Float.BYTES, block);
            } finally {
                if (x != t) x.close();
            }
            offset += t.shape()[d];
        }
    }

    private static void concatNative(Tensor[] tensors, int d, long outer, long inner, long total, Tensor y) {
        List<Long> key = new ArrayList<>(List.of(outer, inner));
        for (Tensor t : tensors) key.add(t.shape()[d]);
        Tensor[] ready = new Tensor[tensors.length];
        try {
            for (int i = 0; i < tensors.length; i++) ready[i] = Layer.nativeReady(tensors[i]);
            try (PrimitiveCache.Lease<Kernel> lease = KERNELS.acquire(List.copyOf(key), Concat::createKernel)) {
                Kernel k = lease.value();
                Arg[] args = new Arg[tensors.length + 1];
                for (int i = 0; i < tensors.length; i++) args[i] = BinaryOps.concatSource(i, k.sources()[i], ready[i].segment());
                args[tensors.length] = Args.dst(k.dst(), y.segment());
                k.primitive().execute(args);
            }
        } finally {
            for (int i = 0; i < tensors.length; i++) if (ready[i] != null && ready[i] != tensors[i]) ready[i].close();
        }
    }

    private static Kernel createKernel(List<Long> key) {
        long outer = key.get(0), inner = key.get(1);
        int n = key.size() - 2;
        long total = 0;
        MemoryDescriptor[] sources = new MemoryDescriptor[n];
        MemoryDescriptor dst = null;
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad()) {
            for (int i = 0; i < n; i++) {
                sources[i] = MemoryDescriptor.f32(Ops.plain(3), outer, key.get(i + 2), inner);
                total += key.get(i + 2);
            }
            dst = MemoryDescriptor.f32(Ops.plain(3), outer, total, inner);
            try (PrimitiveDescriptor pd = BinaryOps.concat(dst, 1, sources, attr, "concat of " + n + " inputs " + key)) {
                return new Kernel(dst, sources, Primitive.create(pd));
            }
        } catch (RuntimeException e) {
            if (dst != null) dst.close();
            for (MemoryDescriptor s : sources) if (s != null) s.close();
            throw e;
        }
    }

    /**
     * {@code torch.split(t, splitSize, dim)}: views of {@code splitSize} along {@code dim}, the last smaller if it does not divide;
     * a dimension of size 0 gives one empty piece (as PyTorch, which also takes a split size of 0 there).
     *
     * @param t the tensor to split
     * @param splitSize the size of each piece along {@code dim}
     * @param dim the dimension
     * @throws IllegalArgumentException if {@code t} is null, {@code splitSize < 1} (0 where the dimension is not empty) or
     *                                  {@code dim} is out of range
     * @return the pieces along {@code dim}, in order
     */
    public static List<Tensor> split(Tensor t, long splitSize, int dim) {
        int d = axis("split", dim, checked("split", t).rank());
        if (splitSize < 0 || splitSize == 0 && t.shape()[d] != 0) {
            throw new IllegalArgumentException("split: split_size must be >= 1 (0 only for a dimension of size 0), got " + splitSize
                    + " for dimension " + dim + " of size " + t.shape()[d]);
        }
        if (t.shape()[d] == 0) return List.of(t.slice(d, 0, 0));
        List<Tensor> out = new ArrayList<>();
        for (long s = 0; s < t.shape()[d]; s += splitSize) out.add(t.slice(d, s, Math.min(s + splitSize, t.shape()[d])));
        return out;
    }

    /**
     * {@code torch.split(t, [s0, s1, ...], dim)}: views of the given sizes, which must add up to the size of {@code dim}.
     *
     * @param t the tensor to split
     * @param sizes the size of each piece along {@code dim}, summing to its extent
     * @param dim the dimension
     * @throws IllegalArgumentException if {@code t} or the sizes are null, a size is negative (0 gives an empty piece, as PyTorch),
     *                                  they do not add up, or {@code dim} is out of range
     * @return the pieces along {@code dim}, in order
     */
    public static List<Tensor> split(Tensor t, long[] sizes, int dim) {
        int d = axis("split", dim, checked("split", t).rank());
        if (sizes == null || sizes.length == 0) throw new IllegalArgumentException("split: expected split sizes, got none");
        long sum = 0;
        for (long s : sizes) {
            if (s < 0) throw new IllegalArgumentException("split: split sizes must be >= 0, got " + Arrays.toString(sizes));
            sum += s;
        }
        if (sum != t.shape()[d]) {
            throw new IllegalArgumentException("split: split sizes " + Arrays.toString(sizes) + " must sum to the size of dimension " + dim
                    + " (" + t.shape()[d] + "), got " + sum);
        }
        List<Tensor> out = new ArrayList<>();
        long start = 0;
        for (long s : sizes) {
            out.add(t.slice(d, start, start + s));
            start += s;
        }
        return out;
    }

    /**
     * {@code torch.chunk(t, chunks, dim)}: views of {@code ceil(size / chunks)} each (fewer than
     * {@code chunks} pieces when the size does not allow that many, as PyTorch; {@code chunks} empty pieces of a dimension
     * of size 0, as PyTorch 1.13).
     *
     * @param t the tensor to split
     * @param chunks the number of pieces
     * @param dim the dimension
     * @throws IllegalArgumentException if {@code t} is null, {@code chunks < 1} or {@code dim} is out of range
     * @return the pieces along {@code dim}, in order
     */
    public static List<Tensor> chunk(Tensor t, int chunks, int dim) {
        int d = axis("chunk", dim, checked("chunk", t).rank());
        if (chunks < 1) throw new IllegalArgumentException("chunk: number of chunks must be >= 1, got " + chunks);
        if (t.shape()[d] == 0) {
            List<Tensor> out = new ArrayList<>();
            for (int i = 0; i < chunks; i++) out.add(t.slice(d, 0, 0));
            return out;
        }
        long size = (t.shape()[d] + chunks - 1) / chunks;
        return split(t, size, dim);
    }

    private static Tensor checked(String what, Tensor t) {
        if (t == null) throw new IllegalArgumentException(what + ": tensor must not be null");
        if (!t.isAlive()) throw new IllegalStateException(what + ": expected a live tensor, got " + t + " whose memory was freed");
        return t;
    }

    private static int axis(String what, int dim, int rank) {
        if (rank == 0 || dim < -rank || dim >= rank) {
            throw new IllegalArgumentException(what + ": dimension out of range (expected to be in range of [" + -rank + ", " + (rank - 1)
                    + "]), got " + dim);
        }
        return dim < 0 ? dim + rank : dim;
    }
}
