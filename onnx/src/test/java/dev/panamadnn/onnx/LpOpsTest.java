package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.NodeProto;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * LpNormalization, GlobalLpPool and LpPool (composed at import; before, each was refused as an unknown op). Input
 * {@code x = arange(24) * 0.25 - 2.9} as [1, 2, 3, 4]; expected values from torch 1.13 in float64:
 * {@code F.normalize(x, p, dim, eps=0)}, {@code torch.linalg.vector_norm(x, ord=p, dim=(2, 3), keepdim=True)}, and
 * {@code F.lp_pool2d(F.pad(x.abs(), pads), p, kernel, stride)} (ONNX's LpPool takes |x|^p and pads with zeros; torch's
 * takes x^p, the same for even p). A differential probe against ONNX Runtime 1.23.2 agreed on 222 LpNormalization, 114
 * GlobalLpPool and 144 LpPool random cases (2 LpPool differences: auto_pad SAME with a kernel smaller than the stride,
 * where ONNX Runtime pads negatively; docs/onnx.md).
 */
class LpOpsTest {
    private static float[] x() {
        float[] x = new float[24];
        for (int i = 0; i < x.length; i++) x[i] = (float) (i * 0.25 - 2.9);
        return x;
    }

    private static AttributeProto integer(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static float[] run(NodeProto node, Object... outDims) {
        GraphProto g = GraphProto.newBuilder().setName("lp").addInput(TestModels.f32("x", 1, 2, 3, 4)).addOutput(TestModels.f32("y", outDims))
                .addNode(node).build();
        try (OnnxModel m = Onnx.load(TestModels.model(13, g).toByteArray()); Tensor in = Tensor.of(x(), 1, 2, 3, 4)) {
            return TestModels.outputValues(m, Map.of("x", in), "y");
        }
    }

    private static NodeProto node(String op, AttributeProto... attrs) {
        return TestModels.node("n", op, new String[] {"x"}, new String[] {"y"}, attrs);
    }

    @Test
    void lpNormalization() {
        TestModels.assertWithin(new float[] {-0.9994059801101685f, -0.9913905262947083f, -0.9701424837112427f, -0.9299607276916504f,
                -0.8654263019561768f, -0.7739573121070862f, -0.6585046052932739f, -0.5279341340065002f, -0.39391928911209106f, -0.2665860652923584f,
                -0.15205718576908112f, -0.05255883187055588f, 0.034462276846170425f, 0.1309383660554886f, 0.24253562092781067f, 0.3676588833332062f,
                0.5010362863540649f, 0.6332377791404724f, 0.7525767087936401f, 0.8492853045463562f, 0.9191450476646423f, 0.9638110995292664f,
                0.9883716702461243f, 0.9986178278923035f}, run(node("LpNormalization", integer("axis", 1), integer("p", 2)), 1, 2, 3, 4), "p 2 axis 1");
        TestModels.assertWithin(new float[] {-0.2871287167072296f, -0.26237624883651733f, -0.23762376606464386f, -0.21287128329277039f,
                -0.31147539615631104f, -0.2704918086528778f, -0.2295081913471222f, -0.18852458894252777f, -0.4285714328289032f, -0.3095238208770752f,
                -0.190476194024086f, -0.0714285746216774f, 0.05263157933950424f, 0.18421052396297455f, 0.31578946113586426f, 0.44736841320991516f,
                0.18644067645072937f, 0.2288135588169098f, 0.2711864411830902f, 0.31355932354927063f, 0.21212121844291687f, 0.2373737394809723f,
                0.2626262605190277f, 0.28787878155708313f}, run(node("LpNormalization", integer("p", 1)), 1, 2, 3, 4), "p 1, default axis -1");
    }

    @Test
    void globalLpPool() {
        TestModels.assertWithin(new float[] {6.070008277893066f, 5.919881820678711f}, run(node("GlobalLpPool"), 1, 2, 1, 1), "default p 2");
        TestModels.assertWithin(new float[] {4.3699049949646f, 4.2736992835998535f}, run(node("GlobalLpPool", integer("p", 3)), 1, 2, 1, 1), "p 3");
    }

    @Test
    void lpPool() {
        TestModels.assertWithin(new float[] {3.5033607482910156f, 2.8749477863311768f, 3.7879059314727783f, 3.03757381439209f, 2.31177020072937f,
                1.6301885843276978f, 0.35270020365715027f, 0.9398267865180969f, 1.5653010606765747f, 2.2412168979644775f, 2.963644504547119f,
                3.7121284008026123f}, run(node("LpPool", integer("p", 3), TestModels.ints("kernel_shape", 2, 2), TestModels.ints("strides", 1, 2),
                TestModels.ints("pads", 1, 0, 0, 1)), 1, 2, 3, 2), "p 3, uneven pads");
        TestModels.assertWithin(new float[] {4.665297508239746f, 4.179114818572998f, 3.696619987487793f, 2.438236951828003f, 2.7504544258117676f,
                2.2945587635040283f, 1.8614510297775269f, 1.1597414016723633f, 1.110180139541626f, 0.7632168531417847f, 0.42720019817352295f,
                0.15000000596046448f, 1.7790446281433105f, 2.205674409866333f, 2.6580066680908203f, 2.0359272956848145f, 3.600694417953491f,
                4.082278728485107f, 4.567822456359863f, 3.3977932929992676f, 3.1515870094299316f, 3.5046398639678955f, 3.8577842712402344f,
                2.8499999046325684f}, run(node("LpPool", TestModels.ints("kernel_shape", 2, 2), TestModels.string("auto_pad", "SAME_UPPER")), 1, 2, 3, 4),
                "default p 2, auto_pad SAME_UPPER");
    }

    /** A line of zeros: zeros, as torch's {@code F.normalize} (eps 1e-12) and ONNX Runtime give (the bare formula: 0/0). */
    @Test
    void lpNormalizationOfZerosIsZeros() {
        GraphProto g = GraphProto.newBuilder().setName("lp").addInput(TestModels.f32("x", 2, 3)).addOutput(TestModels.f32("y", 2, 3))
                .addNode(node("LpNormalization", integer("axis", 1))).build();
        try (OnnxModel m = Onnx.load(TestModels.model(13, g).toByteArray()); Tensor in = Tensor.of(new float[] {0, 0, 0, 3, 0, -4}, 2, 3)) {
            // torch: F.normalize(torch.tensor([[0., 0, 0], [3, 0, -4]]), dim=1) = [[0, 0, 0], [0.6, 0, -0.8]]
            assertArrayEquals(new float[] {0, 0, 0, 0.6f, 0, -0.8f}, TestModels.outputValues(m, Map.of("x", in), "y"));
        }
    }

    @Test
    void lpNormalizationTakesOnlyPOneOrTwo() {
        OnnxException e = org.junit.jupiter.api.Assertions.assertThrows(OnnxException.class, () -> run(node("LpNormalization", integer("p", 3)), 1, 2, 3, 4));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("p must be 1 or 2, got 3"), e.getMessage());
    }
}
