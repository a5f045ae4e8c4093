package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.*;

import java.lang.foreign.MemorySegment;

/**
 * Primitive descriptors for the graph's math ops: binary with broadcasting, reduction, softmax /
 * log-softmax, PReLU and group normalization (instance normalization as one group per channel),
 * plus the oneDNN eltwise algorithms of the ONNX unary ops. Descriptors are created by the caller
 * and borrowed here.
 */
public final class MathOps {
    private MathOps() {}

    /** A {@code dnnl_alg_kind_t} of the binary primitive. */
    public enum Binary {
        ADD, SUB, MUL, DIV, MAX, MIN, EQ;

        int algorithm() {
            return switch (this) {
                case ADD -> dnnl_binary_add();
                case SUB -> dnnl_binary_sub();
                case MUL -> dnnl_binary_mul();
                case DIV -> dnnl_binary_div();
                case MAX -> dnnl_binary_max();
                case MIN -> dnnl_binary_min();
                case EQ -> dnnl_binary_eq();   // 1 where equal, else 0, in an F32 dst
            };
        }
    }

    /** A {@code dnnl_alg_kind_t} of the reduction primitive. */
    public enum Reduction {
        SUM, MEAN, MAX, MIN, PROD;

        int algorithm() {
            return switch (this) {
                case SUM -> dnnl_reduction_sum();
                case MEAN -> dnnl_reduction_mean();
                case MAX -> dnnl_reduction_max();
                case MIN -> dnnl_reduction_min();
                case PROD -> dnnl_reduction_mul();
            };
        }
    }

    /**
     * {@code dst = src0 op src1}; {@code src1} may have size 1 where {@code src0} has more
     * (broadcast); {@code dst} has {@code src0}'s dims.
     */
    public static PrimitiveDescriptor binary(Binary op, MemoryDescriptor src0, MemoryDescriptor src1, MemoryDescriptor dst,
                                             PrimitiveAttributes attributes, String description) {
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_binary_primitive_desc_create(out, engine, op.algorithm(), src0.handle(), src1.handle(),
                    dst.handle(), attr),
                    "dnnl_binary_primitive_desc_create", description);
        }
    }

    /** Reduces {@code src} over the dims where {@code dst} has size 1 (and {@code src} more). */
    public static PrimitiveDescriptor reduction(Reduction op, MemoryDescriptor src, MemoryDescriptor dst, PrimitiveAttributes attributes,
                                                String description) {
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_reduction_primitive_desc_create(out, engine, op.algorithm(), src.handle(), dst.handle(),
                    0f, 0f, attr),
                    "dnnl_reduction_primitive_desc_create", description);
        }
    }

    /** Forward-inference softmax ({@code log}: log-softmax) along {@code axis}, max-subtracting. */
    public static PrimitiveDescriptor softmax(MemoryDescriptor data, int axis, boolean log, PrimitiveAttributes attributes,
                                              String description) {
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_softmax_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                    log ? dnnl_softmax_log() : dnnl_softmax_accurate(), data.handle(), data.handle(), axis, attr),
                    "dnnl_softmax_forward_primitive_desc_create", description);
        }
    }

    /** Forward-inference PReLU: {@code x > 0 ? x : slope * x}, the slope broadcast over size-1 dims. */
    public static PrimitiveDescriptor prelu(MemoryDescriptor data, MemoryDescriptor slope, PrimitiveAttributes attributes,
                                            String description) {
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_prelu_forward_primitive_desc_create(out, engine, dnnl_forward_inference(), data.handle(),
                    slope.handle(), data.handle(), attr),
                    "dnnl_prelu_forward_primitive_desc_create", description);
        }
    }

    /** Forward-inference group normalization with per-channel scale and shift, statistics computed per (sample, group). */
    public static PrimitiveDescriptor groupNormalization(MemoryDescriptor data, long groups, float epsilon, PrimitiveAttributes attributes,
                                                         String description) {
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_group_normalization_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                    data.handle(), data.handle(), groups, epsilon, dnnl_use_scale() | dnnl_use_shift(), attr),
                    "dnnl_group_normalization_forward_primitive_desc_create", description);
        }
    }

    /**
     * The oneDNN eltwise formulation of an ONNX unary op, or null when oneDNN has none (Erf, Floor,
     * Ceil) or none accurate enough (Log and Softplus: oneDNN's log is off by up to 3.4e-6 absolute). Selu is {@code elu(alpha)} here and needs {@code linear(gamma)} after it.
     */
    public static Ops.EltwiseOp unary(String op, double alpha, double beta) {
        float a = (float) alpha, b = (float) beta;
        return switch (op) {
            case "Exp" -> new Ops.EltwiseOp(dnnl_eltwise_exp(), 0f, 0f);
            case "Log" -> new Ops.EltwiseOp(dnnl_eltwise_log(), 0f, 0f);
            case "Sqrt" -> new Ops.EltwiseOp(dnnl_eltwise_sqrt(), 0f, 0f);
            case "Abs" -> new Ops.EltwiseOp(dnnl_eltwise_abs(), 0f, 0f);
            case "Neg" -> new Ops.EltwiseOp(dnnl_eltwise_linear(), -1f, 0f);
            case "Reciprocal" -> new Ops.EltwiseOp(dnnl_eltwise_pow(), 1f, -1f);
            case "HardSigmoid" -> new Ops.EltwiseOp(dnnl_eltwise_hardsigmoid(), a, b);
            case "HardSwish" -> new Ops.EltwiseOp(dnnl_eltwise_hardswish(), 1f / 6f, 0.5f);
            case "Selu" -> new Ops.EltwiseOp(dnnl_eltwise_elu(), a, 0f);
            case "Clip" -> new Ops.EltwiseOp(dnnl_eltwise_clip_v2(), a, b);
            case "Round" -> new Ops.EltwiseOp(dnnl_eltwise_round(), 0f, 0f);
            case "Pow" -> new Ops.EltwiseOp(dnnl_eltwise_pow(), 1f, a);
            case "Linear" -> new Ops.EltwiseOp(dnnl_eltwise_linear(), a, b);
            default -> null;
        };
    }
}
