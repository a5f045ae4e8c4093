package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.OnnxTextGraphs;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The batch-1 GRU as two 1x1 convolutions a step ({@link LowerRecurrentSteps}), forced on for every eligible node, on
 * the GRU nodes of {@code scripts/goldens/generate_gru_steps.py} (hidden 16 and 32; forward, reverse, bidirectional;
 * layouts 0 and 1; no initial state or a constant one; NaN and infinities in X): Y and Y_h against PyTorch's module
 * within 1e-5 + 1e-4 * |want| (the tolerance of the GRU primitive's goldens; NaN where PyTorch has NaN), at batch 1
 * through the convolution steps and at batch 3 through the GRU primitive (the path is batch 1 only); and the two forms
 * against each other at batch 1 within 2e-6, and on 40 seeded random nn.GRU modules; concurrent runs bit-identical (warm runs allocate nothing:
 * {@code CompiledRecurrentAllocationTest} in the tests module); where it does
 * not apply (an infinite initial state, a hidden size off the channel block) the GRU primitive runs.
 */
class CompiledGruStepsTest {
    private static final Map<String, OnnxTextGraphs.Model> MODELS = OnnxTextGraphs.load("/graphs/onnx_gru_steps.txt", "generate_gru_steps.py");
    private static final Map<String, Double> WORST = new TreeMap<>();
    private static final String LOOP = " steps of two 1x1 convolutions";

    @AfterEach
    void ruleDecidesAgain() {
        System.clearProperty(LowerRecurrentSteps.PROPERTY);
    }

    private static void steps(boolean on) {
        System.setProperty(LowerRecurrentSteps.PROPERTY, on ? "on" : "off");
    }

    @AfterAll
    static void report() {
        System.out.println("GRU as convolution steps: largest absolute error vs PyTorch per model: " + WORST);
    }

    @TestFactory
    Stream<DynamicTest> outputsMatchPyTorch() {
        List<DynamicTest> tests = new ArrayList<>();
        for (OnnxTextGraphs.Model m : MODELS.values()) {
            for (int batch : m.inputs().keySet()) tests.add(DynamicTest.dynamicTest(m.name() + " N=" + batch, () -> check(m, batch)));
        }
        assertEquals(8, MODELS.size(), "models in onnx_gru_steps.txt");
        assertEquals(14, tests.size());
        return tests.stream();
    }

    private static void check(OnnxTextGraphs.Model m, int batch) {
        steps(true);
        Map<String, Tensor> in = inputs(m, batch);
        try (CompiledModel plan = CompiledModel.compile(m.graph(), CompileOptions.defaults(), shapes(m, batch))) {
            assertEquals(batch == 1, plan.steps().stream().anyMatch(s -> s.startsWith("gru ") && s.contains(LOOP)), plan.describe());
            Map<String, Tensor> out = plan.run(in);
            try {
                double worst = 0;
                for (Map.Entry<String, OnnxTextGraphs.Data> e : m.outputs().get(batch).entrySet()) {
                    Tensor y = out.get(e.getKey());
                    assertArrayEquals(e.getValue().dims(), y.shape(), m.name() + " " + e.getKey());
                    float[] got = y.toFloatArray(), want = e.getValue().floats();
                    for (int i = 0; i < want.length; i++) {
                        String at = m.name() + " N=" + batch + " " + e.getKey() + "[" + i + "]: got " + got[i] + ", PyTorch " + want[i];
                        if (Float.isNaN(want[i])) {
                            assertTrue(Float.isNaN(got[i]), at);
                            continue;
                        }
                        double err = Math.abs(got[i] - want[i]);
                        assertTrue(err <= 1e-5 + 1e-4 * Math.abs(want[i]), at);
                        worst = Math.max(worst, err);
                    }
                }
                synchronized (WORST) {
                    WORST.merge(m.name() + " N=" + batch, worst, Math::max);
                }
            } finally {
                out.values().forEach(Tensor::close);
            }
        } finally {
            in.values().forEach(Tensor::close);
        }
    }

    /** Batch 1 through the convolution steps and through the GRU primitive: the same values to within float rounding. */
    @Test
    void bothFormsAgreeAtBatchOne() {
        for (OnnxTextGraphs.Model m : MODELS.values()) {
            Map<String, Tensor> in = inputs(m, 1);
            try {
                steps(true);
                Map<String, Tensor> steps = run(m, in, true);
                steps(false);
                Map<String, Tensor> primitive = run(m, in, false);
                for (String k : primitive.keySet()) {
                    float[] a = steps.get(k).toFloatArray(), b = primitive.get(k).toFloatArray();
                    for (int i = 0; i < b.length; i++) {
                        String at = m.name() + " " + k + "[" + i + "]: steps " + a[i] + ", primitive " + b[i];
                        if (Float.isNaN(b[i])) assertTrue(Float.isNaN(a[i]), at);
                        else assertTrue(Math.abs(a[i] - b[i]) <= 2e-6, at);
                    }
                }
                steps.values().forEach(Tensor::close);
                primitive.values().forEach(Tensor::close);
            } finally {
                in.values().forEach(Tensor::close);
            }
        }
    }

    /**
     * Seeded random nn.GRU modules at batch 1 (hidden 16-48, 1-40 features, 1-30 steps, one or two layers, with and
     * without bias, batch first or not, one or two directions; inputs with occasional values near 30 and NaN or +inf):
     * the convolution steps against the GRU primitive (whose goldens are PyTorch's) and the eager forward within
     * 1e-5 + 1e-5 |want|, NaN where they have NaN.
     */
    @Test
    void randomGrusAgreeWithThePrimitive() {
        java.util.Random rnd = new java.util.Random(20261206);
        int loops = 0;
        for (int c = 0; c < 40; c++) {
            int h = 16 * (1 + rnd.nextInt(3)), in = 1 + rnd.nextInt(40), t = 1 + rnd.nextInt(30), layers = 1 + rnd.nextInt(2);
            boolean bias = rnd.nextBoolean(), batchFirst = rnd.nextBoolean(), bidirectional = rnd.nextBoolean();
            String what = "case " + c + ": GRU(" + in + ", " + h + ", layers " + layers + ", bias " + bias + ", batch_first " + batchFirst
                    + ", bidirectional " + bidirectional + "), " + t + " steps";
            long[] shape = batchFirst ? new long[] {1, t, in} : new long[] {t, 1, in};
            float[] xs = new float[t * in];
            for (int i = 0; i < xs.length; i++) xs[i] = (float) rnd.nextGaussian() * (rnd.nextInt(20) == 0 ? 30f : 1f);
            if (rnd.nextInt(5) == 0) xs[rnd.nextInt(xs.length)] = rnd.nextBoolean() ? Float.NaN : Float.POSITIVE_INFINITY;
            try (dev.panamadnn.nn.GRU gru = new dev.panamadnn.nn.GRU(in, h, layers, bias, batchFirst, 0, bidirectional);
                 Tensor x = Tensor.of(xs, shape)) {
                steps(true);
                float[] got, want, eager;
                try (CompiledModel plan = CompiledModel.compile(gru, shape); Tensor y = plan.run(x)) {
                    if (plan.steps().stream().anyMatch(s -> s.contains(LOOP))) loops++;
                    got = y.toFloatArray();
                }
                steps(false);
                try (CompiledModel plan = CompiledModel.compile(gru, shape); Tensor y = plan.run(x)) {
                    want = y.toFloatArray();
                }
                try (Tensor y = gru.forward(x)) {
                    eager = y.toFloatArray();
                }
                for (int i = 0; i < want.length; i++) {
                    String at = what + ", output[" + i + "]: steps " + got[i] + ", primitive " + want[i] + ", eager " + eager[i];
                    assertEquals(Float.isNaN(want[i]), Float.isNaN(got[i]), at);
                    assertEquals(Float.isNaN(want[i]), Float.isNaN(eager[i]), at);
                    if (!Float.isNaN(want[i])) assertTrue(Math.abs(got[i] - want[i]) <= 1e-5 + 1e-5 * Math.abs(want[i]), at);
                }
            }
        }
        assertEquals(40, loops, "random GRUs that took the convolution steps");
    }

    private static Map<String, Tensor> run(OnnxTextGraphs.Model m, Map<String, Tensor> in, boolean loop) {
        try (CompiledModel plan = CompiledModel.compile(m.graph(), CompileOptions.defaults(), shapes(m, 1))) {
            assertEquals(loop, plan.steps().stream().anyMatch(s -> s.contains(LOOP)), plan.describe());
            return plan.run(in);
        }
    }

    /**
     * Not taken where its arithmetic or its batch-1 layout would not hold: an initial state with an infinity (n + u (h - n)
     * is NaN where PyTorch's (1 - z) n + z h is not), more than MAX_STEPS steps, a hidden size that is not a multiple of
     * the channel block, batch 3;
     * the GRU primitive runs them, and the infinite state's plan still matches PyTorch's formula there.
     */
    @Test
    void fallsBackToThePrimitiveWhereTheStepsDoNotApply() {
        System.setProperty(LowerRecurrentSteps.PROPERTY, "sometimes");
        OnnxTextGraphs.Model any = MODELS.get("gru16_forward_l0");
        IllegalArgumentException bad = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> CompiledModel.compile(any.graph(), CompileOptions.defaults(), shapes(any, 1)).close());
        assertTrue(bad.getMessage().contains("panamadnn.gru.steps") && bad.getMessage().contains("'sometimes'"), bad.getMessage());
        steps(true);
        OnnxTextGraphs.Model m = MODELS.get("gru32_forward_h0");
        Graph g = m.graph();
        Map<String, Tensor> inits = new LinkedHashMap<>(g.initializers());
        float[] h0 = inits.get("h0").toFloatArray();
        h0[3] = Float.POSITIVE_INFINITY;
        inits.put("h0", Tensor.of(h0, inits.get("h0").shape()));
        Graph infinite = Graph.of(g.name() + " (infinite h0)", g.inputs(), g.nodes(), inits, g.outputs());
        Map<String, Tensor> in = inputs(m, 1);
        try (CompiledModel plan = CompiledModel.compile(infinite, CompileOptions.defaults(), shapes(m, 1))) {
            assertFalse(plan.steps().stream().anyMatch(s -> s.contains(LOOP)), plan.describe());
            Map<String, Tensor> out = plan.run(in);
            try {
                // z * h with h = +inf stays +inf in PyTorch's formula unless z is 0: the first step's unit 3 is +inf (z > 0)
                float y0 = out.get("Y").toFloatArray()[3];
                assertEquals(Float.POSITIVE_INFINITY, y0, "Y[0, 0, 0, 3] with h0[3] = +inf");
            } finally {
                out.values().forEach(Tensor::close);
            }
        } finally {
            in.values().forEach(Tensor::close);
        }
        // MAX_STEPS steps take the form, one more does not (a context binds two convolutions per step)
        try (dev.panamadnn.nn.GRU gru = new dev.panamadnn.nn.GRU(16, 16)) {
            for (long t : new long[] {LowerRecurrentSteps.MAX_STEPS, LowerRecurrentSteps.MAX_STEPS + 1}) {
                try (CompiledModel plan = CompiledModel.compile(gru, t, 1, 16)) {
                    assertEquals(t <= LowerRecurrentSteps.MAX_STEPS, plan.steps().stream().anyMatch(s -> s.contains(LOOP)), t + " steps: " + plan.describe());
                }
            }
        }
        // hidden 5 (no multiple of 8 or 16) at batch 1, no state: the primitive
        OnnxTextGraphs.Model small = OnnxTextGraphs.load("/graphs/onnx_rnn.txt", "generate_rnn_onnx.py").get("gru_forward_l1_nostate");
        try (CompiledModel plan = CompiledModel.compile(small.graph(), CompileOptions.defaults(), shapes(small, 1))) {
            assertFalse(plan.steps().stream().anyMatch(s -> s.contains(LOOP)), plan.describe());
            assertTrue(plan.steps().stream().anyMatch(s -> s.startsWith("gru ")), plan.describe());
        }
    }

    /**
     * One plan, 16 platform and 16 virtual threads x 10 runs each (contexts made per concurrent run, each with its own
     * step bindings): every result bit-identical to the single-thread run.
     */
    @Test
    void concurrentRunsAreBitIdentical() throws Exception {
        steps(true);
        OnnxTextGraphs.Model m = MODELS.get("gru16_bidir_long");
        Map<String, Tensor> in = inputs(m, 1);
        try (CompiledModel plan = CompiledModel.compile(m.graph(), CompileOptions.defaults(), shapes(m, 1))) {
            assertTrue(plan.steps().stream().anyMatch(s -> s.contains(LOOP)), plan.describe());
            Map<String, Tensor> ref = plan.run(in);
            float[] y = ref.get("Y").toFloatArray(), yh = ref.get("Y_h").toFloatArray();
            ref.values().forEach(Tensor::close);
            List<Thread> threads = new ArrayList<>();
            java.util.concurrent.ConcurrentLinkedQueue<String> failures = new java.util.concurrent.ConcurrentLinkedQueue<>();
            for (int k = 0; k < 32; k++) {
                Runnable work = () -> {
                    for (int r = 0; r < 10; r++) {
                        Map<String, Tensor> out = plan.run(in);
                        try {
                            if (!java.util.Arrays.equals(y, out.get("Y").toFloatArray()) || !java.util.Arrays.equals(yh, out.get("Y_h").toFloatArray())) {
                                failures.add(Thread.currentThread() + " run " + r);
                            }
                        } finally {
                            out.values().forEach(Tensor::close);
                        }
                    }
                };
                threads.add(k % 2 == 0 ? Thread.ofPlatform().start(work) : Thread.ofVirtual().start(work));
            }
            for (Thread t : threads) t.join();
            assertTrue(failures.isEmpty(), "runs that differ from the single-thread run: " + failures);
        } finally {
            in.values().forEach(Tensor::close);
        }
    }

    private static Map<String, long[]> shapes(OnnxTextGraphs.Model m, int batch) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        m.inputs().get(batch).forEach((k, d) -> shapes.put(k, d.dims()));
        return shapes;
    }

    private static Map<String, Tensor> inputs(OnnxTextGraphs.Model m, int batch) {
        Map<String, Tensor> in = new LinkedHashMap<>();
        m.inputs().get(batch).forEach((k, d) -> in.put(k, d.tensor()));
        return in;
    }
}
