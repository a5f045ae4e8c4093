package dev.panamadnn.internal.dnnl;

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

    /** Reorders {@code src} (layout {@code from}) into {@code dst} (layout {@code to}) once, e.g. weights at compile time. */
    public static void once(MemoryDescriptor from, MemorySegment src, MemoryDescriptor to, MemorySegment dst, String description) {
        try (Primitive p = primitive(from, to, description)) {
            p.execute(Args.from(from, src), Args.to(to, dst));
        }
    }
}
