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
        return weights(pd, 0);
    }

    /** The weights layout chosen for weights argument {@code index} (an RNN's: 0 layer, 1 iter, 2 peephole, 3 projection). */
    public static MemoryDescriptor weights(PrimitiveDescriptor pd, int index) {
        return pd.queryMemory(dnnl_query_weights_md(), index);
    }

    public static MemoryDescriptor dst(PrimitiveDescriptor pd) {
        return pd.queryMemory(dnnl_query_dst_md(), 0);
    }
}
