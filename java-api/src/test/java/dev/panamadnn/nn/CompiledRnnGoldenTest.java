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

    /** Every LSTM/GRU sequence golden without a projection: with and without h0/c0, with and without lengths. */
    static List<String> stateNames() {
        try (GoldenFile f = GoldenFile.open("rnn.safetensors")) {
            return f.cases().stream().filter(c -> c.fields().get("layer").matches("LSTM|GRU")
                    && "0".equals(c.fields().getOrDefault("proj_size", "0"))).map(GoldenFile.Case::name).toList();
        }
    }

    @Test
    void enoughCasesCarryState() {
        List<String> names = stateNames();
        long withState = names.stream().filter(n -> byName(n).extras().containsKey("h0")).count();
        long withLengths = names.stream().filter(n -> byName(n).extras().containsKey("lengths")).count();
        assertTrue(names.size() >= 20 && withState >= 6 && withLengths >= 4, "expected >= 20 cases, >= 6 with h0, >= 4 with lengths, got " + names);
    }

    /**
     * {@code lower(graph, x, h0, c0, lengths, path)}: the initial states as graph inputs (zeros where the golden has none),
     * the lengths as an I32 graph input (each run's own; PyTorch's pack_padded_sequence in the golden) and the final
     * states as outputs, against PyTorch's output, h_n and c_n.
     */
    @ParameterizedTest(name = "{0} compiled with states")
    @MethodSource("stateNames")
    void compiledStatesMatchPyTorch(String name) {
        GoldenFile.Case c = byName(name);
        try (Layer m = RnnTesting.build(c)) {
            RnnTesting.load(m, c);
            RecurrentLayer r = (RecurrentLayer) m;
            boolean lstm = r instanceof LSTM;
            Tensor h0 = c.extras().get("h0"), c0 = c.extras().get("c0");
            dev.panamadnn.graph.GraphBuilder g = dev.panamadnn.graph.Graph.builder(name);
            String x = g.input("x", dev.panamadnn.graph.Shape.of(c.input().shape()));
            String h = h0 == null ? null : g.input("h0", dev.panamadnn.graph.Shape.of(h0.shape()));
            String cc = c0 == null ? null : g.input("c0", dev.panamadnn.graph.Shape.of(c0.shape()));
            Tensor lengthsF = c.extras().get("lengths");
            Tensor lengthsOrNull = null;
            if (lengthsF != null) {
                float[] lf = lengthsF.toFloatArray();
                int[] li = new int[lf.length];
                for (int i = 0; i < li.length; i++) li[i] = (int) lf[i];
                lengthsOrNull = Tensor.wrap(java.lang.foreign.Arena.ofAuto().allocateFrom(java.lang.foreign.ValueLayout.JAVA_INT, li), dev.panamadnn.DataType.I32,
                        li.length);
            }
            Tensor lengths = lengthsOrNull;
            String lens = lengths == null ? null : g.input("lengths", dev.panamadnn.DataType.I32, dev.panamadnn.graph.Shape.of(lengths.shape()));
            RecurrentLayer.Lowered y = r.lower(g, x, h, cc, lens, "rnn");
            assertEquals(lstm, y.cN() != null, "c_n for an LSTM only");
            g.output(y.output()).output(y.hN());
            if (lstm) g.output(y.cN());
            Map<String, long[]> shapes = new java.util.LinkedHashMap<>();
            Map<String, Tensor> in = new java.util.LinkedHashMap<>();
            shapes.put("x", c.input().shape());
            in.put("x", c.input());
            if (h0 != null) {
                shapes.put("h0", h0.shape());
                in.put("h0", h0);
            }
            if (c0 != null) {
                shapes.put("c0", c0.shape());
                in.put("c0", c0);
            }
            if (lengths != null) {
                shapes.put("lengths", lengths.shape());
                in.put("lengths", lengths);
            }
            try (CompiledModel plan = CompiledModel.compile(g.build(), CompileOptions.defaults(), shapes)) {
                Map<String, Tensor> out = plan.run(in);
                try (Tensor got = out.get(y.output()); Tensor hn = out.get(y.hN()); Tensor cn = lstm ? out.get(y.cN()) : null) {
                    double worst = RnnTesting.compare(c + " compiled output", got, c.output(), ABS, REL);
                    assertArrayEquals(c.extras().get("h_n").shape(), hn.shape(), c + ": h_n shape");
                    worst = Math.max(worst, RnnTesting.compare(c + " compiled h_n", hn, c.extras().get("h_n"), ABS, REL));
                    if (lstm) {
                        assertArrayEquals(c.extras().get("c_n").shape(), cn.shape(), c + ": c_n shape");
                        worst = Math.max(worst, RnnTesting.compare(c + " compiled c_n", cn, c.extras().get("c_n"), ABS, REL));
                    }
                    WORST.merge(name + " (states)", worst, Math::max);
                    assertTrue(plan.steps().stream().anyMatch(st -> lengths == null ? st.startsWith(lstm ? "lstm " : "gru ")
                                    : st.contains("lengths from input lengths")),
                            c + ": the layers as native recurrent steps\n" + plan.describe());
                }
            }
        }
    }

    /**
     * Streaming: a sequence fed to a states plan in two chunks, the second starting from the first's final states,
     * gives the one-call result over the whole sequence (the eager layer's, itself checked against PyTorch).
     */
    @Test
    void statesCarriedAcrossCallsEqualOneCallOverTheWholeSequence() {
        try (LSTM lstm = new LSTM(4, 6, 2, true, false, 0, false, 0); GRU gru = new GRU(4, 5, 1, true, true, 0, false)) {
            for (RecurrentLayer m : List.<RecurrentLayer>of(lstm, gru)) {
                boolean isLstm = m == lstm, bf = m.batchFirst();
                long t = 6, half = 3, n = 2;
                long[] whole = bf ? new long[] {n, t, 4} : new long[] {t, n, 4}, chunk = bf ? new long[] {n, half, 4} : new long[] {half, n, 4};
                long[] hShape = {m.numLayers(), n, m.hiddenSize()};
                dev.panamadnn.graph.GraphBuilder g = dev.panamadnn.graph.Graph.builder("stream");
                String x = g.input("x", dev.panamadnn.graph.Shape.of(chunk)), h = g.input("h0", dev.panamadnn.graph.Shape.of(hShape));
                String c = isLstm ? g.input("c0", dev.panamadnn.graph.Shape.of(hShape)) : null;
                RecurrentLayer.Lowered y = m.lower(g, x, h, c, "");
                g.output(y.output()).output(y.hN());
                if (isLstm) g.output(y.cN());
                Map<String, long[]> shapes = new java.util.HashMap<>(Map.of("x", chunk, "h0", hShape));
                if (isLstm) shapes.put("c0", hShape);
                float[] all = random(t * n * 4, 9);
                try (CompiledModel plan = CompiledModel.compile(g.build(), CompileOptions.defaults(), shapes);
                     Tensor xs = Tensor.of(all, whole); Tensor want = m.forward(xs);
                     Tensor zeros = Tensor.zeros(hShape)) {
                    float[] got = new float[(int) want.numel()];
                    Tensor hCarry = zeros, cCarry = zeros;
                    List<Tensor> owned = new java.util.ArrayList<>();
                    for (int part = 0; part < 2; part++) {
                        float[] xc = new float[(int) (half * n * 4)];
                        for (long i = 0; i < xc.length; i++) {   // the rows of steps [part*half, (part+1)*half)
                            long a = i / (bf ? half * 4 : n * 4), rest = i % (bf ? half * 4 : n * 4);
                            long src = bf ? a * t * 4 + (part * half * 4) + rest : (part * half + a) * n * 4 + rest;
                            xc[(int) i] = all[(int) src];
                        }
                        Map<String, Tensor> in = new java.util.HashMap<>();
                        try (Tensor xt = Tensor.of(xc, chunk)) {
                            in.put("x", xt);
                            in.put("h0", hCarry);
                            if (isLstm) in.put("c0", cCarry);
                            Map<String, Tensor> out = plan.run(in);
                            owned.addAll(out.values());
                            float[] yc = out.get(y.output()).toFloatArray();
                            long width = m.hiddenSize();
                            for (long i = 0; i < yc.length; i++) {
                                long a = i / (bf ? half * width : n * width), rest = i % (bf ? half * width : n * width);
                                long dst = bf ? a * t * width + part * half * width + rest : (part * half + a) * n * width + rest;
                                got[(int) dst] = yc[(int) i];
                            }
                            hCarry = out.get(y.hN());
                            if (isLstm) cCarry = out.get(y.cN());
                        }
                    }
                    try (Tensor joined = Tensor.of(got, want.shape())) {
                        RnnTesting.compare(m + " two chunks with carried state", joined, want, ABS, REL);
                    } finally {
                        owned.forEach(Tensor::close);
                    }
                }
            }
        }
    }

    @Test
    void badStatesAreRefusedNamingExpectedAndGiven() {
        try (LSTM lstm = new LSTM(4, 6, 2, true, false, 0, true, 0); GRU gru = new GRU(4, 5, 1, true, false, 0, false);
             LSTM proj = new LSTM(3, 5, 1, true, false, 0, false, 2)) {
            Object[][] bad = {
                {lstm, new long[] {3, 2, 4}, new long[] {2, 2, 6}, new long[] {4, 2, 6}, "expected h0 f32[4, 2, 6]"},   // L*D = 4
                {lstm, new long[] {3, 2, 4}, new long[] {4, 3, 6}, new long[] {4, 2, 6}, "expected h0 f32[4, 2, 6]"},   // batch 2
                {lstm, new long[] {3, 2, 4}, new long[] {4, 2, 6}, new long[] {4, 2, 5}, "expected c0 f32[4, 2, 6]"},
                {lstm, new long[] {3, 4}, new long[] {4, 1, 6}, null, "expected h0 f32[4, 6]"},                          // unbatched
                {gru, new long[] {3, 2, 4}, new long[] {1, 2, 5}, new long[] {1, 2, 5}, "a GRU has no cell state c0"},
                {proj, new long[] {3, 2, 3}, null, null, "proj_size > 0"},
            };
            for (Object[] b : bad) {
                RecurrentLayer m = (RecurrentLayer) b[0];
                dev.panamadnn.graph.GraphBuilder g = dev.panamadnn.graph.Graph.builder("bad");
                String x = g.input("x", dev.panamadnn.graph.Shape.of((long[]) b[1]));
                String h = b[2] == null ? null : g.input("h0", dev.panamadnn.graph.Shape.of((long[]) b[2]));
                String c = b[3] == null ? null : g.input("c0", dev.panamadnn.graph.Shape.of((long[]) b[3]));
                dev.panamadnn.graph.GraphException e = org.junit.jupiter.api.Assertions.assertThrows(dev.panamadnn.graph.GraphException.class,
                        () -> m.lower(g, x, h, c, "rnn"));
                assertTrue(e.getMessage().contains((String) b[4]) && e.getMessage().contains("rnn: "), e.getMessage());
                if (b[2] != null && !((String) b[4]).contains("GRU")) assertTrue(e.getMessage().contains("got "), e.getMessage());
            }
            // lengths: I32 [N], with a batched input
            Object[][] badLengths = {{new long[] {3, 2, 4}, dev.panamadnn.DataType.I32, new long[] {3}, "expected lengths i32[2]"},
                {new long[] {3, 2, 4}, dev.panamadnn.DataType.I64, new long[] {2}, "expected lengths i32[2]"},
                {new long[] {3, 4}, dev.panamadnn.DataType.I32, new long[] {1}, "with a batched input"}};
            for (Object[] b : badLengths) {
                dev.panamadnn.graph.GraphBuilder g = dev.panamadnn.graph.Graph.builder("bad lengths");
                String x = g.input("x", dev.panamadnn.graph.Shape.of((long[]) b[0]));
                String lens = g.input("lengths", (dev.panamadnn.DataType) b[1], dev.panamadnn.graph.Shape.of((long[]) b[2]));
                dev.panamadnn.graph.GraphException e = org.junit.jupiter.api.Assertions.assertThrows(dev.panamadnn.graph.GraphException.class,
                        () -> gru.lower(g, x, null, null, lens, "rnn"));
                assertTrue(e.getMessage().contains((String) b[3]) && e.getMessage().contains("got "), e.getMessage());
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
