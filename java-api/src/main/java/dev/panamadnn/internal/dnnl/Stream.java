package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_stream_create;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_stream_default_flags;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_stream_destroy;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_stream_wait;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
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
        super(handle);
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
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment out = Dnnl.outPointer(tmp);
            Dnnl.check(dnnl_stream_create(out, engine.raw(), dnnl_stream_default_flags()), "dnnl_stream_create", "");
            return new Stream(out.get(ValueLayout.ADDRESS, 0));
        }
    }

    public void await() {
        Dnnl.check(dnnl_stream_wait(handle()), "dnnl_stream_wait", "");
    }

    MemorySegment raw() {
        return handle();
    }

    @Override
    int destroy(MemorySegment handle) {
        return dnnl_stream_destroy(handle);
    }

    @Override
    String kind() {
        return "stream";
    }
}
