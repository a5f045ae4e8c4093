package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Graph outputs known when compiling (ONNX Dropout's mask as the importer writes it, a Shape of an input's fixed dims, an
 * F32 value folded from constants) beside a computed one: written into the caller's outputs each run, in their own dtype,
 * at every batch of a plan set (the Shape output follows the batch).
 */
class ConstantOutputsTest {
    @Test
    void outputsKnownWhenCompilingAreWrittenEachRun() {
        GraphBuilder g = Graph.builder("constants");
        String x = g.input("x", Shape.batched("N", 2, 3));
        String y = g.node("Relu", "relu", Attributes.empty(), x);
        String shape = g.node("Shape", "shape", Attributes.empty(), x);
        java.lang.foreign.MemorySegment one = java.lang.foreign.Arena.ofAuto().allocate(1);
        one.set(ValueLayout.JAVA_BYTE, 0, (byte) 1);
        String mask = g.node("ConstantOfShape", "mask", Attributes.of("value", Tensor.wrap(one, DataType.BOOL, 1)), shape);
        String folded = g.node("Cast", "folded", Attributes.of("to", 1L), g.node("Add", "sum", Attributes.empty(), g.constant("a", 2, 3),
                g.constant("b", 40, 50)));
        g.output(y, mask, shape, folded);
        Graph graph = g.build();
        try (PlanSet set = PlanSet.of(graph, CompileOptions.defaults(), 4)) {
            for (long batch : new long[] {1, 3}) {
                float[] xv = new float[(int) batch * 6];
                for (int i = 0; i < xv.length; i++) xv[i] = i % 2 == 0 ? -i : i;
                try (Tensor in = Tensor.of(xv, batch, 2, 3)) {
                    for (int run = 0; run < 2; run++) {
                        Map<String, Tensor> out = set.run(Map.of("x", in));
                        try {
                            float[] relu = out.get(y).toFloatArray();
                            for (int i = 0; i < xv.length; i++) assertEquals(Math.max(0, xv[i]), relu[i], 0f);   // -0.0 for a negative x before the fast ReLU is proven (docs/numerics.md)
                            Tensor m = out.get(mask);
                            assertEquals(DataType.BOOL, m.dtype());
                            assertArrayEquals(new long[] {batch, 2, 3}, m.shape());
                            for (long i = 0; i < m.numel(); i++) assertEquals(1, m.segment().get(ValueLayout.JAVA_BYTE, i), "mask[" + i + "]");
                            Tensor s = out.get(shape);
                            assertEquals(DataType.I64, s.dtype());
                            assertArrayEquals(new long[] {batch, 2, 3}, s.segment().toArray(ValueLayout.JAVA_LONG));
                            assertArrayEquals(new float[] {42, 53}, out.get(folded).toFloatArray());
                        } finally {
                            out.values().forEach(Tensor::close);
                        }
                    }
                }
            }
        }
        try (CompiledModel plan = CompiledModel.compile(graph, CompileOptions.defaults(), Map.of("x", new long[] {2, 2, 3}))) {
            assertTrue(plan.steps().stream().anyMatch(st -> st.startsWith("java constant BOOL output")), plan.describe());
            assertTrue(plan.steps().stream().anyMatch(st -> st.startsWith("java constant output")), plan.describe());
        }
    }

    private static final float[] C = {0, 0.5f, 1, 2, -3};

    /** A graph of constants only (what ONNX's window-function graphs become once their size input is bound): no inputs, computed each run. */
    @Test
    void aGraphWithoutInputsComputesItsOutputsFromConstants() {
        GraphBuilder g = Graph.builder("no inputs");
        String c = g.initializer("c", Tensor.of(C, 5));
        String cos = g.node("Cos", "cos", Attributes.empty(), c);
        String exp = g.node("Exp", "exp", Attributes.empty(), c);
        g.output(cos, exp);
        Graph graph = g.build();
        IllegalArgumentException noBatch = assertThrows(IllegalArgumentException.class, () -> PlanSet.of(graph, CompileOptions.defaults(), 4));
        assertTrue(noBatch.getMessage().contains("has no inputs"), noBatch.getMessage());
        try (CompiledModel plan = CompiledModel.compile(graph, CompileOptions.defaults(), Map.of())) {
            assertTrue(plan.inputs().isEmpty());
            for (int run = 0; run < 2; run++) {
                Map<String, Tensor> out = plan.run(Map.of());
                try {
                    // numpy 1.24: np.cos(c), np.exp(c) with c = np.array([0, 0.5, 1, 2, -3], dtype=np.float32)
                    assertArrayEquals(new float[] {1f, 0.87758255f, 0.5403023f, -0.4161468f, -0.9899925f}, out.get(cos).toFloatArray(), 2e-7f);
                    assertArrayEquals(new float[] {1f, 1.6487212f, 2.718282f, 7.3890557f, 0.04978707f}, out.get(exp).toFloatArray(), 1e-6f);
                } finally {
                    out.values().forEach(Tensor::close);
                }
            }
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plan.run(Tensor.of(C, 5)));
            assertTrue(e.getMessage().contains("run it with run(Map)"), e.getMessage());
        }
    }

    /** A constant where an op reads an activation (an exporter's unfolded Cos of a constant) beside a real input. */
    @Test
    void aConstantReadAsAnActivationIsCopiedIntoThePlan() {
        GraphBuilder g = Graph.builder("constant activation");
        String x = g.input("x", Shape.batched("N", 5));
        String cos = g.node("Cos", "cos", Attributes.empty(), g.initializer("c", Tensor.of(C, 5)));
        String y = g.node("Mul", "mul", Attributes.empty(), x, cos);
        g.output(y);
        float[] xv = new float[10];
        for (int i = 0; i < xv.length; i++) xv[i] = i - 4;
        try (CompiledModel plan = CompiledModel.compile(g.build(), CompileOptions.defaults(), Map.of("x", new long[] {2, 5}));
             Tensor in = Tensor.of(xv, 2, 5); Tensor out = plan.run(in)) {
            // numpy 1.24: (x * np.cos(c)).ravel() with x = np.arange(10, dtype=np.float32).reshape(2, 5) - 4
            assertArrayEquals(new float[] {-4f, -2.6327477f, -1.0806046f, 0.4161468f, -0f, 1f, 1.7551651f, 1.6209068f, -1.6645873f, -4.9499626f},
                    out.toFloatArray(), 1e-6f);
            assertTrue(plan.steps().stream().anyMatch(st -> st.startsWith("copy of constant c")), plan.describe());
        }
    }
}
