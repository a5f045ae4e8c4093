package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import java.io.IOException;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InitTest {
    /** The chunked fill draws exactly what one draw per element in order gives, across chunk boundaries, so seeded layers keep their values. */
    @Test
    void uniformMatchesOneDrawPerElementInOrder() {
        for (long n : new long[] {1, 7, (1 << 14) - 1, 1 << 14, 2 * (1 << 14) + 5}) {
            try (Tensor t = Tensor.zeros(n)) {
                Init.uniform(t, new SplittableRandom(0x5eed), 0.25);
                SplittableRandom expected = new SplittableRandom(0x5eed);
                for (long i = 0; i < n; i++) {
                    float want = (float) expected.nextDouble(-0.25, 0.25);
                    assertEquals(want, t.segment().getAtIndex(ValueLayout.JAVA_FLOAT, i), "element " + i + " of " + n);
                }
            }
        }
    }

    /** Inside Init.skip the layers' random parameters stay zero (batch norm keeps its ones); outside it, they are drawn again. */
    @Test
    void skipLeavesTheRandomParametersZeroAndOnlyInsideTheBuilder() {
        try (Sequential skipped = Init.skip(InitTest::net); Sequential built = net()) {
            for (Map.Entry<String, Tensor> e : skipped.parameters().entrySet()) {
                if (e.getValue().dtype() != dev.panamadnn.DataType.F32) continue;   // num_batches_tracked
                float[] v = e.getValue().toFloatArray();
                boolean random = e.getKey().startsWith("0.") || e.getKey().startsWith("3.");   // Conv2d, Linear
                float want = random || e.getKey().endsWith("bias") || e.getKey().endsWith("mean") ? 0f : 1f;   // bn weight, running_var: 1
                for (int i = 0; i < v.length; i++) assertEquals(want, v[i], e.getKey() + "[" + i + "]");
            }
            float[] w = built.parameters().get("0.weight").toFloatArray();
            assertTrue(anyNonZero(w), "a build after Init.skip returned is initialised again");
            assertTrue(anyNonZero(built.parameters().get("3.weight").toFloatArray()), "Linear after Init.skip");
        }
    }

    /** The flag is restored when the builder throws, and a nested skip leaves the outer one in force. */
    @Test
    void skipRestoresTheFlagAfterAFailureAndNests() {
        var e = assertThrows(IllegalStateException.class, () -> Init.skip(() -> {
            throw new IllegalStateException("builder failed");
        }));
        assertEquals("builder failed", e.getMessage());
        try (Conv2d c = Conv2d.builder(2, 3, 3).build()) {
            assertTrue(anyNonZero(c.parameters().get("weight").toFloatArray()), "initialised after a failed skip");
        }
        try (Sequential s = Init.skip(() -> {
            Conv2d inner = Init.skip(() -> Conv2d.builder(2, 3, 3).build());
            return new Sequential(inner, Conv2d.builder(3, 3, 3).build());
        })) {
            assertFalse(anyNonZero(s.parameters().get("0.weight").toFloatArray()), "inner skip");
            assertFalse(anyNonZero(s.parameters().get("1.weight").toFloatArray()), "after the inner skip, still inside the outer one");
        }
        assertThrows(IllegalArgumentException.class, () -> Init.skip(null));
    }

    /** The intended use: a skipped build plus a strict load computes exactly what an initialised build plus the same load does. */
    @Test
    void aSkippedBuildLoadedFromACheckpointMatchesAnInitialisedOne(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("net.safetensors");
        try (Sequential source = net()) {
            Values.randomize(source);
            SafeTensors.save(file, source.parameters(), Map.of());
        }
        assertTrue(Files.size(file) > 0);
        try (Sequential a = net(); Sequential b = Init.skip(InitTest::net); Tensor x = Tensor.of(input(), 2, 2, 6, 6)) {
            SafeTensors.load(a, file);
            SafeTensors.load(b, file);
            try (Tensor ya = a.forward(x); Tensor yb = b.forward(x)) {
                assertArrayEquals(ya.toFloatArray(), yb.toFloatArray());
            }
        }
    }

    /** SafeTensors.build: a skipped build plus the strict load, the same result; a file that does not fit closes the module. */
    @Test
    void safeTensorsBuildLoadsEveryParameterOrClosesTheModule(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("net.safetensors");
        try (Sequential source = net()) {
            Values.randomize(source);
            SafeTensors.save(file, source.parameters(), Map.of());
        }
        try (Sequential a = net(); Sequential b = SafeTensors.build(InitTest::net, file); Tensor x = Tensor.of(input(), 2, 2, 6, 6)) {
            SafeTensors.load(a, file);
            try (Tensor ya = a.forward(x); Tensor yb = b.forward(x)) {
                assertArrayEquals(ya.toFloatArray(), yb.toFloatArray());
            }
        }
        java.util.concurrent.atomic.AtomicReference<Sequential> built = new java.util.concurrent.atomic.AtomicReference<>();
        var e = assertThrows(dev.panamadnn.SafeTensorsException.class, () -> SafeTensors.build(() -> {
            Sequential wider = new Sequential(Conv2d.builder(2, 5, 3).padding(1).build());   // 5 output channels: the file has 4
            built.set(wider);
            return wider;
        }, file));
        assertTrue(e.getMessage().contains("0.weight"), e.getMessage());
        try (Tensor x = Tensor.of(input(), 2, 2, 6, 6)) {
            assertThrows(IllegalStateException.class, () -> built.get().forward(x), "the module of a failed build is closed");
        }
        assertThrows(IllegalArgumentException.class, () -> SafeTensors.build(null, file));
    }

    private static Sequential net() {
        return new Sequential(Conv2d.builder(2, 4, 3).padding(1).build(), new BatchNorm2d(4), new Flatten(), new Linear(4 * 6 * 6, 3, true));
    }

    private static float[] input() {
        float[] x = new float[2 * 2 * 6 * 6];
        for (int i = 0; i < x.length; i++) x[i] = (i * 37 % 17) / 8f - 1f;
        return x;
    }

    private static boolean anyNonZero(float[] v) {
        for (float f : v) if (f != 0f) return true;
        return false;
    }

    /** Distinct non-zero values for every parameter (running variances positive). */
    private static final class Values {
        static void randomize(Sequential m) {
            SplittableRandom r = new SplittableRandom(7);
            for (Map.Entry<String, Tensor> e : m.parameters().entrySet()) {
                Tensor t = e.getValue();
                if (t.dtype() != dev.panamadnn.DataType.F32) continue;
                boolean positive = e.getKey().endsWith("running_var");
                for (long i = 0; i < t.numel(); i++) {
                    float v = (float) r.nextDouble(-1, 1);
                    t.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, positive ? Math.abs(v) + 0.5f : v);
                }
            }
        }
    }
}
