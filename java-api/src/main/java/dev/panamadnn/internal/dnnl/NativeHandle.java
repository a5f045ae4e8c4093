package dev.panamadnn.internal.dnnl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.ToIntFunction;

/**
 * One oneDNN object owned by exactly one Java object: {@link #close()} calls its destroy
 * function once (later calls do nothing); using it after close is an
 * {@link IllegalStateException}, never a use-after-free in C.
 */
abstract class NativeHandle implements AutoCloseable {
    private final MemorySegment handle;
    private final String kind;
    private final ToIntFunction<MemorySegment> destroy;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * @param kind    the C name of the handle kind, e.g. {@code primitive_desc}
     * @param destroy its {@code dnnl_<kind>_destroy} function
     */
    NativeHandle(MemorySegment handle, String kind, ToIntFunction<MemorySegment> destroy) {
        if (handle.equals(MemorySegment.NULL)) throw new IllegalStateException(kind + ": oneDNN returned a null handle");
        this.handle = handle;
        this.kind = kind;
        this.destroy = destroy;
    }

    /**
     * The one way a oneDNN object is created here: calls {@code create} with an out-pointer in
     * a temporary arena, checks the status, and returns the handle it wrote.
     */
    static MemorySegment create(String function, String context, ToIntFunction<MemorySegment> create) {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment out = tmp.allocate(ValueLayout.ADDRESS);
            Dnnl.check(create.applyAsInt(out), function, context);
            return out.get(ValueLayout.ADDRESS, 0);
        }
    }

    /** The raw handle; only this package passes it to C. */
    final MemorySegment handle() {
        if (closed.get()) throw new IllegalStateException(kind + " is closed");
        return handle;
    }

    /** Whether {@link #close()} has not been called yet. */
    final boolean isOpen() {
        return !closed.get();
    }

    /** Other objects this one owns, released after it (none by default). */
    void closeOwned() {}

    @Override
    public final void close() {
        if (closed.compareAndSet(false, true)) {
            try {
                Dnnl.check(destroy.applyAsInt(handle), "dnnl_" + kind + "_destroy", "");
            } finally {
                closeOwned();
            }
        }
    }
}
