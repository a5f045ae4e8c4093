package dev.panamadnn.internal;

import dev.panamadnn.natives.Natives;
import dev.panamadnn.natives.ThreadControl;
import dev.panamadnn.natives.internal.SharedDowncalls;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;

/**
 * Keeps OpenBLAS from ever mapping a work buffer after start-up, because a failed mapping ends
 * the process: {@code blas_memory_alloc} (driver/others/memory.c) retries 10 times, prints
 * "OpenBLAS error: Memory allocation still failed after 10 retries, giving up." and calls
 * {@code exit(1)}.
 *
 * <p>How OpenBLAS 0.3.31 (pthreads build, {@code USE_TLS} off) manages them: a fixed table of
 * slots; every level-3 call (and level 2 above its stack limit) takes the first unused slot for
 * the call's duration and maps a 128 MiB buffer ({@code BUFFER_SIZE}, x86-64) only if that slot
 * has none yet; buffers are never unmapped. Mapped slots are therefore a prefix of the table,
 * their count the peak number of concurrent callers (plus one held for good by each pool
 * thread). So this class, at first use:
 * <ol>
 *   <li>takes {@link #permits} slots itself, one after another from this thread
 *       ({@code blas_memory_alloc(0)}, exported by the library), before each one checking that a
 *       mapping of twice the buffer size would succeed now (what a build with memory warm-up
 *       maps for a moment), and stops early if not; then a few more for OpenBLAS pool threads
 *       that {@link ThreadControl#setThreads} might add later (best effort); then frees them
 *       all, leaving that many mapped, unused slots;</li>
 *   <li>lets at most {@link #permits} Java threads into OpenBLAS at once ({@link #enter}/{@link
 *       #exit} around each call; the others wait). A caller then always finds a mapped free slot
 *       and no mapping happens again.</li>
 * </ol>
 * The count is {@value #PROPERTY} (or {@value #ENV}), by default the number of processors, at
 * most {@value #MAX_PERMITS} (the slots that fit beside 64 pool threads in the table of this
 * build). Each permit costs 128 MiB of address space, of which only the pages a call touches
 * become resident (a few MiB for an sgemm). If not even one slot can be taken, calls fail with an
 * {@link IllegalStateException} instead.
 *
 * <p>Like {@code internal/dnnl/HeldExecute}, this makes hand-made downcalls (the two buffer
 * functions are not in cblas.h, and mmap/munmap are libc's), kept to this one class.
 */
public final class BlasCallers {
    /** System property with the number of Java threads allowed into OpenBLAS at once. */
    public static final String PROPERTY = "panamadnn.blas.callers";
    /** Environment variable with that number (the property wins). */
    public static final String ENV = "PANAMADNN_BLAS_CALLERS";
    /** Caller slots that fit in the table ({@code NUM_BUFFERS} = 128) beside 64 pool threads. */
    static final int MAX_PERMITS = 64;
    /** {@code BUFFER_SIZE} on x86-64 ({@code 32 << 22}). */
    static final long BUFFER_BYTES = 128L << 20;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final int PROT_READ_WRITE = 0x1 | 0x2;
    private static final int MAP_PRIVATE_ANONYMOUS = 0x02 | 0x20;

    private BlasCallers() {}

    /** What first use reserved: slots for callers, and spares for pool threads added later. */
    record Reserved(int callers, int spares) {}

    /** Built on first use: reserving needs the library loaded. */
    private static final class Gate {
        static final Reserved RESERVED;
        static final Semaphore SEMAPHORE;
        static final String REFUSAL;

        static {
            Reserved reserved = new Reserved(0, 0);
            String refusal = null;
            try {
                int requested = requested();
                Natives.load();
                RuntimeLog.once();
                int spare = Math.max(0, Runtime.getRuntime().availableProcessors() - Math.max(1, ThreadControl.openblasThreads()));
                reserved = reserve(requested, spare);
                if (reserved.callers() == 0) {
                    refusal = "OpenBLAS: not one work buffer (" + (BUFFER_BYTES >> 20) + " MiB of address space) could be "
                            + "reserved at first use, so no OpenBLAS call can run without risking exit(1) inside OpenBLAS; "
                            + "raise the address-space limit (ulimit -v) or the commit limit and restart";
                }
            } catch (RuntimeException e) {
                refusal = e.getMessage();
            }
            RESERVED = reserved;
            SEMAPHORE = new Semaphore(reserved.callers());
            REFUSAL = refusal;
        }
    }

    /** How many Java threads may be inside OpenBLAS at once (the slots reserved at first use). */
    public static int permits() {
        return Gate.RESERVED.callers();
    }

    /** One line for logs and tests: the slots reserved, the spares, the buffer size. */
    public static String describe() {
        Reserved r = Gate.RESERVED;
        return "OpenBLAS callers: " + r.callers() + " at once (" + r.spares() + " spare slots for pool threads, "
                + (BUFFER_BYTES >> 20) + " MiB of address space each)" + (Gate.REFUSAL == null ? "" : "; refusing calls: " + Gate.REFUSAL);
    }

    /**
     * Waits for a slot (uninterruptibly: BLAS calls are short and declare no checked exception).
     *
     * @throws IllegalStateException if no slot could be reserved at first use
     */
    public static void enter() {
        if (Gate.REFUSAL != null) throw new IllegalStateException(Gate.REFUSAL);
        Gate.SEMAPHORE.acquireUninterruptibly();
    }

    /** Gives the slot back; call once per successful {@link #enter}, in a {@code finally}. */
    public static void exit() {
        Gate.SEMAPHORE.release();
    }

