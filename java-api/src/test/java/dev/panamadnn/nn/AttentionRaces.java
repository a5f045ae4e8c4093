package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import java.util.Arrays;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * Child-JVM scenarios for {@link AttentionRaceTest}: a forward loop on one thread while another
 * closes the module (or the query tensor) at a random moment. The only documented outcomes are a
 * result equal to the undisturbed one, or an IllegalStateException saying the module is closed or
 * the tensor freed; anything else (or a crash, which the parent sees) is a defect.
 * Prints {@code scenario <name>: <n> iterations, <c> completed, <r> refused, <u> unexpected}.
 */
public final class AttentionRaces {
    private AttentionRaces() {}

    public static void main(String[] args) throws Exception {
        String group = args[0];
        int iterations = Integer.parseInt(args[1]);
        SplittableRandom random = new SplittableRandom(Long.parseLong(args[2]));
        switch (group) {
            case "mha-close" -> run(group, iterations, random, true, q -> {
                MultiheadAttention m = new MultiheadAttention(16, 4, 0.0, true, false, false, null, null, true);
                return new Target(m, x -> m.forward(x, x, x, null, true, null, true, Backend.ONEDNN).output());
            });
            case "encoder-close" -> run(group, iterations, random, true, q -> {
                TransformerEncoder e = new TransformerEncoder(() -> new TransformerEncoderLayer(16, 4, 32, 0, "gelu", 1e-5, true, true), 2,
                        new LayerNorm(16));
                return new Target(e, x -> e.forward(x, null, null, Backend.AUTO));
            });
            case "query-close" -> run(group, iterations, random, false, q -> {
                MultiheadAttention m = new MultiheadAttention(16, 4, 0.0, true, false, false, null, null, true);
                return new Target(m, x -> m.forward(x, x, x, null, false, null, true, Backend.AUTO).output());
            });
            default -> throw new IllegalArgumentException("unknown group " + group);
        }
    }

    record Target(AutoCloseable module, Function<Tensor, Tensor> forward) {}

    /** {@code closeModule}: the racer closes the module; else it closes the query tensor. */
    private static void run(String name, int iterations, SplittableRandom random, boolean closeModule, Function<Tensor, Target> make)
            throws Exception {
        int completed = 0, refused = 0, unexpected = 0;
        float[] data = new float[3 * 12 * 16];
        for (int i = 0; i < data.length; i++) data[i] = (float) random.nextGaussian();
        for (int it = 0; it < iterations; it++) {
            Tensor q = Tensor.of(data, 3, 12, 16);
            Target t = make.apply(q);
            float[] expected;
            try (Tensor y = t.forward().apply(q)) {
                expected = y.toFloatArray();
            }
            AtomicInteger done = new AtomicInteger(), stopped = new AtomicInteger(), wrong = new AtomicInteger();
            // bounded: a close that never takes effect shows as 'unexpected', not as a hang
            Thread worker = (it % 2 == 0 ? Thread.ofPlatform().daemon(true) : Thread.ofVirtual()).start(() -> {
                for (int call = 0; call < 100_000; call++) {
                    try (Tensor y = t.forward().apply(q)) {
                        if (!Arrays.equals(expected, y.toFloatArray())) wrong.incrementAndGet();
                        else done.incrementAndGet();
                    } catch (IllegalStateException e) {
                        String msg = String.valueOf(e.getMessage());
                        if (msg.contains("is closed") || msg.contains("freed") || msg.contains("Already closed")) stopped.incrementAndGet();
                        else {
                            System.out.println("unexpected: " + e);
                            wrong.incrementAndGet();
                        }
                        return;
                    } catch (RuntimeException | Error e) {
                        System.out.println("unexpected: " + e);
                        wrong.incrementAndGet();
                        return;
                    }
                }
                System.out.println("unexpected: 100000 calls and no close seen");
                wrong.incrementAndGet();
            });
            Thread.sleep(java.time.Duration.ofNanos(random.nextInt(1, 2_000_000)));
            if (closeModule) t.module().close();
            else q.close();
            worker.join();
            if (!closeModule) t.module().close();
            q.close();
            completed += done.get();
            refused += stopped.get();
            unexpected += wrong.get();
        }
        System.out.println("scenario " + name + ": " + iterations + " iterations, " + completed + " completed, " + refused + " refused, "
                + unexpected + " unexpected");
    }
}
