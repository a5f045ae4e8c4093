package dev.panamadnn.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** The concurrency tests' shared harness: N threads, started together, each running one body. */
final class ManyThreads {
    private ManyThreads() {}

    /** What one thread does; {@code thread} is 0..threads-1. Failures propagate to the test. */
    @FunctionalInterface
    interface Body {
        void run(int thread) throws Exception;
    }

    /**
     * Runs {@code body} on {@code threads} platform threads, or on as many virtual threads, all
     * released at once by a barrier so the calls really overlap; rethrows the first failure.
     */
    static void run(boolean virtual, int threads, Body body) throws Exception {
        var barrier = new CyclicBarrier(threads);
        try (ExecutorService pool = virtual ? Executors.newVirtualThreadPerTaskExecutor() : Executors.newFixedThreadPool(threads)) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int thread = t;
                futures.add(pool.submit(() -> {
                    barrier.await();
                    body.run(thread);
                    return null;
                }));
            }
            for (Future<?> f : futures) f.get();
        }
    }
}
