package dev.panamadnn.lifetime;

import dev.panamadnn.Tensor;
import dev.panamadnn.internal.dnnl.PrimitiveCache;
import dev.panamadnn.nn.Add;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.BatchNorm2d;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.LayerNorm;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.MaxPool2d;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Softmax;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Eager forwards racing the bounded primitive caches' evictions, run in a child JVM by
 * {@link PrimitiveCacheRaceTest} with {@code -Dpanamadnn.primitiveCache.size=2} (a crash fails
 * that test, not the suite). Every layer family with a per-shape cache (convolution, pooling,
 * eltwise, batch norm, layer norm, softmax, inner product, add) is called from 8 threads (half
 * virtual) with 5 batch sizes in random order, so nearly every miss evicts an entry another
 * thread may be running; one more thread calls {@code Conv2d.weightsChanged()} (clearing that cache)
 * all the while. Each result must equal, bit for bit, the same layer's result for that input computed
 * alone beforehand: a primitive freed under a forward would crash or corrupt it.
 *
 * <p>Usage: {@code PrimitiveCacheRaces ROUNDS SEED}, or {@code PrimitiveCacheRaces --capacity}
 * (prints the capacity this JVM's caches get, or the property's error). Prints
 * {@code primitive-cache races: N forwards, M mismatches} and exits 1 on any mismatch or failure.
 */
public final class PrimitiveCacheRaces {
    private static final long[] BATCHES = {1, 2, 3, 4, 5};

    /** One layer under test: its call on an input of batch n, by any thread. */
    private interface Family {
        Tensor call(Tensor x);
    }

    private record Case(String name, Family call, long[] sample, List<Tensor> inputs, List<float[]> expected) {}

    public static void main(String[] args) throws Exception {
        if (args[0].equals("--capacity")) {
            try {
                System.out.println("capacity " + PrimitiveCache.configuredCapacity());
            } catch (IllegalArgumentException e) {
                System.out.println("refused: " + e.getMessage());
            }
            try {
                new Softmax(1).close();   // its cache is a field: created with the layer
                System.out.println("layer created");
            } catch (IllegalArgumentException e) {
                System.out.println("layer refused: " + e.getMessage());
            }
            return;
        }
        int rounds = Integer.parseInt(args[0]);
        long seed = Long.parseLong(args[1]);
        Conv2d conv = LifetimeRaces.withWeights(Conv2d.builder(4, 8, 3).padding(1).build());
        Linear linear = LifetimeRaces.withWeights(new Linear(24, 16, true));
        BatchNorm2d bn = LifetimeRaces.withWeights(new BatchNorm2d(4));
        bn.parameters().get("running_var").segment().fill((byte) 0x3f);   // positive variances (0.74...)
        LayerNorm ln = new LayerNorm(24);
        MaxPool2d pool = new MaxPool2d(2);
        ReLU relu = new ReLU();
        Softmax softmax = new Softmax(1);
        Add add = new Add();
        List<Case> cases = new ArrayList<>();
        cases.add(build("conv2d", x -> conv.forward(x, Backend.ONEDNN), 4, 12, 12));
        cases.add(build("maxpool2d", x -> pool.forward(x, Backend.ONEDNN), 4, 12, 12));
        cases.add(build("relu", x -> relu.forward(x, Backend.ONEDNN), 4, 12, 12));
        cases.add(build("batchnorm2d", x -> bn.forward(x, Backend.ONEDNN), 4, 6, 6));
        cases.add(build("layernorm", x -> ln.forward(x, Backend.ONEDNN), 24));
        cases.add(build("softmax", x -> softmax.forward(x, Backend.ONEDNN), 24));
        cases.add(build("linear", x -> linear.forward(x, Backend.ONEDNN), 24));
        cases.add(build("add", x -> add.forward(x, x), 24));

        AtomicLong forwards = new AtomicLong();
        AtomicInteger mismatches = new AtomicInteger(), failures = new AtomicInteger();
        CountDownLatch start = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            long threadSeed = seed + t;
            Runnable body = () -> {
                SplittableRandom r = new SplittableRandom(threadSeed);
                try {
                    start.await();
                    for (int i = 0; i < rounds; i++) {
                        Case c = cases.get(r.nextInt(cases.size()));
                        int b = r.nextInt(BATCHES.length);
                        try (Tensor y = c.call().call(c.inputs().get(b))) {
                            forwards.incrementAndGet();
                            if (!Arrays.equals(c.expected().get(b), y.toFloatArray())) {
                                mismatches.incrementAndGet();
                                System.out.println("  " + c.name() + " batch " + BATCHES[b] + ": a different result");
                            }
                        }
                    }
                } catch (Throwable e) {
                    failures.incrementAndGet();
                    e.printStackTrace(System.out);
                }
            };
            threads.add(t % 2 == 0 ? Thread.ofPlatform().start(body) : Thread.ofVirtual().start(body));
        }
        Thread clearer = Thread.ofPlatform().start(() -> {
            try {
                start.await();
                while (threads.stream().anyMatch(Thread::isAlive)) {
                    conv.weightsChanged();   // the weights are unchanged: only the cache is dropped, under running forwards
                    Thread.sleep(0, 200_000);
                }
            } catch (Throwable e) {
                failures.incrementAndGet();
                e.printStackTrace(System.out);
            }
        });
        start.countDown();
        for (Thread t : threads) t.join();
        clearer.join();
        System.out.println("capacity " + PrimitiveCache.configuredCapacity() + ", " + cases.size() + " layers x " + BATCHES.length
                + " batch sizes");
        System.out.println("primitive-cache races: " + forwards.get() + " forwards, " + mismatches.get() + " mismatches, "
                + failures.get() + " failures");
        for (Case c : cases) c.inputs().forEach(Tensor::close);
        for (AutoCloseable l : new AutoCloseable[] {conv, linear, bn, ln, pool, relu, softmax, add}) l.close();
        System.out.flush();
        System.exit(mismatches.get() == 0 && failures.get() == 0 ? 0 : 1);
    }

    /** The inputs of each batch size, and each one's result computed alone (no race yet). */
    private static Case build(String name, Family call, long... sample) {
        List<Tensor> inputs = new ArrayList<>();
        List<float[]> expected = new ArrayList<>();
        for (long n : BATCHES) {
            long[] shape = new long[sample.length + 1];
            shape[0] = n;
            System.arraycopy(sample, 0, shape, 1, sample.length);
            Tensor x = Tensor.of(LifetimeRaces.pattern((int) LifetimeRaces.numel(shape), (int) n), shape);
            inputs.add(x);
            try (Tensor y = call.call(x)) {
                expected.add(y.toFloatArray());
            }
        }
        return new Case(name, call, sample, inputs, expected);
    }
}
