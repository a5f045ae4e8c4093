package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * LowerMath.softmax's NaN-line repair (PyTorch: a line holding a NaN, a +inf or only -inf is all NaN;
 * oneDNN gives e.g. [NaN, 0, 0]): kept, on the last axis through a 2-D [lines, S] + [lines, 1] add (the
 * 4-D broadcast got oneDNN's reference kernel), when the probabilities are a graph output; left out when
 * only a MatMul reads them as A, where one NaN in a row already makes the whole product row NaN. Expected
 * values are PyTorch's rules written out (exp / sum of exp, NaN lines), not our output.
 */
class SoftmaxNanLinesTest {
    private static final float NAN = Float.NaN, INF = Float.POSITIVE_INFINITY;

    /** [2, 2, 3] scores: line 0 plain, line 1 with a NaN, line 2 with +inf, line 3 all -inf. */
    private static final float[] SCORES = {0.5f, -1f, 2f, NAN, 1f, 2f, INF, 1f, 2f, -INF, -INF, -INF};

    private static Tensor scores(Arena a) {
        return Tensor.wrap(a.allocateFrom(ValueLayout.JAVA_FLOAT, SCORES), DataType.F32, 2, 2, 3);
    }

    @Test
    void aSoftmaxOutputGetsItsNanLinesOnTheLastAxis() {
        GraphBuilder g = Graph.builder("softmax");
        String y = g.node("Softmax", "softmax", Attributes.of("axis", -1L), g.input("x", Shape.of(2, 2, 3)));
        try (Arena a = Arena.ofConfined(); CompiledModel plan = CompiledModel.compile(g.output(y).build(), CompileOptions.defaults(), 2, 2, 3);
             Tensor out = plan.run(scores(a))) {
            assertTrue(plan.steps().stream().anyMatch(s -> s.startsWith("add the NaN lines")), plan.describe());
            float[] v = out.toFloatArray();
            double e0 = Math.exp(0.5 - 2), e1 = Math.exp(-1 - 2), sum = e0 + e1 + 1;
            assertEquals(e0 / sum, v[0], 1e-6);
            assertEquals(e1 / sum, v[1], 1e-6);
            assertEquals(1 / sum, v[2], 1e-6);
            for (int i = 3; i < 12; i++) assertTrue(Float.isNaN(v[i]), "line " + i / 3 + " element " + i % 3 + ": PyTorch gives NaN, got " + v[i]);
        }
    }

    @Test
    void aSoftmaxReadOnlyByAMatMulNeedsNoRepair() {
        GraphBuilder g = Graph.builder("attention");
        float[] values = {1f, 2f, 3f, 4f, 5f, 6f};   // [3, 2]
        String b = g.initializer("values", Tensor.wrap(Arena.ofAuto().allocateFrom(ValueLayout.JAVA_FLOAT, values), DataType.F32, 3, 2));
        String p = g.node("Softmax", "softmax", Attributes.of("axis", -1L), g.input("x", Shape.of(2, 2, 3)));
        String y = g.node("MatMul", "attend", Attributes.empty(), p, b);
        try (Arena a = Arena.ofConfined(); CompiledModel plan = CompiledModel.compile(g.output(y).build(), CompileOptions.defaults(), 2, 2, 3);
             Tensor out = plan.run(scores(a))) {
            assertFalse(plan.steps().stream().anyMatch(s -> s.contains("NaN lines")), plan.describe());
            float[] v = out.toFloatArray();   // [2, 2, 2]
            double e0 = Math.exp(0.5 - 2), e1 = Math.exp(-1 - 2), sum = e0 + e1 + 1;
            assertEquals((e0 * 1 + e1 * 3 + 5) / sum, v[0], 1e-5);
            assertEquals((e0 * 2 + e1 * 4 + 6) / sum, v[1], 1e-5);
            for (int i = 2; i < 8; i++) assertTrue(Float.isNaN(v[i]), "row " + i / 2 + " column " + i % 2 + ": PyTorch gives NaN, got " + v[i]);
        }
    }
}
