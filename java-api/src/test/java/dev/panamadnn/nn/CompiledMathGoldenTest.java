package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The math ops (MatMul, Transpose, broadcasting binary ops, unary ops, Softmax/LogSoftmax,
 * reductions, GlobalMaxPool, InstanceNormalization, PRelu) compiled as graphs and run against
 * PyTorch goldens ({@code scripts/goldens/generate_math.py}): each case's graph, given in its
 * spec, compiled at batch 3 (the golden's input) and at batch 1 (its first sample); the cases after
 * a convolution also with the channel-blocked and the plain (unfused) layouts. Tolerance per
 * element {@code 1e-5 * |expected| + 1e-5}: oneDNN's exp/log/erf-class kernels are within a few
 * ulp, sums and products reassociate; NaN must be NaN and infinities must match exactly.
 */
class CompiledMathGoldenTest {
    private static GoldenFile goldens;
    /** The ops that run as Java steps (no oneDNN algorithm). */
    /** Ops with a Java step: the unary ones oneDNN lacks, and ReduceMax/ReduceMin/GlobalMaxPool's fix-up of NaN and all-infinite windows. */
    private static final java.util.regex.Pattern JAVA_STEPS = java.util.regex.Pattern.compile("\\b(Erf|Floor|Ceil|Log|Softplus|LogSoftmax|ReduceMax|ReduceMin|"
            + "GlobalMaxPool)\\(");
    /** Cases with a Java step for their operands: Pow other than x^2 / x^-1, a broadcast first operand of Div or of two broadcasts. */
    private static final java.util.Set<String> JAVA_CASES = java.util.Set.of("pow_half", "pow_tensor", "pow_cube", "div_act_first_bcast",
            "mul_both_bcast");

    @BeforeAll
    static void open() {
        goldens = GoldenFile.open("math.safetensors");
    }

    @AfterAll
    static void close() {
        goldens.close();
    }

    static List<String> names() {
        try (GoldenFile g = GoldenFile.open("math.safetensors")) {
            return g.cases().stream().map(GoldenFile.Case::name).toList();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("names")
    void matchesPyTorch(String name) {
        GoldenFile.Case c = goldens.cases().stream().filter(k -> k.name().equals(name)).findFirst().orElseThrow();
        Graph graph = build(c);
        long[] shape = c.input().shape();
        float[] x = c.input().toFloatArray(), y = c.output().toFloatArray();
        CompileOptions options = CompileOptions.defaults().withWinograd(false);
        try (CompiledModel plan = CompiledModel.compile(graph, options, shape); Tensor out = plan.run(c.input())) {
            assertArrayEquals(c.output().shape(), out.shape(), name + ": output shape");
            compare(name + " (batch " + shape[0] + ")\n" + plan.describe(), y, out.toFloatArray());
            if (name.equals("conv_conv_then_transpose") && plan.steps().stream().anyMatch(st -> st.startsWith("transpose"))) {
                fail(name + ": [N, C, H, W] -> [N, H, W, C] of a channels-last activation must be a view\n" + plan.describe());
            }
            if (name.equals("conv_conv_film") && plan.steps().stream().filter(st -> st.startsWith("reorder")).count() > 2) {
                fail(name + ": the per-channel Mul and Add must read the convolution's layout (reorders only into the first "
                        + "convolution and to the output)\n" + plan.describe());
            }
            if (c.spec().contains("LogSoftmax(") && plan.steps().stream().anyMatch(st -> st.contains("[ref:"))) {   // any axis on jit kernels
                fail(name + ": a log-softmax step on oneDNN's reference kernel\n" + plan.describe());
            }
            boolean java = plan.steps().stream().anyMatch(st -> st.startsWith("java"));
            if (java != JAVA_STEPS.matcher(c.spec()).find() && !JAVA_CASES.contains(name)) {
                fail(name + ": " + (java ? "a Java step where all should be oneDNN" : "no Java step where one is expected") + "\n" + plan.describe());
            }
        }
        if (name.startsWith("conv")) {   // the other activation layouts a convolution can hand over, unfused too
            for (CompileOptions other : new CompileOptions[] {options.withLayout(CompileOptions.Layout.CHANNEL_BLOCKED),
                    options.withLayout(CompileOptions.Layout.PLAIN).withFusePostOps(false)}) {
                try (CompiledModel plan = CompiledModel.compile(graph, other, shape); Tensor out = plan.run(c.input())) {
                    compare(name + " (" + other.layout() + ", batch " + shape[0] + ")\n" + plan.describe(), y, out.toFloatArray());
                }
            }
        }
        long[] one = shape.clone();
        one[0] = 1;
        int inPer = x.length / (int) shape[0], outPer = y.length / (int) shape[0];
        try (CompiledModel plan = CompiledModel.compile(graph, options, one);
             Tensor in = Tensor.of(Arrays.copyOf(x, inPer), one); Tensor out = plan.run(in)) {
            compare(name + " (batch 1)\n" + plan.describe(), Arrays.copyOf(y, outPer), out.toFloatArray());
        }
    }

    private static void compare(String what, float[] expected, float[] actual) {
        if (expected.length != actual.length) fail(what + ": " + actual.length + " values, expected " + expected.length);
        // *_tight cases: small results, each within 2e-6 of itself (PyTorch's log and log1p are within an ulp or two); a
        // dominant class's log-softmax within 4e-7 + 1e-6 of itself (its log of a float sum near 1, rounded to 1.2e-7)
        boolean tight = what.startsWith("log_near_one_tight") || what.startsWith("softplus_tail_tight");
        boolean dominant = what.startsWith("logsoftmax_dominant_tight");
        StringBuilder bad = new StringBuilder();
        int count = 0;
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i], a = actual[i];
            boolean ok = Float.isNaN(e) ? Float.isNaN(a) : Float.isInfinite(e) ? e == a
                    : !Float.isNaN(a) && Math.abs(a - e) <= (tight ? 2e-6 * Math.abs(e) : dominant ? 1e-6 * Math.abs(e) + 4e-7 : 1e-5 * Math.abs(e) + 1e-5);
            if (!ok && count++ < 8) bad.append("\n  [").append(i).append("] expected ").append(e).append(", got ").append(a);
        }
        if (count > 0) fail(what + "\n" + count + " of " + expected.length + " values differ:" + bad);
    }

    /** The case's graph from its spec: nodes separated by " | ", {@code Op(in,...) attr=T:value}. */
    private static Graph build(GoldenFile.Case c) {
        GraphBuilder g = Graph.builder(c.name());
        long[] s = c.input().shape();
        String x = g.input("x", Shape.batched("N", Arrays.copyOfRange(s, 1, s.length)));
        List<String> outs = new ArrayList<>();
        java.util.Set<String> params = new java.util.HashSet<>();
        String last = null;
        String[] nodes = c.spec().split("\\s*\\|\\s*");
        for (int k = 0; k < nodes.length; k++) {
            String[] words = nodes[k].trim().split("\\s+");
            String head = words[0];
            String op = head.substring(0, head.indexOf('('));
            String[] args = head.substring(head.indexOf('(') + 1, head.length() - 1).split(",");
            List<String> inputs = new ArrayList<>();
            for (String a : args) {
                if (a.equals("x")) inputs.add(x);
                else if (a.startsWith("t")) inputs.add(outs.get(Integer.parseInt(a.substring(1))));
                else if (a.startsWith("p:")) {
                    String p = a.substring(2);
                    Tensor t = c.params().get(p);
                    if (params.add(p)) {
                        if (t.dtype() == dev.panamadnn.DataType.I64) {
                            // The file's I64 tensors need not be 8-byte aligned: copied into a constant (as an importer would).
                            long[] v = new long[(int) t.numel()];
                            for (int i = 0; i < v.length; i++) v[i] = t.segment().getAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG_UNALIGNED, i);
                            g.constant(p, v);
                        } else {
                            g.initializer(p, t);
                        }
                    }
                    inputs.add(p);
                } else throw new IllegalArgumentException("bad input " + a + " in " + c.spec());
            }
            Attributes.Builder attrs = Attributes.builder();
            for (int i = 1; i < words.length; i++) {
                String[] kv = words[i].split("=", 2);
                String v = kv[1].substring(2);
                attrs.put(kv[0], switch (kv[1].charAt(0)) {
                    case 'I' -> Long.parseLong(v);
                    case 'L' -> Arrays.stream(v.split(",")).mapToLong(Long::parseLong).toArray();
                    case 'F' -> Double.parseDouble(v);
                    default -> v;
                });
            }
            last = g.node(op, "n" + k + "_" + op, attrs.build(), inputs.toArray(String[]::new));
            outs.add(last);
        }
        return g.output(last).build();
    }
}