    private static int requested() {
        String v = System.getProperty(PROPERTY);
        if (v == null || v.isBlank()) v = System.getenv(ENV);
        if (v == null || v.isBlank()) return Math.min(MAX_PERMITS, Runtime.getRuntime().availableProcessors());
        int n;
        try {
            n = Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            n = 0;
        }
        if (n < 1 || n > MAX_PERMITS) {
            throw new IllegalArgumentException(PROPERTY + "/" + ENV + ": expected an integer from 1 to " + MAX_PERMITS + ", got '" + v + "'");
        }
        return n;
    }

    /**
     * Takes {@code callers} slots, then up to {@code spare} more, while each mapping would still
     * succeed; frees them all.
     */
    private static Reserved reserve(int callers, int spare) {
        Calls c = SharedDowncalls.ON ? new SharedCalls() : new OwnCalls();
        List<MemorySegment> held = new ArrayList<>();
        int takenCallers = 0, takenSpares = 0;
        try {
            for (int i = 0; i < callers + spare; i++) {
                // Would OpenBLAS's mapping succeed now? Same protection and flags, so the address-space
                // limit and, under vm.overcommit_memory=2, the commit limit both answer as they would for it.
                long probeBytes = 2 * BUFFER_BYTES;
                MemorySegment probe = c.mmap(probeBytes);
                if (probe.address() == -1L) break;
                if (c.munmap(probe, probeBytes) != 0) throw new IllegalStateException("munmap of the probe mapping failed");
                MemorySegment slot = c.alloc();
                if (slot.address() == 0L) break; // the table is full (OpenBLAS printed why)
                held.add(slot);
                if (i < callers) takenCallers++; else takenSpares++;
            }
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("reserving OpenBLAS work buffers", t);
        } finally {
            for (MemorySegment slot : held) {
                try {
                    c.free(slot);
                } catch (Throwable t) {
                    throw new IllegalStateException("blas_memory_free", t);
                }
            }
        }
        return new Reserved(takenCallers, takenSpares);
    }

    /** The four C calls {@link #reserve} makes, once per JVM. */
    private interface Calls {
        MemorySegment mmap(long bytes) throws Throwable;

        int munmap(MemorySegment at, long bytes) throws Throwable;

        MemorySegment alloc() throws Throwable;

        void free(MemorySegment slot) throws Throwable;
    }

    /** Through the bindings' shared shape ({@link SharedDowncalls}): no descriptor of their own to link. */
    private static final class SharedCalls implements Calls {
        private final MemorySegment mmap = LINKER.defaultLookup().find("mmap").orElseThrow();
        private final MemorySegment munmap = LINKER.defaultLookup().find("munmap").orElseThrow();
        private final MemorySegment alloc = Natives.openblasLookup().find("blas_memory_alloc").orElseThrow();
        private final MemorySegment free = Natives.openblasLookup().find("blas_memory_free").orElseThrow();
        private static final MemorySegment Z = MemorySegment.NULL;

        @Override
        public MemorySegment mmap(long bytes) throws Throwable {
            return MemorySegment.ofAddress((long) SharedDowncalls.REGISTERS.invokeExact(mmap, Z, SharedDowncalls.integer(bytes),
                    SharedDowncalls.integer(PROT_READ_WRITE), SharedDowncalls.integer(MAP_PRIVATE_ANONYMOUS), SharedDowncalls.integer(-1),
                    SharedDowncalls.integer(0), 0f, 0f));
        }

        @Override
        public int munmap(MemorySegment at, long bytes) throws Throwable {
            return (int) (long) SharedDowncalls.REGISTERS.invokeExact(munmap, at, SharedDowncalls.integer(bytes), Z, Z, Z, Z, 0f, 0f);
        }

        @Override
        public MemorySegment alloc() throws Throwable {
            return MemorySegment.ofAddress((long) SharedDowncalls.REGISTERS.invokeExact(alloc, SharedDowncalls.integer(0), Z, Z, Z, Z, Z,
                    0f, 0f));
        }

        @Override
        public void free(MemorySegment slot) throws Throwable {
            long ignored = (long) SharedDowncalls.REGISTERS.invokeExact(free, slot, Z, Z, Z, Z, Z, 0f, 0f);
        }
    }

    /** Each through a handle of its own descriptor (where the shared shapes are off). */
    private static final class OwnCalls implements Calls {
        private final MethodHandle alloc = LINKER.downcallHandle(Natives.openblasLookup().find("blas_memory_alloc").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        private final MethodHandle free = LINKER.downcallHandle(Natives.openblasLookup().find("blas_memory_free").orElseThrow(),
                FunctionDescriptor.ofVoid(ValueLayout.ADDRESS));
        private final MethodHandle mmap = LINKER.downcallHandle(LINKER.defaultLookup().find("mmap").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT,
                        ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        private final MethodHandle munmap = LINKER.downcallHandle(LINKER.defaultLookup().find("munmap").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_LONG));

        @Override
        public MemorySegment mmap(long bytes) throws Throwable {
            return (MemorySegment) mmap.invokeExact(MemorySegment.NULL, bytes, PROT_READ_WRITE, MAP_PRIVATE_ANONYMOUS, -1, 0L);
        }

        @Override
        public int munmap(MemorySegment at, long bytes) throws Throwable {
            return (int) munmap.invokeExact(at, bytes);
        }

        @Override
        public MemorySegment alloc() throws Throwable {
            return (MemorySegment) alloc.invokeExact(0);
        }

        @Override
        public void free(MemorySegment slot) throws Throwable {
            free.invokeExact(slot);
        }
    }
}
