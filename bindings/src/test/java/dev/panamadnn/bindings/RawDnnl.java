package dev.panamadnn.bindings;

import static dev.panamadnn.bindings.dnnl.dnnl_h.*;

import dev.panamadnn.bindings.dnnl.dnnl_exec_arg_t;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Just enough plumbing to drive oneDNN through the raw generated bindings in tests: status
 * checks, dims arrays, memory objects over caller-owned buffers, and one execute. The real API
 * (java-api's internal package) wraps every handle kind; these tests check the bindings alone.
 */
final class RawDnnl {
    private RawDnnl() {}

    static void check(int status, String function) {
        if (status != dnnl_success()) {
            throw new AssertionError(function + " returned " + status + " ("
                    + dnnl_status2str(status).getString(0) + ")");
        }
    }

    static MemorySegment dims(Arena arena, long... values) {
        MemorySegment s = arena.allocate(ValueLayout.JAVA_LONG, Math.max(values.length, DNNL_MAX_NDIMS()));
        for (int i = 0; i < values.length; i++) s.setAtIndex(ValueLayout.JAVA_LONG, i, values[i]);
        return s;
    }

    /** A plain f32 memory descriptor (dnnl_memory_desc_t, caller destroys). */
    static MemorySegment plainDesc(Arena arena, int tag, long... shape) {
        MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
        check(dnnl_memory_desc_create_with_tag(out, shape.length, dims(arena, shape), dnnl_f32(), tag),
                "dnnl_memory_desc_create_with_tag");
        return out.get(ValueLayout.ADDRESS, 0);
    }

    static MemorySegment memory(Arena arena, MemorySegment desc, MemorySegment engine, MemorySegment buffer) {
        MemorySegment out = arena.allocate(ValueLayout.ADDRESS);
        check(dnnl_memory_create(out, desc, engine, buffer), "dnnl_memory_create");
        return out.get(ValueLayout.ADDRESS, 0);
    }

    /** Executes {@code primitive} with (arg, memory) pairs and waits for the stream. */
    static void execute(Arena arena, MemorySegment primitive, MemorySegment stream, Object... argMemoryPairs) {
        int n = argMemoryPairs.length / 2;
        MemorySegment args = dnnl_exec_arg_t.allocateArray(n, arena);
        for (int i = 0; i < n; i++) {
            MemorySegment a = dnnl_exec_arg_t.asSlice(args, i);
            dnnl_exec_arg_t.arg(a, (Integer) argMemoryPairs[2 * i]);
            dnnl_exec_arg_t.memory(a, (MemorySegment) argMemoryPairs[2 * i + 1]);
        }
        check(dnnl_primitive_execute(primitive, stream, n, args), "dnnl_primitive_execute");
        check(dnnl_stream_wait(stream), "dnnl_stream_wait");
    }

    static MemorySegment out(Arena arena) {
        return arena.allocate(ValueLayout.ADDRESS);
    }
}
