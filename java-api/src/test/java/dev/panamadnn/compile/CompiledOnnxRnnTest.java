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
 * initial states) over W, R, B as torch.onnx writes them. Shapes against ONNX's own shape
 * inference; compiled outputs (Y, Y_h, Y_c) at batch 1 and 3 against PyTorch's module on the same
 * weights, within 1e-5 + 1e-4 * |want| (the tolerance of the eager goldens: the same primitive and
 * summation; a gate or direction mix-up moves values by O(0.1)).
 */
class CompiledOnnxRnnTest {
    private static final Map<String, OnnxTextGraphs.Model> MODELS = OnnxTextGraphs.load("/graphs/onnx_rnn.txt", "generate_rnn_onnx.py");
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
        assertEquals(17, tests.size(), "models in onnx_rnn.txt");
        return tests.stream();
    }

    @TestFactory
    Stream<DynamicTest> compiledOutputsMatchPyTorch() {
        List<DynamicTest> tests = new ArrayList<>();
        for (OnnxTextGraphs.Model m : MODELS.values()) {
            for (int batch : m.inputs().keySet()) tests.add(DynamicTest.dynamicTest(m.name() + " N=" + batch, () -> check(m, batch)));
        }
        assertEquals(31, tests.size());
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

    private static void check(OnnxTextGraphs.Model m, int batch) {
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
}
