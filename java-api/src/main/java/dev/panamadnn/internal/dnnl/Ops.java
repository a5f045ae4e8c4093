package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.*;

import java.lang.foreign.MemorySegment;

/**
 * Primitive descriptors for each operation: the only place that passes raw memory
 * descriptors to a {@code dnnl_*_primitive_desc_create} function.
 */
public final class Ops {
    private Ops() {}

    /** oneDNN's eltwise algorithm for an activation name (the public {@code Eltwise.Kind}). */
    public static int eltwiseAlgorithm(String kind) {
        return switch (kind) {
            case "RELU" -> dnnl_eltwise_relu();
            case "TANH" -> dnnl_eltwise_tanh();
            case "SIGMOID" -> dnnl_eltwise_logistic();
            case "ELU" -> dnnl_eltwise_elu();
            case "GELU_ERF" -> dnnl_eltwise_gelu_erf();
            case "GELU_TANH" -> dnnl_eltwise_gelu_tanh();
            case "SWISH" -> dnnl_eltwise_swish();
            default -> throw new IllegalArgumentException("no oneDNN eltwise algorithm for " + kind);
        };
    }

    /** Forward-inference eltwise over {@code data} (source and destination share the layout). */
    public static PrimitiveDescriptor eltwise(int algorithm, float alpha, float beta, MemoryDescriptor data,
                                              PrimitiveAttributes attributes, String description) {
        return PrimitiveDescriptor.create("dnnl_eltwise_forward_primitive_desc_create", description, attributes,
                (out, engine, attr) -> dnnl_eltwise_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                        algorithm, data.handle(), data.handle(), alpha, beta, attr));
    }

    /**
     * Forward-inference inner product (fully connected): {@code dst[n][o] = sum_i src[n][i] *
     * weights[o][i] + bias[o]}, then the post-ops in {@code attributes}. {@code bias} may be null.
     */
    public static PrimitiveDescriptor innerProduct(MemoryDescriptor src, MemoryDescriptor weights, MemoryDescriptor bias,
                                                   MemoryDescriptor dst, PrimitiveAttributes attributes, String description) {
        MemorySegment biasHandle = bias == null ? MemorySegment.NULL : bias.handle();
        return PrimitiveDescriptor.create("dnnl_inner_product_forward_primitive_desc_create", description, attributes,
                (out, engine, attr) -> dnnl_inner_product_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                        src.handle(), weights.handle(), biasHandle, dst.handle(), attr));
    }

    /**
     * Matrix multiplication {@code dst = src x weights} (batched when the descriptors have 3
     * dimensions: {@code [B, M, K] x [B, K, N] -> [B, M, N]}), then the post-ops in
     * {@code attributes}; no bias. {@code weights} may be {@code any}.
     */
    public static PrimitiveDescriptor matmul(MemoryDescriptor src, MemoryDescriptor weights, MemoryDescriptor dst,
                                             PrimitiveAttributes attributes, String description) {
        return PrimitiveDescriptor.create("dnnl_matmul_primitive_desc_create", description, attributes,
                (out, engine, attr) -> dnnl_matmul_primitive_desc_create(out, engine, src.handle(), weights.handle(),
                        MemorySegment.NULL, dst.handle(), attr));
    }

    /** Forward-inference softmax along {@code axis} with the accurate (max-subtracting) algorithm. */
    public static PrimitiveDescriptor softmax(MemoryDescriptor data, int axis, PrimitiveAttributes attributes, String description) {
        return PrimitiveDescriptor.create("dnnl_softmax_forward_primitive_desc_create", description, attributes,
                (out, engine, attr) -> dnnl_softmax_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                        dnnl_softmax_accurate(), data.handle(), data.handle(), axis, attr));
    }

    /** The {@code dnnl_format_tag_t} of a plain dense 1-D array. */
    public static int plain1d() {
        return dnnl_a();
    }

    /** The plain row-major {@code dnnl_format_tag_t} for 1 to 5 dimensions ({@code a}, {@code ab}, ... {@code abcde}). */
    public static int plain(int rank) {
        return switch (rank) {
            case 1 -> dnnl_a();
            case 2 -> dnnl_ab();
            case 3 -> dnnl_abc();
            case 4 -> dnnl_abcd();
            case 5 -> dnnl_abcde();
            default -> throw new IllegalArgumentException("no plain oneDNN format tag for rank " + rank);
        };
    }

    public static int argSrc() {
        return DNNL_ARG_SRC();
    }

    public static int argDst() {
        return DNNL_ARG_DST();
    }

    public static int argWeights() {
        return DNNL_ARG_WEIGHTS();
    }

    public static int argBias() {
        return DNNL_ARG_BIAS();
    }
}
