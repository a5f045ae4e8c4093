package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.TestModels.f32;
import static dev.panamadnn.onnx.TestModels.ints;
import static dev.panamadnn.onnx.TestModels.model;
import static dev.panamadnn.onnx.TestModels.node;
import static dev.panamadnn.onnx.TestModels.weights;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.TensorProto;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * A quantized (QDQ) convolution as quantization tools write it: the activation through QuantizeLinear (scale 0.05, UINT8
 * zero point 128) and DequantizeLinear, the weights INT8 with per-output-channel scales dequantized (axis 0), runs in F32
 * with the same quantization steps: round half to even, saturation at 255. Expected values: numpy 1.24 for the
 * quantization, torch 1.13's conv2d in double for the convolution (the script in the comment below).
 */
class QuantizedModelTest {
    // rng = np.random.default_rng(7); x = (rng.standard_normal((1, 2, 5, 5)) * 3).astype(np.float32)
    // x[0, 0, 0, :4] = [0.125, 0.175, -0.125, 20.0]; q = np.clip(np.rint(x / np.float32(0.05)) + 128, 0, 255)
    // xd = ((q - 128) * np.float32(0.05)).astype(np.float32); wq = rng.integers(-127, 128, size=(3, 2, 3, 3)).astype(np.int8)
    // ws = np.array([0.01, 0.02, 0.005], np.float32); w = wq.astype(np.float32) * ws[:, None, None, None]
    // y = F.conv2d(torch.from_numpy(xd).double(), torch.from_numpy(w).double(), padding=1).float()
    private static final float[] X = {0.125f, 0.17499999701976776f, -0.125f, 20.0f, -1.364012360572815f, -2.9749395847320557f,
        0.1804308146238327f, 4.020645618438721f, -1.4766196012496948f, -1.8614246845245361f, 1.4695261716842651f, 1.0706610679626465f,
        0.3162427544593811f, -2.7914042472839355f, -0.0877554640173912f, 2.085909605026245f, -4.032643795013428f, -1.372847318649292f,
        -5.703668117523193f, -3.8686132431030273f, -5.525205135345459f, -0.7052733898162842f, -3.802339553833008f, 0.8137930631637573f,
        0.47025325894355774f, -0.560792863368988f, -7.550279140472412f, -1.6160787343978882f, -0.14550283551216125f, 0.33992695808410645f,
        -4.590407371520996f, -1.4332598447799683f, -2.9355571269989014f, -2.426511764526367f, 3.1826958656311035f, -2.4226040840148926f,
        -0.09756511449813843f, 2.653169631958008f, -1.7508013248443604f, -0.335105836391449f, 0.33139243721961975f, 0.19134531915187836f,
        -3.6751675605773926f, 0.228420689702034f, 4.076470375061035f, -4.641434192657471f, 2.578148126602173f, 0.35806208848953247f,
        -1.9244111776351929f, 6.00124979019165f};
    private static final byte[] WQ = {37, 25, -100, -112, 41, -29, 25, -45, -70, -89, -30, 81, -25, -31, 19, 122, -27, 23, -15, 27, -14, 35,
        12, 45, 116, -89, 16, -15, -36, -66, -114, -25, 83, -103, -24, 119, 115, -73, -126, 44, -124, -51, -1, 95, -104, 41, 8, -94, 88, 88,
        -4, 113, 27, 103};
    private static final float[] Y = {1.033499836921692f, -7.710000038146973f, -2.2750000953674316f, 4.388499736785889f, -11.131999969482422f,
        -6.073500156402588f, 1.9539997577667236f, 3.2634999752044678f, 7.2295002937316895f, -0.1130000501871109f, 2.124500036239624f,
        -0.23350012302398682f, 6.2804999351501465f, 8.550000190734863f, 3.3494999408721924f, 6.757500171661377f, -4.369000434875488f,
        11.535500526428223f, 0.006999778561294079f, 0.13300038874149323f, 4.49500036239624f, 5.200000286102295f, 2.873000144958496f,
        14.559499740600586f, -6.620500087738037f, -6.072999954223633f, -0.943000078201294f, 12.40999984741211f, 30.76999855041504f,
        7.611999988555908f, 6.875999450683594f, 27.779998779296875f, -2.3829996585845947f, 18.19700050354004f, -2.8939995765686035f,
        1.17799973487854f, 19.67500114440918f, -4.260000228881836f, 13.674999237060547f, -8.791000366210938f, 17.440000534057617f,
        -14.097000122070312f, -10.067000389099121f, 13.066999435424805f, -3.88200044631958f, 6.431000232696533f, 4.605999946594238f,
        -5.583000183105469f, 1.9720003604888916f, -1.3959999084472656f, -3.0999999046325684f, -9.386750221252441f, -4.83050012588501f,
        -4.511750221252441f, 0.49849992990493774f, 2.3737502098083496f, -3.634500026702881f, -8.101750373840332f, -2.3802497386932373f,
        4.204750061035156f, 2.481250047683716f, -8.378250122070312f, 4.337500095367432f, 3.392749786376953f, -3.1449999809265137f,
        -2.9200000762939453f, 1.7285000085830688f, 1.3410001993179321f, 7.710249900817871f, 1.0470000505447388f, 3.2265002727508545f,
        4.628000259399414f, 4.864500045776367f, -1.1944998502731323f, 0.04399985820055008f};

