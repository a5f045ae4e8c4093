package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.*;

import java.lang.foreign.MemorySegment;

/**
 * Primitive descriptors for eltwise, inner product, matmul and softmax, and the plain format
 * tags. One file per operation family ({@link ConvOps}, {@link PoolOps}, {@link NormOps} hold the
 * others): these four are where raw memory descriptors reach a {@code
 * dnnl_*_primitive_desc_create} function. Argument ids live in {@link Args}; the geometry an
 * operation is created with (padding, dilation, weight dims) in {@code internal.lowering}.
 */
public final class Ops {
    private Ops() {}

    /** An element-wise operation in oneDNN's terms: {@code dnnl_alg_kind_t} and its alpha/beta. */
    public record EltwiseOp(int algorithm, float alpha, float beta) {}

    /**
     * The oneDNN formulation of an activation (the public {@code Eltwise.Kind} name, with the
     * kind's alpha), for the eltwise primitive and for post-ops alike. One choice matters for
     * special values: oneDNN's {@code eltwise_relu} with alpha 0 is a {@code max(x, 0)} that turns
     * NaN into 0 (PyTorch keeps NaN), so a plain ReLU runs as {@code eltwise_elu} with alpha 0,
     * {@code x > 0 ? x : 0 * (e^x - 1)}: the same values (-0.0 instead of 0.0 for negative x), NaN
     * kept, -inf to 0 (docs/numerics.md; measured cost there). LeakyReLU's {@code relu} with alpha != 0
     * already keeps NaN.
     */
    public static EltwiseOp eltwise(String kind, float alpha) {
        return switch (kind) {
            case "RELU" -> alpha == 0f ? new EltwiseOp(dnnl_eltwise_elu(), 0f, 0f) : new EltwiseOp(dnnl_eltwise_relu(), alpha, 0f);
            case "TANH" -> new EltwiseOp(dnnl_eltwise_tanh(), 0f, 0f);
            case "SIGMOID" -> new EltwiseOp(dnnl_eltwise_logistic(), 0f, 0f);
            case "ELU" -> new EltwiseOp(dnnl_eltwise_elu(), alpha, 0f);
            case "GELU_ERF" -> new EltwiseOp(dnnl_eltwise_gelu_erf(), 0f, 0f);
            case "GELU_TANH" -> new EltwiseOp(dnnl_eltwise_gelu_tanh(), 0f, 0f);
            case "SWISH" -> new EltwiseOp(dnnl_eltwise_swish(), alpha, 0f);
            case "HARDSWISH" -> new EltwiseOp(dnnl_eltwise_hardswish(), 1f / 6f, 0.5f);   // x * clamp(x / 6 + 1/2, 0, 1), ONNX's
            default -> throw new IllegalArgumentException("no oneDNN eltwise algorithm for " + kind);
        };
    }

    /**
     * oneDNN's own ReLU, {@code max(x, 0)}: turns NaN into 0, unlike PyTorch; only for plans compiled
     * with {@code CompileOptions.fastRelu} (cheaper than the NaN-keeping {@code elu} formulation).
     */
    public static EltwiseOp fastRelu() {
        return new EltwiseOp(dnnl_eltwise_relu(), 0f, 0f);
    }

    /**
     * {@code clamp(x, 0, hi)} (ReLU6 for {@code hi = 6}) as four eltwise operations that keep NaN, to
     * fuse as post-ops where oneDNN's own clip turns NaN into its lower bound (x64: {@code max} then
     * {@code min}) and PyTorch keeps it: {@code y = max(x, 0)} (elu with alpha 0, NaN-keeping as for
     * ReLU), {@code y = hi - y}, {@code y = max(y, 0)}, {@code y = hi - y}. NaN, +-inf and values outside
     * [0, hi] come out exactly as {@code torch.clamp}'s; a value inside is off by at most one ulp of
     * {@code hi} (the two subtractions round; 4.8e-7 for hi = 6), less than the convolution's own
     * accumulation rounding it is fused into.
     */
    public static java.util.List<EltwiseOp> clampKeepingNaN(float hi) {
        if (!(hi > 0f) || Float.isInfinite(hi)) throw new IllegalArgumentException("clampKeepingNaN: hi must be positive and finite, got " + hi);
        EltwiseOp max0 = new EltwiseOp(dnnl_eltwise_elu(), 0f, 0f), flip = new EltwiseOp(dnnl_eltwise_linear(), -1f, hi);
        return java.util.List.of(max0, flip, max0, flip);
    }

