package dev.panamadnn.natives;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.Arrays;

/**
 * Runs a Java body on an OpenMP thread team: the same team (libgomp's pool of the calling
 * thread) that oneDNN's primitives fan out to, through libgomp's {@code GOMP_parallel} and an
 * FFM upcall. For Java kernels between oneDNN primitives (the compiled plan's Winograd
 * transforms): a second, Java thread pool would compete for the cores with OpenMP's workers,
 * which spin for a while after each primitive; the team's own threads are the ones spinning.
 * A team thread is attached to the JVM (as a daemon) on its first upcall and stays attached;
 * a warm run costs about a microsecond per {@link #run}.
 *
 * <p>{@link #available()} is false when the loaded oneDNN brings no libgomp (another
 * threading runtime); callers then run their body on one thread. The body must not throw: a
 * throwable escaping an upcall would end the JVM, so it is caught on the team thread and
 * rethrown by {@link #run} on the caller. One {@code run} at a time per team object.
 */
public final class OpenMpTeam implements AutoCloseable {
    /** The work of one team thread. */
    @FunctionalInterface
    public interface Body {
        /**
         * Called once on each team thread; the caller is thread 0.
         *
         * @param thread  this thread's index, in {@code [0, threads)}
         * @param threads the team's size
         */
        void run(int thread, int threads);
    }

    private static final Linker LINKER = Linker.nativeLinker();
    private static final Object LOCK = new Object();
    private static volatile OpenMpTeam[] registry = new OpenMpTeam[8];
    private static volatile MemorySegment[] symbols;    // GOMP_parallel, omp_get_thread_num, omp_get_num_threads; null: no libgomp
    private static MethodHandle parallel, threadNum, numThreads;   // linked by link(), before the first team is published
    private static volatile MemorySegment stub;

    private final Body body;
    private final int id;
    private final MemorySegment data;
    private volatile Throwable failure;
    private boolean closed;

    private OpenMpTeam(Body body, int id) {
        this.body = body;
        this.id = id;
        this.data = MemorySegment.ofAddress(id);
    }

    /**
     * Finds libgomp's symbols; linking them (three downcall handles and the upcall stub, 15-30 ms
     * in a fresh JVM) waits for the first {@link #of}, so a JVM that never runs a team never pays it.
     */
    static synchronized void afterLoad(SymbolLookup dnnl) {
        MemorySegment p = dnnl.find("GOMP_parallel").orElse(null);
        MemorySegment t = dnnl.find("omp_get_thread_num").orElse(null);
        MemorySegment n = dnnl.find("omp_get_num_threads").orElse(null);
        if (p == null || t == null || n == null) return;
        symbols = new MemorySegment[] {p, t, n};
    }

    /** Links the upcall stub and the downcalls once (under {@link #LOCK}, before the first team exists). */
    private static void link() {
        if (stub != null) return;
        MemorySegment[] s = symbols;
        try {
            MethodHandle target = MethodHandles.lookup().findStatic(OpenMpTeam.class, "upcall",
                    MethodType.methodType(void.class, MemorySegment.class));
            threadNum = LINKER.downcallHandle(s[1], FunctionDescriptor.of(ValueLayout.JAVA_INT));
            numThreads = LINKER.downcallHandle(s[2], FunctionDescriptor.of(ValueLayout.JAVA_INT));
            parallel = LINKER.downcallHandle(s[0], FunctionDescriptor.ofVoid(ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT));
            stub = LINKER.upcallStub(target, FunctionDescriptor.ofVoid(ValueLayout.ADDRESS), Arena.global());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("OpenMpTeam: upcall target", e);
        }
    }

    /** {@return whether the loaded natives have libgomp's {@code GOMP_parallel} (oneDNN built with OpenMP, as the packaged one is)} */
    public static boolean available() {
        Natives.load();
        return symbols != null;
    }

    /**
     * A team object for {@code body}, to {@link #run} any number of times and then {@link #close}.
     *
     * @param body the work of each team thread
     * @return the team object, owned by the caller (close it)
     * @throws IllegalStateException if not {@link #available()}
     */
    public static OpenMpTeam of(Body body) {
        if (body == null) throw new IllegalArgumentException("OpenMpTeam.of: body must not be null");
        if (!available()) throw new IllegalStateException("OpenMpTeam: the loaded oneDNN has no OpenMP runtime (GOMP_parallel not found)");
        synchronized (LOCK) {
            link();
            OpenMpTeam[] r = registry;
            int id = 0;
            while (id < r.length && r[id] != null) id++;
            if (id == r.length) r = Arrays.copyOf(r, r.length * 2);
            else r = r.clone();
            OpenMpTeam team = new OpenMpTeam(body, id);
            r[id] = team;
            registry = r;
            return team;
        }
    }

    /**
     * Runs the body on a team of {@code threads} threads (0: the calling thread's OpenMP default,
     * see {@link ThreadControl#applyToCurrentThread(int)}) and waits for all of them.
     *
     * @param threads the team size, or 0 for the default
     * @throws IllegalStateException if closed, or wrapping what the body threw on a team thread
     */
    public void run(int threads) {
        if (closed) throw new IllegalStateException("OpenMpTeam: closed");
        if (threads != 0) ThreadControl.checkThreads("OpenMpTeam.run (0 = the default)", threads);
        failure = null;
        MemorySegment upcall = stub;      // volatile read first: link() wrote the handles before it
        try {
            parallel.invokeExact(upcall, data, threads, 0);
        } catch (Throwable t) {
            throw new IllegalStateException("OpenMpTeam: GOMP_parallel failed", t);
        }
        Throwable f = failure;
        if (f != null) {
            failure = null;
            if (f instanceof RuntimeException e) throw e;
            if (f instanceof Error e) throw e;
            throw new IllegalStateException("OpenMpTeam: a team thread failed", f);
        }
    }

    /** Frees this team's registry slot. */
    @Override
    public void close() {
        synchronized (LOCK) {
            if (closed) return;
            closed = true;
            OpenMpTeam[] r = registry.clone();
            r[id] = null;
            registry = r;
        }
    }

    /** The upcall each team thread makes: never lets a throwable out (that would end the JVM). */
    private static void upcall(MemorySegment data) {
        OpenMpTeam team = null;
        try {
            team = registry[(int) data.address()];
            int t = (int) threadNum.invokeExact(), n = (int) numThreads.invokeExact();
            team.body.run(t, n);
        } catch (Throwable e) {
            if (team != null) team.failure = e;
        }
    }
}
