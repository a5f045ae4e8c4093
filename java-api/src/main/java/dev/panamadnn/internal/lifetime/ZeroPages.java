package dev.panamadnn.internal.lifetime;

import dev.panamadnn.natives.internal.SharedDowncalls;
import java.lang.foreign.Arena;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;

/**
 * Zeroed memory the kernel zeroes: an anonymous private mapping, unmapped when its arena closes.
 *
 * <p>Why: {@link Arena#allocate} zeroes what it allocates on the calling thread, and for a plan's
 * activation buffers (ResNet-18 at batch 16: tens of MB) that pass is the first touch of every page,
 * so the calling thread takes every page fault before the first run starts (measured on a 2-vCPU
 * VM: 70-100 ms for 150 MB, nearly all of it the faults, a few ms the memset). Pages of an
 * anonymous mapping read as zero without being touched; the first run's own writes fault them in,
 * on every thread of the primitive that writes them, and nothing is written twice. The contents are
 * the same (all zero) as {@code arena.allocate}'s, so nothing that reads a buffer before any step
 * wrote it sees anything else.
 *
 * <p>Unlike {@code Arena.allocate}'s memory, a mapping is not counted against
 * {@code -XX:MaxDirectMemorySize} (docs/safety.md).
 *
 * <p>Linux on x86-64 only (the platform the natives ship for); elsewhere, or when the mapping
 * fails, {@link #allocate} falls back to {@code arena.allocate}, which throws
 * {@link OutOfMemoryError} where memory is really short.
 */
public final class ZeroPages {
    private ZeroPages() {}

    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;
    private static final long PAGE = 4096;
    /** Below this a mapping saves nothing worth a system call (and a mapping of its own). */
    public static final long MIN_BYTES = 256 << 10;

    /**
     * {@return {@code bytes} of zeroed memory, freed when {@code arena} closes: a mapping aligned to a page from
     * {@link #MIN_BYTES} on, else the arena's own 64-byte aligned allocation}
     *
     * @param arena the arena whose closing unmaps it
     * @param bytes how many bytes; 0 is allowed
     */
    public static MemorySegment allocate(Arena arena, long bytes) {
        if (bytes < MIN_BYTES || !SharedDowncalls.ON) return arena.allocate(bytes, 64);
        long mapped = (bytes + PAGE - 1) & -PAGE;
        MemorySegment at;
        try {
            at = Calls.INSTANCE.mmap(mapped);
        } catch (Throwable t) {
            throw new IllegalStateException("mmap of " + mapped + " bytes", t);
        }
        if (at.address() == -1L || at.address() == 0L) return arena.allocate(bytes, 64);   // MAP_FAILED: the JDK's allocation decides
        try {
            return at.reinterpret(bytes, arena, new Unmap(mapped));
        } catch (RuntimeException | Error e) {   // the arena is closed: nothing will unmap it
            unmap(at, mapped);
            throw e;
        }
    }

    /** The arena's cleanup (a class, not a lambda: this runs at a plan's first run, where a lambda costs a cold JVM a spun class). */
    private record Unmap(long mapped) implements java.util.function.Consumer<MemorySegment> {
        @Override
        public void accept(MemorySegment at) {
            unmap(at, mapped);
        }
    }

    private static void unmap(MemorySegment at, long mapped) {
        try {
            Calls.INSTANCE.munmap(at, mapped);
        } catch (Throwable t) {
            throw new IllegalStateException("munmap of " + mapped + " bytes", t);
        }
    }

    /** mmap and munmap through the bindings' shared shape (no descriptor of their own to link in a cold JVM). */
    private static final class Calls {
        static final Calls INSTANCE = new Calls();
        private static final MemorySegment Z = MemorySegment.NULL;
        private final MemorySegment mmap = Linker.nativeLinker().defaultLookup().find("mmap").orElseThrow();
        private final MemorySegment munmap = Linker.nativeLinker().defaultLookup().find("munmap").orElseThrow();

        MemorySegment mmap(long bytes) throws Throwable {
            return MemorySegment.ofAddress((long) SharedDowncalls.REGISTERS.invokeExact(mmap, Z, SharedDowncalls.integer(bytes),
                    SharedDowncalls.integer(PROT_READ_WRITE), SharedDowncalls.integer(MAP_PRIVATE_ANONYMOUS), SharedDowncalls.integer(-1),
                    SharedDowncalls.integer(0), 0f, 0f));
        }

        void munmap(MemorySegment at, long bytes) throws Throwable {
            long ignored = (long) SharedDowncalls.REGISTERS.invokeExact(munmap, at, SharedDowncalls.integer(bytes), Z, Z, Z, Z, 0f, 0f);
        }
    }
}
