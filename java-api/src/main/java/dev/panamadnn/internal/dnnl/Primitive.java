package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_primitive_create;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_query_scratchpad_md;

import dev.panamadnn.bindings.dnnl.dnnl_exec_arg_t;
import dev.panamadnn.natives.ThreadControl;
import dev.panamadnn.bindings.dnnl.dnnl_h;
import dev.panamadnn.internal.lifetime.NativeAccess;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
        super(handle, "primitive");
        this.scratchpad = scratchpad;
        this.description = description;
    }

    @Override
    int destroy(MemorySegment handle) {
        return dnnl_h.dnnl_primitive_destroy(handle);
    }

    public static Primitive create(PrimitiveDescriptor pd) {
        MemoryDescriptor scratchpad = pd.queryMemory(dnnl_query_scratchpad_md(), 0);
        try (Out pointer = new Out()) {
            return new Primitive(pointer.handle(dnnl_primitive_create(pointer.segment(), pd.handle()), "dnnl_primitive_create", pd.toString()),
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
     * Runs the primitive on {@code args} (absent ones, a null descriptor, are skipped) and waits
     * for it: checks every buffer, then re-points a free bound call of this signature at them
     * (making one if there is none and room for it; else memory objects for this call only), with
     * a scratchpad borrowed from {@link Scratchpads}. Allocates nothing on a warm call beyond what
     * the caller passes: callers build the arguments that do not change (weights, bias) once, when
     * they create the primitive. OpenMP runs it on the {@link ThreadControl} count.
     */
    public void execute(Arg... args) {
        executeWithThreads(0, args);
    }

    /**
     * {@link #execute(Arg...)} on {@code threads} OpenMP threads (0: the {@link ThreadControl} count),
     * for a primitive created with that team size on this thread.
     */
    public void executeWithThreads(int threads, Arg... args) {
        int present = 0;
        boolean mapped = false;
        for (Arg a : args) {
            if (!a.present()) continue;
            present++;
            if (a.buf() == null) {
                throw new IllegalArgumentException(description + ": argument " + Args.name(a.id()) + " (" + a.md() + ") has no buffer");
            }
            DnnlMemory.check(a.md(), a.buf());
            if (Args.isWriteTarget(a.id()) && a.buf().isReadOnly()) {
                throw new IllegalArgumentException(description + ": the destination (" + Args.name(a.id())
                        + ") must be writable, got a read-only segment");
            }
            mapped |= a.buf().isMapped();
        }
        if (present > HeldExecute.SLOTS) {
            throw new IllegalArgumentException("execute: at most " + HeldExecute.SLOTS + " arguments, got " + present);
        }
        if (mapped) {
            executeOnCopies(threads, args);
            return;
        }
        if (threads > 0) ThreadControl.applyToCurrentThread(threads);
        else ThreadControl.applyToCurrentThread();
        try {
            Bound b = borrow(args, present);
            if (b != null) {
                MemorySegment pad = Scratchpads.borrow(scratchpad.byteSize());
                try {
                    int slot = 0;
                    for (Arg a : args) if (a.present()) b.execution.bind(slot++, a.buf());
                    b.execution.bind(slot, pad);
                    b.execution.execute(b.stream, args);   // holds every buffer until oneDNN returns
                    b.stream.await();
                } finally {
                    Scratchpads.giveBack(pad);
                    b.busy.set(false);
                }
                return;
            }
            executeUnbound(args, present);
        } catch (IllegalStateException e) {
            for (Arg a : args) {
                if (a.present() && !a.buf().scope().isAlive()) {
                    throw new IllegalStateException(description + ": the memory of argument " + Args.name(a.id()) + " (" + a.md()
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
    private void executeOnCopies(int threads, Arg[] args) {
        try (Arena tmp = Arena.ofConfined()) {
            Arg[] copies = args.clone();
            for (int i = 0; i < args.length; i++) {
                Arg a = args[i];
                if (a.present() && a.buf().isMapped()) {
                    copies[i] = new Arg(a.id(), a.md(), NativeAccess.copyOfMapped(a.buf(), tmp, description + " argument " + Args.name(a.id())));
                }
            }
            executeWithThreads(threads, copies);
            for (int i = 0; i < args.length; i++) {
                if (copies[i] != args[i] && Args.isWriteTarget(args[i].id())) {
                    NativeAccess.copyToMapped(copies[i].buf(), args[i].buf(), description + " argument " + Args.name(args[i].id()));
                }
            }
        }
    }

    /** The signature's free bound call, a new one if there is room, else null. */
    private Bound borrow(Arg[] args, int present) {
        for (Bound b : bound) if (b.matches(args, present) && b.busy.compareAndSet(false, true)) return b;
        synchronized (this) {
            if (bound.length >= MAX_BOUND || !isOpen()) return null;
            int[] ids = new int[present];
            MemoryDescriptor[] descs = new MemoryDescriptor[present];
            int i = 0;
            for (Arg a : args) {
                if (!a.present()) continue;
                ids[i] = a.id();
                descs[i++] = a.md();
            }
            Bound b = new Bound(this, ids, descs);
            b.busy.set(true);
            Bound[] grown = Arrays.copyOf(bound, bound.length + 1);
            grown[grown.length - 1] = b;
            bound = grown;
            return b;
        }
    }

    /** The per-call path (more than {@link #MAX_BOUND} bound calls): memory objects and exec args made for this call only. */
    private void executeUnbound(Arg[] args, int present) {
        int n = present + 1;
        DnnlMemory[] memories = new DnnlMemory[n];
        Stream stream = Stream.borrow();
        MemorySegment pad = Scratchpads.borrow(scratchpad.byteSize());
        try (Arena call = Arena.ofConfined()) {
            MemorySegment exec = dnnl_exec_arg_t.allocateArray(n, call);
            int i = 0;
            for (Arg a : args) {
                if (!a.present()) continue;
                memories[i] = DnnlMemory.over(a.md(), a.buf());
                setExecArg(exec, i, a.id(), memories[i]);
                i++;
            }
            memories[i] = DnnlMemory.over(scratchpad, pad);
            setExecArg(exec, i, Args.SCRATCHPAD, memories[i]);
            Dnnl.check(HeldExecute.execute(handle(), stream.handle(), n, exec, args), "dnnl_primitive_execute", description);
            stream.await();
        } finally {
            for (DnnlMemory m : memories) if (m != null) m.close();
            Scratchpads.giveBack(pad);
            stream.giveBack();
        }
    }

    private static void setExecArg(MemorySegment exec, int index, int id, DnnlMemory memory) {
        MemorySegment a = dnnl_exec_arg_t.asSlice(exec, index);
        dnnl_exec_arg_t.arg(a, id);
        dnnl_exec_arg_t.memory(a, memory.handle());
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
                List<Arg> unbound = new ArrayList<>(argIds.length);
                for (int i = 0; i < argIds.length; i++) unbound.add(new Arg(argIds[i], descs[i], null));
                e = new Execution(p, unbound, null, arena);
                stream = Stream.create(Engine.cpu());
            } catch (RuntimeException ex) {
                if (e != null) e.close();
                arena.close();
                throw ex;
            }
            execution = e;
        }

        /** The present arguments have the same ids and the very same descriptor objects (layers pass their cached ones). */
        boolean matches(Arg[] args, int present) {
            if (present != argIds.length) return false;
            int i = 0;
            for (Arg a : args) {
                if (!a.present()) continue;
                if (a.id() != argIds[i] || a.md() != descs[i]) return false;
                i++;
            }
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
