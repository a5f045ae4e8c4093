package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.TestModels.f32;
import static dev.panamadnn.onnx.TestModels.model;
import static dev.panamadnn.onnx.TestModels.node;
import static dev.panamadnn.onnx.TestModels.string;
import static dev.panamadnn.onnx.TestModels.weights;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * ONNX's plain {@code RNN} (oneDNN's vanilla RNN) built in code, W, R, B, initial_h as initializers, X [T=4, N=2, I=2],
 * hidden 3, against PyTorch 1.13 within 1e-5 + 1e-5·|want|: bidirectional tanh and bidirectional relu with
 * sequence_lens {4, 2} (a constant, and an INT32 input given per run; {@code torch.nn.RNN}, the lengths through
 * pack_padded_sequence), and a reverse Sigmoid
 * (ONNX's formula in torch ops; torch.nn.RNN has no sigmoid); what the import refuses (other activations, differing
 * directions, clip), naming the node.
 *
 * <p>The expected values come from this script ({@code /usr/bin/python3}, torch 1.13); {@code vals} is {@link #vals}:
 * <pre>
 * import torch
 * T, N, I, H = 4, 2, 2, 3
 * def vals(n, a, m, s):
 *     return torch.tensor([((i * a) % m - m // 2) * s for i in range(n)], dtype=torch.float32)
 * x = vals(T * N * I, 5, 9, 0.25).reshape(T, N, I)
 * W = vals(2 * H * I, 7, 11, 0.1).reshape(2, H, I)
 * R = vals(2 * H * H, 3, 7, 0.1).reshape(2, H, H)
 * B = vals(2 * 2 * H, 5, 13, 0.05).reshape(2, 2 * H)
 * h0 = vals(2 * N * H, 4, 9, 0.1).reshape(2, N, H)
 * def torch_rnn(nonlinearity, lengths=None):
 *     rnn = torch.nn.RNN(I, H, nonlinearity=nonlinearity, bidirectional=True)
 *     with torch.no_grad():
 *         rnn.weight_ih_l0.copy_(W[0]); rnn.weight_ih_l0_reverse.copy_(W[1])
 *         rnn.weight_hh_l0.copy_(R[0]); rnn.weight_hh_l0_reverse.copy_(R[1])
 *         rnn.bias_ih_l0.copy_(B[0, :H]); rnn.bias_hh_l0.copy_(B[0, H:])
 *         rnn.bias_ih_l0_reverse.copy_(B[1, :H]); rnn.bias_hh_l0_reverse.copy_(B[1, H:])
 *         if lengths is None:
 *             y, hn = rnn(x, h0)
 *         else:
 *             p = torch.nn.utils.rnn.pack_padded_sequence(x, torch.tensor(lengths), enforce_sorted=False)
 *             y, hn = rnn(p, h0)
 *             y, _ = torch.nn.utils.rnn.pad_packed_sequence(y, total_length=T)
 *     return y.reshape(T, N, 2, H).permute(0, 2, 1, 3), hn   # ONNX's Y [T, D, N, H]
 * def sigmoid_reverse():   # ONNX's H_t = sigmoid(X_t W^T + H_{t-1} R^T + Wb + Rb), reverse: W[1], R[1], B[1], h0[1]
 *     h = h0[1]; ys = [None] * T
 *     for t in reversed(range(T)):
 *         h = torch.sigmoid(x[t] @ W[1].T + h @ R[1].T + B[1, :H] + B[1, H:]); ys[t] = h
 *     return torch.stack(ys).unsqueeze(1), h.unsqueeze(0)
 * for name, (y, hn) in [("TANH", torch_rnn("tanh")), ("RELU_LENGTHS", torch_rnn("relu", [4, 2])),
 *                       ("SIGMOID_REVERSE", sigmoid_reverse())]:
 *     print(name, y.flatten().tolist(), hn.flatten().tolist())
 * </pre>
 */
class OnnxSimpleRnnTest {
    private static final int T = 4, N = 2, I = 2, H = 3;

    private static final float[] TANH_Y = {
            0.2821348309516907f, 0.277526319026947f, 0.2775263786315918f, -0.05494463071227074f, 0.46994519233703613f,
            0.17323516309261322f, -0.6528719663619995f, 0.828879177570343f, -0.16049806773662567f, -0.5852289795875549f,
            0.8230039477348328f, -0.2946690022945404f, -0.10103662312030792f, 0.4192539155483246f, 0.1683378964662552f,
            -0.1061447262763977f, 0.5475226640701294f, 0.028514238074421883f, -0.30819985270500183f, 0.6767523288726807f,
            -0.6007639765739441f, -0.22244149446487427f, 0.6780210733413696f, -0.679220974445343f, -0.5505621433258057f,
            -0.4134066104888916f, 0.5810988545417786f, -0.6258729100227356f, -0.3009681701660156f, 0.5191158652305603f,
            -0.09092491120100021f, 0.14007753133773804f, 0.11365058273077011f, -0.025172283872961998f, 0.15199154615402222f,
            -0.017361899837851524f, -0.470335990190506f, -0.45726272463798523f, 0.6463276743888855f, -0.52375727891922f,
            -0.3596027195453644f, 0.5900242328643799f, 0.20696650445461273f, -0.049958400428295135f, -0.29131263494491577f,
            0.1586485356092453f, -0.014998860657215118f, -0.37136024236679077f};
    private static final float[] TANH_YH = {
            -0.470335990190506f, -0.45726272463798523f, 0.6463276743888855f, -0.52375727891922f, -0.3596027195453644f,
            0.5900242328643799f, -0.6528719663619995f, 0.828879177570343f, -0.16049806773662567f, -0.5852289795875549f,
            0.8230039477348328f, -0.2946690022945404f};
    private static final float[] RELU_LENGTHS_Y = {
            0.2900000214576721f, 0.2849999666213989f, 0.2850000262260437f, 0.0f, 0.5099999904632568f, 0.17500001192092896f, 0.0f,
            0.9550800323486328f, 0.0f, 0.0f, 0.9259999990463257f, 0.0f, 0.0f, 0.44599997997283936f, 0.16850002110004425f, 0.0f,
            0.6169999837875366f, 0.02199999988079071f, 0.0f, 0.800800085067749f, 0.0f, 0.0f, 0.7599999904632568f, 0.0f, 0.0f, 0.0f,
            0.6662000417709351f, 0.0f, 0.0f, 0.0f, 0.0f, 0.057999998331069946f, 0.09999999403953552f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f,
            0.7000000476837158f, 0.0f, 0.0f, 0.0f, 0.21000000834465027f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
    private static final float[] RELU_LENGTHS_YH = {
            0.0f, 0.0f, 0.7000000476837158f, 0.0f, 0.6169999837875366f, 0.02199999988079071f, 0.0f, 0.9550800323486328f, 0.0f, 0.0f,
            0.9259999990463257f, 0.0f};
    private static final float[] SIGMOID_REVERSE_Y = {
            0.41303789615631104f, 0.6769576072692871f, 0.43395495414733887f, 0.437821626663208f, 0.6724236011505127f,
            0.3980046212673187f, 0.4800181984901428f, 0.6462153196334839f, 0.34597620368003845f, 0.5049925446510315f,
            0.641844630241394f, 0.3133959174156189f, 0.5254912972450256f, 0.47767025232315063f, 0.5507484078407288f,
            0.5481237769126892f, 0.47390544414520264f, 0.5146216750144958f, 0.5523079037666321f, 0.4875026345252991f,
            0.4255574941635132f, 0.5399149060249329f, 0.49625012278556824f, 0.4037173092365265f};
    private static final float[] SIGMOID_REVERSE_YH = {
            0.41303789615631104f, 0.6769576072692871f, 0.43395495414733887f, 0.437821626663208f, 0.6724236011505127f,
            0.3980046212673187f};

    /** The test's values: {@code ((i * a) % m - m / 2) * s}, i = 0..n-1 (the script's {@code vals}). */
    private static float[] vals(int n, int a, int m, double s) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (((i * a) % m - m / 2) * s);
        return v;
    }

    /** x [T, N, I] -> RNN (hidden 3) -> Y, Y_h; W, R, B, initial_h (and sequence_lens) initializers for {@code dirs} directions. */
    private static GraphProto rnn(int dirs, int[] lengths, AttributeProto... attrs) {
        int first = dirs == 2 ? 0 : 1;   // one direction: the reverse one's weights (the script's index 1)
        GraphProto.Builder g = GraphProto.newBuilder().setName("rnn").addInput(f32("x", T, N, I))
                .addInitializer(weights("W", slice(vals(2 * H * I, 7, 11, 0.1), first, dirs, H * I), dirs, H, I))
                .addInitializer(weights("R", slice(vals(2 * H * H, 3, 7, 0.1), first, dirs, H * H), dirs, H, H))
                .addInitializer(weights("B", slice(vals(2 * 2 * H, 5, 13, 0.05), first, dirs, 2 * H), dirs, 2 * H))
                .addInitializer(weights("h0", slice(vals(2 * N * H, 4, 9, 0.1), first, dirs, N * H), dirs, N, H));
        String lens = "";
        if (lengths != null && lengths.length == 0) {   // given per run: an INT32 graph input
            g.addInput(ValueInfoProto.newBuilder().setName("lens").setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                    .setElemType(TensorProto.DataType.INT32_VALUE).setShape(TensorShapeProto.newBuilder()
                            .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(N))))));
            lens = "lens";
        } else if (lengths != null) {
            TensorProto.Builder t = TensorProto.newBuilder().setName("lens").setDataType(TensorProto.DataType.INT32_VALUE).addDims(N);
            for (int l : lengths) t.addInt32Data(l);
            g.addInitializer(t);
            lens = "lens";
        }
        g.addNode(node("enc.rnn", "RNN", new String[] {"x", "W", "R", "B", lens, "h0"}, new String[] {"y", "yh"}, attrs));
        return g.addOutput(f32("y", T, dirs, N, H)).addOutput(f32("yh", dirs, N, H)).build();
    }

    private static float[] slice(float[] v, int first, int count, int block) {
        return java.util.Arrays.copyOfRange(v, first * block, (first + count) * block);
    }

    private static AttributeProto hidden() {
        return AttributeProto.newBuilder().setName("hidden_size").setType(AttributeProto.AttributeType.INT).setI(H).build();
    }

    private static AttributeProto strings(String name, String... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRINGS);
        for (String s : v) a.addStrings(ByteString.copyFromUtf8(s));
        return a.build();
    }

    private static void check(String what, GraphProto graph, int opset, float[] wantY, float[] wantYh) throws Exception {
        check(what, graph, opset, null, wantY, wantYh);
    }

    /** Runs {@code graph} on the script's x (and {@code lengths} as the input "lens" when not null). */
    private static void check(String what, GraphProto graph, int opset, int[] lengths, float[] wantY, float[] wantYh) throws Exception {
        try (OnnxModel m = Onnx.load(model(opset, graph).toByteArray()); Tensor x = Tensor.of(vals(T * N * I, 5, 9, 0.25), T, N, I);
             Arena arena = Arena.ofConfined()) {
            Map<String, Tensor> in = new HashMap<>(Map.of("x", x));
            if (lengths != null) {
                Tensor lens = Tensor.allocate(arena, DataType.I32, lengths.length);
                for (int b = 0; b < lengths.length; b++) lens.segment().setAtIndex(ValueLayout.JAVA_INT, b, lengths[b]);
                in.put("lens", lens);
            }
            Map<String, Tensor> out = m.run(in);
            try (Tensor y = out.get("y"); Tensor yh = out.get("yh")) {
                assertClose(what + " Y", wantY, y.toFloatArray());
                assertClose(what + " Y_h", wantYh, yh.toFloatArray());
            }
        }
    }

    private static void assertClose(String what, float[] want, float[] got) {
        assertEquals(want.length, got.length, what + ": element count");
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(got[i] - want[i]) <= 1e-5 + 1e-5 * Math.abs(want[i]), what + "[" + i + "]: want " + want[i] + ", got " + got[i]);
        }
    }

    @Test
    void bidirectionalTanhMatchesTorch() throws Exception {
        check("tanh (default activations)", rnn(2, null, hidden(), string("direction", "bidirectional")), 13, TANH_Y, TANH_YH);
        check("tanh (spelled out)", rnn(2, null, hidden(), string("direction", "bidirectional"), strings("activations", "Tanh", "Tanh")), 14,
                TANH_Y, TANH_YH);
    }

    @Test
    void bidirectionalReluWithSequenceLensMatchesTorch() throws Exception {
        check("relu, lengths {4, 2}", rnn(2, new int[] {4, 2}, hidden(), string("direction", "bidirectional"), strings("activations", "Relu", "Relu")),
                14, RELU_LENGTHS_Y, RELU_LENGTHS_YH);
        check("relu, lengths {4, 2} given per run", rnn(2, new int[0], hidden(), string("direction", "bidirectional"),
                strings("activations", "Relu", "Relu")), 14, new int[] {4, 2}, RELU_LENGTHS_Y, RELU_LENGTHS_YH);
    }

    @Test
    void reverseSigmoidMatchesOnnxFormula() throws Exception {
        check("sigmoid, reverse", rnn(1, null, hidden(), string("direction", "reverse"), strings("activations", "Sigmoid")), 7,
                SIGMOID_REVERSE_Y, SIGMOID_REVERSE_YH);
    }

    @Test
    void refusesOtherActivationsAndClipNamingTheNode() {
        List<String[]> cases = new ArrayList<>();
        cases.add(new String[] {"HardSigmoid", "activation 'HardSigmoid' is not supported: only Tanh, Relu, Sigmoid"});
        cases.add(new String[] {"Affine", "activation 'Affine' is not supported"});
        for (String[] c : cases) {
            OnnxException e = assertThrows(OnnxException.class, () -> Onnx.load(model(14, rnn(1, null, hidden(), strings("activations", c[0])))
                    .toByteArray()));
            String problems = String.join("\n", e.problems());
            assertTrue(problems.contains("RNN") && problems.contains(c[1]), problems);
        }
        OnnxException both = assertThrows(OnnxException.class, () -> Onnx.load(model(14, rnn(2, null, hidden(), string("direction", "bidirectional"),
                strings("activations", "Tanh", "Relu"))).toByteArray()));
        assertTrue(String.join("\n", both.problems()).contains("differ between the directions"), both.problems().toString());
        AttributeProto clip = AttributeProto.newBuilder().setName("clip").setType(AttributeProto.AttributeType.FLOAT).setF(3).build();
        OnnxException clipped = assertThrows(OnnxException.class, () -> Onnx.load(model(14, rnn(1, null, hidden(), clip)).toByteArray()));
        assertTrue(String.join("\n", clipped.problems()).contains("attribute 'clip' is not supported"), clipped.problems().toString());
        OnnxException layout = assertThrows(OnnxException.class, () -> Onnx.load(model(13, rnn(1, null, hidden(),
                AttributeProto.newBuilder().setName("layout").setType(AttributeProto.AttributeType.INT).setI(1).build())).toByteArray()));
        assertTrue(String.join("\n", layout.problems()).contains("attribute 'layout' is not supported"), layout.problems().toString());
    }
}
