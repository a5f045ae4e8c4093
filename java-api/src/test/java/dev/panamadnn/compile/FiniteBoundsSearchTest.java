package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Node;
import dev.panamadnn.graph.Shape;
import dev.panamadnn.models.ResNet;
import dev.panamadnn.models.ResNets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code fast_when_finite}'s search for each step's largest proven input bound 2^k ({@link FiniteBounds#provenExponents},
 * a bisection over shared passes) gives exactly what a scan from 2^{@link FiniteBounds#MAX_EXP} down to
 * 2^{@link FiniteBounds#MIN_EXP} gives (the rule's former loop, here as the reference), on graphs where steps are proven
 * at different exponents or never: a ResNet-18 (PyTorch's initialisation: each step at its own k, from 2^97 down to
 * 2^28), a ReLU6 network (every step) and one whose weights are scaled by 2^8 in every layer (a different k per step, the last ones never).
 */
class FiniteBoundsSearchTest {
    private final RandomTensors tensors = new RandomTensors(11);

    @AfterEach
    void free() {
        tensors.close();
    }

    @Test
    void bisectionFindsTheScansExponents() {
        CompileOptions options = CompileOptions.defaults().withWinograd(false);
        try (ResNet resnet = ResNets.resnet18(10)) {
            Map<String, Integer> r = check("resnet18", Graph.lower(resnet, Shape.batched("N", 3, 32, 32)), new long[] {1, 3, 32, 32}, options);
            assertTrue(new TreeSet<>(r.values()).size() >= 10, "each step of this ResNet at its own exponent: " + r);
        }
        long[] shape = {2, 3, 8, 8};
        Map<String, Integer> relu6 = check("relu6", graph(shape, (b, x) -> {
            String h = x;
            for (int i = 1; i <= 3; i++) h = clip(b, conv(b, h, "c" + i, i == 1 ? 3 : 8, 8, 1), "r" + i);
            return h;
        }), shape, options);
        assertEquals(3, relu6.size(), "every ReLU6 step: " + relu6);
        Map<String, Integer> growing = check("growing", graph(shape, (b, x) -> {
            String h = x;
            for (int i = 1; i <= 12; i++) h = b.node("Relu", "relu" + i, Attributes.empty(), conv(b, h, "g" + i, i == 1 ? 3 : 4, 4, Math.scalb(1f, 8)));
            return h;
        }), shape, options);
        assertTrue(new TreeSet<>(growing.values()).size() >= 3, "several exponents: " + growing);
        assertTrue(growing.size() < 12, "the last steps are never proven: " + growing);
    }

    /** Runs the rules before this one (as LowerGraph does), then both searches; returns the (equal) exponents. */
    private Map<String, Integer> check(String what, Graph graph, long[] shape, CompileOptions options) {
        PlanGraph g = new PlanGraph(graph.bind(shape));
        for (Rewrite r : Rewrite.all()) {
            if (r instanceof FiniteBounds) break;
            if (r.enabled(options) && !options.disabledRules().contains(r.name())) r.apply(g, options);
        }
        List<Node> candidates = g.nodes.stream().filter(FiniteBounds::candidate).toList();
        assertTrue(candidates.size() >= 3, what + ": candidates " + candidates);
        Map<String, Integer> scan = scan(g, candidates), search = FiniteBounds.provenExponents(g, candidates);
        assertEquals(scan, search, what);
        assertTrue(!scan.isEmpty(), what + ": nothing proven, the comparison would prove nothing");
        return scan;
    }

    /** The former loop: 2^k from the largest k down, each step's first (largest) proven k. */
    private static Map<String, Integer> scan(PlanGraph g, List<Node> candidates) {
        Map<String, Double> gains = new HashMap<>();
        Map<String, Integer> proven = new HashMap<>();
        for (int k = FiniteBounds.MAX_EXP; k >= FiniteBounds.MIN_EXP && proven.size() < candidates.size(); k--) {
            Map<String, Double> bound = FiniteBounds.bounds(g, Math.scalb(1.0, k), gains);
            for (Node n : candidates) {
                if (!proven.containsKey(n.name()) && FiniteBounds.proves(g, n, bound)) proven.put(n.name(), k);
            }
        }
        return proven;
    }

    private String conv(GraphBuilder b, String x, String name, long in, long out, float scale) {
        Tensor w = tensors.uniform(out, in, 3, 3);
        float[] v = w.toFloatArray();
        for (int i = 0; i < v.length; i++) v[i] *= scale;
        Tensor scaled = Tensor.of(v, out, in, 3, 3);
        tensors.keep(scaled);
        return b.node("Conv", name, Attributes.of("pads", new long[] {1, 1, 1, 1}), x, b.initializer(name + ".weight", scaled),
                b.initializer(name + ".bias", tensors.uniform(out)));
    }

    private String clip(GraphBuilder b, String x, String name) {
        Tensor lo = Tensor.of(new float[] {0}), hi = Tensor.of(new float[] {6});
        tensors.keep(lo);
        tensors.keep(hi);
        return b.node("Clip", name, Attributes.empty(), x, b.initializer(name + ".min", lo), b.initializer(name + ".max", hi));
    }

    private static Graph graph(long[] inputShape, java.util.function.BiFunction<GraphBuilder, String, String> body) {
        GraphBuilder g = Graph.builder("bounds-search-test");
        String x = g.input("input", Shape.batched("N", java.util.Arrays.copyOfRange(inputShape, 1, inputShape.length)));
        return g.output(body.apply(g, x)).build();
    }
}
