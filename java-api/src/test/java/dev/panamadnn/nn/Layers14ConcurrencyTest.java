package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 14's layers and functions, one shared instance called from 16 platform threads and then
 * 16 virtual threads at once (several calls each), give bit for bit the single-thread result on
 * each backend (same kernel, same shape, same order of operations). A close racing the calls
 * lets each call either finish with that result or fail cleanly as closed. And a torch
 * Sequential with Dropout and Identity loads its state_dict, indices and all, through
 * {@link SafeTensors#loadInto}.
 */
class Layers14ConcurrencyTest {
    private static final int THREADS = 16, CALLS = 3;

    /** A shared computation on a backend; {@code close} frees what it shares. */
    private record Shared(String name, Function<Backend, float[]> call, AutoCloseable close) {}

    private static Tensor random(SplittableRandom rnd, long... shape) {
        return NormTesting.random(rnd, shape);
    }

    private static float[] take(Tensor t) {
        try (t) {
            return t.toFloatArray();
        }
    }

    private static Shared make(String name) {
        SplittableRandom rnd = new SplittableRandom(name.hashCode());
        switch (name) {
            case "Embedding" -> {
                Embedding e = new Embedding(50, 16, 0L);
                Tensor idx = Layers14ValidationTest.longs(3, 0, 49, 7, 7, 12, 1, 30);
                return new Shared(name, b -> take(e.forward(idx, b)), e);
            }
            case "GroupNorm" -> {
                GroupNorm g = new GroupNorm(4, 8);
                NormTesting.randomise(asModule(g), rnd);
                Tensor x = random(rnd, 3, 8, 9, 7);
                return new Shared(name, b -> take(g.forward(x, b)), () -> { g.close(); x.close(); });
            }
            case "Upsample" -> {
                Upsample u = Upsample.scale("bilinear", true, 2.5);
                Tensor x = random(rnd, 2, 3, 6, 5);
                return new Shared(name, b -> take(u.forward(x, b)), () -> { u.close(); x.close(); });
            }
            case "Dropout+AdaptiveMaxPool1d" -> {
                Sequential s = new Sequential(new Dropout(0.2), new Identity(), new AdaptiveMaxPool1d(5));
                Tensor x = random(rnd, 4, 3, 17);
                return new Shared(name, b -> take(s.forward(x, b)), () -> { s.close(); x.close(); });
            }
            case "Broadcast+cat" -> {
                Tensor a = random(rnd, 4, 1, 6), c = random(rnd, 5, 1), d = random(rnd, 4, 2, 6);
                return new Shared(name, b -> {
                    try (Tensor q = Broadcast.apply(Broadcast.Op.DIV, a, c, b); Tensor s = Broadcast.apply(Broadcast.Op.SUB, c, a, b)) {
                        return take(Concat.cat(1, b, q, s, d));
                    }
                }, () -> { a.close(); c.close(); d.close(); });
            }
            case "FiLM" -> {
                FiLM f = new FiLM(6, 5);
                Tensor x = random(rnd, 3, 5, 11), z = random(rnd, 3, 6);
                return new Shared(name, b -> take(f.forward(x, z, b)), () -> { f.close(); x.close(); z.close(); });
            }
            case "FiLMBlock" -> {
                FiLMBlock f = new FiLMBlock(3, 6, 4);
                Tensor x = random(rnd, 2, 3, 7, 6), z = random(rnd, 2, 4);
                return new Shared(name, b -> take(f.forward(x, z, b)), () -> { f.close(); x.close(); z.close(); });
            }
            default -> throw new IllegalArgumentException(name);
        }
    }

    /** GroupNorm's parameters as a module for NormTesting.randomise. */
    private static dev.panamadnn.Module asModule(Layer l) {
        return l;
    }

    static Stream<Arguments> cases() {
        List<Arguments> all = new ArrayList<>();
        for (String n : List.of("Embedding", "GroupNorm", "Upsample", "Dropout+AdaptiveMaxPool1d", "Broadcast+cat", "FiLM", "FiLMBlock")) {
            for (Backend b : Backend.values()) all.add(Arguments.of(n, b));
        }
        return all.stream();
    }

    @ParameterizedTest(name = "{0} on {1}")
    @MethodSource("cases")
    void sixteenPlatformThenSixteenVirtualThreadsGiveTheSingleThreadResult(String name, Backend backend) throws Exception {
        Shared s = make(name);
        try (AutoCloseable c = s.close()) {
            float[] expected = s.call().apply(backend);
            for (boolean virtual : new boolean[] {false, true}) {
                ManyThreads.run(virtual, THREADS, t -> {
                    for (int k = 0; k < CALLS; k++) {
                        assertArrayEquals(expected, s.call().apply(backend), name + " on " + backend + (virtual ? " (virtual" : " (platform")
                                + " thread " + t + ") differs from the single-thread result");
                    }
                });
            }
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("closable")
    void closeRacingCallsEitherFinishesThemOrFailsThemCleanly(String name) throws Exception {
        for (int round = 0; round < 3; round++) {
            Shared s = make(name);
            float[] expected = s.call().apply(Backend.AUTO);
            AtomicInteger finished = new AtomicInteger(), refused = new AtomicInteger();
            ManyThreads.run(true, THREADS, t -> {
                if (t == THREADS / 2) {
                    s.close().close();
                    return;
                }
                for (int k = 0; k < CALLS; k++) {
                    try {
                        assertArrayEquals(expected, s.call().apply(Backend.AUTO), name + ": a call that finished differs");
                        finished.incrementAndGet();
                    } catch (IllegalStateException e) {
                        assertTrue(e.getMessage().contains("closed") || e.getMessage().contains("freed"), name + ": " + e.getMessage());
                        refused.incrementAndGet();
                    }
                }
            });
            assertEquals((THREADS - 1) * CALLS, finished.get() + refused.get(), name + ": every call finished or was refused");
        }
    }

    static Stream<String> closable() {
        return Stream.of("Embedding", "GroupNorm", "FiLM");
    }

    @Test
    void filmBlockLoadsItsTorchStateDict() throws Exception {
        Path file = Path.of(Layers14ConcurrencyTest.class.getResource("/goldens/filmblock_state_dict.safetensors").toURI());
        try (FiLMBlock block = new FiLMBlock(3, 4, 2); GoldenFile golden = GoldenFile.open(Layers14Goldens.FILE);
             SafeTensors st = SafeTensors.open(file)) {
            st.loadInto(block);
            GoldenFile.Case c = golden.cases().stream().filter(k -> k.name().equals("filmblock0")).findFirst().orElseThrow();
            float[] got = take(block.forward(c.input(), c.extras().get("cond")));
            Layers14Goldens.compare("FiLMBlock loaded from its state_dict", got, c.output().toFloatArray(), 1e-5, 1e-5);
        }
    }

    @Test
    void torchSequentialWithDropoutLoadsItsStateDictByIndex() throws Exception {
        Path file = Path.of(Layers14ConcurrencyTest.class.getResource("/goldens/sequential_dropout_state_dict.safetensors").toURI());
        try (Sequential s = new Sequential(new Linear(4, 5, true), new Dropout(0.3), new ReLU(), new Identity(), new Linear(5, 3, true));
             GoldenFile golden = GoldenFile.open(Layers14Goldens.FILE)) {
            assertEquals(List.of("0.weight", "0.bias", "4.weight", "4.bias"), List.copyOf(s.parameters().keySet()));
            try (SafeTensors st = SafeTensors.open(file)) {
                st.loadInto(s);
            }
            GoldenFile.Case c = golden.cases().stream().filter(k -> k.name().equals("sequential_dropout")).findFirst().orElseThrow();
            for (Backend b : Backend.values()) {
                float[] got = take(s.forward(c.input(), b));
                Layers14Goldens.compare("Sequential with Dropout (" + b + ")", got, c.output().toFloatArray(), 1e-6, 1e-6);
            }
        }
    }
}
