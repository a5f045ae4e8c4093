package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.OnnxTextGraphs;
import dev.panamadnn.graph.Value;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * ONNX LSTM and GRU graphs of {@code scripts/goldens/generate_rnn_onnx.py}: two torch.onnx exports
 * (a 2-layer LSTM and a GRU with initial states: Slice, LSTM, Squeeze, Concat as torch writes them) and
 * single hand-built nodes (forward, reverse, bidirectional; layout 0 and 1; with and without
 * initial states; an LSTM with peepholes against the operator's definition in double) over W, R, B as torch.onnx
 * writes them. Shapes against ONNX's own shape
 * inference; compiled outputs (Y, Y_h, Y_c) at batch 1 and 3 against PyTorch's module on the same
 * weights, within 1e-5 + 1e-4 * |want| (the tolerance of the eager goldens: the same primitive and
 * summation; a gate or direction mix-up moves values by O(0.1)).
 */
class CompiledOnnxRnnTest {
    static final Map<String, OnnxTextGraphs.Model> MODELS = OnnxTextGraphs.load("/graphs/onnx_rnn.txt", "generate_rnn_onnx.py");
    private static final Map<String, Double> WORST = new TreeMap<>();

    @AfterAll
    static void report() {
        System.out.println("compiled ONNX LSTM/GRU graphs: largest absolute error vs PyTorch per model: " + WORST);
    }

    @TestFactory
    Stream<DynamicTest> shapesMatchOnnxShapeInference() {
        List<DynamicTest> tests = new ArrayList<>();
        for (OnnxTextGraphs.Model m : MODELS.values()) {
            tests.add(DynamicTest.dynamicTest(m.name(), () -> {
                assertTrue(m.onnxShapes().keySet().stream().anyMatch(k -> m.graph().outputs().contains(k)), m.name() + ": no output shapes");
                for (Map.Entry<String, String> e : m.onnxShapes().entrySet()) {
                    Value v = m.graph().value(e.getKey());
                    String[] expected = e.getValue().split(" ");
                    assertEquals(expected[0], v.dtype().name(), m.name() + ": dtype of " + v);
                    assertEquals(OnnxTextGraphs.shape(expected[1]).toString(), v.shape().toString(), m.name() + ": shape of " + v);
                }
            }));
        }
        assertEquals(18, tests.size(), "models in onnx_rnn.txt");
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> compiledOutputsMatchPyTorch() {
        List<DynamicTest> tests = new ArrayList<>();
        for (OnnxTextGraphs.Model m : MODELS.values()) {
            for (int batch : m.inputs().keySet()) tests.add(DynamicTest.dynamicTest(m.name() + " N=" + batch, () -> check(m, batch)));
        }
        assertEquals(33, tests.size());
        return tests.stream();
    }

    /** Layout-1 graphs (batch first, the symbolic N leading every input) through one PlanSet: batches 1 and 3 from one plan set. */
    @org.junit.jupiter.api.Test
    void layoutOneGraphsRunThroughAPlanSet() {
        for (String name : List.of("lstm_bidir_l1", "gru_bidir_l1")) {
            OnnxTextGraphs.Model m = MODELS.get(name);
            try (PlanSet set = PlanSet.of(m.graph(), CompileOptions.defaults(), 4)) {
                for (int batch : m.inputs().keySet()) {
                    Map<String, Tensor> in = new LinkedHashMap<>();
                    m.inputs().get(batch).forEach((k, d) -> in.put(k, d.tensor()));
                    Map<String, Tensor> out = set.run(in);
                    try {
                        for (Map.Entry<String, OnnxTextGraphs.Data> e : m.outputs().get(batch).entrySet()) {
                            float[] got = out.get(e.getKey()).toFloatArray(), want = e.getValue().floats();
                            assertEquals(want.length, got.length, name + " " + e.getKey());
                            for (int i = 0; i < want.length; i++) {
                                assertTrue(Math.abs(got[i] - want[i]) <= 1e-5 + 1e-4 * Math.abs(want[i]),
                                        name + " plan set N=" + batch + " " + e.getKey() + "[" + i + "]: got " + got[i] + ", PyTorch " + want[i]);
                            }
                        }
                    } finally {
                        out.values().forEach(Tensor::close);
                        in.values().forEach(Tensor::close);
                    }
                }
            }
        }
    }

    static void check(OnnxTextGraphs.Model m, int batch) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, Tensor> in = new LinkedHashMap<>();
        m.inputs().get(batch).forEach((k, d) -> {
            shapes.put(k, d.dims());
            in.put(k, d.tensor());
        });
        try (CompiledModel plan = CompiledModel.compile(m.graph(), CompileOptions.defaults(), shapes)) {
            assertTrue(plan.steps().stream().anyMatch(s -> s.startsWith("lstm ") || s.startsWith("gru ")), plan.describe());
            Map<String, Tensor> out = plan.run(in);
            try {
                double worst = 0;
                for (Map.Entry<String, OnnxTextGraphs.Data> e : m.outputs().get(batch).entrySet()) {
                    Tensor y = out.get(e.getKey());
                    assertArrayEquals(e.getValue().dims(), y.shape(), m.name() + " " + e.getKey());
                    float[] got = y.toFloatArray(), want = e.getValue().floats();
                    for (int i = 0; i < want.length; i++) {
                        double err = Math.abs(got[i] - want[i]);
                        assertTrue(err <= 1e-5 + 1e-4 * Math.abs(want[i]), m.name() + " N=" + batch + " " + e.getKey() + "[" + i + "]: got "
                                + got[i] + ", PyTorch " + want[i]);
                        worst = Math.max(worst, err);
                    }
                }
                synchronized (WORST) {
                    WORST.merge(m.name(), worst, Math::max);
                }
            } finally {
                out.values().forEach(Tensor::close);
                in.values().forEach(Tensor::close);
            }
        }
    }

    /**
     * W, R and B fed as graph inputs (as ONNX's backend tests do) instead of initializers: every single-node model
     * without per-run lengths (forward, reverse, bidirectional, both layouts, GRU linear-before-reset or not, constant
     * lengths, initial states), at each batch, against PyTorch's outputs on the same weights; the plan translates them
     * into oneDNN's gate order by a Java step each run and reorders the LSTM's.
     */
    @TestFactory
    Stream<DynamicTest> weightsAsGraphInputsMatchPyTorch() {
        List<DynamicTest> tests = new ArrayList<>();
        for (OnnxTextGraphs.Model m : MODELS.values()) {
            List<dev.panamadnn.graph.Node> rnn = m.graph().nodes().stream().filter(nd -> nd.op().matches("LSTM|GRU")).toList();
            if (rnn.size() != 1 || m.graph().nodes().size() != 1) continue;   // the torch exports compute W/R/B slices: not graph inputs
            dev.panamadnn.graph.Node node = rnn.get(0);
            List<String> weights = new ArrayList<>();
            for (int i : new int[] {1, 2, 3, 7}) if (i < node.inputs().size() && node.input(i) != null) weights.add(node.input(i));   // W, R, B, P
            dev.panamadnn.graph.Graph g = m.graph();
            List<Value> inputs = new ArrayList<>(g.inputs());
            Map<String, Tensor> inits = new LinkedHashMap<>(g.initializers());
            for (String w : weights) {
                inputs.add(new Value(w, dev.panamadnn.DataType.F32, dev.panamadnn.graph.Shape.of(inits.get(w).shape())));
                inits.remove(w);
            }
            dev.panamadnn.graph.Graph fed = dev.panamadnn.graph.Graph.of(g.name() + " (weights as inputs)", inputs, g.nodes(), inits, g.outputs());
            for (int batch : m.inputs().keySet()) {
                tests.add(DynamicTest.dynamicTest(m.name() + " N=" + batch, () -> {
                    Map<String, long[]> shapes = new LinkedHashMap<>();
                    Map<String, Tensor> in = new LinkedHashMap<>();
                    m.inputs().get(batch).forEach((k, d) -> {
                        shapes.put(k, d.dims());
                        in.put(k, d.tensor());
                    });
                    for (String w : weights) {
                        shapes.put(w, g.initializers().get(w).shape());
                        in.put(w, g.initializers().get(w));
                    }
                    try (CompiledModel plan = CompiledModel.compile(fed, CompileOptions.defaults(), shapes)) {
                        assertTrue(plan.steps().stream().anyMatch(st -> st.startsWith("java translate")), plan.describe());
                        Map<String, Tensor> out = plan.run(in);
                        try {
                            for (Map.Entry<String, OnnxTextGraphs.Data> e : m.outputs().get(batch).entrySet()) {
                                float[] got = out.get(e.getKey()).toFloatArray(), want = e.getValue().floats();
                                assertEquals(want.length, got.length, m.name() + " " + e.getKey());
                                for (int i = 0; i < want.length; i++) {
                                    assertTrue(Math.abs(got[i] - want[i]) <= 1e-5 + 1e-4 * Math.abs(want[i]), m.name() + " (weights as inputs) N="
                                            + batch + " " + e.getKey() + "[" + i + "]: got " + got[i] + ", PyTorch " + want[i]);
                                }
                            }
                        } finally {
                            out.values().forEach(Tensor::close);
                            for (String k : m.inputs().get(batch).keySet()) in.get(k).close();
                        }
                    }
                }));
            }
        }
        assertTrue(tests.size() >= 20, "single-node LSTM/GRU models x batches: " + tests.size());
        return tests.stream();
    }

    /** {@code m}'s graph with its constant {@code lens} turned into an I32 graph input (each run's own lengths). */
    private static dev.panamadnn.graph.Graph lengthsAsInput(OnnxTextGraphs.Model m) {
        dev.panamadnn.graph.Graph g = m.graph();
        Tensor lens = g.initializers().get("lens");
        List<Value> inputs = new ArrayList<>(g.inputs());
        inputs.add(new Value("lens", dev.panamadnn.DataType.I32, dev.panamadnn.graph.Shape.of(lens.shape())));
        Map<String, Tensor> inits = new LinkedHashMap<>(g.initializers());
        inits.remove("lens");
        return dev.panamadnn.graph.Graph.of(g.name() + " (runtime lengths)", inputs, g.nodes(), inits, g.outputs());
    }

    /** {@code m}'s graph with the constant {@code lens} replaced by {@code lengths}. */
    private static dev.panamadnn.graph.Graph withConstantLengths(OnnxTextGraphs.Model m, int[] lengths) {
        dev.panamadnn.graph.Graph g = m.graph();
        Map<String, Tensor> inits = new LinkedHashMap<>(g.initializers());
        inits.put("lens", Tensor.wrap(java.lang.foreign.Arena.ofAuto().allocateFrom(java.lang.foreign.ValueLayout.JAVA_INT, lengths),
                dev.panamadnn.DataType.I32, lengths.length));
        return dev.panamadnn.graph.Graph.of(g.name(), g.inputs(), g.nodes(), inits, g.outputs());
    }

    private static Tensor lengthsTensor(int[] lengths) {
        return Tensor.wrap(java.lang.foreign.Arena.ofAuto().allocateFrom(java.lang.foreign.ValueLayout.JAVA_INT, lengths),
                dev.panamadnn.DataType.I32, lengths.length);
    }

    /**
     * sequence_lens as an I32 graph input, so every run brings its own lengths: with the golden's lengths, every output
     * against PyTorch's pack_padded_sequence; with other lengths (all full, all 1, mixed), the same plan against a plan
     * compiled with those lengths as constants (the compile-time length groups, checked against PyTorch above), to
     * within 1e-6; lengths outside [1, T] refused before any native call, naming the node, index, length and T, and the
     * plan still runs after.
     */
    @org.junit.jupiter.api.Test
    void sequenceLengthsAsAGraphInputMatchPyTorchAndTheConstantPlans() {
        for (String name : List.of("lstm_lengths_bidir_l0", "gru_lengths_bidir_l1", "lstm_lengths_reverse_l1")) {
            OnnxTextGraphs.Model m = MODELS.get(name);
            int batch = m.inputs().keySet().iterator().next();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            Map<String, Tensor> in = new LinkedHashMap<>();
            m.inputs().get(batch).forEach((k, d) -> {
                shapes.put(k, d.dims());
                in.put(k, d.tensor());
            });
            Tensor golden = m.graph().initializers().get("lens");
            int[] goldenLengths = golden.segment().toArray(java.lang.foreign.ValueLayout.JAVA_INT);
            shapes.put("lens", golden.shape());
            long steps = m.graph().value("X").shape().dim(m.graph().nodes().stream().filter(nd -> nd.op().matches("LSTM|GRU")).findFirst()
                    .orElseThrow().attributes().integer("layout", 0) == 1 ? 1 : 0).size();
            try (CompiledModel plan = CompiledModel.compile(lengthsAsInput(m), CompileOptions.defaults(), shapes)) {
                assertTrue(plan.steps().stream().anyMatch(s -> s.contains("lengths from input lens")), plan.describe());
                // the golden's lengths: PyTorch
                in.put("lens", lengthsTensor(goldenLengths));
                Map<String, Tensor> out = plan.run(in);
                try {
                    for (Map.Entry<String, OnnxTextGraphs.Data> e : m.outputs().get(batch).entrySet()) {
                        float[] got = out.get(e.getKey()).toFloatArray(), want = e.getValue().floats();
                        for (int i = 0; i < want.length; i++) {
                            assertTrue(Math.abs(got[i] - want[i]) <= 1e-5 + 1e-4 * Math.abs(want[i]), name + " runtime lengths " + e.getKey() + "["
                                    + i + "]: got " + got[i] + ", PyTorch " + want[i]);
                        }
                    }
                } finally {
                    out.values().forEach(Tensor::close);
                }
                // other lengths: the plan with them as constants
                int n = goldenLengths.length;
                int[][] others = {java.util.stream.IntStream.range(0, n).map(b -> (int) steps).toArray(), java.util.stream.IntStream.range(0, n).map(b -> 1).toArray(),
                        java.util.stream.IntStream.range(0, n).map(b -> (int) (1 + (b * 3L) % steps)).toArray()};
                for (int[] lengths : others) {
                    Map<String, long[]> constShapes = new LinkedHashMap<>(shapes);
                    constShapes.remove("lens");
                    Map<String, Tensor> constIn = new LinkedHashMap<>(in);
                    constIn.remove("lens");
                    in.put("lens", lengthsTensor(lengths));
                    try (CompiledModel constant = CompiledModel.compile(withConstantLengths(m, lengths), CompileOptions.defaults(), constShapes)) {
                        Map<String, Tensor> got = plan.run(in), want = constant.run(constIn);
                        try {
                            for (String k : want.keySet()) {
                                float[] a = got.get(k).toFloatArray(), b = want.get(k).toFloatArray();
                                for (int i = 0; i < b.length; i++) {
                                    assertTrue(Math.abs(a[i] - b[i]) <= 1e-6 + 1e-6 * Math.abs(b[i]), name + " lengths " + java.util.Arrays.toString(lengths)
                                            + " " + k + "[" + i + "]: runtime " + a[i] + ", constant plan " + b[i]);
                                }
                            }
                        } finally {
                            got.values().forEach(Tensor::close);
                            want.values().forEach(Tensor::close);
                        }
                    }
                }
                // refused lengths, then a good run again
                for (int bad : new int[] {0, (int) steps + 1, -3}) {
                    int[] lengths = goldenLengths.clone();
                    lengths[n - 1] = bad;
                    in.put("lens", lengthsTensor(lengths));
                    IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> plan.run(in));
                    assertTrue(e.getMessage().contains("sequence_lens[" + (n - 1) + "]") && e.getMessage().contains("is " + bad)
                            && e.getMessage().contains("[1, " + steps + "]"), e.getMessage());
                }
                // a lengths tensor of another dtype or shape, or freed: refused by the plan's input checks
                in.put("lens", Tensor.of(new float[n], n));
                assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> plan.run(in)).getMessage().contains("lens"));
                in.put("lens", lengthsTensor(java.util.Arrays.copyOf(goldenLengths, n + 1)));
                assertTrue(org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> plan.run(in)).getMessage().contains("lens"));
                java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined();
                in.put("lens", Tensor.wrap(arena.allocateFrom(java.lang.foreign.ValueLayout.JAVA_INT, goldenLengths), dev.panamadnn.DataType.I32, n));
                arena.close();   // the lengths' memory freed before the run
                org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class, () -> plan.run(in));
                in.put("lens", lengthsTensor(goldenLengths));
                plan.run(in).values().forEach(Tensor::close);
            } finally {
                in.values().forEach(t -> {
                    if (t.isAlive()) t.close();
                });
            }
        }
    }

    /**
     * Eight threads (four platform, four virtual) running one runtime-lengths plan with different lengths at once
     * (the length groups' primitives made on first use by whichever thread gets there): each result bit-identical to
     * that lengths' result from a single thread.
     */
    @org.junit.jupiter.api.Test
    void runtimeLengthsAreThreadSafeAndDeterministic() throws Exception {
        OnnxTextGraphs.Model m = MODELS.get("lstm_lengths_bidir_l0");
        int batch = m.inputs().keySet().iterator().next();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, Tensor> base = new LinkedHashMap<>();
        m.inputs().get(batch).forEach((k, d) -> {
            shapes.put(k, d.dims());
            base.put(k, d.tensor());
        });
        Tensor golden = m.graph().initializers().get("lens");
        shapes.put("lens", golden.shape());
        int n = (int) golden.numel();
        int[][] sets = {{5, 2, 5, 3}, {1, 1, 1, 1}, {5, 5, 5, 5}, {2, 4, 1, 3}, {3, 3, 2, 2}};
        for (int[] set : sets) assertEquals(n, set.length);
        try (CompiledModel plan = CompiledModel.compile(lengthsAsInput(m), CompileOptions.defaults(), shapes)) {
            List<Map<String, float[]>> want = new ArrayList<>();
            for (int[] set : sets) {
                Map<String, Tensor> in = new LinkedHashMap<>(base);
                in.put("lens", lengthsTensor(set));
                Map<String, Tensor> out = plan.run(in);
                Map<String, float[]> w = new TreeMap<>();
                out.forEach((k, t) -> w.put(k, t.toFloatArray()));
                out.values().forEach(Tensor::close);
                want.add(w);
            }
            List<Thread> threads = new ArrayList<>();
            java.util.concurrent.ConcurrentLinkedQueue<Throwable> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
            for (int t = 0; t < 8; t++) {
                int id = t;
                Runnable work = () -> {
                    try {
                        for (int r = 0; r < 40; r++) {
                            int k = (id + r) % sets.length;
                            Map<String, Tensor> in = new LinkedHashMap<>(base);
                            in.put("lens", lengthsTensor(sets[k]));
                            Map<String, Tensor> out = plan.run(in);
                            try {
                                for (Map.Entry<String, Tensor> e : out.entrySet()) {
                                    assertArrayEquals(want.get(k).get(e.getKey()), e.getValue().toFloatArray(),
                                            "thread " + id + " run " + r + " lengths " + java.util.Arrays.toString(sets[k]) + " " + e.getKey());
                                }
                            } finally {
                                out.values().forEach(Tensor::close);
                            }
                        }
                    } catch (Throwable e) {
                        failures.add(e);
                    }
                };
                threads.add(id % 2 == 0 ? Thread.ofPlatform().start(work) : Thread.ofVirtual().start(work));
            }
            for (Thread t : threads) t.join();
            assertTrue(failures.isEmpty(), () -> failures.size() + " failures, first: " + failures.peek());
        } finally {
            base.values().forEach(Tensor::close);
        }
    }
}
