package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.*;

/**
 * The element-wise binary primitive with broadcasting: {@code dst = src0 op src1}, {@code src0}
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
        return PrimitiveDescriptor.create("dnnl_binary_primitive_desc_create", description, attributes,
                (out, engine, attr) -> dnnl_binary_primitive_desc_create(out, engine, algorithm, src0.handle(), src1.handle(),
                        dst.handle(), attr));
    }
}
