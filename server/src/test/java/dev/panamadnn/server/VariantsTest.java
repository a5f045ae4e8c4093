package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Module;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.demo.Digits;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The per-shape cache of a model with variable dims, with a factory that counts its builds and records which shapes'
 * weights were closed: one build per shape (also when 8 threads ask for a new one at once), least recently used shapes
 * dropped past max_shapes, a dropped shape in use closed only when its run ends, a refusal remembered (never built
 * again), and everything closed with the cache.
 */
class VariantsTest {
    /** One input x of one variable dim, batched, max_shapes 2. */
    static final ModelConfig CONFIG = new ModelConfig("m", "onnx", 0, List.of(new ModelConfig.TensorSpec("x", "FP32", new long[] {ModelConfig.VARIABLE})),
            List.of("y"), 8, 2000, true, new int[0], 1, 1, 16, 10_000, 2, List.of());

    final List<Long> built = new CopyOnWriteArrayList<>();
    final List<Long> closed = new CopyOnWriteArrayList<>();

    /** A variable model whose shape [n] builds a (never compiled) digits plan set, and whose shape [99] cannot be served. */
    Variants variants() {
        return variants(Long.MAX_VALUE);
    }

    Variants variants(long budget) {
        ModelLoader.Shapes factory = new ModelLoader.Shapes() {
            @Override
            public void check(long[][] shapes) {}

            @Override
            public ModelLoader.Loaded build(long[][] shapes) {
                long n = shapes[0][0];
                built.add(n);
                if (n == 99) throw new IllegalArgumentException("no 99 here");
                Module model = Digits.model();
                AutoCloseable owner = () -> {
                    model.close();
                    closed.add(n);
                };
                List<ModelLoader.Output> out = List.of(new ModelLoader.Output("y", null, true, "FP32", new long[] {n}));
                return new ModelLoader.Loaded(CONFIG.withShapes(shapes), PlanSet.of(model, CompileOptions.defaults(), new long[] {1, 8, 8}, 2),
                        null, owner, out);
            }
        };
        return new Variants(new ModelLoader.Loaded(CONFIG, null, null, () -> { }, List.of(), factory), budget);
    }

    static long[][] shape(long n) {
        return new long[][] {{n}};
    }

    @Test
    void eachShapeIsBuiltOnceAndTheLeastRecentlyUsedIsDroppedWhenItsRunEnds() {
        try (Variants v = variants()) {
            Variants.Lease three = v.acquire(shape(3));
            try (Variants.Lease again = v.acquire(shape(3))) {
                assertSame(three.loaded(), again.loaded(), "one build per shape");
            }
            v.acquire(shape(4)).close();
            v.acquire(shape(5)).close();   // a third shape in a cache of two: 3, the least recently used, is dropped
            assertEquals(List.of(3L, 4L, 5L), built);
            assertEquals(2, v.size());
            assertEquals(List.of(), closed, "3 is dropped but still running: not closed under its run");
            three.close();
            assertEquals(List.of(3L), closed, "closed once its run ended");
            v.acquire(shape(5)).close();   // 5 is now the most recently used: 4 goes next
            v.acquire(shape(3)).close();
            assertEquals(List.of(3L, 4L, 5L, 3L), built, "3 built again after it was dropped");
            assertEquals(List.of(3L, 4L), closed);
        }
        assertEquals(List.of(3L, 3L, 4L, 5L), closed.stream().sorted().toList(), "every build closed once the cache is");
    }

    @Test
    void aRefusalIsRememberedAndOtherShapesServeOn() {
        try (Variants v = variants()) {
            for (int i = 0; i < 3; i++) {
                ApiException e = assertThrows(ApiException.class, () -> v.acquire(shape(99)));
                assertEquals(400, e.status());
                assertEquals("model m: cannot serve inputs of shapes [[99]]: no 99 here", e.getMessage());
            }
            assertEquals(List.of(99L), built, "refused once, remembered");
            try (Variants.Lease ok = v.acquire(shape(7))) {
                assertEquals(7, ok.loaded().outputs().getFirst().sample()[0]);
            }
        }
        assertEquals(List.of(7L), closed);
    }

    @Test
    void threadsAskingForOneNewShapeAtOnceBuildItOnce() throws Exception {
        try (Variants v = variants(); var pool = Executors.newFixedThreadPool(8)) {
            CountDownLatch go = new CountDownLatch(1);
            List<Future<ModelLoader.Loaded>> got = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                got.add(pool.submit(() -> {
                    go.await();
                    try (Variants.Lease l = v.acquire(shape(6))) {
                        return l.loaded();
                    }
                }));
            }
            go.countDown();
            for (Future<ModelLoader.Loaded> f : got) assertSame(got.getFirst().get(), f.get());
            assertEquals(List.of(6L), built);
        }
        assertEquals(List.of(6L), closed);
    }

    /** A shape whose activations (batch-1 context x max_batch_size 8 x 1 instance) exceed the budget is refused and closed. */
    @Test
    void aShapeOverTheMemoryBudgetIsRefusedBeforeItRuns() {
        long need;
        try (Variants v = variants(); Variants.Lease l = v.acquire(shape(1))) {
            need = Variants.activationBytes(l.loaded());
            assertEquals(8 * l.loaded().plans().contextBytes(1), need);
        }
        try (Variants v = variants(need - 1)) {
            ApiException e = assertThrows(ApiException.class, () -> v.acquire(shape(2)));
            assertEquals(400, e.status());
            assertTrue(e.getMessage().startsWith("model m: inputs of shapes [[2]] need about ") && e.getMessage().contains("(the batch-1 plan's x"
                    + " max_batch_size 8 x 1 instances), more than the "), e.getMessage());
            assertTrue(closed.contains(2L), "its plans and weights closed at once");
            assertThrows(ApiException.class, () -> v.acquire(shape(2)));
            assertEquals(List.of(1L, 2L), built, "the refusal remembered");
        }
        try (Variants v = variants(need); Variants.Lease l = v.acquire(shape(3))) {
            assertEquals(need, Variants.activationBytes(l.loaded()), "within the budget: served");
        }
    }

    @Test
    void aClosedCacheRefusesWith503() {
        Variants v = variants();
        v.acquire(shape(2)).close();
        v.close();
        assertEquals(List.of(2L), closed);
        assertEquals(503, assertThrows(ApiException.class, () -> v.acquire(shape(2))).status());
    }
}
