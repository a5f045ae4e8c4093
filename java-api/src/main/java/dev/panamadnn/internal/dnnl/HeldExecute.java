package dev.panamadnn.internal.dnnl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import dev.panamadnn.natives.internal.SharedDowncalls;
import dev.panamadnn.natives.Natives;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * {@code dnnl_primitive_execute} with the memory it touches held alive for the whole call.
 *
 * <p>Why: oneDNN gets raw data pointers ({@code dnnl_memory_set_data_handle}) before it executes,
 * so the FFM linker does not know the call uses them, and another thread could close the arena
 * that owns a tensor (free or unmap it) while oneDNN reads or writes it: a crash. The linker does
 * hold, for the duration of a downcall, the arena of every segment passed <i>as an argument</i>
 * (closing it meanwhile fails with "Session is acquired"; a segment already closed fails the call
 * before it starts). So this handle passes up to {@link #SLOTS} segments as extra trailing
 * arguments the C function never reads: on x86-64 System V (and AArch64) the caller places and
 * removes arguments, so extra ones are ignored by the callee and the call is well defined at the
 * ABI level. Unused slots take {@link MemorySegment#NULL}. The acquire costs about 20 ns per
 * segment of a shared arena (nothing for global or automatic memory).
 *
 * <p>This is the one hand-made downcall handle in java-api (everything else goes through the
 * generated bindings, which cannot express the extra arguments): a deliberate, documented
 * departure, kept to this class. It is linked without an address, with the descriptor of the
 * bindings' shared shape for functions of up to 20 integer-class arguments whose result comes back
 * in rax ({@code dnnl_h}'s {@code Shared$j20f2}: {@code long f(20 addresses, 2 floats)};
 * scripts/bindgen's {@code SharedShape} says why that is exact), so that the JDK's linker hands
 * both the same handle and a fresh JVM links that shape once (5-15 ms each). The status is the
 * low 32 bits of the result; the argument count travels as an address (the callee reads its low
 * 32 bits, {@link SharedDowncalls#integer}: no allocation); the unused slots take
 * {@link MemorySegment#NULL} and {@code 0f}.
 */
final class HeldExecute {
    /** Segments one call can hold: an LSTM with projection has 10 arguments (layer, iter and iter_c in and out, three weights, bias). */
    static final int SLOTS = 12;

    private static final MemorySegment FUNCTION = Natives.dnnlLookup().find("dnnl_primitive_execute")
            .orElseThrow(() -> new UnsatisfiedLinkError("dnnl_primitive_execute not found in libdnnl"));

    /**
     * {@code long f(20 addresses, 2 floats)}, taking the function's address first: {@link SharedDowncalls#STACK}, linked
     * here too where that is off (the extra trailing arguments rely on the same caller-pops convention either way).
     */
    private static final MethodHandle EXECUTE = SharedDowncalls.ON ? SharedDowncalls.STACK : Linker.nativeLinker().downcallHandle(
            FunctionDescriptor.of(JAVA_LONG, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS,
                    ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, JAVA_FLOAT, JAVA_FLOAT));

    private HeldExecute() {}

    /** Executes with no caller memory to hold beyond the arguments themselves. */
    static int execute(MemorySegment primitive, MemorySegment stream, int count, MemorySegment args) {
        return execute(primitive, stream, count, args, MemorySegment.NULL, MemorySegment.NULL);
    }

    /** Executes holding {@code h0} and {@code h1} (either may be {@link MemorySegment#NULL}). */
    static int execute(MemorySegment primitive, MemorySegment stream, int count, MemorySegment args,
                       MemorySegment h0, MemorySegment h1) {
        MemorySegment n = MemorySegment.NULL;
        try {
            return (int) (long) EXECUTE.invokeExact(FUNCTION, primitive, stream, SharedDowncalls.integer(count), args, h0, h1, n, n, n, n, n, n,
                    n, n, n, n, n, n, n, n, 0f, 0f);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("dnnl_primitive_execute", t);
        }
    }

    /** Executes holding the buffer of every present argument of {@code held} (at most {@link #SLOTS}; absent ones are skipped). */
    static int execute(MemorySegment primitive, MemorySegment stream, int count, MemorySegment args, Arg[] held) {
        int buffers = 0;
        for (Arg a : held) if (a.present() && a.buf() != null) buffers++;
        if (buffers > SLOTS) throw new IllegalArgumentException("execute: at most " + SLOTS + " buffers, got " + buffers);
        try {
            MemorySegment n = MemorySegment.NULL;
            return (int) (long) EXECUTE.invokeExact(FUNCTION, primitive, stream, SharedDowncalls.integer(count), args, slot(held, 0), slot(held, 1),
                    slot(held, 2), slot(held, 3), slot(held, 4), slot(held, 5), slot(held, 6), slot(held, 7), slot(held, 8), slot(held, 9),
                    slot(held, 10), slot(held, 11), n, n, n, n, 0f, 0f);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new AssertionError("dnnl_primitive_execute", t);
        }
    }

    /** The buffer of the {@code k}-th present argument, {@link MemorySegment#NULL} past the last. */
    private static MemorySegment slot(Arg[] held, int k) {
        int seen = 0;
        for (Arg a : held) {
            if (a.present() && a.buf() != null && seen++ == k) return a.buf();
        }
        return MemorySegment.NULL;
    }
}
