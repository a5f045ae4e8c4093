package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.BiFunction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code fuse_gelu} and {@code fuse_silu} (SiLU and HardSwish) on the subgraphs exporters write, built in code: the plan
 * with the rule against the plan without it (op by op), where it fires and where it must not.
 * Tolerance {@code 1e-5 * max|reference| + 1e-6}: oneDNN's gelu/swish and the op-by-op forms differ
 * in rounding only. The torch-exported forms against PyTorch: onnx/ OnnxGeluFusionTest.
 */
class ActivationPatternRulesTest {
    private final List<Tensor> tensors = new ArrayList<>();
    private final SplittableRandom random = new SplittableRandom(11);

    @AfterEach
    void free() {
        tensors.forEach(Tensor::close);
    }

    private Tensor random(double scale, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (scale * random.nextDouble(-1, 1));
        Tensor t = Tensor.of(v, shape);
        tensors.add(t);
        return t;
    }

    private String scalar(GraphBuilder g, String name, double v) {
        return g.initializer(name, Tensor.of(new float[] {(float) v}, 1));
    }

    private static String op(GraphBuilder g, String op, String name, String... in) {
        return g.node(op, name, Attributes.empty(), in);
    }

    private String fc(GraphBuilder g, String x, String name) {
        return g.node("Gemm", name, Attributes.of("transB", 1L), x, g.initializer(name + ".weight", random(1, 6, 6)),
                g.initializer(name + ".bias", random(1, 6)));
    }

    /** torch 1.13's exact GELU: Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5). */
    private String erfGelu(GraphBuilder g, String x, String p) {
        String erf = op(g, "Erf", p + "erf", op(g, "Div", p + "div", x, scalar(g, p + "sqrt2", Math.sqrt(2))));
        return op(g, "Mul", p + "half", op(g, "Mul", p + "mul", x, op(g, "Add", p + "one", erf, scalar(g, p + "1", 1))), scalar(g, p + "0.5", 0.5));
    }

    /** torch 1.13's tanh GELU: Mul(0.5, Mul(x, Add(1, Tanh(Mul(c, Add(x, Mul(k, Mul(x, Mul(x, x))))))))). */
    private String tanhGelu(GraphBuilder g, String x, String p) {
        String cube = op(g, "Mul", p + "cube", x, op(g, "Mul", p + "sq", x, x));
        String inner = op(g, "Add", p + "inner", x, op(g, "Mul", p + "kappa", scalar(g, p + "k", 0.044715), cube));
        String t = op(g, "Tanh", p + "tanh", op(g, "Mul", p + "scale", scalar(g, p + "c", Math.sqrt(2 / Math.PI)), inner));
        return op(g, "Mul", p + "half", scalar(g, p + "0.5", 0.5), op(g, "Mul", p + "mul", x, op(g, "Add", p + "one", scalar(g, p + "1", 1), t)));
    }

    private Graph graph(long[] shape, BiFunction<GraphBuilder, String, String> body) {
        GraphBuilder g = Graph.builder("pattern-test");
        String x = g.input("input", Shape.batched("N", java.util.Arrays.copyOfRange(shape, 1, shape.length)));
        return g.output(body.apply(g, x)).build();
    }

    /** With and without {@code rule}: equal results; fired {@code times} times; returns the plan's rules. */
    private List<String> check(Graph graph, long[] shape, String rule, int times) {
        CompileOptions with = CompileOptions.defaults().withWinograd(false);
        try (CompiledModel a = CompiledModel.compile(graph, with, shape);
             CompiledModel b = CompiledModel.compile(graph, with.withoutRule(rule), shape)) {
            Tensor x = random(4, shape);
            assertEquals(times, a.rulesFired().stream().filter(r -> r.startsWith(rule + ":")).count(), a.describe());
            assertEquals(0, b.rulesFired().stream().filter(r -> r.startsWith(rule + ":")).count(), b.describe());
            if (times > 0) assertTrue(a.primitiveCount() < b.primitiveCount(), a.describe() + "\nvs\n" + b.describe());
            try (Tensor ya = a.run(x); Tensor yb = b.run(x)) {
                float[] p = ya.toFloatArray(), q = yb.toFloatArray();
                double max = 0;
                for (float v : q) max = Math.max(max, Math.abs(v));
                for (int i = 0; i < p.length; i++) assertEquals(q[i], p[i], 1e-5 * max + 1e-6, "element " + i + "\n" + a.describe());
            }
            return a.rulesFired();
        }
    }

