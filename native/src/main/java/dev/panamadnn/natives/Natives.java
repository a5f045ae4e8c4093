package dev.panamadnn.natives;

import dev.panamadnn.natives.internal.StartupLog;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Entry point to the native libraries: loads OpenBLAS and oneDNN once per JVM (see
 * {@link NativeLoader} for the order of places tried) and hands out their symbol lookups.
 * Thread-safe; the first call pays for loading (and, the first time on a machine, for
 * extracting the packaged libraries).
 *
 * <p>Run {@code java -m dev.panamadnn.natives/dev.panamadnn.natives.Natives} (or with this jar on
 * the class path) to print what loads and from where.
 */
public final class Natives {
    static final String NATIVE_ACCESS_HINT = "add --enable-native-access=dev.panamadnn.natives,"
            + "dev.panamadnn.bindings,dev.panamadnn to the java command (on the class path: "
            + "--enable-native-access=ALL-UNNAMED)";

    /** The {@link System.Logger} this module logs to (see the package documentation). */
    public static final String LOGGER = "dev.panamadnn.natives";

    private static NativeLoader.Result result;
    private static NativeLoadException failure;

    private Natives() {}

    /**
     * Loads both libraries if not yet loaded and reports what was loaded from where. The first
     * successful load logs it once at INFO on {@value #LOGGER} (see the package documentation).
     *
     * @return what was loaded, from where
     * @throws NativeLoadException listing every place tried, if a library cannot be loaded;
     *                             the same failure is rethrown on later calls
     */
    public static synchronized LoadReport load() {
        return loaded().report();
    }

    /** System property: {@code false} turns {@link #loadInBackground()} off (the natives then load at their first use). */
    public static final String PRELOAD_PROPERTY = "panamadnn.natives.preload";

    private static final AtomicBoolean PRELOAD = new AtomicBoolean();

    /**
     * Starts {@link #load()} on a thread of its own, once per JVM, and returns at once. The library's entry points that
     * come before its native work call it (building a layer, {@code Onnx.load}), so that loading the libraries - their
     * relocations and the FFM linker's first use, ~170-200 ms in a fresh JVM - overlaps building or importing the model
     * instead of starting the compile or the first forward pass. Measured on a 2-vCPU VM, old and new alternating in
     * fresh JVMs (docs/benchmarks.md, "Eleventh look"): ResNet-18 build + weights + compile + first run 0.925x, ONNX
     * import + compile + first run 0.931x. Nothing is started if native access is off for this module (the load would
     * only warn sooner) or {@value #PRELOAD_PROPERTY} is {@code false}. The thread is not a daemon: a JVM ending right
     * after it started waits for the libraries rather than exiting inside dlopen. A failure is kept and thrown to
     * whoever calls {@link #load()} next, as if that call had failed.
     */
    public static void loadInBackground() {
        if (PRELOAD.get() || !PRELOAD.compareAndSet(false, true)) return;
        if (!nativeAccessEnabled() || "false".equalsIgnoreCase(System.getProperty(PRELOAD_PROPERTY, "").strip())) return;
        Thread t = new Thread(() -> {
            try {
                load();
            } catch (RuntimeException | LinkageError e) {
                // kept by load() (a NativeLoadException) or met again by the next caller's load()
            }
        }, "panamadnn-natives-preload");
        t.start();
    }

    /** {@return the symbols of the loaded OpenBLAS (CBLAS and {@code openblas_*}), loading it first if needed} */
    public static SymbolLookup openblasLookup() {
        return loaded().lookups().get(NativeLibrary.OPENBLAS);
    }

    /** {@return the symbols of the loaded oneDNN and of its OpenMP runtime ({@code omp_*}), loading them first if needed} */
    public static SymbolLookup dnnlLookup() {
        return loaded().lookups().get(NativeLibrary.DNNL);
    }

    /** {@return whether this module may call restricted FFM methods without a JDK warning} */
    public static boolean nativeAccessEnabled() {
        return Natives.class.getModule().isNativeAccessEnabled();
    }

    private static synchronized NativeLoader.Result loaded() {
        if (result != null) return result;
        if (failure != null) throw failure;
        if (!nativeAccessEnabled()) {
            System.getLogger(LOGGER).log(System.Logger.Level.WARNING,
                    "Panama DNN: native access is not enabled for " + describeModule() + "; " + NATIVE_ACCESS_HINT
                    + ". This JDK may warn now; later JDKs refuse.");
        }
        try {
            ThreadControl.beforeLoad();
            NativeLoader.Result r = onLargeStack(() -> NativeLoader.fromSystem().load());
            result = r;
            ThreadControl.afterLoad(r.lookups().get(NativeLibrary.OPENBLAS), r.lookups().get(NativeLibrary.DNNL));
            LoadReport report = r.report();
            StartupLog.submit(() -> logLoaded(report));   // not inline: setting up the logging backend is 80-120 ms cold
            return r;
        } catch (NativeLoadException e) {
            failure = e;
            throw e;
        }
    }

