package dev.panamadnn.internal.dnnl;

import java.lang.foreign.MemorySegment;
import static dev.panamadnn.bindings.dnnl.dnnl_h.*;

/**
 * The element-wise binary primitive with broadcasting, and concatenation (both take several sources): {@code dst = src0 op src1}, {@code src0}
 * and {@code dst} of one shape, {@code src1} of the same rank with each size equal or 1 (oneDNN
 * broadcasts {@code src1} only). Kept apart from {@link NormOps#add}, the same-shape residual add.
 */
public final class BinaryOps {
    private BinaryOps() {}

    /** oneDNN's algorithm for "add", "sub", "mul" or "div". */
    public static int algorithm(String op) {
        return switch (op) {
            case "add" -> dnnl_binary_add();
            case "sub" -> dnnl_binary_sub();
            case "mul" -> dnnl_binary_mul();
            case "div" -> dnnl_binary_div();
            default -> throw new IllegalArgumentException("no oneDNN binary algorithm for " + op);
        };
    }

    /** {@code dst = src0 op src1}, {@code src1} broadcast over its size-1 dimensions. */
    public static PrimitiveDescriptor binary(int algorithm, MemoryDescriptor src0, MemoryDescriptor src1, MemoryDescriptor dst,
                                             PrimitiveAttributes attributes, String description) {
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_binary_primitive_desc_create(out, engine, algorithm, src0.handle(), src1.handle(),
                    dst.handle(), attr),
                    "dnnl_binary_primitive_desc_create", description);
        }
    }

    /**
     * Concatenation of {@code sources} along {@code axis} into {@code dst} (each source has dst's
     * sizes except on that axis, where they add up to dst's). At most {@link #MAX_CONCAT_SOURCES}
     * sources, what one execution call binds.
     */
    public static PrimitiveDescriptor concat(MemoryDescriptor dst, int axis, MemoryDescriptor[] sources, PrimitiveAttributes attributes,
                                             String description) {
        if (sources.length > MAX_CONCAT_SOURCES) {
            throw new IllegalArgumentException(description + ": at most " + MAX_CONCAT_SOURCES + " sources, got " + sources.length);
        }
        return concatOfAny(dst, axis, sources, attributes, description);
    }

    /**
     * {@link #concat} with any number of sources, for a compiled plan: its steps bind the plan's own
     * buffers, not the caller's, so the eager call's limit of held arguments does not apply.
     */
    public static PrimitiveDescriptor concatOfAny(MemoryDescriptor dst, int axis, MemoryDescriptor[] sources, PrimitiveAttributes attributes,
                                                  String description) {
        try (java.lang.foreign.Arena tmp = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.MemorySegment handles = tmp.allocate(java.lang.foreign.ValueLayout.ADDRESS, sources.length);
            for (int i = 0; i < sources.length; i++) handles.setAtIndex(java.lang.foreign.ValueLayout.ADDRESS, i, sources[i].handle());
            try (NativeHandle.Out pointer = new NativeHandle.Out()) {
                MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
                return PrimitiveDescriptor.created(pointer, dnnl_concat_primitive_desc_create(out, engine, dst.handle(), sources.length, axis, handles, attr),
                        "dnnl_concat_primitive_desc_create", description);
            }
        }
    }

    /** The sources one concat call takes: {@link HeldExecute#SLOTS} arguments, one of them the destination. */
    public static final int MAX_CONCAT_SOURCES = HeldExecute.SLOTS - 1;

    /** The execution argument of concat source {@code i}. */
    public static Arg concatSource(int i, MemoryDescriptor md, java.lang.foreign.MemorySegment buf) {
        return new Arg(Args.multipleSrc(i), md, buf);
    }
}
