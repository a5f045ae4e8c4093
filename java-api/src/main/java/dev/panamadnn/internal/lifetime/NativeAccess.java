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
        copyMapped(segment, copy, what);
        return copy;
    }

    /** Copies {@code source} into mapped {@code target} by Java (a truncated file is an exception, not a crash). */
    public static void copyToMapped(MemorySegment source, MemorySegment target, String what) {
        copyMapped(source, target, what);
    }

    /**
     * The Java copy both directions use. Measured on JDK 25: when another thread closes (unmaps) a
     * mapping while this thread copies it, the copy fails with "Already closed" and, in about 60%
     * of such races, the JDK leaves this thread's interrupt flag set although nobody interrupted
     * it; that stray interrupt is cleared here (only when the flag was clear before the copy and
     * the copy failed because the memory was closed).
     */
    private static void copyMapped(MemorySegment source, MemorySegment target, String what) {
        boolean interruptedBefore = Thread.currentThread().isInterrupted();
        try {
            MemorySegment.copy(source, 0, target, 0, source.byteSize());
        } catch (InternalError e) {
            throw truncated(what, e);
        } catch (IllegalStateException e) {
            if (!interruptedBefore && (!source.scope().isAlive() || !target.scope().isAlive())) Thread.interrupted();
            throw new IllegalStateException(what + ": its memory was freed (closed) during the call", e);
        }
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
