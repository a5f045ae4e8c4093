package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.compile.PlanSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The LSTM/GRU goldens of {@code scripts/goldens/generate_rnn.py} that a plain {@code forward(x)}
 * gives (no initial state, no lengths: what a model's graph computes), through {@code Module.lower}
 * and the compiler: one ONNX {@code LSTM}/{@code GRU} node per layer run as oneDNN's primitive. Same
 * tolerance as {@link RnnGoldenTest} (1e-5 + 1e-4 * |want|, same primitives and summation); a wrong
 * gate order or bias moves values by O(0.1).
 */
class CompiledRnnGoldenTest {
    private static final double ABS = 1e-5, REL = 1e-4;
    private static final Map<String, Double> WORST = new ConcurrentHashMap<>();
    private static GoldenFile file;
    private static List<GoldenFile.Case> cases;

    @BeforeAll
    static void open() {
        file = GoldenFile.open("rnn.safetensors");
        cases = file.cases();
    }

    @AfterAll
    static void report() {
        file.close();
        System.out.println("compiled rnn goldens: largest absolute error vs PyTorch per case: " + new TreeMap<>(WORST));
    }

    static List<String> names() {
        try (GoldenFile f = GoldenFile.open("rnn.safetensors")) {
            return f.cases().stream().filter(c -> c.fields().get("layer").matches("LSTM|GRU") && !c.extras().containsKey("h0")
                    && !c.extras().containsKey("lengths")).map(GoldenFile.Case::name).toList();
        }
    }

    private static GoldenFile.Case byName(String name) {
        return cases.stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void enoughCasesAreCompiled() {
        assertTrue(names().size() >= 10, "expected >= 10 LSTM/GRU cases without state or lengths, got " + names());
    }

    @ParameterizedTest(name = "{0} compiled")
    @MethodSource("names")
    void compiledMatchesPyTorch(String name) {
        GoldenFile.Case c = byName(name);
        try (Layer m = RnnTesting.build(c)) {
            RnnTesting.load(m, c);
            try (CompiledModel plan = CompiledModel.compile(m, c.input().shape()); Tensor y = plan.run(c.input())) {
                assertArrayEquals(c.output().shape(), y.shape(), c + ": output shape");
                WORST.put(name, RnnTesting.compare(c + " compiled", y, c.output(), ABS, REL));
                boolean projection = !"0".equals(c.fields().getOrDefault("proj_size", "0"));
                String op = c.fields().get("layer").toLowerCase(java.util.Locale.ROOT) + " ";
                assertTrue(plan.steps().stream().anyMatch(s -> s.startsWith(projection ? "java " : op)),
                        c + ": expected " + (projection ? "the eager layer (proj_size has no ONNX form)" : "a native " + op + "step")
                                + "\n" + plan.describe());
            }
        }
    }

    /** A batch_first model through a plan set: batches 1 and 3 against the eager layer (itself checked against PyTorch above). */
    @Test
    void planSetRunsBatchFirstLayersAtSeveralBatchSizes() {
        try (GRU gru = new GRU(4, 5, 2, true, true, 0, true); LSTM lstm = new LSTM(4, 6, 1, true, true, 0, false, 0)) {
            for (RecurrentLayer m : List.<RecurrentLayer>of(gru, lstm)) {
                try (PlanSet set = PlanSet.of(m, CompileOptions.defaults(), 7, 4)) {
                    for (long batch : new long[] {1, 3}) {
                        try (Tensor x = Tensor.of(random(batch * 7 * 4, (int) batch), batch, 7, 4); Tensor want = m.forward(x);
                             Tensor got = set.run(x)) {
                            assertArrayEquals(want.shape(), got.shape(), m + " batch " + batch);
                            double worst = RnnTesting.compare(m + " plan set, batch " + batch, got, want, ABS, REL);
                            assertTrue(worst <= 1e-5, m + " batch " + batch + ": " + worst);
                        }
                    }
                }
            }
        }
    }

    /** An LSTM stack inside a Sequential, an unbatched bidirectional GRU without bias, an unbatched LSTM stack: against eager. */
    @Test
    void modelsAroundRecurrentLayersMatchEager() {
        try (LSTM lstm = new LSTM(4, 5, 2, true, false, 0, true, 0); Sequential net = new Sequential(lstm, new Linear(10, 3, true), new Tanh());
             GRU gru = new GRU(3, 4, 1, false, false, 0, true)) {
            for (Object[] c : new Object[][] {{net, new long[] {6, 2, 4}}, {gru, new long[] {5, 3}}, {lstm, new long[] {3, 4}}}) {
                dev.panamadnn.Module m = (dev.panamadnn.Module) c[0];
                long[] shape = (long[]) c[1];
                long n = 1;
                for (long d : shape) n *= d;
                try (Tensor x = Tensor.of(random(n, 5), shape); Tensor want = m.forward(x); CompiledModel plan = CompiledModel.compile(m, shape);
                     Tensor got = plan.run(x)) {
                    assertArrayEquals(want.shape(), got.shape(), m + " " + java.util.Arrays.toString(shape));
                    RnnTesting.compare(m + " compiled vs eager on " + java.util.Arrays.toString(shape), got, want, ABS, REL);
                    assertTrue(plan.steps().stream().anyMatch(s -> s.startsWith(m == gru ? "gru " : "lstm ")), plan.describe());
                }
            }
        }
    }

    @Test
    void projectionStaysTheEagerLayer() {
        try (LSTM m = new LSTM(3, 5, 1, true, false, 0, false, 2);
             CompiledModel plan = CompiledModel.compile(m, 4, 2, 3)) {
            assertEquals(1, plan.steps().stream().filter(s -> s.startsWith("java ")).count(), plan.describe());
        }
    }

    private static float[] random(long n, int seed) {
        java.util.SplittableRandom r = new java.util.SplittableRandom(seed);
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }
}
