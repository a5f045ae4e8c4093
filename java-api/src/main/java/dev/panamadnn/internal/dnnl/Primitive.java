package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.DNNL_ARG_SCRATCHPAD;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_primitive_create;
import static dev.panamadnn.bindings.dnnl.dnnl_h.DNNL_ARG_DST_0;
import static dev.panamadnn.bindings.dnnl.dnnl_h.DNNL_ARG_DST_2;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_query_scratchpad_md;

import dev.panamadnn.bindings.dnnl.dnnl_exec_arg_t;
import dev.panamadnn.natives.ThreadControl;
import dev.panamadnn.bindings.dnnl.dnnl_h;
import dev.panamadnn.internal.lifetime.NativeAccess;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A created oneDNN primitive (the compiled kernel). Created with a user scratchpad
 * ({@link PrimitiveAttributes}), so it is safe to execute from many threads at once: each
 * {@link #execute} call borrows a scratchpad (from {@link Scratchpads}) and a <i>bound call</i>:
 * memory objects, exec-arg array and stream made once per argument signature and concurrent
 * caller, re-pointed at the call's buffers with {@code dnnl_memory_set_data_handle}, so a warm
 * eager call creates no native object.
 */
public final class Primitive extends NativeHandle {
    /** Bound calls kept per primitive at most (signatures x peak concurrent callers); beyond it calls build their own. */
    static final int MAX_BOUND = 64;

    private final MemoryDescriptor scratchpad;
    private final String description;
    private volatile Bound[] bound = new Bound[0];

    private Primitive(MemorySegment handle, MemoryDescriptor scratchpad, String description) {
        super(handle, "primitive", dnnl_h::dnnl_primitive_destroy);
        this.scratchpad = scratchpad;
        this.description = description;
    }

    public static Primitive create(PrimitiveDescriptor pd) {
        MemoryDescriptor scratchpad = pd.queryMemory(dnnl_query_scratchpad_md(), 0);
        try {
            return new Primitive(create("dnnl_primitive_create", pd.toString(), out -> dnnl_primitive_create(out, pd.handle())),
                    scratchpad, pd.toString());
        } catch (RuntimeException e) {
            scratchpad.close();
            throw e;
        }
    }

    /** The scratchpad layout (owned by this primitive), for {@link Execution}. */
    MemoryDescriptor scratchpadDescriptor() {
        return scratchpad;
    }

    /** Bytes of scratchpad each execution needs. */
    public long scratchpadBytes() {
        return scratchpad.byteSize();
    }

    /**
     * Runs the primitive on {@code buffers}, bound to their descriptors and argument ids
     * ({@code DNNL_ARG_*}), and waits for it: checks every buffer, then re-points a free bound call
     * of this signature at them (making one if there is none and room for it; else memory objects
     * for this call only), with a scratchpad borrowed from {@link Scratchpads}.
     */
    public void execute(int[] argIds, MemoryDescriptor[] descs, MemorySegment[] buffers) {
        if (argIds.length != descs.length || argIds.length != buffers.length) {
            throw new IllegalArgumentException("execute: " + argIds.length + " arg ids, " + descs.length
                    + " descriptors and " + buffers.length + " buffers must match");
        }
        if (buffers.length > HeldExecute.SLOTS) {
            throw new IllegalArgumentException("execute: at most " + HeldExecute.SLOTS + " buffers, got " + buffers.length);
        }
        for (int i = 0; i < buffers.length; i++) {
            DnnlMemory.check(descs[i], buffers[i]);
            if (isWriteTarget(argIds[i]) && buffers[i].isReadOnly()) {
                throw new IllegalArgumentException(description + ": the destination (argument " + argIds[i]
                        + ") must be writable, got a read-only segment");
            }
        }
        for (MemorySegment buffer : buffers) {
            if (buffer.isMapped()) {
                executeOnCopies(argIds, descs, buffers);
                return;
            }
        }
        ThreadControl.applyToCurrentThread();
        try {
            Bound b = borrow(argIds, descs);
            if (b != null) {
                MemorySegment pad = Scratchpads.borrow(scratchpad.byteSize());
                try {
                    for (int i = 0; i < buffers.length; i++) b.execution.bind(i, buffers[i]);
                    b.execution.bind(buffers.length, pad);
                    b.execution.execute(b.stream, buffers);   // holds every buffer until oneDNN returns
                    b.stream.await();
                } finally {
                    Scratchpads.giveBack(pad);
                    b.busy.set(false);
                }
                return;
            }
            executeUnbound(argIds, descs, buffers);
        } catch (IllegalStateException e) {
            for (int i = 0; i < buffers.length; i++) {
                if (!buffers[i].scope().isAlive()) {
                    throw new IllegalStateException(description + ": the memory of argument " + argIds[i] + " (" + descs[i]
                            + ") was freed before the call could start; nothing ran", e);
                }
            }
            throw e;
        }
    }

    /**
     * {@link #execute} with every memory-mapped buffer replaced by a copy that Java makes (and
     * copies back for destinations): oneDNN never touches a mapping, because a file truncated
     * meanwhile would raise SIGBUS in native code and end the JVM, while Java's copy turns it into
     * an {@link IllegalStateException}. Costs a copy, only for mapped buffers.
     */
    private void executeOnCopies(int[] argIds, MemoryDescriptor[] descs, MemorySegment[] buffers) {
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment[] copies = buffers.clone();
            for (int i = 0; i < buffers.length; i++) {
                if (buffers[i].isMapped()) copies[i] = NativeAccess.copyOfMapped(buffers[i], tmp, description + " argument " + argIds[i]);
            }
            execute(argIds, descs, copies);
            for (int i = 0; i < buffers.length; i++) {
                if (copies[i] != buffers[i] && isWriteTarget(argIds[i])) {
                    NativeAccess.copyToMapped(copies[i], buffers[i], description + " argument " + argIds[i]);
                }
            }
        }
    }

    /** Whether oneDNN writes the argument: the destinations ({@code DNNL_ARG_DST_0..2}, alias TO, DST_LAYER/ITER/ITER_C). */
    static boolean isWriteTarget(int argId) {
        return argId >= DNNL_ARG_DST_0() && argId <= DNNL_ARG_DST_2();
    }

    /** The signature's free bound call, a new one if there is room, else null. */
    private Bound borrow(int[] argIds, MemoryDescriptor[] descs) {
        for (Bound b : bound) if (b.matches(argIds, descs) && b.busy.compareAndSet(false, true)) return b;
        synchronized (this) {
            if (bound.length >= MAX_BOUND || !isOpen()) return null;
            Bound b = new Bound(this, argIds.clone(), descs.clone());
            b.busy.set(true);
            Bound[] grown = Arrays.copyOf(bound, bound.length + 1);
            grown[grown.length - 1] = b;
            bound = grown;
            return b;
        }
    }

    /** The per-call path (more than {@link #MAX_BOUND} bound calls): memory objects and exec args made for this call only. */
    private void executeUnbound(int[] argIds, MemoryDescriptor[] descs, MemorySegment[] buffers) {
        int n = argIds.length + 1;
        DnnlMemory[] memories = new DnnlMemory[n];
        Stream stream = Stream.borrow();
        MemorySegment pad = Scratchpads.borrow(scratchpad.byteSize());
        try (Arena call = Arena.ofConfined()) {
            for (int i = 0; i < argIds.length; i++) memories[i] = DnnlMemory.over(descs[i], buffers[i]);
            memories[n - 1] = DnnlMemory.over(scratchpad, pad);
            MemorySegment args = dnnl_exec_arg_t.allocateArray(n, call);
            for (int i = 0; i < n; i++) {
                MemorySegment a = dnnl_exec_arg_t.asSlice(args, i);
                dnnl_exec_arg_t.arg(a, i < n - 1 ? argIds[i] : DNNL_ARG_SCRATCHPAD());
                dnnl_exec_arg_t.memory(a, memories[i].handle());
            }
            Dnnl.check(HeldExecute.execute(handle(), stream.handle(), n, args, buffers), "dnnl_primitive_execute", description);
            stream.await();
        } finally {
            for (DnnlMemory m : memories) if (m != null) m.close();
            Scratchpads.giveBack(pad);
            stream.giveBack();
        }
    }

    @Override
    synchronized void closeOwned() {
        for (Bound b : bound) b.close();
        bound = new Bound[0];
        scratchpad.close();
    }

    /** Memory objects (unbound), exec args and a stream for one signature, used by one call at a time. */
    private static final class Bound {
        final AtomicBoolean busy = new AtomicBoolean();
        final int[] argIds;
        final MemoryDescriptor[] descs;
        final Arena arena = Arena.ofShared();
        final Execution execution;
        final Stream stream;

        Bound(Primitive p, int[] argIds, MemoryDescriptor[] descs) {
            this.argIds = argIds;
            this.descs = descs;
            Execution e = null;
            try {
                e = new Execution(p, argIds, descs, new MemorySegment[argIds.length], null, arena);
                stream = Stream.create(Engine.cpu());
            } catch (RuntimeException ex) {
                if (e != null) e.close();
                arena.close();
                throw ex;
            }
            execution = e;
        }

        /** Same argument ids and the very same descriptor objects (layers pass their cached ones). */
        boolean matches(int[] ids, MemoryDescriptor[] ds) {
            if (ids.length != argIds.length) return false;
            for (int i = 0; i < ids.length; i++) if (ids[i] != argIds[i] || ds[i] != descs[i]) return false;
            return true;
        }

        void close() {
            execution.close();
            stream.close();
            arena.close();
        }
    }

    @Override
    public String toString() {
        return description;
    }
}
