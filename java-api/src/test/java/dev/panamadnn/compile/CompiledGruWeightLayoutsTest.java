package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.graph.OnnxTextGraphs;
import dev.panamadnn.internal.dnnl.ConvOps;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The GRU primitive's two weight layouts ({@link LowerRecurrent#weightFormat}: plain {@code ldigo} where oneDNN has
 * AVX-512 kernels, the primitive's own pick elsewhere), each forced by {@code panamadnn.gru.weights} so that both are
 * proven on whichever CPU runs the tests: every GRU graph of {@code generate_rnn_onnx.py} (torch.onnx's export, forward,
 * reverse, bidirectional, both layouts, with and without initial states, linear-before-reset off, constant lengths) at
 * each of its batches against PyTorch, within {@link CompiledOnnxRnnTest}'s tolerance; the two layouts must run
 * different oneDNN implementations for at least one graph (else the switch would be inert).
 */
class CompiledGruWeightLayoutsTest {
    @AfterEach
    void ruleDecidesAgain() {
        System.clearProperty(LowerRecurrent.GRU_WEIGHTS_PROPERTY);
    }

    private static List<OnnxTextGraphs.Model> grus() {
        List<OnnxTextGraphs.Model> l = new ArrayList<>();
        for (OnnxTextGraphs.Model m : CompiledOnnxRnnTest.MODELS.values()) if (m.name().contains("gru")) l.add(m);
        assertEquals(9, l.size(), "GRU graphs in onnx_rnn.txt");
        return l;
    }

    @TestFactory
    Stream<DynamicTest> bothLayoutsMatchPyTorch() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String layout : List.of("plain", "any")) {
            for (OnnxTextGraphs.Model m : grus()) {
                for (int batch : m.inputs().keySet()) {
                    tests.add(DynamicTest.dynamicTest(layout + " " + m.name() + " N=" + batch, () -> {
                        System.setProperty(LowerRecurrent.GRU_WEIGHTS_PROPERTY, layout);
                        try {
                            CompiledOnnxRnnTest.check(m, batch);
                        } finally {
                            System.clearProperty(LowerRecurrent.GRU_WEIGHTS_PROPERTY);
                        }
                    }));
                }
            }
        }
        return tests.stream();
    }

    @Test
    void theLayoutsRunDifferentKernelsAndAutoFollowsTheIsa() {
        Map<String, String> kernels = new LinkedHashMap<>();
        for (String layout : List.of("plain", "any", "auto")) {
            System.setProperty(LowerRecurrent.GRU_WEIGHTS_PROPERTY, layout);
            OnnxTextGraphs.Model m = CompiledOnnxRnnTest.MODELS.get("gru_forward_l0");
            int batch = m.inputs().keySet().iterator().next();
            Map<String, long[]> shapes = new LinkedHashMap<>();
            m.inputs().get(batch).forEach((k, d) -> shapes.put(k, d.dims()));
            try (CompiledModel plan = CompiledModel.compile(m.graph(), CompileOptions.defaults(), shapes)) {
                String step = plan.steps().stream().filter(s -> s.startsWith("gru ")).findFirst().orElseThrow(() -> new AssertionError(plan.describe()));
                kernels.put(layout, step.substring(step.lastIndexOf('[')));
            }
        }
        assertNotEquals(kernels.get("plain"), kernels.get("any"), kernels.toString());
        assertEquals(kernels.get(ConvOps.channelBlock() == 16 ? "plain" : "any"), kernels.get("auto"), kernels.toString());
    }

    @Test
    void aBadValueIsRefusedNamingTheProperty() {
        System.setProperty(LowerRecurrent.GRU_WEIGHTS_PROPERTY, "packed");
        OnnxTextGraphs.Model m = CompiledOnnxRnnTest.MODELS.get("gru_forward_l0");
        int batch = m.inputs().keySet().iterator().next();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        m.inputs().get(batch).forEach((k, d) -> shapes.put(k, d.dims()));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CompiledModel.compile(m.graph(), CompileOptions.defaults(), shapes).close());
        assertTrue(e.getMessage().contains("panamadnn.gru.weights") && e.getMessage().contains("'packed'"), e.getMessage());
    }
}
