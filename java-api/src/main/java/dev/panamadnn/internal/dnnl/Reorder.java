package dev.panamadnn.internal.dnnl;

import dev.panamadnn.natives.ThreadControl;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** Reorder primitives: the same values in another memory layout. */
public final class Reorder {
    private Reorder() {}

    /** A reorder primitive from {@code from} to {@code to} (user scratchpad, so shareable between threads). */
    public static Primitive primitive(MemoryDescriptor from, MemoryDescriptor to, String description) {
        return primitive(from, to, -1, description);
    }

    /** {@link #primitive(MemoryDescriptor, MemoryDescriptor, String)} with source scales over the dims of {@code scalesMask} (-1: none). */
    private static Primitive primitive(MemoryDescriptor from, MemoryDescriptor to, int scalesMask, String description) {
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = ConvOps.reorder(from, to, scalesMask < 0 ? attr : attr.withSourceScales(scalesMask), description)) {
            return Primitive.create(pd);
        }
    }

    /**
     * Reorders {@code src} (layout {@code from}) into {@code dst} (layout {@code to}) once, e.g.
     * weights at compile time, on the calling thread alone; the calling thread's OpenMP team size
     * is the same afterwards.
     *
     * <p>Why one thread: a weight reorder moves 0.04-38 MB (ResNet-50), a few milliseconds of work, and an
     * OpenMP team waits at its barrier for a partner thread that another process may be keeping off
     * its core. oneDNN's own timing of the weight reorders of a cold compile, 3 fresh JVMs each on the
     * shared 2-vCPU VM (load average 6-8): ResNet-18 16-55 ms on one thread vs 79-287 ms on two,
     * ResNet-50 40-56 vs 111-601 ms (docs/benchmarks.md, "Cold start").
     */
    public static void once(MemoryDescriptor from, MemorySegment src, MemoryDescriptor to, MemorySegment dst, String description) {
        once(from, src, to, dst, null, description);
    }

    /**
     * {@link #once(MemoryDescriptor, MemorySegment, MemoryDescriptor, MemorySegment, String)} with {@code dst = src *
     * scales[o]} in F32 for the elements of slice {@code o} of the leading dims whose sizes multiply to
     * {@code scales.length} (e.g. a convolution's output channels, {@code [G, O/G, ...]} for a grouped one): a batch norm
     * folded into weights as they are reordered. {@code scales} null: a plain copy.
     */
    public static void once(MemoryDescriptor from, MemorySegment src, MemoryDescriptor to, MemorySegment dst, float[] scales, String description) {
        int team = ThreadControl.openmpMaxThreads();
        ThreadControl.applyToCurrentThread(1);   // oneDNN fixes a primitive's split when it is created, so before that
        try (Primitive p = primitive(from, to, scales == null ? -1 : leadingMask(from.dims(), scales.length, description), description)) {
            if (scales == null) {
                p.executeWithThreads(1, Args.from(from, src), Args.to(to, dst));
            } else {
                try (Arena tmp = Arena.ofConfined(); MemoryDescriptor scalesMd = MemoryDescriptor.f32(Ops.plain1d(), scales.length)) {
                    p.executeWithThreads(1, Args.from(from, src), Args.to(to, dst), new Arg(Args.SRC_SCALES, scalesMd, tmp.allocateFrom(ValueLayout.JAVA_FLOAT, scales)));
                }
            }
        } finally {
            ThreadControl.applyToCurrentThread(team);
        }
    }

    /** The mask of the leading dims of {@code dims} whose sizes multiply to {@code slices}. */
    static int leadingMask(long[] dims, int slices, String description) {
        long product = 1;
        for (int d = 0; d < dims.length; d++) {
            product *= dims[d];
            if (product == slices) return (1 << (d + 1)) - 1;
            if (product > slices) break;
        }
        throw new IllegalArgumentException(description + ": " + slices + " scales do not match the leading dims of " + java.util.Arrays.toString(dims));
    }
}
