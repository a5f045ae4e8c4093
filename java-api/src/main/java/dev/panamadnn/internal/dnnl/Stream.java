package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_stream_create;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_stream_default_flags;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_stream_wait;

import dev.panamadnn.bindings.dnnl.dnnl_h;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentLinkedDeque;

/**
 * A oneDNN execution stream on the CPU engine. A stream is not safe to use from two threads
 * at once, so callers {@link #borrow()} one for an execution and {@link #giveBack()} it after.
 * The pool grows to the peak number of concurrent executions and no further; a per-thread
 * stream would leak one native object per virtual thread.
 */
public final class Stream extends NativeHandle {
    private static final ConcurrentLinkedDeque<Stream> POOL = new ConcurrentLinkedDeque<>();

    private Stream(MemorySegment handle) {
        super(handle, "stream");
    }

    @Override
    int destroy(MemorySegment handle) {
        return dnnl_h.dnnl_stream_destroy(handle);
    }

    /** A stream no other thread is using; return it with {@link #giveBack()}. */
    public static Stream borrow() {
        Stream s = POOL.pollFirst();
        return s != null ? s : create(Engine.cpu());
    }

    public void giveBack() {
        POOL.offerFirst(this);
    }

    public static Stream create(Engine engine) {
        try (Out pointer = new Out()) {
            return new Stream(pointer.handle(dnnl_stream_create(pointer.segment(), engine.handle(), dnnl_stream_default_flags()), "dnnl_stream_create", ""));
        }
    }

    public void await() {
        Dnnl.check(dnnl_stream_wait(handle()), "dnnl_stream_wait", "");
    }
}
