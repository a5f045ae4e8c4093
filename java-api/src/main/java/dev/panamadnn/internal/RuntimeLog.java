package dev.panamadnn.internal;

import dev.panamadnn.NativeRuntime;
import dev.panamadnn.natives.ThreadControl;
import dev.panamadnn.natives.internal.StartupLog;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one INFO record of how this JVM will compute, written once after the first native use of the
 * API (after the natives module's own record of what was loaded from where, on the same thread): oneDNN's version and
 * the instruction set it dispatches to, OpenBLAS's kernel set and threads, and whether the compiled
 * plan's Winograd convolutions can run. Logger {@value #LOGGER}; route or silence it as any
 * {@link System.Logger}.
 */
public final class RuntimeLog {
    /** The logger of the API's runtime records. */
    public static final String LOGGER = "dev.panamadnn";

    private static final AtomicBoolean LOGGED = new AtomicBoolean();

    private RuntimeLog() {}

    /**
     * Logs the runtime once per JVM, on the start-up log thread after the natives' record (describing it
     * links a few more native functions, and the first record starts the logging backend: neither needs
     * to delay the caller); later calls return at once.
     */
    public static void once() {
        if (LOGGED.get() || !LOGGED.compareAndSet(false, true)) return;
        StartupLog.submit(RuntimeLog::write);
    }

    private static void write() {
        ThreadControl.applyToCurrentThread();   // so the OpenMP thread count read below is the configured one
        System.Logger log = System.getLogger(LOGGER);
        if (!log.isLoggable(System.Logger.Level.INFO)) return;
        NativeRuntime rt = NativeRuntime.describe();
        boolean winograd = ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
        log.log(System.Logger.Level.INFO, "Panama DNN runtime: oneDNN " + rt.onednnVersion() + " (" + rt.onednnHash()
                + "), ISA " + rt.cpuIsa() + ", " + (rt.cpuRuntime().equals("OpenMP") ? "OpenMP threads " + rt.openmpThreads()
                : rt.cpuRuntime() + " runtime over " + rt.openmpThreads() + " cores") + "; OpenBLAS " + rt.openblasCore()
                + ", threads " + rt.openblasThreads() + "; Winograd convolutions "
                + (winograd ? "available (jdk.incubator.vector is present)"
                        : "off (start the JVM with --add-modules jdk.incubator.vector to enable them)"));
    }
}