    /**
     * The stack the libraries' loading runs on. oneDNN's static initializers, run by dlopen, need about 600 KiB of it
     * (a C thread of 256 KiB stack crashes in dlopen of libdnnl.so.3 alone): loading on a thread of 512 KiB or less (a JVM started with {@code -Xss256k}, a {@code Thread} made
     * with a small stack size) ended the JVM with a SIGSEGV, where no handler could run. So the load runs on a
     * platform thread of its own with this stack, once per JVM, whatever thread asks first.
     */
    static final long LOAD_STACK_BYTES = 16L << 20;

    /** {@code body} run on a new platform thread with a {@link #LOAD_STACK_BYTES} stack, waited for (interrupts kept). */
    private static NativeLoader.Result onLargeStack(java.util.function.Supplier<NativeLoader.Result> body) {
        NativeLoader.Result[] out = new NativeLoader.Result[1];
        Throwable[] thrown = new Throwable[1];
        Thread loader = new Thread(null, () -> {
            try {
                out[0] = body.get();
            } catch (Throwable t) {
                thrown[0] = t;
            }
        }, "panamadnn-natives-load", LOAD_STACK_BYTES);
        loader.setDaemon(true);
        loader.start();
        boolean interrupted = false;
        while (true) {
            try {
                loader.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;   // the load cannot be abandoned half way: finish it, then keep the flag
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        if (thrown[0] instanceof RuntimeException e) throw e;
        if (thrown[0] instanceof Error e) throw e;
        if (thrown[0] != null) throw new IllegalStateException(thrown[0]);
        return out[0];
    }

    /**
     * Once per JVM (on the {@link StartupLog} thread, after the first successful load): one INFO record
     * saying which library came from where and the thread setting, and the places tried at DEBUG.
     */
    private static void logLoaded(LoadReport report) {
        System.Logger log = System.getLogger(LOGGER);
        if (log.isLoggable(System.Logger.Level.INFO)) {
            var sb = new StringBuilder("Panama DNN natives loaded:");
            for (LoadReport.Library l : report.libraries()) {
                sb.append(' ').append(l.file()).append(' ').append(l.version()).append(" (")
                        .append(l.source()).append(": ").append(l.path()).append(");");
            }
            int threads = ThreadControl.threads();
            sb.append(" intra-op threads ").append(threads > 0 ? threads + " (" + ThreadControl.PROPERTY + ")"
                    : "library default " + ThreadControl.openmpMaxThreads());
            log.log(System.Logger.Level.INFO, sb.toString());
        }
        if (log.isLoggable(System.Logger.Level.DEBUG)) {
            for (LoadReport.Attempt a : report.attempts()) {
                log.log(System.Logger.Level.DEBUG, "Panama DNN natives: " + a.library() + " " + a.source()
                        + " " + a.location() + ": " + a.outcome());
            }
        }
    }

    private static String describeModule() {
        Module m = Natives.class.getModule();
        return m.isNamed() ? "module " + m.getName() : "the class path (unnamed module)";
    }

    /** {@code name}'s value in the C environment (what libgomp read, {@code setenv} included), or "(unset)". */
    private static String processEnvironment(String name) {
        Linker linker = Linker.nativeLinker();
        MethodHandle getenv = linker.downcallHandle(linker.defaultLookup().find("getenv").orElseThrow(),
                FunctionDescriptor.of(ThreadControl.cPointer(), ValueLayout.ADDRESS));
        try (Arena a = Arena.ofConfined()) {
            MemorySegment v = (MemorySegment) getenv.invokeExact(a.allocateFrom(name));
            return v.equals(MemorySegment.NULL) ? "(unset)" : v.getString(0);
        } catch (Throwable t) {
            throw new IllegalStateException("getenv(" + name + ")", t);
        }
    }

    /**
     * Prints what loads and from where; exits 1 with the full explanation if nothing does.
     *
     * @param args ignored
     */
    public static void main(String[] args) {
        try {
            LoadReport report = load();
            System.out.print(report);
            System.out.println("threads: openblas=" + ThreadControl.openblasThreads()
                    + " openmp(max, this thread)=" + ThreadControl.openmpMaxThreads());
            System.out.println("openmp wait: GOMP_SPINCOUNT=" + processEnvironment("GOMP_SPINCOUNT")
                    + " OMP_WAIT_POLICY=" + processEnvironment("OMP_WAIT_POLICY") + " (" + ThreadControl.openmpWait() + ")");
            System.out.println("openblas wait: OPENBLAS_THREAD_TIMEOUT=" + processEnvironment("OPENBLAS_THREAD_TIMEOUT")
                    + " (read by OpenBLAS: " + ThreadControl.openblasTimeoutRead() + ")");
        } catch (NativeLoadException e) {
            System.err.println(e.getMessage());
            System.exit(1);
        }
    }
}
