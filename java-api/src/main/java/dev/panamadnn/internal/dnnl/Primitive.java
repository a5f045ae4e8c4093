package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.DNNL_ARG_SCRATCHPAD;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_primitive_create;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_primitive_execute;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_query_scratchpad_md;

import dev.panamadnn.bindings.dnnl.dnnl_exec_arg_t;
import dev.panamadnn.natives.ThreadControl;
import dev.panamadnn.bindings.dnnl.dnnl_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * A created oneDNN primitive (the compiled kernel). Created with a user scratchpad
 * ({@link PrimitiveAttributes}), so it is safe to execute from many threads at once: each
 * {@link #execute} call brings its own scratchpad (borrowed from a pool), stream and memory objects.
 */
public final class Primitive extends NativeHandle {
    private final MemoryDescriptor scratchpad;
    private final String description;

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
     * ({@code DNNL_ARG_*}), and waits for it. Creates the memory objects for this call only and
     * borrows a scratchpad from {@link Scratchpads} (reused across calls, never shared by two at once).
     */
    public void execute(int[] argIds, MemoryDescriptor[] descs, MemorySegment[] buffers) {
        if (argIds.length != descs.length || argIds.length != buffers.length) {
            throw new IllegalArgumentException("execute: " + argIds.length + " arg ids, " + descs.length
                    + " descriptors and " + buffers.length + " buffers must match");
        }
        ThreadControl.applyToCurrentThread();
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
            Dnnl.check(dnnl_primitive_execute(handle(), stream.handle(), n, args), "dnnl_primitive_execute", description);
            stream.await();
        } finally {
            for (DnnlMemory m : memories) if (m != null) m.close();
            Scratchpads.giveBack(pad);
            stream.giveBack();
        }
    }

    @Override
    void closeOwned() {
        scratchpad.close();
    }

    @Override
    public String toString() {
        return description;
    }
}