    private static TensorProto bytes(String name, int type, byte[] v, long... dims) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(type).setRawData(ByteString.copyFrom(v));
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    @Test
    void aQdqConvolutionRunsInF32WithTheSameQuantizationSteps() {
        AttributeProto axis0 = AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(0).build();
        GraphProto g = GraphProto.newBuilder().setName("qdq").addInput(f32("x", 1, 2, 5, 5)).addOutput(f32("y", 1, 3, 5, 5))
                .addInitializer(weights("s", new float[] {0.05f})).addInitializer(bytes("zp", TensorProto.DataType.UINT8_VALUE, new byte[] {(byte) 128}))
                .addInitializer(bytes("wq", TensorProto.DataType.INT8_VALUE, WQ, 3, 2, 3, 3))
                .addInitializer(weights("ws", new float[] {0.01f, 0.02f, 0.005f}, 3))
                .addNode(node("q", "QuantizeLinear", new String[] {"x", "s", "zp"}, new String[] {"xq"}))
                .addNode(node("dq", "DequantizeLinear", new String[] {"xq", "s", "zp"}, new String[] {"xd"}))
                .addNode(node("dqw", "DequantizeLinear", new String[] {"wq", "ws"}, new String[] {"w"}, axis0))
                .addNode(node("conv", "Conv", new String[] {"xd", "w"}, new String[] {"y"}, ints("pads", 1, 1, 1, 1)))
                .build();
        try (OnnxModel m = Onnx.load(model(13, g).toByteArray()); Tensor in = Tensor.of(X, 1, 2, 5, 5)) {
            TestModels.assertWithin(Y, TestModels.outputValues(m, Map.of("x", in), "y"), "dequantize, conv, quantize");
        }
    }