    @Test
    void bothGeluFormsBecomeOneGeluEachAndFuseIntoTheGemm() {
        long[] shape = {3, 6};
        List<String> fired = check(graph(shape, (g, x) -> fc(g, tanhGelu(g, fc(g, erfGelu(g, fc(g, x, "fc1"), "g1."), "fc2"), "g2."), "fc3")),
                shape, "fuse_gelu", 2);
        assertTrue(fired.contains("fuse_gelu: 5 nodes (erf) ending in g1.half into one Gelu"), fired.toString());
        assertTrue(fired.contains("fuse_gelu: 9 nodes (tanh) ending in g2.half into one Gelu"), fired.toString());
        assertTrue(fired.contains("fuse_activation: g1.half into fc1"), fired.toString());
    }

    @Test
    void geluOfTheInputAloneStandsAsOneEltwise() {
        long[] shape = {2, 6};
        check(graph(shape, (g, x) -> erfGelu(g, x, "g.")), shape, "fuse_gelu", 1);
    }

    @Test
    void noGeluWhenAConstantIsOffOrAnInnerValueIsReadElsewhere() {
        long[] shape = {2, 6};
        check(graph(shape, (g, x) -> {   // 0.6 instead of 0.5
            String erf = op(g, "Erf", "erf", op(g, "Div", "div", x, scalar(g, "sqrt2", Math.sqrt(2))));
            return op(g, "Mul", "half", op(g, "Mul", "mul", x, op(g, "Add", "one", erf, scalar(g, "1", 1))), scalar(g, "0.6", 0.6));
        }), shape, "fuse_gelu", 0);
        check(graph(shape, (g, x) -> {   // the Erf's output also read by an Add after the pattern
            String erf = op(g, "Erf", "erf", op(g, "Div", "div", x, scalar(g, "sqrt2", Math.sqrt(2))));
            String y = op(g, "Mul", "half", op(g, "Mul", "mul", x, op(g, "Add", "one", erf, scalar(g, "1", 1))), scalar(g, "0.5", 0.5));
            return op(g, "Add", "both", y, erf);
        }), shape, "fuse_gelu", 0);
    }

    @Test
    void siluBecomesOneSiluAndFusesIntoTheConv() {
        long[] shape = {2, 3, 8, 8};
        List<String> fired = check(graph(shape, (g, x) -> {
            String c = g.node("Conv", "conv", Attributes.of("pads", new long[] {1, 1, 1, 1}), x, g.initializer("conv.weight", random(1, 4, 3, 3, 3)),
                    g.initializer("conv.bias", random(1, 4)));
            return op(g, "Mul", "mul", c, op(g, "Sigmoid", "sig", c));
        }), shape, "fuse_silu", 1);
        assertTrue(fired.contains("fuse_silu: sig and mul into one Silu"), fired.toString());
        assertTrue(fired.contains("fuse_activation: mul into conv"), fired.toString());
    }

    @Test
    void siluAfterAPointwiseConvStaysApartWithoutAvx512AndFusesWithIt() {
        long[] shape = {2, 6, 8, 8};
        Graph graph = graph(shape, (g, x) -> {
            String c = g.node("Conv", "pw", Attributes.empty(), x, g.initializer("pw.weight", random(1, 16, 6, 1, 1)), g.initializer("pw.bias", random(1, 16)));
            return op(g, "Mul", "mul", c, op(g, "Sigmoid", "sig", c));
        });
        List<String> fired = check(graph, shape, "fuse_silu", 1);
        boolean avx2 = dev.panamadnn.internal.dnnl.ConvOps.channelBlock() == 8;   // oneDNN's AVX2 kernels (no AVX-512)
        assertEquals(!avx2, fired.contains("fuse_activation: mul into pw"), fired.toString());
        try (CompiledModel a = CompiledModel.compile(graph, CompileOptions.defaults(), shape)) {
            assertEquals(avx2, a.steps().stream().anyMatch(s -> s.contains("swish") && !s.startsWith("conv")), a.describe());
        }
        // a 3x3 convolution, or a pointwise one with groups, keeps the SiLU as its post-op on every CPU
        check(graph(shape, (g, x) -> {
            String c = g.node("Conv", "conv", Attributes.of("pads", new long[] {1, 1, 1, 1}), x, g.initializer("conv.weight", random(1, 8, 6, 3, 3)));
            return op(g, "Mul", "mul", c, op(g, "Sigmoid", "sig", c));
        }), shape, "fuse_activation", 1);
        check(graph(shape, (g, x) -> {
            String c = g.node("Conv", "grouped", Attributes.of("group", 2L), x, g.initializer("grouped.weight", random(1, 8, 3, 1, 1)));
            return op(g, "Mul", "mul", c, op(g, "Sigmoid", "sig", c));
        }), shape, "fuse_activation", 1);
    }

