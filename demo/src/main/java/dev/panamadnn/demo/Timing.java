package dev.panamadnn.demo;

/** Best-of-N wall-clock timing for the demo's printouts (orientation only; JMH measures). */
final class Timing {
    private Timing() {}

    /** Best time of {@code runs} runs after one warm-up, in milliseconds. */
    static double bestMs(int runs, Runnable r) {
        r.run();
        long best = Long.MAX_VALUE;
        for (int i = 0; i < runs; i++) {
            long t0 = System.nanoTime();
            r.run();
            best = Math.min(best, System.nanoTime() - t0);
        }
        return best / 1e6;
    }
}
