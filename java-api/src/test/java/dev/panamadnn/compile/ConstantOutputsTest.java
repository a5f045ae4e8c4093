package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
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
                            for (int i = 0; i < xv.length; i++) assertEquals(Math.max(0, xv[i]), relu[i]);
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
}
