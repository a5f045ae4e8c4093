package dev.panamadnn.internal.dnnl;

import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_memory_create;
import static dev.panamadnn.bindings.dnnl.dnnl_h.dnnl_memory_set_data_handle;

import dev.panamadnn.bindings.dnnl.dnnl_exec_arg_t;
import dev.panamadnn.bindings.dnnl.dnnl_h;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One primitive bound, once, to its memory objects and exec-arg array, for repeated execution
 * with nothing created or allocated per call: the compiled plan's steps, and each bound call that
 * {@link Primitive#execute} keeps per argument signature. The memory objects point at buffers the
 * owner keeps alive; arguments created unbound (null buffer) are pointed at a buffer before each
 * run with {@link #bind} ({@code dnnl_memory_set_data_handle}). Not thread-safe: one execution
 * context per thread at a time; the primitive itself (user scratchpad) is shared by any number of them.
 */
public final class Execution implements AutoCloseable {
    private static final AtomicLong MEMORY_OBJECTS = new AtomicLong();

    private final Primitive primitive;
    private final Memory[] memories;   // one per present argument, then the scratchpad
    /** Per constructor position, the index of its memory object (-1: absent); the last entry is the scratchpad's. */
    private final int[] memoryOf;
    private final MemorySegment args;
    private final int count;

    /**
     * @param args       the arguments in any order; an absent one (null descriptor) gets no memory object,
     *                   a present one with a null buffer is {@link #bind bound} later
     * @param scratchpad at least {@link Primitive#scratchpadBytes()} bytes, or null to {@link #bind} later (index: {@code args.size()})
     * @param arena      holds the exec-arg array; must outlive this execution
     */
    public Execution(Primitive primitive, List<Arg> args, MemorySegment scratchpad, Arena arena) {
        this.primitive = primitive;
        this.memoryOf = new int[args.size() + 1];
        int present = 0;
        for (int i = 0; i < args.size(); i++) memoryOf[i] = args.get(i).present() ? present++ : -1;
        memoryOf[args.size()] = present;
        this.count = present + 1;
        this.memories = new Memory[count];
        this.args = dnnl_exec_arg_t.allocateArray(count, arena);
        try {
            for (int i = 0; i < args.size(); i++) {
                Arg a = args.get(i);
                if (a.present()) setArg(memoryOf[i], a.id(), Memory.create(a.md(), a.buf()));
            }
            setArg(count - 1, Args.SCRATCHPAD, Memory.create(primitive.scratchpadDescriptor(), scratchpad));
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private static List<Arg> zip(int[] argIds, MemoryDescriptor[] descs, MemorySegment[] buffers) {
        if (argIds.length != descs.length || argIds.length != buffers.length) {
            throw new IllegalArgumentException("Execution: " + argIds.length + " arg ids, " + descs.length + " descriptors and "
                    + buffers.length + " buffers must match");
        }
        List<Arg> args = new ArrayList<>(argIds.length);
        for (int i = 0; i < argIds.length; i++) {
            if (descs[i] == null) throw new IllegalArgumentException("Execution: argument " + Args.name(argIds[i]) + " has no descriptor");
            args.add(new Arg(argIds[i], descs[i], buffers[i]));
        }
        return args;
    }

    private void setArg(int index, int id, Memory memory) {
        memories[index] = memory;
        MemorySegment a = dnnl_exec_arg_t.asSlice(args, index);
        dnnl_exec_arg_t.arg(a, id);
        dnnl_exec_arg_t.memory(a, memory.handle());
    }

    /** Points argument {@code index} (its position in the constructor's arguments; their count for the scratchpad) at {@code buffer}. */
    public void bind(int index, MemorySegment buffer) {
        int m = memoryOf[index];
        if (m < 0) throw new IllegalArgumentException("Execution: argument " + index + " is absent, nothing to bind");
        Dnnl.check(dnnl_memory_set_data_handle(memories[m].handle(), buffer), "dnnl_memory_set_data_handle", "");
    }

    /**
     * Submits the primitive to {@code stream} (the caller waits on the stream once after a batch of
     * these). For buffers the execution's owner keeps alive itself: caller memory bound with
     * {@link #bind} must go through {@link #execute(Stream, MemorySegment, MemorySegment)}.
     */
    public void execute(Stream stream) {
        int status = HeldExecute.execute(primitive.handle(), stream.handle(), count, args);
        if (status != dnnl_h.dnnl_success()) Dnnl.check(status, "dnnl_primitive_execute", primitive.toString());
    }

    /**
     * Submits the primitive holding {@code held0} and {@code held1} (the caller's memory bound
     * with {@link #bind}, or {@link MemorySegment#NULL}) alive until it returns, so no other
     * thread can free them under oneDNN ({@link HeldExecute}).
     *
     * @throws IllegalStateException if a held segment's memory was already freed (nothing ran)
     */
    public void execute(Stream stream, MemorySegment held0, MemorySegment held1) {
        int status = HeldExecute.execute(primitive.handle(), stream.handle(), count, args, held0, held1);
        if (status != dnnl_h.dnnl_success()) Dnnl.check(status, "dnnl_primitive_execute", primitive.toString());
    }

    /** {@link #execute(Stream)} holding the buffer of every present argument of {@code held} (at most {@link HeldExecute#SLOTS}). */
    void execute(Stream stream, Arg[] held) {
        int status = HeldExecute.execute(primitive.handle(), stream.handle(), count, args, held);
        if (status != dnnl_h.dnnl_success()) Dnnl.check(status, "dnnl_primitive_execute", primitive.toString());
    }

    /** How many oneDNN memory objects executions have created in this process (a diagnostic for tests). */
    public static long memoryObjectsCreated() {
        return MEMORY_OBJECTS.get();
    }

    @Override
    public void close() {
        for (Memory m : memories) if (m != null) m.close();
    }

    /** A {@code dnnl_memory_t} over a caller-owned buffer, or over none yet ({@code DNNL_MEMORY_NONE}). */
    private static final class Memory extends NativeHandle {
        private Memory(MemorySegment handle) {
            super(handle, "memory");
        }

        @Override
        int destroy(MemorySegment handle) {
            return dnnl_h.dnnl_memory_destroy(handle);
        }

        static Memory create(MemoryDescriptor desc, MemorySegment buffer) {
            MemorySegment b = buffer == null ? MemorySegment.NULL : buffer;
            if (buffer != null && (!buffer.isNative() || buffer.byteSize() < desc.byteSize())) {
                throw new IllegalArgumentException("buffer for " + desc + " must be off-heap and hold " + desc.byteSize()
                        + " bytes, got " + buffer);
            }
            Memory m;
            try (Out pointer = new Out()) {
                m = new Memory(pointer.handle(dnnl_memory_create(pointer.segment(), desc.handle(), Engine.cpu().handle(), b),
                        "dnnl_memory_create", desc.toString()));
            }
            MEMORY_OBJECTS.incrementAndGet();
            return m;
        }
    }
}
