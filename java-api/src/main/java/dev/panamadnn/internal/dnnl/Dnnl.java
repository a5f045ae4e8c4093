package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_status2str;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_success;

import dev.panamadnn.DnnlException;
import dev.panamadnn.natives.Natives;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/** The one place where a {@code dnnl_status_t} becomes an exception, and small shared helpers. */
public final class Dnnl {
    private Dnnl() {}

    /** Loads the natives first, so a missing library is a {@code NativeLoadException}, not a class-init error. */
    static void ensureLoaded() {
        Natives.load();
        dev.panamadnn.internal.RuntimeLog.once();
    }

    /**
     * Throws {@link DnnlException} unless {@code status} is success.
     *
     * @param function the C function that returned it
     * @param context  what was being done, for the message (may be empty)
     */
    public static void check(int status, String function, String context) {
        if (status != dnnl_success()) {
            MemorySegment text = dnnl_status2str(status);
            String name = text.equals(MemorySegment.NULL) ? "unknown status" : text.getString(0);
            throw new DnnlException(function, status, name, context);
        }
    }

    /** A {@code dnnl_dims_t} (int64[DNNL_MAX_NDIMS]) holding {@code values}, in {@code arena}. */
    public static MemorySegment dims(Arena arena, long... values) {
        if (values.length > MemoryDescriptor.MAX_NDIMS) {
            throw new IllegalArgumentException("oneDNN supports at most " + MemoryDescriptor.MAX_NDIMS
                    + " dimensions, got " + values.length);
        }
        MemorySegment s = arena.allocate(ValueLayout.JAVA_LONG, MemoryDescriptor.MAX_NDIMS);
        MemorySegment.copy(values, 0, s, ValueLayout.JAVA_LONG, 0, values.length);
        return s;
    }
}
