package dev.panamadnn.onnx;

import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Ops at rank 6, beyond the 5 dims some oneDNN primitives take: BatchNormalization (refused before), InstanceNormalization over 4 spatial dims (oneDNN's
 * group normalization accepted the 6-D descriptor and computed wrong values, finite inputs included), and PRelu with a
 * slope broadcast over a 6-D X (oneDNN refused its descriptor: a DnnlException from primitive creation). Both found by
 * {@code scripts/ort-probe --ranks 5,6} against ONNX Runtime 1.23.2. Expected values from torch 1.13 in float64:
 * {@code F.instance_norm(x.reshape(2, 2, -1), weight, bias, eps=0.1)} and {@code torch.where(x > 0, x, slope * x)}.
 */
class HighRankOpsTest {
    private static float[] run(GraphProto g, float[] x, long... shape) {
        try (OnnxModel m = Onnx.load(TestModels.model(14, g).toByteArray()); Tensor in = Tensor.of(x, shape)) {
            return TestModels.outputValues(m, Map.of("x", in), "y");
        }
    }

    @Test
    void instanceNormalizationOverFourSpatialDims() {
        float[] x = {3.41f, 0.9600000000000004f, -0.5099999999999998f, -1.0f, -0.5100000000000005f, 0.9599999999999997f, 3.4099999999999966f, 6.839999999999996f};
        GraphProto g = GraphProto.newBuilder().setName("in6").addInput(TestModels.f32("x", 2, 2, 1, 1, 1, 2)).addOutput(TestModels.f32("y", 2, 2, 1, 1, 1, 2))
                .addInitializer(TestModels.weights("s", new float[] {1.5f, -0.5f}, 2)).addInitializer(TestModels.weights("b", new float[] {0.1f, 0.2f}, 2))
                .addNode(TestModels.node("in", "InstanceNormalization", new String[] {"x", "s", "b"}, new String[] {"y"},
                        AttributeProto.newBuilder().setName("epsilon").setType(AttributeProto.AttributeType.FLOAT).setF(0.1f).build())).build();
        TestModels.assertWithin(new float[] {1.55238765837201f, -1.3523876583720102f, -0.10622607702218759f, 0.5062260770221876f, -1.2778828153202617f,
                1.4778828153202617f, 0.691710919417894f, -0.29171091941789384f}, run(g, x, 2, 2, 1, 1, 1, 2), "InstanceNormalization, rank 6");
    }

    @Test
    void preluWithABroadcastSlopeAtRankSix() {
        float[] x = new float[24];
        for (int i = 0; i < x.length; i++) x[i] = (float) (i * 0.37 - 4.1);
        GraphProto g = GraphProto.newBuilder().setName("prelu6").addInput(TestModels.f32("x", 2, 3, 1, 2, 1, 2)).addOutput(TestModels.f32("y", 2, 3, 1, 2, 1, 2))
                .addInitializer(TestModels.weights("slope", new float[] {0.25f, -0.5f, 2.0f, 0.1f, 1.5f, -1.0f}, 3, 1, 2, 1, 1))
                .addNode(TestModels.node("p", "PRelu", new String[] {"x", "slope"}, new String[] {"y"})).build();
        TestModels.assertWithin(new float[] {-1.025f, -0.9324999999999999f, 1.6799999999999997f, 1.4949999999999999f, -5.239999999999999f, -4.499999999999999f,
                -0.188f, -0.151f, -1.7099999999999995f, -1.1549999999999994f, 0.39999999999999947f, 0.02999999999999936f, 0.33999999999999986f, 0.71f, 1.08f,
                1.4500000000000002f, 1.8200000000000003f, 2.1900000000000004f, 2.5600000000000005f, 2.9300000000000006f, 3.3000000000000007f, 3.67f,
                4.040000000000001f, 4.41f}, run(g, x, 2, 3, 1, 2, 1, 2), "PRelu, rank 6");
    }

    /** BatchNormalization (inference) of a 6-D X, refused before ("compiled on 2-D to 5-D activations"); torch: {@code F.batch_norm(x.reshape(2, 3, -1), ...)}. */
    @Test
    void batchNormalizationAtRankSix() {
        float[] x = new float[24];
        for (int i = 0; i < x.length; i++) x[i] = (float) (i * 0.3 - 3.1);
        GraphProto g = GraphProto.newBuilder().setName("bn6").addInput(TestModels.f32("x", 2, 3, 1, 2, 1, 2)).addOutput(TestModels.f32("y", 2, 3, 1, 2, 1, 2))
                .addInitializer(TestModels.weights("w", new float[] {1.2f, -0.7f, 0.9f}, 3)).addInitializer(TestModels.weights("b", new float[] {0.1f, 0, -0.3f}, 3))
                .addInitializer(TestModels.weights("mean", new float[] {0.5f, -1.0f, 0.25f}, 3)).addInitializer(TestModels.weights("var", new float[] {1.5f, 0.5f, 2.0f}, 3))
                .addNode(TestModels.node("bn", "BatchNormalization", new String[] {"x", "w", "b", "mean", "var"}, new String[] {"y"})).build();
        TestModels.assertWithin(new float[] {-3.4272534721157983f, -3.1333156827728152f, -2.8393778934298317f, -2.545440104086849f, 0.8909456348832481f,
                0.593963756588832f, 0.29698187829441625f, 0.0f, -0.9045747864794214f, -0.713656432854341f, -0.5227380792292605f, -0.3318197256041802f,
                0.0999999999999996f, 0.39393778934298307f, 0.6878755786859665f, 0.9818133680289495f, -2.6728369046497433f, -2.9698187829441594f,
                -3.266800661238575f, -3.563782539532992f, 1.3864454570215434f, 1.5773638106466237f, 1.768282164271704f, 1.9592005178967844f},
                run(g, x, 2, 3, 1, 2, 1, 2), "BatchNormalization, rank 6");
    }
}
