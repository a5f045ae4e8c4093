package dev.panamadnn.natives;

import java.lang.foreign.AddressLayout;
import dev.panamadnn.natives.internal.SharedDowncalls;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The one place that sets how many threads OpenBLAS and oneDNN (its OpenMP runtime) use per
 * call. Panama DNN is usually called from many Java threads at once; each native call then
 * fans out to this many threads, so callers x threads should not exceed the cores.
 *
 * <p>How it takes effect, and why: OpenBLAS has one global setting
 * ({@code openblas_set_num_threads}). OpenMP's {@code omp_set_num_threads} only affects the
 * calling thread; every other thread inherits the value libgomp read from
 * {@code OMP_NUM_THREADS} when it was loaded. So a count chosen before the libraries load
 * ({@value #PROPERTY} / {@value #ENV}, or {@link #setThreads} before first use) is also put into
 * the process environment for both libraries to read at start-up; a count changed later
 * applies to OpenBLAS at once and to OpenMP in each thread that calls
 * {@link #applyToCurrentThread()} (the layers do, before each oneDNN execution).
 *
 * <p>A oneDNN built on another CPU runtime ({@code scripts/build-natives --cpu-runtime tbb}: oneTBB) has no
 * {@code omp_*} functions and no per-thread team to set: {@link #openmp()} is false, the OpenMP calls here do
 * nothing, and oneDNN's primitives use every core (oneDNN has no C call that caps TBB's threads); OpenBLAS is
 * capped as always.
 *
 * <p>These three small downcalls live here rather than in the generated bindings because they
 * must work before and during loading. The other hand-made downcalls are java-api's
 * {@code internal.BlasCallers}, {@code internal.dnnl.HeldExecute} and
 * {@code internal.lifetime.ZeroPages} (see docs/safety.md); all other native calls go through
 * the generated bindings.
 */
public final class ThreadControl {
    /** System property with the intra-op thread count. */
    public static final String PROPERTY = "panamadnn.threads";
    /** Environment variable with the intra-op thread count (the property wins). */
    public static final String ENV = "PANAMADNN_THREADS";
    /**
     * System property: how libgomp's threads wait at a barrier or between parallel regions before they sleep.
     * {@value #ADAPTIVE} (the default): a long spin ({@value #CALM_SPIN_COUNT}) while the cores are free and a short one
     * ({@value #BUSY_SPIN_COUNT}) while other work wants them, switched by a daemon thread that watches the machine
     * (package documentation of {@code WaitGovernor}: docs/natives.md, "How OpenMP threads wait"); a count for a fixed
     * {@code GOMP_SPINCOUNT} (read once when libgomp loads); or {@code libgomp} for libgomp's own default (300,000
     * spins). Either of libgomp's own variables in the environment ({@code GOMP_SPINCOUNT}, {@code OMP_WAIT_POLICY})
     * wins over all of these, and no governor runs then.
     */
    public static final String SPIN_PROPERTY = "panamadnn.gomp.spincount";
    /** {@link #SPIN_PROPERTY}'s default: the spin follows whether the cores are free. */
    public static final String ADAPTIVE = "adaptive";
    /**
     * The adaptive wait's spin while the cores are free: libgomp's own default, about 3.5 ms of spinning on a 2-vCPU Xeon
     * VM (a {@code PAUSE} takes 11.7 ns there). A 2-thread ResNet-18 at batch 1 ran 5.2-5.4 ms a run with it against
     * 5.7-7.4 with 1,000, whose team mate slept and was woken ~15 times a run.
     */
    public static final String CALM_SPIN_COUNT = "300000";
    /**
     * The adaptive wait's spin while other work wants the cores: libgomp's "throttled" count under
     * {@code OMP_WAIT_POLICY=active}. With a longer spin, a thread waiting for a descheduled team mate burns its share
     * of a busy core: a 2-thread plan beside two CPU-bound processes had whole seconds at tens to hundreds of times its
     * quiet time; with 1,000 its slowest seconds stayed near ONNX Runtime's (docs/benchmarks.md, "libgomp's spin count").
     */
    public static final int BUSY_SPIN_COUNT = 1000;
    /**
     * System property: how long an idle OpenBLAS worker thread spins before it sleeps, as OpenBLAS's
     * {@code OPENBLAS_THREAD_TIMEOUT} (read once when OpenBLAS loads): {@code n} from 4 to 30 for 2<sup>n</sup> CPU cycles,
     * or {@code openblas} for OpenBLAS's own default (2<sup>28</sup> cycles, about 0.1 s); {@value #DEFAULT_OPENBLAS_TIMEOUT}
     * if unset. {@code OPENBLAS_THREAD_TIMEOUT} in the environment wins.
     */
    public static final String OPENBLAS_TIMEOUT_PROPERTY = "panamadnn.openblas.timeout";
    /**
     * The OpenBLAS spin set when nothing else is: 2<sup>16</sup> cycles, tens of microseconds. With OpenBLAS's default its
     * worker thread spins about 0.1 s after starting and after every multithreaded call, a core taken from everything
     * else: in a cold ONNX ResNet-18 start it burned ~80 ms of CPU right after loading, beside the import on a 2-vCPU VM
     * (docs/benchmarks.md, "Eleventh look"); back-to-back {@code sgemm} calls run as fast as with the default.
     */
    public static final String DEFAULT_OPENBLAS_TIMEOUT = "16";

    private static final Linker LINKER = Linker.nativeLinker();
    private static volatile int threads;           // 0: leave the libraries' defaults alone
    private static volatile boolean loaded;
    private static volatile String wait = "not loaded";   // how libgomp waits, for openmpWait()
    private static boolean adaptive;                       // set before load: start the governor after it
    private static Fn openblasSet, openblasGet, openblasTimeout, ompSet, ompGetMax;   // null where absent (ompSet, ompGetMax: not on OpenMP)
    private static final ThreadLocal<int[]> APPLIED = ThreadLocal.withInitial(() -> new int[1]);

    private ThreadControl() {}

    /**
     * The most intra-op threads any count accepts (this class, {@link OpenMpTeam}, a plan's options): more cores than
     * the machines this runs on have, and far below what makes thread creation fail. Without a limit, a count of
     * 10,000 ended the JVM with a SIGSEGV when the first parallel region tried to start that many OpenMP threads
     * (2-vCPU, 24 GiB VM; 4,000 still ran).
     */
    public static final int MAX_THREADS = 1024;

    /** {@code n} if it is a thread count from 1 to {@link #MAX_THREADS}; else an exception naming {@code where}. */
    static int checkThreads(String where, int n) {
        if (n < 1 || n > MAX_THREADS) {
            throw new IllegalArgumentException(where + ": expected a thread count from 1 to " + MAX_THREADS + ", got " + n);
        }
        return n;
    }

    /**
     * Sets the intra-op thread count of both libraries.
     *
     * @param n the thread count, at least 1
     * @throws IllegalArgumentException if {@code n} is not from 1 to {@link #MAX_THREADS}
     */
    public static synchronized void setThreads(int n) {
        checkThreads("ThreadControl.setThreads", n);
        threads = n;
        if (loaded) {
            invoke(openblasSet, n);
            applyToCurrentThread();
        }
    }

    /** {@return the configured count, or 0 if none was set (the libraries then use every core)} */
    public static int threads() {
        return threads;
    }

    /** Makes the calling thread's OpenMP regions use the configured count (cheap when unchanged). */
    public static void applyToCurrentThread() {
        int n = threads;
        int[] applied = APPLIED.get();
        if (n > 0 && loaded && ompSet != null && applied[0] != n) {
            invoke(ompSet, n);
            applied[0] = n;
        }
    }

    /**
     * Makes the calling OS thread's OpenMP regions use {@code n} threads, always calling
     * {@code omp_set_num_threads} (about 20 ns; no per-thread caching, so it is also right on a
     * virtual thread that moved to another carrier). For callers that pin their own count, such
     * as a compiled plan before each run.
     *
     * @param n the thread count, at least 1
     * @throws IllegalArgumentException if {@code n} is not from 1 to {@link #MAX_THREADS}
     */
    public static void applyToCurrentThread(int n) {
        checkThreads("ThreadControl.applyToCurrentThread", n);
        Natives.load();
        if (ompSet == null) return;   // oneDNN is not on OpenMP: no per-thread team
        invoke(ompSet, n);
        APPLIED.get()[0] = n;
    }

    /**
     * {@return the {@code OPENBLAS_THREAD_TIMEOUT} OpenBLAS read when it loaded ({@code openblas_thread_timeout}; 0 if none
     * was set), or -1 if this OpenBLAS does not export it}
     */
    static int openblasTimeoutRead() {
        Natives.load();
        return openblasTimeout == null ? -1 : invokeInt(openblasTimeout);
    }

    /** {@return OpenBLAS's current thread count ({@code openblas_get_num_threads})} */
    public static int openblasThreads() {
        Natives.load();
        return invokeInt(openblasGet);
    }

    /**
     * {@return OpenMP's maximum team size for the calling thread ({@code omp_get_max_threads}); for a oneDNN not on
     * OpenMP ({@link #openmp()} false), the cores this JVM may use, which that runtime's primitives spread over}
     */
    public static int openmpMaxThreads() {
        Natives.load();
        return ompGetMax != null ? invokeInt(ompGetMax) : Runtime.getRuntime().availableProcessors();
    }

    /**
     * {@return whether the loaded oneDNN runs its primitives on OpenMP (libgomp), as the packaged one does; false for
     * one built on another CPU runtime (oneTBB), whose thread count this class cannot set}
     */
    public static boolean openmp() {
        Natives.load();
        return ompSet != null;
    }

    /**
     * {@return how libgomp's threads wait before they sleep: adaptive (the default), a fixed spin count, libgomp's own, or
     * as the environment configured it} See {@link #SPIN_PROPERTY}.
     */
    public static String openmpWait() {
        Natives.load();
        WaitGovernor g = WaitGovernor.running();
        if (g == null) return wait;
        if (g.failed()) return "fixed: GOMP_SPINCOUNT=" + CALM_SPIN_COUNT + " (the adaptive wait stopped: no libgomp calls or /proc here)";
        return wait + (g.holding() ? "; now short (contended)" : "; now long (calm)");
    }

    static synchronized void beforeLoad() {
        if (threads == 0) {
            String v = System.getProperty(PROPERTY);
            if (v == null || v.isBlank()) v = System.getenv(ENV);
            if (v != null && !v.isBlank()) {
                try {
                    setThreads(Integer.parseInt(v.strip()));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(PROPERTY + "/" + ENV + ": expected a thread count from 1 to " + MAX_THREADS + ", got '" + v + "'");
                }
            }
        }
        Map<String, String> env = new LinkedHashMap<>();
        if (threads > 0) {
            env.put("OMP_NUM_THREADS", Integer.toString(threads));
            env.put("OPENBLAS_NUM_THREADS", Integer.toString(threads));
        }
        // libgomp reads GOMP_SPINCOUNT and OMP_WAIT_POLICY once, when it is loaded (next): the environment's own setting,
        // else ours. Not without native access (setenv's downcall is restricted): that load fails next with the hint.
        adaptive = false;
        if (System.getenv("GOMP_SPINCOUNT") != null || System.getenv("OMP_WAIT_POLICY") != null) {
            wait = "libgomp as the environment sets it (GOMP_SPINCOUNT=" + System.getenv("GOMP_SPINCOUNT")
                    + ", OMP_WAIT_POLICY=" + System.getenv("OMP_WAIT_POLICY") + ")";
        } else if (Natives.nativeAccessEnabled()) {
            String spin = spinCount(System.getProperty(SPIN_PROPERTY));
            if (spin == null) {
                wait = "libgomp's own spin";
            } else if (spin.equals(ADAPTIVE)) {
                // the throttled count (BUSY_SPIN_COUNT) comes with the active policy; the policy is removed again after
                // the load, so no other OpenMP runtime in the process reads it
                env.put("GOMP_SPINCOUNT", CALM_SPIN_COUNT);
                env.put("OMP_WAIT_POLICY", "active");
                adaptive = true;
            } else {
                env.put("GOMP_SPINCOUNT", spin);
                wait = "fixed: GOMP_SPINCOUNT=" + spin;
            }
        } else {
            wait = "libgomp's own spin (no native access to set another)";
        }
        // OpenBLAS reads OPENBLAS_THREAD_TIMEOUT once, when it is loaded (next), and starts its worker threads then
        if (System.getenv("OPENBLAS_THREAD_TIMEOUT") == null && Natives.nativeAccessEnabled()) {
            String timeout = openblasTimeout(System.getProperty(OPENBLAS_TIMEOUT_PROPERTY));
            if (timeout != null) env.put("OPENBLAS_THREAD_TIMEOUT", timeout);
        }
        if (!env.isEmpty()) setenv(env);
    }

    /** The OPENBLAS_THREAD_TIMEOUT to set for the property's value {@code v} (null: leave OpenBLAS's default). */
    static String openblasTimeout(String v) {
        if (v == null || v.isBlank()) return DEFAULT_OPENBLAS_TIMEOUT;
        String s = v.strip();
        if (s.equals("openblas")) return null;
        int n = s.matches("[0-9]{1,2}") ? Integer.parseInt(s) : -1;
        if (n < 4 || n > 30) {
            throw new IllegalArgumentException(OPENBLAS_TIMEOUT_PROPERTY + ": expected 4 to 30 (2^n cycles) or 'openblas', got '" + v + "'");
        }
        return Integer.toString(n);
    }

    /** {@return the GOMP_SPINCOUNT to set for the property's value {@code v}: a count, {@link #ADAPTIVE}, or null (libgomp's own)} */
    static String spinCount(String v) {
        if (v == null || v.isBlank()) return ADAPTIVE;
        String s = v.strip();
        if (s.equals("libgomp")) return null;
        if (s.equals(ADAPTIVE)) return ADAPTIVE;
        if (!s.matches("[0-9]{1,15}")) {
            throw new IllegalArgumentException(SPIN_PROPERTY + ": expected 'adaptive', a spin count (0 or more) or 'libgomp', got '" + v + "'");
        }
        return s;
    }

    static synchronized void afterLoad(SymbolLookup openblas, SymbolLookup dnnl) {
        openblasSet = handle(openblas, "openblas_set_num_threads", FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
        openblasGet = handle(openblas, "openblas_get_num_threads", FunctionDescriptor.of(ValueLayout.JAVA_INT));
        openblasTimeout = optionalHandle(openblas, "openblas_thread_timeout", FunctionDescriptor.of(ValueLayout.JAVA_INT));
        // Absent from a oneDNN built on another CPU runtime (TBB): then there is no OpenMP team to set.
        ompSet = optionalHandle(dnnl, "omp_set_num_threads", FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
        ompGetMax = optionalHandle(dnnl, "omp_get_max_threads", FunctionDescriptor.of(ValueLayout.JAVA_INT));
        OpenMpTeam.afterLoad(dnnl);
        if (adaptive) {
            setenv(java.util.Collections.singletonMap("OMP_WAIT_POLICY", null));
            if (ompSet == null) {
                wait = "no OpenMP: this oneDNN runs on another threading runtime";
            } else {
                WaitGovernor.start(dnnl, () -> threads > 0 ? threads : Integer.MAX_VALUE);
                wait = "adaptive: " + CALM_SPIN_COUNT + " spins while the cores are free, " + BUSY_SPIN_COUNT + " while other work wants them";
            }
        }
        loaded = true;
        if (threads > 0) {
            invoke(openblasSet, threads);
            applyToCurrentThread();
        }
    }

    private static Fn optionalHandle(SymbolLookup lookup, String name, FunctionDescriptor fd) {
        return lookup.find(name).map(addr -> Fn.of(addr, fd)).orElse(null);
    }

    private static Fn handle(SymbolLookup lookup, String name, FunctionDescriptor fd) {
        MemorySegment addr = lookup.find(name).orElseThrow(() -> new UnsatisfiedLinkError(
                "ThreadControl: symbol " + name + " not found in the loaded library"));
        return Fn.of(addr, fd);
    }

    /**
     * A C function called from here: through {@link SharedDowncalls#REGISTERS} with its {@code address} on x86-64 Linux
     * (no descriptor of its own to link: every oneDNN call of that shape links it anyway), else through {@code exact}, its
     * own handle (null there).
     */
    private record Fn(MemorySegment address, MethodHandle exact) {
        static Fn of(MemorySegment address, FunctionDescriptor fd) {
            return new Fn(address, SharedDowncalls.ON ? null : LINKER.downcallHandle(address, fd));
        }
    }

    /**
     * The pointer layout the generated bindings use for every pointer (their C_POINTER). Made per use, not in a static
     * field: withTargetLayout is restricted.
     */
    static AddressLayout cPointer() {
        return ValueLayout.ADDRESS.withTargetLayout(MemoryLayout.sequenceLayout(Long.MAX_VALUE, ValueLayout.JAVA_BYTE));
    }

    /**
     * Puts each variable into the process environment (C's setenv, overwriting), or removes it where its value is null
     * (unsetenv): on x86-64 Linux through {@link SharedDowncalls#REGISTERS} (nothing of their own to link on the load's
     * path), else linking each function's own descriptor.
     */
    private static void setenv(Map<String, String> variables) {
        for (Map.Entry<String, String> v : variables.entrySet()) {
            boolean unset = v.getValue() == null;
            String function = unset ? "unsetenv" : "setenv";
            MemorySegment fn = LINKER.defaultLookup().find(function).orElseThrow();
            try (Arena tmp = Arena.ofConfined()) {
                MemorySegment n = MemorySegment.NULL, key = tmp.allocateFrom(v.getKey()), value = unset ? n : tmp.allocateFrom(v.getValue());
                int rc;
                if (SharedDowncalls.ON) {
                    rc = (int) (long) SharedDowncalls.REGISTERS.invokeExact(fn, key, value, SharedDowncalls.integer(1), n, n, n, 0f, 0f);
                } else if (unset) {
                    rc = (int) LINKER.downcallHandle(fn, FunctionDescriptor.of(ValueLayout.JAVA_INT, cPointer())).invokeExact(key);
                } else {
                    rc = (int) LINKER.downcallHandle(fn, FunctionDescriptor.of(ValueLayout.JAVA_INT, cPointer(), cPointer(), ValueLayout.JAVA_INT))
                            .invokeExact(key, value, 1);
                }
                if (rc != 0) throw new IllegalStateException(function + "(" + v.getKey() + ") failed with " + rc);
            } catch (RuntimeException | Error e) {
                throw e;
            } catch (Throwable t) {
                throw new IllegalStateException(function + "(" + v.getKey() + ")", t);
            }
        }
    }

    private static void invoke(Fn f, int n) {
        try {
            if (SharedDowncalls.ON) {
                MemorySegment z = MemorySegment.NULL;
                long ignored = (long) SharedDowncalls.REGISTERS.invokeExact(f.address(), SharedDowncalls.integer(n), z, z, z, z, z, 0f, 0f);
            } else {
                f.exact().invokeExact(n);
            }
        } catch (Throwable t) {
            throw new IllegalStateException("thread-count call failed", t);
        }
    }

    private static int invokeInt(Fn f) {
        try {
            MemorySegment z = MemorySegment.NULL;
            return SharedDowncalls.ON ? (int) (long) SharedDowncalls.REGISTERS.invokeExact(f.address(), z, z, z, z, z, z, 0f, 0f)
                    : (int) f.exact().invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException("thread-count query failed", t);
        }
    }
}
