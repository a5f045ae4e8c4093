package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.*;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Primitive descriptors for pooling, kept apart from {@link Ops} and {@link ConvOps} so each
 * operation family stays a small file. Geometry arrays are oneDNN's: spatial only, dilation
 * 0-based, padding per side. Forward inference only, so max pooling needs no workspace.
 */
public final class PoolOps {
    private PoolOps() {}

    /** The pooling algorithms, named after oneDNN's. */
    public enum Algorithm {
        MAX, AVG_INCLUDE_PADDING, AVG_EXCLUDE_PADDING;

        int dnnl() {
            return switch (this) {
                case MAX -> dnnl_pooling_max();
                case AVG_INCLUDE_PADDING -> dnnl_pooling_avg_include_padding();
                case AVG_EXCLUDE_PADDING -> dnnl_pooling_avg_exclude_padding();
            };
        }
    }

    /** Forward-inference pooling from {@code src} to {@code dst}. */
    public static PrimitiveDescriptor pooling(Algorithm algorithm, MemoryDescriptor src, MemoryDescriptor dst, long[] strides,
                                              long[] kernel, long[] dilates, long[] padLeft, long[] padRight,
                                              PrimitiveAttributes attributes, String description) {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment s = Dnnl.dims(tmp, strides), k = Dnnl.dims(tmp, kernel), d = Dnnl.dims(tmp, dilates);
            MemorySegment l = Dnnl.dims(tmp, padLeft), r = Dnnl.dims(tmp, padRight);
            try (NativeHandle.Out pointer = new NativeHandle.Out()) {
                MemorySegment out = pointer.segment(), engine = Engine.cpu().handle(), attr = attributes.handle();
                return PrimitiveDescriptor.created(pointer, dnnl_pooling_forward_primitive_desc_create(out, engine, dnnl_forward_inference(),
                        algorithm.dnnl(), src.handle(), dst.handle(), s, k, d, l, r, attr),
                        "dnnl_pooling_forward_primitive_desc_create", description);
            }
        }
    }
}