    @Test
    void quantizeRoundsHalfToEvenAndSaturates() {
        // numpy: np.clip(np.rint(x / np.float32(0.5)) - 3, -128, 127) for int8 zero point -3 (0.5 scale keeps the quotients exact)
        float[] x = {1.25f, 1.75f, -1.25f, -1.75f, 100f, -100f, 0.25f, 0.75f};
        byte[] expected = {-1, 1, -5, -7, 127, -128, -3, -1};
        GraphProto g = GraphProto.newBuilder().setName("q8").addInput(f32("x", 8))
                .addOutput(dev.panamadnn.onnx.proto.ValueInfoProto.newBuilder().setName("y").setType(dev.panamadnn.onnx.proto.TypeProto.newBuilder()
                        .setTensorType(dev.panamadnn.onnx.proto.TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.INT8_VALUE))))
                .addInitializer(weights("s", new float[] {0.5f})).addInitializer(bytes("zp", TensorProto.DataType.INT8_VALUE, new byte[] {-3}))
                .addNode(node("q", "QuantizeLinear", new String[] {"x", "s", "zp"}, new String[] {"y"})).build();
        try (OnnxModel m = Onnx.load(model(13, g).toByteArray()); Tensor in = Tensor.of(x, 8)) {
            Map<String, Tensor> out = m.run(Map.of("x", in));
            try {
                assertEquals(dev.panamadnn.DataType.I8, out.get("y").dtype());
                org.junit.jupiter.api.Assertions.assertArrayEquals(expected, out.get("y").segment().toArray(java.lang.foreign.ValueLayout.JAVA_BYTE));
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }

    /** Weights too many for shape-time folding (128 x 64 x 3 x 3 INT8): still dequantized once, at compile time. */
    @Test
    void largeQuantizedWeightsFoldToF32Weights() {
        int o = 128, c = 64;
        byte[] wq = new byte[o * c * 9];
        for (int i = 0; i < wq.length; i++) wq[i] = (byte) (i * 7 % 255 - 127);
        float[] ws = new float[o];
        for (int i = 0; i < o; i++) ws[i] = 0.001f * (i + 1);
        AttributeProto axis0 = AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(0).build();
        GraphProto g = GraphProto.newBuilder().setName("qdq-large").addInput(f32("x", "N", c, 6, 6)).addOutput(f32("y", "N", o, 4, 4))
                .addInitializer(bytes("wq", TensorProto.DataType.INT8_VALUE, wq, o, c, 3, 3)).addInitializer(weights("ws", ws, o))
                .addNode(node("dqw", "DequantizeLinear", new String[] {"wq", "ws"}, new String[] {"w"}, axis0))
                .addNode(node("conv", "Conv", new String[] {"x", "w"}, new String[] {"y"})).build();
        float[] x = new float[c * 36];
        for (int i = 0; i < x.length; i++) x[i] = (i % 13) / 13f - 0.5f;
        try (OnnxModel m = Onnx.load(model(13, g).toByteArray()); Tensor in = Tensor.of(x, 1, c, 6, 6)) {
            Map<String, Tensor> out = m.run(Map.of("x", in));
            try {
                float[] y = out.get("y").toFloatArray();
                // torch 1.13, in double: wq = tensor([i * 7 % 255 - 127 for i in range(128 * 64 * 9)]).reshape(128, 64, 3, 3);
                // ws = [0.001 * (i + 1) for i in range(128)] (float32); x = [(i % 13) / 13 - 0.5 for i in range(64 * 36)] (float32),
                // y = F.conv2d(x, wq * ws[:, None, None, None]); y[0, oc].flatten()[p] for oc in 0, 37, 74, 111 and p in 0, 5, 10, 15
                double[] expected = {0.11700002707458651, -0.2543077238430987, 0.47838464698263566, -0.5339231307459642, 21.173307753433374,
                    -15.183922998305665, 20.506846171060992, -20.48638487224165, 7.866346579761434, -3.349037598782724, -4.214424130592759,
                    14.345192218364126, -18.040614483053837, 42.43938757610788, -49.960618288393206, 55.9913873617099};
                int k = 0;
                for (int oc = 0; oc < o; oc += 37) {
                    for (int p = 0; p < 16; p += 5, k++) {
                        float got = y[oc * 16 + p];
                        assertTrue(Math.abs(got - expected[k]) <= 1e-4 * (1 + Math.abs(expected[k])), "y[" + oc + ", " + p + "] = " + got + ", expected " + expected[k]);
                    }
                }
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }
}
