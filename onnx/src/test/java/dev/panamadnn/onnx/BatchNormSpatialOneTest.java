package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Inference BatchNormalization on activations whose spatial dims are all 1 ([N, C, 1], [N, C, 1, 1]: a BatchNorm1d on
 * a length-1 sequence, a norm after global pooling): a plan gave every element channel 0's scale and shift when N > 1
 * (oneDNN's jit binary with a per-channel operand and a per-channel post-op add); found by a random probe of 684 conv,
 * pooling and normalization models against torch (4 cases). Against ONNX's definition, (x - mean) / sqrt(var + eps) *
 * scale + bias per channel, computed here, at batches 1 and 3, beside [N, C] and [N, C, 2] which were right.
 */
class BatchNormSpatialOneTest {
    private static final float[] SCALE = {2f, 3f, -1f}, BIAS = {0.5f, -1f, 2f}, MEAN = {1f, 10f, -3f}, VAR = {4f, 9f, 0.25f};

    @Test
    void everyChannelGetsItsOwnScaleAndShift() {
        for (long[] sample : new long[][] {{3, 1}, {3, 1, 1}, {3}, {3, 2}}) {
            Object[] dims = new Object[sample.length + 1];
            dims[0] = "N";
            for (int i = 0; i < sample.length; i++) dims[i + 1] = sample[i];
            GraphProto g = GraphProto.newBuilder().setName("bn").addInput(TestModels.f32("x", dims)).addOutput(TestModels.f32("y", dims))
                    .addInitializer(TestModels.weights("s", SCALE, 3)).addInitializer(TestModels.weights("b", BIAS, 3))
                    .addInitializer(TestModels.weights("m", MEAN, 3)).addInitializer(TestModels.weights("v", VAR, 3))
                    .addNode(TestModels.node("bn", "BatchNormalization", new String[] {"x", "s", "b", "m", "v"}, new String[] {"y"},
                            AttributeProto.newBuilder().setName("epsilon").setType(AttributeProto.AttributeType.FLOAT).setF(0f).build()))
                    .build();
            try (OnnxModel model = Onnx.load(TestModels.model(13, g).toByteArray()); PlanSet plans = model.compile(CompileOptions.defaults())) {
                for (int n : new int[] {3, 1}) {
                    long[] shape = new long[sample.length + 1];
                    shape[0] = n;
                    System.arraycopy(sample, 0, shape, 1, sample.length);
                    long inner = 1;
                    for (int i = 1; i < sample.length; i++) inner *= sample[i];
                    float[] x = new float[(int) (n * 3 * inner)], want = new float[x.length];
                    for (int i = 0; i < x.length; i++) {
                        x[i] = i * 0.75f - 2f;
                        int c = (int) ((i / inner) % 3);
                        want[i] = (float) ((x[i] - MEAN[c]) / Math.sqrt(VAR[c]) * SCALE[c] + BIAS[c]);
                    }
                    try (Tensor in = Tensor.of(x, shape)) {
                        Map<String, Tensor> out = plans.run(Map.of("x", in));
                        try {
                            assertArrayEquals(want, out.get("y").toFloatArray(), 1e-5f, java.util.Arrays.toString(shape));
                        } finally {
                            out.values().forEach(Tensor::close);
                        }
                    }
                }
            }
        }
    }

    /**
     * BatchNormalization-14 brought {@code training_mode} (15 only widened its types); torch 1.13 writes
     * {@code training_mode=0} at opset 14 where it cannot fold the norm into a convolution (after a ConvTranspose): the
     * attribute was refused at 14 and accepted from 15 on. Found by {@code scripts/torch-probe}'s exports (seed 5813).
     */
    @Test
    void opset14TakesTrainingModeZero() {
        GraphProto g = GraphProto.newBuilder().setName("bn14").addInput(TestModels.f32("x", 2, 3, 2)).addOutput(TestModels.f32("y", 2, 3, 2))
                .addInitializer(TestModels.weights("s", SCALE, 3)).addInitializer(TestModels.weights("b", BIAS, 3))
                .addInitializer(TestModels.weights("m", MEAN, 3)).addInitializer(TestModels.weights("v", VAR, 3))
                .addNode(TestModels.node("bn", "BatchNormalization", new String[] {"x", "s", "b", "m", "v"}, new String[] {"y"},
                        AttributeProto.newBuilder().setName("epsilon").setType(AttributeProto.AttributeType.FLOAT).setF(0f).build(),
                        AttributeProto.newBuilder().setName("training_mode").setType(AttributeProto.AttributeType.INT).setI(0).build()))
                .build();
        float[] x = new float[12], want = new float[12];
        for (int i = 0; i < x.length; i++) {
            x[i] = i * 0.75f - 2f;
            int c = (i / 2) % 3;
            want[i] = (float) ((x[i] - MEAN[c]) / Math.sqrt(VAR[c]) * SCALE[c] + BIAS[c]);
        }
        try (OnnxModel model = Onnx.load(TestModels.model(14, g).toByteArray()); Tensor in = Tensor.of(x, 2, 3, 2)) {
            Map<String, Tensor> out = model.run(Map.of("x", in));
            try {
                assertArrayEquals(want, out.get("y").toFloatArray(), 1e-5f);
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }
}
