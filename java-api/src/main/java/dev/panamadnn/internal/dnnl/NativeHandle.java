package dev.panamadnn.internal.dnnl;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One oneDNN object owned by exactly one Java object: {@link #close()} calls its destroy
 * function once (later calls do nothing); using it after close is an
 * {@link IllegalStateException}, never a use-after-free in C.
 *
 * <p>No lambdas here or at the creating call sites (an {@link Out} instead of a creator function, {@link #destroy} a
 * method of each kind): every lambda call site costs a cold JVM a class spun at its first use (JFR put 10-15% of a cold
 * ONNX ResNet-18 start's main-thread samples in lambda linkage, session 54), and every primitive a plan builds passes here.
 */
abstract class NativeHandle implements AutoCloseable {
    private final MemorySegment handle;
    private final String kind;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** @param kind the C name of the handle kind, e.g. {@code primitive_desc} */
    NativeHandle(MemorySegment handle, String kind) {
        if (handle.equals(MemorySegment.NULL)) throw new IllegalStateException(kind + ": oneDNN returned a null handle");
        this.handle = handle;
        this.kind = kind;
    }

    /** Calls this kind's {@code dnnl_<kind>_destroy} on {@code handle}; returns its status. */
    abstract int destroy(MemorySegment handle);

    /**
     * The out-pointer of one {@code dnnl_*_create} call, in a temporary arena: the one way a oneDNN object is created here.
     * {@code try (Out pointer = new Out()) { ... pointer.handle(dnnl_x_create(pointer.segment(), ...), "dnnl_x_create", context) }}
     */
    static final class Out implements AutoCloseable {
        private final Arena arena = Arena.ofConfined();
        private final MemorySegment out = arena.allocate(ValueLayout.ADDRESS);

        /** The pointer to pass as the call's first argument. */
        MemorySegment segment() {
            return out;
        }

        /** The handle the call wrote, once its {@code status} is checked. */
        MemorySegment handle(int status, String function, String context) {
            return created(status, out, function, context);
        }

        @Override
        public void close() {
            arena.close();
        }
    }

    /** The handle a {@code dnnl_*_create} call wrote into {@code out} (an address slot of the caller's arena), once its {@code status} is checked. */
    static MemorySegment created(int status, MemorySegment out, String function, String context) {
        Dnnl.check(status, function, context);
        return out.get(ValueLayout.ADDRESS, 0);
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
                Dnnl.check(destroy(handle), "dnnl_" + kind + "_destroy", "");
            } finally {
                closeOwned();
            }
        }
    }
}
