package dev.panamadnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * oneDNN eltwise against the plain-Java reference (computed in double, rounded to float).
 * Tolerance 2e-6 * max(1, |y|): oneDNN evaluates exp/tanh/erf with vectorised polynomial
 * approximations accurate to a few float ulps, not correctly rounded.
 */
class EltwiseTest {
    private static MemorySegment inputs(Arena arena, int count) {
        var rnd = new SplittableRandom(5);
        MemorySegment s = arena.allocate(ValueLayout.JAVA_FLOAT, count);
        for (int i = 0; i < count; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (rnd.nextDouble() * 16 - 8));
        return s;
    }

    @ParameterizedTest
    @EnumSource(Eltwise.Kind.class)
    void nativeMatchesReference(Eltwise.Kind kind) {
        int count = 1003;
        float alpha = kind == Eltwise.Kind.RELU ? 0.1f : 1f;   // RELU with a slope: LeakyReLU
        try (Arena arena = Arena.ofConfined(); Eltwise op = new Eltwise(kind, alpha)) {
            MemorySegment x = inputs(arena, count);
            MemorySegment y = arena.allocate(ValueLayout.JAVA_FLOAT, count);
            MemorySegment ref = arena.allocate(ValueLayout.JAVA_FLOAT, count);
            op.forward(x, y);
            Eltwise.reference(kind, alpha, x, ref);
            for (int i = 0; i < count; i++) {
                float got = y.getAtIndex(ValueLayout.JAVA_FLOAT, i), want = ref.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                if (Math.abs(got - want) > 2e-6 * Math.max(1, Math.abs(want))) {
                    fail(kind + "(" + x.getAtIndex(ValueLayout.JAVA_FLOAT, i) + ") = " + got + ", reference " + want);
                }
            }
        }
    }

    @Test
    void oneInstanceCalledFrom16ThreadsGivesTheSingleThreadResult() throws Exception {
        int count = 4099;
        try (Arena arena = Arena.ofShared(); Eltwise op = new Eltwise(Eltwise.Kind.GELU_TANH)) {
            MemorySegment x = inputs(arena, count);
            MemorySegment expected = arena.allocate(ValueLayout.JAVA_FLOAT, count);
            op.forward(x, expected);
            for (ExecutorService pool : List.of(Executors.newFixedThreadPool(16), Executors.newVirtualThreadPerTaskExecutor())) {
                try (pool) {
                    List<Future<MemorySegment>> results = new ArrayList<>();
                    for (int t = 0; t < 16; t++) {
                        Callable<MemorySegment> task = () -> {
                            MemorySegment y = arena.allocate(ValueLayout.JAVA_FLOAT, count);
                            for (int rep = 0; rep < 5; rep++) op.forward(x, y);
                            return y;
                        };
                        results.add(pool.submit(task));
                    }
                    for (Future<MemorySegment> f : results) {
                        assertEquals(-1L, f.get().mismatch(expected), "a concurrent result differs from the single-thread one");
                    }
                }
            }
        }
    }

    @Test
    void badInputIsAJavaExceptionBeforeAnyNativeCall() {
        try (Arena arena = Arena.ofConfined(); Eltwise op = new Eltwise(Eltwise.Kind.TANH)) {
            MemorySegment four = arena.allocate(16), eight = arena.allocate(32);
            message(IllegalArgumentException.class, () -> op.forward(four, eight), "dst must have src's size 16 bytes, got 32");
            message(IllegalArgumentException.class, () -> op.forward(arena.allocate(6), arena.allocate(6)), "whole floats, got 6 bytes");
            message(IllegalArgumentException.class, () -> op.forward(MemorySegment.ofArray(new float[4]), four), "off-heap");
            message(IllegalArgumentException.class, () -> op.forward(four, four.asReadOnly()), "dst must be writable");
            message(IllegalArgumentException.class, () -> new Eltwise(Eltwise.Kind.ELU, Float.NaN), "alpha must be finite, got NaN");
            message(IllegalArgumentException.class, () -> new Eltwise(null, 0f), "kind must not be null");
            MemorySegment dead;
            try (Arena other = Arena.ofConfined()) {
                dead = other.allocate(16);
            }
            message(IllegalStateException.class, () -> op.forward(dead, four), "the arena of src is closed");
        }
        Eltwise closed = new Eltwise(Eltwise.Kind.RELU);
        closed.close();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(16);
            message(IllegalStateException.class, () -> closed.forward(s, s), "Eltwise(RELU) is closed");
        }
    }

    private static void message(Class<? extends RuntimeException> type, Runnable r, String fragment) {
        RuntimeException e = assertThrows(type, r::run);
        assertTrue(e.getMessage().contains(fragment), () -> "expected '" + fragment + "' in: " + e.getMessage());
    }
}
