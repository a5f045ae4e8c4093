package dev.panamadnn.internal.lifetime;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * The rules for memory that native code may touch, in one place.
 *
 * <p><b>Mapped memory never reaches native code.</b> If another process truncates a mapped file,
 * touching the lost pages raises SIGBUS: the JVM turns that into an {@link InternalError} for
 * Java's own accesses, but in OpenBLAS or oneDNN it ends the process. So a mapped segment is
 * copied by Java first ({@link #copyOfMapped}), and a truncated file becomes an
 * {@link IllegalStateException} naming what was being read. Weights are unaffected: loading a
 * state_dict copies them out of the mapping already.
 *
 * <p><b>Closing waits for native calls.</b> A native call holds the arenas of the memory it
 * touches (see {@code internal.dnnl.HeldExecute}); {@link #closeWaiting} closes an arena once no
 * call holds it any more, instead of failing the closer.
 */
public final class NativeAccess {
    private NativeAccess() {}

    /** A copy of mapped {@code segment} in {@code arena}, made by Java (a truncated file is an exception, not a crash). */
    public static MemorySegment copyOfMapped(MemorySegment segment, Arena arena, String what) {
        MemorySegment copy = arena.allocate(Math.max(1, segment.byteSize()), 64).asSlice(0, segment.byteSize());
        copy(segment, copy, what);
        return copy;
    }

    /** Copies {@code source} into mapped {@code target} by Java (a truncated file is an exception, not a crash). */
    public static void copyToMapped(MemorySegment source, MemorySegment target, String what) {
        copy(source, target, what);
    }

    /**
     * Copies all of {@code source} into {@code target} by Java: memory another thread freed meanwhile, or a file
     * truncated under a mapping, is an {@link IllegalStateException} naming {@code what}, never a crash. The copy both
     * directions above use, and the compiler's reads of a graph's constants. Measured on JDK 25: when another thread closes a shared
     * arena while this thread copies from it (a mapping: about 60% of such races), the copy fails
     * with "Already closed" and the JDK may leave this thread's interrupt flag set although nobody
     * interrupted it; {@link #freedWhileCopying} clears that stray flag.
     */
    public static void copy(MemorySegment source, MemorySegment target, String what) {
        boolean interruptedBefore = Thread.currentThread().isInterrupted();
        try {
            MemorySegment.copy(source, 0, target, 0, source.byteSize());
            if (source.isMapped() || target.isMapped()) deliverPendingFault();
        } catch (InternalError e) {
            throw truncated(what, e);
        } catch (IllegalStateException e) {
            if (source.scope().isAlive() && target.scope().isAlive()) throw e;
            throw freedWhileCopying(what, interruptedBefore, e);
        }
    }

    /**
     * Makes the JVM throw, here, the {@link InternalError} of a fault in the copy just made. Once the JIT has compiled a
     * copy into its copy stub, a fault there (a page of a truncated file) is not thrown at once: the JVM notes it and
     * throws it at the thread's next safepoint poll, which may be in a caller, past the {@code catch} above (measured:
     * 189,547 of 200,000 copies from a truncated mapping in one JVM escaped as an {@code InternalError} in the caller,
     * the first 10,453 were caught). Returning from a native method is such a poll: {@link Runtime#freeMemory()} is a
     * plain one, tens of nanoseconds, paid only by copies from or to a mapping. Not {@link Thread#yield()}: on a virtual
     * thread that is no native call but an unmount, and with the fault pending the virtual thread was never scheduled
     * again (JDK 25.0.3: hung at {@code VirtualThread.tryYield}). Every Java read or write of a mapping that catches the
     * fault calls this inside its {@code try}, after the access.
     */
    public static void deliverPendingFault() {
        long ignored = Runtime.getRuntime().freeMemory();
    }

    /**
     * The exception for a Java copy that failed because another thread freed the memory: names
     * {@code what}, and clears the interrupt flag the JDK may leave set on the copying thread
     * when the close aborted the copy (see {@link #copy}), unless it was set before.
     */
    public static IllegalStateException freedWhileCopying(String what, boolean interruptedBefore, IllegalStateException cause) {
        clearStrayInterrupt(interruptedBefore);
        return new IllegalStateException(what + ": its memory was freed (closed) while being copied", cause);
    }

    /**
     * Clears the interrupt flag the JDK may leave set on a thread whose Java access to shared
     * memory was aborted by another thread closing it, unless the flag was already set before
     * the access began. Call it only on that failure path.
     */
    public static void clearStrayInterrupt(boolean interruptedBefore) {
        if (!interruptedBefore) Thread.interrupted();
    }

    /**
     * The exception for a Java read that faulted on memory ({@code what}: the value being read), as
     * {@link #copyOfMapped} reports it: a file truncated under its mapping. An {@link InternalError}
     * that is not the JVM's report of such a fault (its message names an "unsafe memory access
     * operation", from the interpreter or compiled code) is rethrown as it is.
     *
     * @param what what was being read, for the message
     * @param e the error the read raised
     * @return the exception to throw instead
     */
    public static IllegalStateException truncatedRead(String what, InternalError e) {
        String m = e.getMessage();
        if (m == null || !m.contains("unsafe memory access operation")) throw e;
        return truncated(what, e);
    }

    private static IllegalStateException truncated(String what, InternalError e) {
        return new IllegalStateException(what + ": its memory-mapped file was truncated while mapped (" + e.getMessage()
                + "); reopen the file", e);
    }

    /**
     * Closes {@code arena}, waiting while native calls hold it (each holds it only for the call);
     * returns at once if it is already closed.
     */
    public static void closeWaiting(Arena arena) {
        for (int attempt = 0; arena.scope().isAlive(); attempt++) {
            try {
                arena.close();
                return;
            } catch (IllegalStateException acquired) {
                // Held by a call in flight (or closed by another thread meanwhile: the loop ends).
                InFlightCalls.pause(attempt);
            }
        }
    }
}
