package dev.panamadnn.internal.dnnl;

import dev.panamadnn.natives.ThreadControl;
import java.lang.foreign.MemorySegment;

/** Reorder primitives: the same values in another memory layout. */
public final class Reorder {
    private Reorder() {}

    /** A reorder primitive from {@code from} to {@code to} (user scratchpad, so shareable between threads). */
    public static Primitive primitive(MemoryDescriptor from, MemoryDescriptor to, String description) {
        try (PrimitiveAttributes attr = PrimitiveAttributes.userScratchpad();
             PrimitiveDescriptor pd = ConvOps.reorder(from, to, attr, description)) {
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
        int team = ThreadControl.openmpMaxThreads();
        ThreadControl.applyToCurrentThread(1);   // oneDNN fixes a primitive's split when it is created, so before that
        try (Primitive p = primitive(from, to, description)) {
            p.executeWithThreads(1, Args.from(from, src), Args.to(to, dst));
        } finally {
            ThreadControl.applyToCurrentThread(team);
        }
    }
}
