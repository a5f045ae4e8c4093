package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Ops we compose of others where ONNX's backend suite leaves values untested: ReduceLogSumExp (the
 * suite's cases are all DOUBLE) against log(sum(exp(x))) in double, with inputs large enough that
 * exp overflows in float (our form subtracts the max); Trilu with NaN (kept where the mask keeps,
 * zero elsewhere, as numpy.triu/tril).
 */
class ComposedOpsTest {
    private static final float[] X = {100f, 95f, -3f, 0.5f, 1f, 2f, -80f, 90f, 3f, -1f, 0f, 7f,
                                      -2f, 4f, 88f, 89f, 0.25f, -0.5f, 6f, 5f, -7f, 12f, 1e-3f, -1e-3f};

    private static Map<String, Tensor> run(int opset, GraphProto g, float[] x, long... shape) {
        try (OnnxModel m = Onnx.load(TestModels.model(opset, g).toByteArray()); Tensor in = Tensor.of(x, shape)) {
            return m.run(Map.of("x", in));
        }
    }

    @Test
    void reduceLogSumExpMatchesDoubleOverEachAxisChoice() {
        for (long keep : new long[] {0, 1}) {
            for (long[] axes : new long[][] {{1}, {-1}, {0, 2}, null}) {
                GraphProto.Builder g = GraphProto.newBuilder().setName("lse").addInput(TestModels.f32("x", 2, 3, 4)).addOutput(TestModels.f32("y"));
                AttributeProto kd = AttributeProto.newBuilder().setName("keepdims").setType(AttributeProto.AttributeType.INT).setI(keep).build();
                g.addNode(axes == null ? TestModels.node("lse", "ReduceLogSumExp", new String[] {"x"}, new String[] {"y"}, kd)
                        : TestModels.node("lse", "ReduceLogSumExp", new String[] {"x"}, new String[] {"y"}, kd, TestModels.ints("axes", axes)));
                try (Tensor y = run(13, g.build(), X, 2, 3, 4).get("y")) {
                    float[] expected = reference(axes == null ? new long[] {0, 1, 2} : axes);
                    long[] shape = shape(axes == null ? new long[] {0, 1, 2} : axes, keep == 1);
                    assertArrayEquals(shape, y.shape(), "axes " + java.util.Arrays.toString(axes) + " keepdims " + keep);
                    assertNull(BackendCase.compare(y, Tensor.of(expected, shape)), "axes " + java.util.Arrays.toString(axes) + " keepdims " + keep);
                }
            }
        }
    }

    private static boolean reduced(long[] axes, int d) {
        for (long a : axes) if ((a + 3) % 3 == d) return true;
        return false;
    }

    private static long[] shape(long[] axes, boolean keep) {
        long[] full = {2, 3, 4};
        return java.util.stream.IntStream.range(0, 3).filter(d -> keep || !reduced(axes, d)).mapToLong(d -> reduced(axes, d) ? 1 : full[d]).toArray();
    }

