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
 * F32 {@code Mod} (fmod = 1) computed at run time, broadcast against a constant divisor, and integer {@code Max}/{@code Min}
 * of values known when compiling. Expected values are IEEE-754 fmod's, as numpy.fmod and C's fmod give them (exact: the
 * result is the dividend less an integer multiple of the divisor, with the dividend's sign; NaN for a zero divisor or an
 * infinite dividend, the dividend for an infinite divisor).
 */
class ModMaxMinTest {
    @Test
    void floatModIsFmodWithTheDividendsSign() {
        GraphBuilder g = Graph.builder("mod");
        String x = g.input("x", Shape.of(2, 4));
        String y = g.initializer("y", Tensor.of(new float[] {2f, -2f, 0f, Float.POSITIVE_INFINITY}, 4));
        g.output(g.node("Mod", "m", Attributes.of("fmod", 1L), x, y));
        try (CompiledModel plan = CompiledModel.compile(g.build(), CompileOptions.defaults(), Map.of("x", new long[] {2, 4}));
             Tensor in = Tensor.of(new float[] {5.5f, 5.5f, 1f, 3f, -5.5f, -5.5f, Float.NaN, Float.NEGATIVE_INFINITY}, 2, 4)) {
            assertTrue(plan.steps().stream().anyMatch(s -> s.startsWith("java fmod m")), plan.describe());
            Map<String, Tensor> out = plan.run(Map.of("x", in));
            try {
                float[] z = out.get("m").toFloatArray();
                assertArrayEquals(new float[] {1.5f, 1.5f, Float.NaN, 3f, -1.5f, -1.5f, Float.NaN, Float.NaN}, z);
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }

    @Test
    void integerMaxAndMinOfKnownValuesAreExact() {
        for (String op : new String[] {"Max", "Min"}) {
            GraphBuilder g = Graph.builder(op);
            String x = g.input("x", Shape.of(1));
            String r = g.node(op, "r", Attributes.empty(), g.constant("a", 3, -7, 1L << 40), g.constant("b", 5, -9, -(1L << 40)));
            g.output(g.node("Relu", "relu", Attributes.empty(), x), r);
            Graph graph = g.build();
            assertEquals(DataType.I64, graph.value("r").dtype());
            long[] want = op.equals("Max") ? new long[] {5, -7, 1L << 40} : new long[] {3, -9, -(1L << 40)};
            assertArrayEquals(want, graph.knownValue("r").segment().toArray(ValueLayout.JAVA_LONG));
            try (CompiledModel plan = CompiledModel.compile(graph, CompileOptions.defaults(), Map.of("x", new long[] {1}));
                 Tensor in = Tensor.of(new float[] {-1}, 1)) {
                Map<String, Tensor> out = plan.run(Map.of("x", in));
                try {
                    assertArrayEquals(want, out.get("r").segment().toArray(ValueLayout.JAVA_LONG), op + ": written each run, exactly");
                } finally {
                    out.values().forEach(Tensor::close);
                }
            }
        }
    }
}
