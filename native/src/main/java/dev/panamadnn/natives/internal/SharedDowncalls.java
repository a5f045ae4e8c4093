package dev.panamadnn.natives.internal;

import dev.panamadnn.natives.ThreadControl;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.Arrays;

/**
 * The generated bindings' shared downcall shapes (scripts/bindgen's {@code SharedShape}) for the few downcalls made by
 * hand (ThreadControl's setenv and thread counts, java-api's HeldExecute and the OpenBLAS gate's probe): each handle takes
 * the C function's address first, then its integer-class arguments as addresses (an {@code int} sign-extended, read by
 * the callee as its low 32 bits; see {@link #integer}), padded with {@code MemorySegment.NULL}, then two floats
 * ({@code 0f} where unused), and returns rax as a {@code long} (an {@code int} result is its low half, a pointer its
 * address, a {@code void} function's rax is dropped). The descriptors are the ones the bindings link, so the JDK's linker
 * hands out the same handles and a fresh JVM links each shape once (5-15 ms apiece): exact under the x86-64 System V
 * convention, used where {@link #ON}.
 */
public final class SharedDowncalls {
    private SharedDowncalls() {}

    /** Whether this is x86-64 Linux (the bindings' {@code SHARED_DOWNCALLS} test, less its switch for measurement). */
    public static final boolean ON = System.getProperty("os.name", "").startsWith("Linux") && System.getProperty("os.arch", "").equals("amd64");

    /** {@code long f(6 addresses, 2 floats)}: up to 6 integer-class arguments, all in registers ({@code Shared$j6f2}). */
    public static final MethodHandle REGISTERS = ON ? link(6) : null;

    /** {@code long f(20 addresses, 2 floats)}: up to 20 integer-class arguments, 14 on the stack ({@code Shared$j20f2}). */
    public static final MethodHandle STACK = ON ? link(20) : null;

    /** {@code INTEGERS[n]} holds address n: every thread count and argument count, made once. */
    private static final MemorySegment[] INTEGERS = new MemorySegment[ThreadControl.MAX_THREADS + 1];

    static {
        for (int n = 0; n < INTEGERS.length; n++) INTEGERS[n] = MemorySegment.ofAddress(n);
    }

    /**
     * {@code v} as an integer-class argument: from a table made once for 0 to {@link ThreadControl#MAX_THREADS}, so a call
     * on a path that must not allocate (a plan's execute, a thread count set per primitive) allocates nothing even where
     * the JIT would not remove a {@code MemorySegment.ofAddress}; else a new segment.
     */
    public static MemorySegment integer(long v) {
        return v >= 0 && v < INTEGERS.length ? INTEGERS[(int) v] : MemorySegment.ofAddress(v);
    }

    private static MethodHandle link(int addresses) {
        MemoryLayout[] args = new MemoryLayout[addresses + 2];
        Arrays.fill(args, 0, addresses, ValueLayout.ADDRESS);
        args[addresses] = ValueLayout.JAVA_FLOAT;
        args[addresses + 1] = ValueLayout.JAVA_FLOAT;
        return Linker.nativeLinker().downcallHandle(FunctionDescriptor.of(ValueLayout.JAVA_LONG, args));
    }
}
