package dev.panamadnn.natives.internal;

import java.util.ArrayDeque;

/**
 * Writes the once-per-JVM start-up records (the natives module's "what was loaded from where", the
 * API's "how this JVM will compute") on a thread of their own, in the order they were submitted.
 *
 * <p>Why: the first record a JVM writes through {@link System.Logger} sets up the logging backend
 * (JUL's LogManager, its formatter, the time zone and locale data for the timestamp) and the runtime
 * record links a few more native functions: 80-120 ms on the 2-core dev VM, which the caller's first
 * result need not wait for. The records and their content are the same as when written inline.
 *
 * <p>The thread is a non-daemon thread that ends as soon as the queue is empty, so a short program
 * that exits right after its first native call still gets every record, and no thread stays behind.
 * A task that throws is dropped; nothing here may fail the caller. Not part of the API: exported
 * only to {@code dev.panamadnn}.
 */
public final class StartupLog {
    private static final ArrayDeque<Runnable> QUEUE = new ArrayDeque<>();
    private static boolean draining;

    private StartupLog() {}

    /**
     * Queues {@code record} to run after every record submitted before it, on the start-up log thread.
     *
     * @param record what to log (it may call native code: the natives are loaded)
     */
    public static void submit(Runnable record) {
        synchronized (QUEUE) {
            QUEUE.add(record);
            if (draining) return;
            draining = true;
        }
        Thread t = new Thread(StartupLog::drain, "panama-dnn-startup-log");
        t.setDaemon(false);
        try {
            t.start();
        } catch (Throwable e) {          // no thread to be had (OutOfMemoryError, a restricted thread factory): write inline
            drain();
        }
    }

    private static void drain() {
        while (true) {
            Runnable next;
            synchronized (QUEUE) {
                next = QUEUE.poll();
                if (next == null) {
                    draining = false;
                    return;
                }
            }
            try {
                next.run();
            } catch (RuntimeException | Error e) {
                // a record that cannot be written is not worth failing anything for
            }
        }
    }
}