    private static String hardSigmoid(GraphBuilder g, String name, double alpha, String x) {
        return g.node("HardSigmoid", name, Attributes.of("alpha", alpha, "beta", 0.5), x);
    }

    @Test
    void hardSwishBecomesOneHardSwishAndFusesIntoTheConv() {
        long[] shape = {2, 3, 8, 8};
        List<String> fired = check(graph(shape, (g, x) -> {   // torch 1.13's nn.Hardswish at opset 13: alpha written as the double of 1/6f
            String c = g.node("Conv", "conv", Attributes.of("pads", new long[] {1, 1, 1, 1}), x, g.initializer("conv.weight", random(1, 4, 3, 3, 3)),
                    g.initializer("conv.bias", random(1, 4)));
            return op(g, "Mul", "mul", c, hardSigmoid(g, "hs", (double) (1f / 6f), c));
        }), shape, "fuse_silu", 1);
        assertTrue(fired.contains("fuse_silu: hs and mul into one HardSwish"), fired.toString());
        assertTrue(fired.contains("fuse_activation: mul into conv"), fired.toString());
    }

    @Test
    void hardSwishKeepsNonFiniteValuesAsTheOpByOpForm() {
        long[] shape = {1, 12};
        Graph graph = graph(shape, (g, x) -> op(g, "Mul", "mul", hardSigmoid(g, "hs", 1.0 / 6, x), x));
        float[] v = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 3e38f, -3e38f, 0f, -0f, -3f, 3f, -2.5f, 1e-30f, 2.9999998f};
        CompileOptions with = CompileOptions.defaults();
        try (CompiledModel a = CompiledModel.compile(graph, with, shape); CompiledModel b = CompiledModel.compile(graph, with.withoutRule("fuse_silu"), shape);
             Tensor x = Tensor.of(v, shape); Tensor ya = a.run(x); Tensor yb = b.run(x)) {
            assertTrue(a.rulesFired().contains("fuse_silu: hs and mul into one HardSwish"), a.rulesFired().toString());
            float[] p = ya.toFloatArray(), q = yb.toFloatArray();
            for (int i = 0; i < v.length; i++) {
                assertEquals(Float.isNaN(q[i]), Float.isNaN(p[i]), "x = " + v[i] + ": " + p[i] + " vs op by op " + q[i]);
                if (!Float.isNaN(q[i])) assertEquals(q[i], p[i], Math.abs(q[i]) * 1e-6, "x = " + v[i]);
            }
            assertTrue(Float.isNaN(p[0]) && p[1] == Float.POSITIVE_INFINITY && Float.isNaN(p[2]), java.util.Arrays.toString(p));
        }
    }

    @Test
    void noHardSwishForOtherHardSigmoidConstants() {
        long[] shape = {2, 6};
        check(graph(shape, (g, x) -> op(g, "Mul", "mul", x, hardSigmoid(g, "hs", 0.2, x))), shape, "fuse_silu", 0);
    }

    @Test
    void noSiluForTheSigmoidOfAnotherValueOrOneReadTwice() {
        long[] shape = {2, 6};
        check(graph(shape, (g, x) -> op(g, "Mul", "scale", x, op(g, "Sigmoid", "sig", fc(g, x, "fc")))), shape, "fuse_silu", 0);
        check(graph(shape, (g, x) -> {
            String s = op(g, "Sigmoid", "sig", x);
            return op(g, "Add", "add", op(g, "Mul", "mul", x, s), s);
        }), shape, "fuse_silu", 0);
    }
}
