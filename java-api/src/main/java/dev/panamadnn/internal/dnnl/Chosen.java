package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_query_dst_md;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_query_src_md;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_query_weights_md;

/** The memory layouts a primitive descriptor chose where it was given {@code any} (owned copies). */
public final class Chosen {
    private Chosen() {}

    public static MemoryDescriptor src(PrimitiveDescriptor pd) {
        return pd.queryMemory(dnnl_query_src_md(), 0);
    }

    public static MemoryDescriptor weights(PrimitiveDescriptor pd) {
        return pd.queryMemory(dnnl_query_weights_md(), 0);
    }

    public static MemoryDescriptor dst(PrimitiveDescriptor pd) {
        return pd.queryMemory(dnnl_query_dst_md(), 0);
    }
}
