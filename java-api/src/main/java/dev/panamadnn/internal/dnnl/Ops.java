package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.*;

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

    /** The {@code dnnl_format_tag_t} of a plain dense 1-D array. */
    public static int plain1d() {
        return dnnl_a();
    }

    public static int argSrc() {
        return DNNL_ARG_SRC();
    }

    public static int argDst() {
        return DNNL_ARG_DST();
    }
}
