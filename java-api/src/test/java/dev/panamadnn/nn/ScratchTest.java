package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * A composite module's call memory: a layer of known output shape writes into it (the same values as its own
 * forward; closing the tensor does nothing, free and close do free it), a child that is not a layer and an input it
 * cannot take go the usual way with the usual messages; and a Sequential and a residual block computed through it give
 * their children's results run one by one, on a platform and on a virtual thread alike.
 */
class ScratchTest {
    private static Tensor input(long... shape) {
        Tensor x = Tensor.zeros(shape);
        for (long i = 0; i < x.numel(); i++) x.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (float) Math.sin(i * 0.7));
        return x;
    }

    @Test
    void aLayerWritesIntoCallMemoryFreedByFreeOrClose() {
        try (Linear fc = new Linear(6, 4, true); Tensor x = input(3, 6); Tensor want = fc.forward(x)) {
            Tensor kept, freed;
            try (Scratch s = new Scratch()) {
                kept = s.forward(fc, x, Backend.AUTO);
                assertTrue(s.holds(kept));
                assertArrayEquals(want.toFloatArray(), kept.toFloatArray(), 0f);
                kept.close();   // call memory: closing the tensor does nothing
                assertTrue(kept.isAlive());
                freed = s.forward(fc, x, Backend.AUTO);
                s.free(freed);
                assertFalse(freed.isAlive());
                Tensor zeros = s.allocate(new long[] {2, 5});
                assertArrayEquals(new float[10], zeros.toFloatArray(), 0f);
            }
            assertFalse(kept.isAlive(), "freed with the scratch");
        }
    }

    @Test
    void otherChildrenAndBadInputsGoTheUsualWay() {
        try (Embedding e = new Embedding(10, 3); Linear fc = new Linear(6, 4, true); Scratch s = new Scratch()) {
            Tensor ids = Tensor.allocate(java.lang.foreign.Arena.ofAuto(), DataType.I64, 2);
            try (Tensor y = s.forward(e, ids, Backend.AUTO)) {
                assertFalse(s.holds(y), "not a layer: its own new tensor");
                assertArrayEquals(new long[] {2, 3}, y.shape());
            }
            Tensor freedInput = input(3, 6);
            freedInput.close();
            var closed = assertThrows(IllegalStateException.class, () -> s.forward(fc, freedInput, Backend.AUTO));
            assertTrue(closed.getMessage().contains("freed"), closed.getMessage());
            try (Tensor wrong = input(3, 5)) {
                var bad = assertThrows(IllegalArgumentException.class, () -> s.forward(fc, wrong, Backend.AUTO));
                assertTrue(bad.getMessage().contains("Linear"), bad.getMessage());
            }
        }
    }

    @Test
    void temporariesAreFreedWithTheScratchTheInputIsNot() {
        try (Embedding e = new Embedding(10, 3); Linear fc = new Linear(3, 4, true); Identity id = new Identity(); Tensor x = input(2, 3)) {
            Tensor ids = Tensor.allocate(java.lang.foreign.Arena.ofAuto(), DataType.I64, 2);
            Tensor own, call, copy;
            try (Scratch s = new Scratch()) {
                own = s.temporary(e, ids, Backend.AUTO);   // not a layer: its own tensor, closed with the scratch
                assertFalse(s.holds(own));
                call = s.temporary(fc, own, Backend.AUTO);   // a layer: call memory
                assertTrue(s.holds(call));
                copy = s.temporary(id, x, Backend.AUTO);   // a layer on the caller's input: call memory, the input untouched
                assertTrue(s.holds(copy) && copy != x);
                assertTrue(own.isAlive() && call.isAlive() && copy.isAlive());
            }
            assertFalse(own.isAlive(), "the child's own tensor closed with the scratch");
            assertFalse(call.isAlive(), "call memory freed with the scratch");
            assertTrue(x.isAlive(), "the input is the caller's");
        }
    }

    @Test
    void aSequentialAndABlockGiveTheirChildrenRunOneByOneOnPlatformAndVirtualThreads() throws Exception {
        try (Sequential m = new Sequential(Conv2d.builder(2, 4, 3).padding(1).build(), new ReLU(), new BasicBlock(4, 8, 2, BasicBlock.downsample(4, 8, 2)),
                new Flatten(), new Linear(8 * 3 * 3, 5, true)); Tensor x = input(2, 2, 6, 6)) {
            AttentionTesting.randomize(m, new java.util.SplittableRandom(7));
            m.parameters().forEach((name, t) -> {   // batch norms' variances positive
                if (name.endsWith("running_var")) for (long i = 0; i < t.numel(); i++) t.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, 0.5f + i % 3);
            });
            float[] want;
            Tensor h = x;
            java.util.List<Tensor> made = new java.util.ArrayList<>();
            for (dev.panamadnn.Module child : m.modules()) {   // each child's own forward, one after another
                h = child.forward(h);
                made.add(h);
            }
            want = h.toFloatArray();
            made.forEach(Tensor::close);
            for (float v : want) assertTrue(Float.isFinite(v), "finite reference values");
            for (var pool : java.util.List.of(Executors.newFixedThreadPool(2), Executors.newVirtualThreadPerTaskExecutor())) {
                try (pool) {
                    java.util.List<Future<float[]>> got = new java.util.ArrayList<>();
                    for (int i = 0; i < 8; i++) got.add(pool.submit(() -> {
                        try (Tensor y = m.forward(x)) {
                            return y.toFloatArray();
                        }
                    }));
                    for (Future<float[]> f : got) assertArrayEquals(want, f.get(), 0f);
                }
            }
            try (Tensor out = Tensor.zeros(2, 5)) {
                m.forwardInto(x, out);
                assertArrayEquals(want, out.toFloatArray(), 0f);
            }
        }
    }
}
