package dev.panamadnn.blas;

import dev.panamadnn.Blas;
import dev.panamadnn.bindings.cblas.cblas_h;
import dev.panamadnn.internal.BlasCallers;
import dev.panamadnn.natives.Natives;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Address-space pressure on OpenBLAS, run in a child JVM by {@link OpenBlasAddressSpaceTest}
 * (OpenBLAS ends the process with {@code exit(1)} when a work buffer cannot be mapped, so this
 * must not run inside the test JVM).
 *
 * <p>Two moments to apply the pressure ({@code when}):
 * <ul>
 *   <li>{@code after}: one warm-up sgemm on the main thread (so OpenBLAS has the buffers one
 *       caller needs, and {@link Blas} has reserved its own), then {@code callers} platform
 *       threads are started and parked, the process's own {@code RLIMIT_AS} is lowered to its
 *       current size plus {@code headroomMiB} (less than one 128 MiB OpenBLAS buffer), and the
 *       threads are released at once to make {@code calls} sgemms each. More concurrent callers
 *       than OpenBLAS has buffers for means it maps a new one, which the limit refuses.</li>
 *   <li>{@code before}: the limit is lowered right after loading, before any sgemm.</li>
 * </ul>
 * Arguments: {@code api|raw before|after callers calls headroomMiB}. {@code api} calls
 * {@link Blas#sgemm}; {@code raw} calls {@code cblas_sgemm} through the generated binding
 * directly (the library's own behaviour, no gate).
 *
 * <p>Prints {@code pressure <mode>: N calls, C completed, R refused, U unexpected} and exits 0
 * if it survives. A call is completed if its result matches the plain-Java reference, refused if
 * it threw {@link IllegalStateException}, unexpected otherwise.
 */
public final class OpenBlasPressure {
    // m = n = k: far above OpenBLAS's small-matrix path (M*N*K <= 100^3, no buffer), and a call
    // (~10 ms) outlasts a scheduler slice, so the released callers are inside OpenBLAS together.
    static final int N = 512;
    private static final int RLIMIT_AS = 9; // Linux, all architectures we ship

    private OpenBlasPressure() {}

    public static void main(String[] args) throws Throwable {
        boolean raw = args[0].equals("raw");
        boolean limitBeforeFirstUse = args[1].equals("before");
        int callers = Integer.parseInt(args[2]);
        int calls = Integer.parseInt(args[3]);
        long headroom = Long.parseLong(args[4]) << 20;

        Natives.load();
        Arena arena = Arena.ofShared();
        var rnd = new SplittableRandom(20261211);
        float[] av = new float[N * N], bv = new float[N * N];
        for (int i = 0; i < av.length; i++) {
            av[i] = (float) rnd.nextDouble(-1, 1);
            bv[i] = (float) rnd.nextDouble(-1, 1);
        }
        MemorySegment a = arena.allocateFrom(ValueLayout.JAVA_FLOAT, av);
        MemorySegment b = arena.allocateFrom(ValueLayout.JAVA_FLOAT, bv);
        MemorySegment expected = arena.allocate(ValueLayout.JAVA_FLOAT, (long) N * N);
        Blas.sgemmReference(false, false, N, N, N, 1f, a, N, b, N, 0f, expected, N);
        var completed = new AtomicInteger();
        var refused = new AtomicInteger();
        var unexpected = new AtomicInteger();
        var firstRefusal = new AtomicReference<String>();

        List<MemorySegment> outputs = new ArrayList<>();
        for (int t = 0; t < callers; t++) outputs.add(arena.allocate(ValueLayout.JAVA_FLOAT, (long) N * N));
        var go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < callers; t++) {
            MemorySegment c = outputs.get(t);
            threads.add(Thread.ofPlatform().name("caller-" + t).start(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new AssertionError(e);
                }
                for (int i = 0; i < calls; i++) {
                    try {
                        c.fill((byte) 0);
                        sgemm(raw, a, b, c);
                        int at = firstDifference(c, expected);
                        if (at < 0) {
                            completed.incrementAndGet();
                        } else {
                            unexpected.incrementAndGet();
                            System.out.println("unexpected: C[" + at + "] = " + c.getAtIndex(ValueLayout.JAVA_FLOAT, at)
                                    + ", the reference has " + expected.getAtIndex(ValueLayout.JAVA_FLOAT, at));
                        }
                    } catch (IllegalStateException e) {
                        refused.incrementAndGet();
                        firstRefusal.compareAndSet(null, e.getMessage());
                    } catch (Throwable e) {
                        unexpected.incrementAndGet();
                        System.out.println("unexpected: " + e);
                    }
                }
            }));
        }

        // The callers' threads exist (stacks mapped) before the limit, so only OpenBLAS feels it.
        if (!limitBeforeFirstUse) sgemm(raw, a, b, arena.allocate(ValueLayout.JAVA_FLOAT, (long) N * N)); // warm-up
        long size = vmSize();
        long[] old = setAddressSpaceLimit(size + headroom);
        System.out.printf("pressure: VmSize %d MiB, RLIMIT_AS lowered to %d MiB (%d MiB headroom) %s first use, %d callers%n",
                size >> 20, (size + headroom) >> 20, headroom >> 20, limitBeforeFirstUse ? "before" : "after", callers);
        if (!raw) System.out.println(BlasCallers.describe()); // first use, when limitBeforeFirstUse
        System.out.flush();
        go.countDown();
        for (Thread t : threads) t.join();
        setAddressSpaceLimit(old[0]);

        System.out.printf("pressure %s: %d calls, %d completed, %d refused, %d unexpected%n", raw ? "raw" : "api",
                callers * calls, completed.get(), refused.get(), unexpected.get());
        if (firstRefusal.get() != null) System.out.println("first refusal: " + firstRefusal.get());
    }

    /**
     * The first index where {@code c} and the reference differ by more than 1e-3: a 512-term
     * dot product of values in [-1, 1], summed in another order by OpenBLAS, is off by ~1e-5.
     */
    private static int firstDifference(MemorySegment c, MemorySegment expected) {
        for (int i = 0; i < N * N; i++) {
            if (!(Math.abs(c.getAtIndex(ValueLayout.JAVA_FLOAT, i) - expected.getAtIndex(ValueLayout.JAVA_FLOAT, i)) <= 1e-3f)) return i;
        }
        return -1;
    }

    private static void sgemm(boolean raw, MemorySegment a, MemorySegment b, MemorySegment c) {
        if (raw) {
            cblas_h.cblas_sgemm(cblas_h.CblasRowMajor(), cblas_h.CblasNoTrans(), cblas_h.CblasNoTrans(), N, N, N, 1f,
                    a, N, b, N, 0f, c, N);
        } else {
            Blas.sgemm(false, false, N, N, N, 1f, a, N, b, N, 0f, c, N);
        }
    }

    static long vmSize() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmSize:")) return Long.parseLong(line.replaceAll("\\D", "")) << 10;
        }
        throw new IllegalStateException("no VmSize in /proc/self/status");
    }

    /** Sets the soft RLIMIT_AS to {@code bytes} (the hard limit stays); returns the old {soft, hard}. */
    static long[] setAddressSpaceLimit(long bytes) throws Throwable {
        Linker linker = Linker.nativeLinker();
        var fd = FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS);
        MethodHandle get = linker.downcallHandle(linker.defaultLookup().find("getrlimit").orElseThrow(), fd);
        MethodHandle set = linker.downcallHandle(linker.defaultLookup().find("setrlimit").orElseThrow(), fd);
        try (Arena tmp = Arena.ofConfined()) {
            MemorySegment rlimit = tmp.allocate(MemoryLayout.sequenceLayout(2, ValueLayout.JAVA_LONG));
            if ((int) get.invokeExact(RLIMIT_AS, rlimit) != 0) throw new IllegalStateException("getrlimit failed");
            long[] old = rlimit.toArray(ValueLayout.JAVA_LONG);
            rlimit.setAtIndex(ValueLayout.JAVA_LONG, 0, bytes);
            if ((int) set.invokeExact(RLIMIT_AS, rlimit) != 0) throw new IllegalStateException("setrlimit failed: " + Arrays.toString(old));
            return old;
        }
    }
}
