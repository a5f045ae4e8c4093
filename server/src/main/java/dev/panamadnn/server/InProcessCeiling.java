package dev.panamadnn.server;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.demo.Digits;
import dev.panamadnn.nn.Sequential;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The in-process ceiling {@code scripts/loadtest} compares the server with: the digits model's
 * compiled plan run back to back by {@code threads} threads (each plan with {@code intraOp} threads,
 * default 1 as the server's instances) at batch {@code batch}, reporting samples per second.
 * Usage: {@code InProcessCeiling BATCH THREADS SECONDS [INTRA_OP]}.
 */
public final class InProcessCeiling {
    private InProcessCeiling() {}

    public static void main(String[] args) throws Exception {
        int batch = Integer.parseInt(args[0]), threads = Integer.parseInt(args[1]);
        double seconds = Double.parseDouble(args[2]);
        int intraOp = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        try (Sequential model = Digits.trainedModel();
             PlanSet plans = PlanSet.of(model, CompileOptions.defaults().withThreads(intraOp), 1, 8, 8).warmup(batch)) {
            AtomicLong samples = new AtomicLong();
            long until = System.nanoTime() + (long) (seconds * 1e9);
            Thread[] workers = new Thread[threads];
            for (int t = 0; t < threads; t++) {
                workers[t] = Thread.ofPlatform().start(() -> {
                    try (Tensor in = Tensor.of(new float[batch * 64], batch, 1, 8, 8); Tensor out = Tensor.zeros(batch, 10)) {
                        while (System.nanoTime() < until) {
                            plans.run(in, out);
                            samples.addAndGet(batch);
                        }
                    }
                });
            }
            for (Thread w : workers) w.join();
            System.out.printf(Locale.ROOT, "CEILING batch=%d threads=%d intra_op=%d samples_per_s=%.0f%n", batch, threads, intraOp,
                    samples.get() / seconds);
        }
    }
}