    /** log(sum(exp(x))) in double over {@code axes} of [2, 3, 4], in row-major order of the kept dims. */
    private static float[] reference(long[] axes) {
        long[] s = shape(axes, true);
        double[] sums = new double[(int) (s[0] * s[1] * s[2])];
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++) {
            int o = (int) (((reduced(axes, 0) ? 0 : i) * s[1] + (reduced(axes, 1) ? 0 : j)) * s[2] + (reduced(axes, 2) ? 0 : k));
            sums[o] += Math.exp(X[(i * 3 + j) * 4 + k]);
        }
        float[] out = new float[sums.length];
        for (int i = 0; i < out.length; i++) out[i] = (float) Math.log(sums[i]);
        return out;
    }

    @Test
    void triluKeepsNaNWhereTheMaskKeepsAndZeroesElsewhere() {
        float[] x = {Float.NaN, 1, 2, 3, 4, Float.NaN, 6, 7, Float.NaN, 9, Float.NaN, 11};   // [3, 4]
        for (long upper : new long[] {0, 1}) {
            GraphProto g = GraphProto.newBuilder().setName("trilu").addInput(TestModels.f32("x", 3, 4)).addOutput(TestModels.f32("y"))
                    .addNode(TestModels.node("t", "Trilu", new String[] {"x"}, new String[] {"y"},
                            AttributeProto.newBuilder().setName("upper").setType(AttributeProto.AttributeType.INT).setI(upper).build())).build();
            try (Tensor y = run(14, g, x, 3, 4).get("y")) {
                float[] got = y.toFloatArray();
                for (int i = 0; i < 3; i++) {
                    for (int j = 0; j < 4; j++) {
                        boolean keep = upper == 1 ? j >= i : j <= i;
                        assertEquals(keep ? x[i * 4 + j] : 0f, got[i * 4 + j], "upper " + upper + " at " + i + "," + j);
                    }
                }
            }
        }
    }

    /**
     * The hyperbolic Java-step ops at the ends of the float range, against torch 1.13 (asinh, acosh, atanh, sinh, cosh of
     * x below, printed as floats). Asinh of an infinity was NaN (inf / inf inside its log1p form) until 2026-12-05.
     */
    @Test
    void hyperbolicOpsAtInfinityAndTheLargestFloatsMatchTorch() {
        float inf = Float.POSITIVE_INFINITY, nan = Float.NaN;
        float[] x = {nan, inf, -inf, 3.4e38f, -3.4e38f, 1e-30f, 0.3f};
        Map<String, float[]> torch = new java.util.LinkedHashMap<>();
        torch.put("Asinh", new float[] {nan, inf, -inf, 89.41515350341797f, -89.41515350341797f, 1.0000000031710769e-30f, 0.29567307233810425f});
        torch.put("Acosh", new float[] {nan, inf, nan, 89.41515350341797f, nan, nan, nan});
        torch.put("Atanh", new float[] {nan, nan, nan, nan, nan, 1.0000000031710769e-30f, 0.30951961874961853f});
        torch.put("Sinh", new float[] {nan, inf, -inf, inf, -inf, 1.0000000031710769e-30f, 0.30452030897140503f});
        torch.put("Cosh", new float[] {nan, inf, inf, inf, inf, 1.0f, 1.04533851146698f});
        for (var e : torch.entrySet()) {
            GraphProto g = GraphProto.newBuilder().setName("u").addInput(TestModels.f32("x", x.length)).addOutput(TestModels.f32("y"))
                    .addNode(TestModels.node("u", e.getKey(), new String[] {"x"}, new String[] {"y"})).build();
            try (Tensor y = run(13, g, x, x.length).get("y"); Tensor want = Tensor.of(e.getValue(), x.length)) {
                assertNull(BackendCase.compare(y, want), e.getKey());
            }
        }
    }

    /** The Java-step element-wise ops on NaN, 0, values in and out of each domain, against their textbook formulas in double (NaN propagating, but Sign(NaN) = 0 as torch.sign). */
    @Test
    void javaStepUnaryOpsPropagateNaNAndMatchTheirDefinitions() {
        float[] x = {Float.NaN, -0.5f, 0f, 0.3f, 2f, -3f, 1e-6f};
        Map<String, java.util.function.DoubleUnaryOperator> ops = new java.util.LinkedHashMap<>();
        ops.put("Sin", Math::sin);
        ops.put("Cos", Math::cos);
        ops.put("Tan", Math::tan);
        ops.put("Asin", Math::asin);
        ops.put("Acos", Math::acos);
        ops.put("Atan", Math::atan);
        ops.put("Sinh", Math::sinh);
        ops.put("Cosh", Math::cosh);
        ops.put("Asinh", v -> Math.log(v + Math.sqrt(v * v + 1)));
        ops.put("Acosh", v -> Math.log(v + Math.sqrt(v * v - 1)));
        ops.put("Atanh", v -> 0.5 * Math.log((1 + v) / (1 - v)));
        ops.put("Sign", v -> v > 0 ? 1 : v < 0 ? -1 : Double.isNaN(v) ? 0 : v);   // torch.sign: NaN gives 0 (docs/numerics.md)
        ops.put("Softsign", v -> v / (1 + Math.abs(v)));
        ops.put("ThresholdedRelu", v -> v > 1 ? v : Double.isNaN(v) ? v : 0);   // alpha 1
        ops.put("Celu", v -> v > 0 ? v : Math.exp(v) - 1);   // alpha 1
        ops.put("Shrink", v -> v < -0.5 ? v : v > 0.5 ? v : Double.isNaN(v) ? v : 0);   // bias 0, lambd 0.5
        for (var e : ops.entrySet()) {
            GraphProto g = GraphProto.newBuilder().setName("u").addInput(TestModels.f32("x", x.length)).addOutput(TestModels.f32("y"))
                    .addNode(TestModels.node("u", e.getKey(), new String[] {"x"}, new String[] {"y"})).build();
            float[] expected = new float[x.length];
            for (int i = 0; i < x.length; i++) expected[i] = (float) e.getValue().applyAsDouble(x[i]);
            expected[6] = e.getKey().equals("Asinh") ? 1e-6f : expected[6];   // the textbook asinh loses x near 0 in double: asinh(x) = x there
            try (Tensor y = run(13, g, x, x.length).get("y"); Tensor want = Tensor.of(expected, x.length)) {
                assertNull(BackendCase.compare(y, want), e.getKey());
            }
        }
    }

    /** DepthToSpace (DCR, CRD) and SpaceToDepth at batch 2 (the suite's cases are batch 1) against ONNX's index formulas. */
    @Test
    void depthToSpaceAndBackAtBatchTwo() {
        int n = 2, c = 8, h = 2, w = 3, b = 2, c2 = c / (b * b);
        float[] x = new float[n * c * h * w];
        for (int i = 0; i < x.length; i++) x[i] = i * 0.5f - 3;
        for (String mode : new String[] {"DCR", "CRD"}) {
            GraphProto g = GraphProto.newBuilder().setName("d2s").addInput(TestModels.f32("x", n, c, h, w)).addOutput(TestModels.f32("y"))
                    .addNode(TestModels.node("d", "DepthToSpace", new String[] {"x"}, new String[] {"y"}, TestModels.string("mode", mode),
                            AttributeProto.newBuilder().setName("blocksize").setType(AttributeProto.AttributeType.INT).setI(b).build())).build();
            float[] want = new float[x.length];
            for (int in = 0; in < n; in++) for (int oc = 0; oc < c2; oc++) for (int oh = 0; oh < h * b; oh++) for (int ow = 0; ow < w * b; ow++) {
                int i = oh % b, j = ow % b;
                int src = mode.equals("DCR") ? (i * b + j) * c2 + oc : oc * b * b + i * b + j;
                want[((in * c2 + oc) * h * b + oh) * w * b + ow] = x[((in * c + src) * h + oh / b) * w + ow / b];
            }
            try (Tensor y = run(13, g, x, n, c, h, w).get("y"); Tensor e = Tensor.of(want, n, c2, h * b, w * b)) {
                assertNull(BackendCase.compare(y, e), mode);
            }
            if (!mode.equals("DCR")) continue;
            GraphProto back = GraphProto.newBuilder().setName("s2d").addInput(TestModels.f32("x", n, c2, h * b, w * b)).addOutput(TestModels.f32("y"))
                    .addNode(TestModels.node("s", "SpaceToDepth", new String[] {"x"}, new String[] {"y"},
                            AttributeProto.newBuilder().setName("blocksize").setType(AttributeProto.AttributeType.INT).setI(b).build())).build();
            try (Tensor y = run(13, back, want, n, c2, h * b, w * b).get("y"); Tensor e = Tensor.of(x, n, c, h, w)) {
                assertNull(BackendCase.compare(y, e), "SpaceToDepth inverts DCR");
            }
        }
    }

    /** Hardmax: the first maximum wins a tie, a NaN counts as the maximum (numpy.argmax, ONNX's reference); the suite has neither. */
    @Test
    void hardmaxTiesAndNaN() {
        GraphProto g = GraphProto.newBuilder().setName("hm").addInput(TestModels.f32("x", 3, 3)).addOutput(TestModels.f32("y"))
                .addNode(TestModels.node("h", "Hardmax", new String[] {"x"}, new String[] {"y"})).build();
        float[] x = {1, Float.NaN, 5, 2, 2, -1, Float.NaN, 7, Float.NaN};
        try (Tensor y = run(13, g, x, 3, 3).get("y")) {
            assertArrayEquals(new float[] {0, 1, 0, 1, 0, 0, 1, 0, 0}, y.toFloatArray());
        }
    }

    /** BatchNormalization-15's running statistics exist only in training mode (ONNX's training cases pass in BackendSuiteTest). */
    @Test
    void batchNormStatisticsOutputsOnlyInTrainingMode() {
        GraphProto g = GraphProto.newBuilder().setName("bn").addInput(TestModels.f32("x", 2, 3, 4))
                .addInitializer(TestModels.weights("s", new float[] {1, 2, 3}, 3)).addInitializer(TestModels.weights("b", new float[] {0, 1, 0}, 3))
                .addInitializer(TestModels.weights("m", new float[] {0, 0, 0}, 3)).addInitializer(TestModels.weights("v", new float[] {1, 1, 1}, 3))
                .addNode(TestModels.node("bn", "BatchNormalization", new String[] {"x", "s", "b", "m", "v"}, new String[] {"y", "rm", "rv"}))
                .addOutput(TestModels.f32("y", 2, 3, 4)).addOutput(TestModels.f32("rm", 3)).build();
        OnnxException e = org.junit.jupiter.api.Assertions.assertThrows(OnnxException.class, () -> Onnx.load(TestModels.model(15, g).toByteArray()).close());
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("node 'bn' (BatchNormalization, domain '', opset 15)")
                && e.getMessage().contains("only with training_mode=1"), e.getMessage());
    }

    /** LRN with an even size (its window is asymmetric: one channel before, two after) over a rank-3 input holding a NaN. */
    @Test
    void lrnWithAnEvenWindowMatchesOnnxsDefinition() {
        float[] x = new float[30];
        for (int i = 0; i < x.length; i++) x[i] = (i - 14) / 4f;
        x[22] = Float.NaN;   // [1, 2, 1]: NaN in every output whose window holds channel 2
        AttributeProto size = AttributeProto.newBuilder().setName("size").setType(AttributeProto.AttributeType.INT).setI(4).build();
        AttributeProto[] reals = {real("alpha", 0.1f), real("beta", 0.75f), real("bias", 1.5f)};
        GraphProto g = GraphProto.newBuilder().setName("lrn").addInput(TestModels.f32("x", 2, 5, 3)).addOutput(TestModels.f32("y", 2, 5, 3))
                .addNode(TestModels.node("lrn", "LRN", new String[] {"x"}, new String[] {"y"}, size, reals[0], reals[1], reals[2])).build();
        // numpy 1.24, ONNX's formula: sq[:, c] = (x[:, max(0, c - 1):min(4, c + 2) + 1] ** 2).sum(axis=1);
        // y = x / (1.5 + 0.1 / 4 * sq) ** 0.75 with x = (np.arange(30, dtype=np.float32).reshape(2, 5, 3) - 14) / 4, x[1, 2, 1] = nan
        float[] expected = {-2.0097007751464844f, -1.9347292184829712f, -1.8480745553970337f, -1.557326316833496f, -1.4744304418563843f,
            -1.3784425258636475f, -1.2688605785369873f, -1.1455637216567993f, -1.0089133977890015f, -0.8604461550712585f, -0.7018987536430359f,
            -0.534652590751648f, -0.3607511818408966f, -0.18203464150428772f, 0.0f, 0.17547468841075897f, Float.NaN, 0.5044566988945007f,
            0.6546078324317932f, Float.NaN, 0.9189616441726685f, 1.0321012735366821f, Float.NaN, 1.2209314107894897f, 1.4882532358169556f,
            Float.NaN, 1.6589828729629517f, 1.9922986030578613f, 2.084778308868408f, 2.167816400527954f};
        try (Tensor y = run(13, g, x, 2, 5, 3).get("y")) {
            assertArrayEquals(expected, y.toFloatArray(), 2e-6f);
        }
    }

    private static AttributeProto real(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    /** IsNaN after a Relu (PyTorch's relu keeps NaN) and IsInf detecting neither sign (ONNX: all false), as BOOL outputs. */
    @Test
    void isNanAndIsInfReadRunTimeValues() {
        AttributeProto neg = AttributeProto.newBuilder().setName("detect_negative").setType(AttributeProto.AttributeType.INT).setI(0).build();
        AttributeProto pos = AttributeProto.newBuilder().setName("detect_positive").setType(AttributeProto.AttributeType.INT).setI(0).build();
        GraphProto g = GraphProto.newBuilder().setName("isnan").addInput(TestModels.f32("x", 6))
                .addNode(TestModels.node("relu", "Relu", new String[] {"x"}, new String[] {"r"}))
                .addNode(TestModels.node("nan", "IsNaN", new String[] {"r"}, new String[] {"n"}))
                .addNode(TestModels.node("inf", "IsInf", new String[] {"r"}, new String[] {"i"}, neg, pos))
                .addOutput(TestModels.f32("n", 6)).addOutput(TestModels.f32("i", 6)).build();
        float[] x = {Float.NaN, -1, Float.POSITIVE_INFINITY, 0, Float.NEGATIVE_INFINITY, 2};
        Map<String, Tensor> out = run(13, g, x, 6);
        try {
            assertEquals(dev.panamadnn.DataType.BOOL, out.get("n").dtype());
            assertArrayEquals(new byte[] {1, 0, 0, 0, 0, 0}, out.get("n").segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            assertArrayEquals(new byte[6], out.get("i").segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
        } finally {
            out.values().forEach(Tensor::close);
        }
    }
}
