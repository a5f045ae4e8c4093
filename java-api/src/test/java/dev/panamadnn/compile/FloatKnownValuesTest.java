package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * F32 Add, Sub, Mul, Div and Relu of values known when shapes are inferred are known values themselves (what ONNX's
 * expansion of a Range needs for its Loop's trip count). The expected values are not written here: they are the same
 * ops run by a compiled plan on the same operands fed as graph inputs (oneDNN's binary and eltwise kernels), which the
 * folded values must equal bit for bit (NaN as NaN; Relu's zero compared by value, its sign aside), including
 * infinities, NaN, signed zeros, subnormals, overflow and division by zero.
 */
class FloatKnownValuesTest {
    private static final float[] A = {7f, -3f, 0f, -0f, Float.POSITIVE_INFINITY, Float.NaN, 1e-40f, 3.4e38f, 1f / 3, -2.5f, 0f, 16777217f};
    private static final float[] B = {2f, 0f, -0f, 5f, Float.POSITIVE_INFINITY, 1f, 1e-40f, 3.4e38f, 3f, Float.NEGATIVE_INFINITY, 0f, 1f};
    private static final List<String> OPS = List.of("Add", "Sub", "Mul", "Div");

    @Test
    void foldedFloatArithmeticEqualsThePlansKernels() {
        int n = A.length;
        GraphBuilder known = Graph.builder("known");
        String ka = known.initializer("a", Tensor.of(A.clone(), n)), kb = known.initializer("b", Tensor.of(B.clone(), n));
        GraphBuilder run = Graph.builder("run");
        String ra = run.input("a", Shape.of(n)), rb = run.input("b", Shape.of(n));
        for (String op : OPS) {
            known.output(known.node(op, op, Attributes.empty(), ka, kb));
            run.output(run.node(op, op, Attributes.empty(), ra, rb));
        }
        known.output(known.node("Relu", "Relu", Attributes.empty(), ka));
        run.output(run.node("Relu", "Relu", Attributes.empty(), ra));
        // a broadcast: [n] op [1]
        String kc = known.initializer("c", Tensor.of(new float[] {-0.75f}, 1)), rc = run.input("c", Shape.of(1));
        known.output(known.node("Div", "DivBroadcast", Attributes.empty(), ka, kc));
        run.output(run.node("Div", "DivBroadcast", Attributes.empty(), ra, rc));
        Graph folded = known.build();
        Map<String, long[]> shapes = Map.of("a", new long[] {n}, "b", new long[] {n}, "c", new long[] {1});
        try (CompiledModel plan = CompiledModel.compile(run.build(), CompileOptions.defaults(), shapes);
             Tensor a = Tensor.of(A.clone(), n); Tensor b = Tensor.of(B.clone(), n); Tensor c = Tensor.of(new float[] {-0.75f}, 1)) {
            Map<String, Tensor> in = new HashMap<>(Map.of("a", a, "b", b, "c", c));
            Map<String, Tensor> out = plan.run(in);
            try {
                for (String name : List.of("Add", "Sub", "Mul", "Div", "Relu", "DivBroadcast")) {
                    Tensor k = folded.knownValue(name);
                    assertNotNull(k, name + " of known F32 values should be known");
                    float[] want = out.get(name).toFloatArray(), got = k.toFloatArray();
                    assertEquals(want.length, got.length, name);
                    for (int i = 0; i < want.length; i++) {
                        String at = name + "(" + A[i % n] + ", " + (name.equals("DivBroadcast") ? -0.75f : B[i % n]) + ") at " + i;
                        if (name.equals("Relu")) {
                            assertEquals(Float.isNaN(want[i]), Float.isNaN(got[i]), at);
                            if (!Float.isNaN(want[i])) assertEquals(0, Float.compare(want[i] == 0 ? 0f : want[i], got[i] == 0 ? 0f : got[i]), at);
                        } else {
                            assertEquals(Float.floatToIntBits(want[i]), Float.floatToIntBits(got[i]), at + ": plan " + want[i] + ", folded " + got[i]);
                        }
                    }
                }
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }

    @Test
    void aGraphInputStaysUnknown() {
        GraphBuilder g = Graph.builder("input");
        String x = g.input("x", Shape.of(2));
        String k = g.initializer("k", Tensor.of(new float[] {1f, 2f}, 2));
        g.output(g.node("Div", "d", Attributes.empty(), x, k), g.node("Mul", "m", Attributes.empty(), k, k));
        Graph graph = g.build();
        assertNull(graph.knownValue("d"), "a value computed from an input is not known when importing");
        assertNotNull(graph.knownValue("m"));
    }
}
