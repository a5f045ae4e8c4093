package dev.panamadnn.internal.dnnl;

import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One oneDNN object owned by exactly one Java object: {@link #close()} calls its destroy
 * function once (later calls do nothing); using it after close is an
 * {@link IllegalStateException}, never a use-after-free in C.
 */
abstract class NativeHandle implements AutoCloseable {
    private final MemorySegment handle;
    private final AtomicBoolean closed = new AtomicBoolean();

    NativeHandle(MemorySegment handle) {
        if (handle.equals(MemorySegment.NULL)) throw new IllegalStateException(kind() + ": oneDNN returned a null handle");
        this.handle = handle;
    }

    /** The raw handle; only this package passes it to C. */
    final MemorySegment handle() {
        if (closed.get()) throw new IllegalStateException(kind() + " is closed");
        return handle;
    }

    /** Calls the C destroy function; returns its status. */
    abstract int destroy(MemorySegment handle);

    abstract String kind();

    @Override
    public final void close() {
        if (closed.compareAndSet(false, true)) {
            Dnnl.check(destroy(handle), "dnnl_" + kind() + "_destroy", "");
        }
    }
}
