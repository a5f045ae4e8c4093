package dev.panamadnn.internal.dnnl;

import java.lang.foreign.MemorySegment;
import static dev.panamadnn.bindings.dnnl.dnnl_h.*;

/**
 * Primitive descriptors for normalization (batch and layer normalization, inference) and the
 * element-wise binary add, kept apart from {@link Ops} so each operation family stays a small
 * file. Their execution arguments (mean, variance, scale, shift, src1) are in {@link Args}.
 */
public final class NormOps {
    private NormOps() {}

    /**
     * Forward-inference batch normalization with the given running statistics
     * ({@code use_global_stats}): {@code dst = (src - mean[c]) / sqrt(variance[c] + eps) * scale[c] + shift[c]},
     * channel axis 1; scale/shift only when {@code affine}.
     */
    public static PrimitiveDescriptor batchNormalization(MemoryDescriptor data, float epsilon, boolean affine,
                                                         PrimitiveAttributes attributes, String description) {
        return batchNormalization(data, epsilon, affine, false, attributes, description);
    }

    /** As above; with {@code fuseRelu} the result also goes through ReLU ({@code dnnl_fuse_norm_relu}, no workspace in inference). */
    public static PrimitiveDescriptor batchNormalization(MemoryDescriptor data, float epsilon, boolean affine, boolean fuseRelu,
                                                         PrimitiveAttributes attributes, String description) {
        int flags = dnnl_use_global_stats() | (affine ? dnnl_use_scale() | dnnl_use_shift() : 0) | (fuseRelu ? dnnl_fuse_norm_relu() : 0);
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_batch_normalization_forward_primitive_desc_create(out, engine,
                    dnnl_forward_inference(), data.handle(), data.handle(), epsilon, flags, attr),
                    "dnnl_batch_normalization_forward_primitive_desc_create", description);
        }
    }

    /**
     * Forward-inference layer normalization over the last dimension of {@code data}, statistics
     * computed per call: {@code dst = (src - mean) / sqrt(variance + eps) * scale + shift} (biased
     * variance); scale/shift (one value per element of the last dimension) only when {@code affine}.
     */
    public static PrimitiveDescriptor layerNormalization(MemoryDescriptor data, MemoryDescriptor statistics, float epsilon,
                                                         boolean affine, PrimitiveAttributes attributes, String description) {
        int flags = affine ? dnnl_use_scale() | dnnl_use_shift() : 0;
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_layer_normalization_forward_primitive_desc_create(out, engine,
                    dnnl_forward_inference(), data.handle(), data.handle(), statistics.handle(), epsilon, flags, attr),
                    "dnnl_layer_normalization_forward_primitive_desc_create", description);
        }
    }

    /** Element-wise {@code dst = src0 + src1}, all three of the same descriptor. */
    public static PrimitiveDescriptor add(MemoryDescriptor data, PrimitiveAttributes attributes, String description) {
        try (NativeHandle.Out pointer = new NativeHandle.Out()) {
            MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
            return PrimitiveDescriptor.created(pointer, dnnl_binary_primitive_desc_create(out, engine, dnnl_binary_add(),
                    data.handle(), data.handle(), data.handle(), attr),
                    "dnnl_binary_primitive_desc_create", description);
        }
    }

}