    /** Forward-inference eltwise over {@code data} (source and destination share the layout). */
    public static PrimitiveDescriptor eltwise(EltwiseOp op, MemoryDescriptor data, PrimitiveAttributes attributes,
                                              String description) {
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_eltwise_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                    op.algorithm(), data.handle(), data.handle(), op.alpha(), op.beta(), attr),
                    "dnnl_eltwise_forward_primitive_desc_create", description);
        }
    }

    /**
     * Forward-inference inner product (fully connected): {@code dst[n][o] = sum_i src[n][i] *
     * weights[o][i] + bias[o]}, then the post-ops in {@code attributes}. {@code bias} may be null.
     */
    public static PrimitiveDescriptor innerProduct(MemoryDescriptor src, MemoryDescriptor weights, MemoryDescriptor bias,
                                                   MemoryDescriptor dst, PrimitiveAttributes attributes, String description) {
        MemorySegment biasHandle = bias == null ? MemorySegment.NULL : bias.handle();
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_inner_product_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                    src.handle(), weights.handle(), biasHandle, dst.handle(), attr),
                    "dnnl_inner_product_forward_primitive_desc_create", description);
        }
    }

    /**
     * Matrix multiplication {@code dst = src x weights} (batched when the descriptors have 3
     * dimensions: {@code [B, M, K] x [B, K, N] -> [B, M, N]}), then the post-ops in
     * {@code attributes}; no bias. {@code weights} may be {@code any}.
     */
    public static PrimitiveDescriptor matmul(MemoryDescriptor src, MemoryDescriptor weights, MemoryDescriptor dst,
                                             PrimitiveAttributes attributes, String description) {
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_matmul_primitive_desc_create(out, engine, src.handle(), weights.handle(),
                    MemorySegment.NULL, dst.handle(), attr),
                    "dnnl_matmul_primitive_desc_create", description);
        }
    }

    /** Forward-inference softmax along {@code axis} with the accurate (max-subtracting) algorithm. */
    public static PrimitiveDescriptor softmax(MemoryDescriptor data, int axis, PrimitiveAttributes attributes, String description) {
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_softmax_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                    dnnl_softmax_accurate(), data.handle(), data.handle(), axis, attr),
                    "dnnl_softmax_forward_primitive_desc_create", description);
        }
    }

    /** The {@code dnnl_format_tag_t} of a plain dense 1-D array. */
    public static int plain1d() {
        return dnnl_a();
    }

    /**
     * The plain row-major {@code dnnl_format_tag_t} for 1 to 8 dimensions ({@code a}, {@code ab}, ... {@code abcdefgh});
     * rank 0 (a scalar) is {@code a}: {@link MemoryDescriptor#f32} describes it as one element.
     */
    public static int plain(int rank) {
        return switch (rank) {
            case 0, 1 -> dnnl_a();
            case 2 -> dnnl_ab();
            case 3 -> dnnl_abc();
            case 4 -> dnnl_abcd();
            case 5 -> dnnl_abcde();
            case 6 -> dnnl_abcdef();
            case 7 -> dnnl_abcdefg();
            case 8 -> dnnl_abcdefgh();
            default -> throw new IllegalArgumentException("no plain oneDNN format tag for rank " + rank);
        };
    }

}
