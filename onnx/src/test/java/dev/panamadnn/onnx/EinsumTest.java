package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.TestModels.f32;
import static dev.panamadnn.onnx.TestModels.model;
import static dev.panamadnn.onnx.TestModels.node;
import static dev.panamadnn.onnx.TestModels.string;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.GraphProto;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Einsum against torch 1.13's {@code torch.einsum} (ONNX's own Einsum cases are all DOUBLE): matrix and batched products,
 * attention scores, a transpose, a full sum, an outer product, an implicit output, a permuted output, a letter summed out
 * of one operand. Inputs and expected values from {@code g = torch.Generator().manual_seed(5)}, each input
 * {@code torch.randn(*shape, generator=g)} in order, {@code torch.einsum(equation, *inputs)}.
 */
class EinsumTest {
    record Case(String equation, long[][] shapes, float[][] inputs, long[] outShape, float[] expected) {}

    private static final List<Case> CASES = List.of(
            new Case("ij,jk->ik", new long[][] {new long[] {2, 3}, new long[] {3, 4}}, new float[][] {new float[] {-0.4867807626724243f, -0.6038215756416321f, -0.5580962300300598f, 0.6675242781639099f, -0.19741509854793549f, 1.9427834749221802f}, new float[] {-1.4017020463943481f, -0.7625571489334106f, 0.6312134265899658f, -0.899135172367096f, -0.5577934384346008f, 0.6907187700271606f, 0.2224585860967636f, -0.666225254535675f, 0.6846421957015991f, 0.5740016102790833f, -0.5828827023506165f, 0.7679415345191956f}}, new long[] {2, 4}, new float[] {0.6370330452919006f, -0.3662208914756775f, -0.11628320813179016f, 0.4113776385784149f, 0.5045582056045532f, 0.46977710723876953f, -0.754981279373169f, 1.0232723951339722f}),
            new Case("bij,bjk->bik", new long[][] {new long[] {2, 2, 3}, new long[] {2, 3, 2}}, new float[][] {new float[] {0.057092659175395966f, -1.189374566078186f, -0.5658848881721497f, -0.8326537609100342f, 0.901448667049408f, 0.2115711271762848f, 0.447927862405777f, -0.6088235378265381f, 0.23894619941711426f, 0.4698884189128876f, -1.9540048837661743f, -0.5587331056594849f}, new float[] {0.4295158088207245f, -2.264317035675049f, -0.2017124444246292f, 1.067711353302002f, 0.32463160157203674f, -0.06835465133190155f, -0.9959337711334229f, 1.1562741994857788f, -0.3991796374320984f, 1.2153481245040894f, -0.8115392923355103f, -0.8848472237586975f}}, new long[] {2, 2, 2}, new float[] {0.08072973787784576f, -1.3605037927627563f, -0.47078871726989746f, 2.8334171772003174f, -0.3969907760620117f, -0.43343600630760193f, 0.7654551267623901f, -1.3370827436447144f}),
            new Case("bhqd,bhkd->bhqk", new long[][] {new long[] {1, 2, 3, 4}, new long[] {1, 2, 2, 4}}, new float[][] {new float[] {-0.07257876545190811f, -0.547050416469574f, 0.4878222942352295f, -0.6519467234611511f, -0.5175644755363464f, -0.7753658294677734f, 0.5061160922050476f, 0.48172199726104736f, 1.1312004327774048f, -0.9273381233215332f, 0.7596672177314758f, -1.9843738079071045f, -0.11185567826032639f, -0.21018818020820618f, 0.9292061924934387f, -0.7494445443153381f, 0.4896027147769928f, 0.4969494640827179f, -0.43652665615081787f, -1.128677487373352f, -0.15639768540859222f, 1.1379916667938232f, -1.3307616710662842f, 1.809234619140625f}, new float[] {-0.6522659659385681f, -2.0344345569610596f, 1.193105936050415f, 1.1669918298721313f, 0.38647255301475525f, 0.9696834683418274f, 0.19005560874938965f, 0.1848299205303192f, 0.31500786542892456f, -1.4138741493225098f, 0.760460615158081f, -0.10327371209859848f, -0.42345085740089417f, 0.21470917761325836f, -0.4585278630256653f, 0.5684175491333008f}}, new long[] {1, 2, 3, 2}, new float[] {0.9814861416816711f, -0.586301326751709f, 3.0810365676879883f, -0.7666570544242859f, -0.2606194019317627f, -0.6844391822814941f, 1.0459668636322021f, -0.8498283624649048f, -0.7637939453125f, -0.5420235395431519f, -2.857081413269043f, 1.9491559267044067f}),
            new Case("ij->ji", new long[][] {new long[] {2, 3}}, new float[][] {new float[] {-0.059701573103666306f, -0.9949854612350464f, -0.8575595021247864f, 0.00826402846723795f, -0.23132158815860748f, 0.3688659071922302f}}, new long[] {3, 2}, new float[] {-0.059701573103666306f, 0.00826402846723795f, -0.9949854612350464f, -0.23132158815860748f, -0.8575595021247864f, 0.3688659071922302f}),
            new Case("ij->", new long[][] {new long[] {2, 3}}, new float[][] {new float[] {-1.0581214427947998f, 0.5688550472259521f, 1.5184590816497803f, 0.0713362842798233f, -1.1341642141342163f, 1.2063068151474f}}, new long[] {}, new float[] {1.1726716756820679f}),
            new Case("i,j->ij", new long[][] {new long[] {3}, new long[] {2}}, new float[][] {new float[] {-1.194452166557312f, -0.8743151426315308f, -0.7076648473739624f}, new float[] {0.025547917932271957f, 0.24501918256282806f}}, new long[] {3, 2}, new float[] {-0.0305157657712698f, -0.29266369342803955f, -0.02233693189918995f, -0.2142239809036255f, -0.01807936280965805f, -0.1733914613723755f}),
            new Case("ij,kj", new long[][] {new long[] {2, 3}, new long[] {4, 3}}, new float[][] {new float[] {0.876555860042572f, 0.5637586712837219f, -0.7005476355552673f, -0.5437255501747131f, -1.1501737833023071f, -1.0887919664382935f}, new float[] {-1.288917899131775f, 0.5914725065231323f, 1.3289252519607544f, -1.2026160955429077f, 1.192001461982727f, -0.2027483433485031f, -1.1834503412246704f, -0.7378977537155151f, -0.2929823398590088f, -0.4534956216812134f, -0.04107619449496269f, -1.3220094442367554f}}, new long[] {2, 4}, new float[] {-1.7273361682891846f, -0.2401241809129715f, -1.2481083869934082f, 0.5054593086242676f, -1.4264017343521118f, -0.4963650107383728f, 1.8111796379089355f, 1.7332152128219604f}),
            new Case("abc,cd->dba", new long[][] {new long[] {2, 3, 4}, new long[] {4, 2}}, new float[][] {new float[] {-0.06268931180238724f, -0.3130805194377899f, 0.5684071779251099f, 1.76461660861969f, -2.045769691467285f, -0.6097087264060974f, 0.22094444930553436f, -1.2142959833145142f, -0.4294968247413635f, 0.2087642103433609f, -0.8169360756874084f, -1.7939536571502686f, -0.8203861117362976f, 1.1981273889541626f, -0.10109546780586243f, 1.5047134160995483f, 0.1800166666507721f, -2.5233254432678223f, 0.3629065155982971f, -0.08874695003032684f, -1.5128307342529297f, 0.38008546829223633f, 1.345370888710022f, 1.1066919565200806f}, new float[] {-0.46465566754341125f, 0.2825947701931f, -1.3176718950271606f, -0.7009118795394897f, -0.9957419633865356f, 0.34912848472595215f, 0.18333549797534943f, -0.4131958782672882f}}, new long[] {2, 3, 2}, new float[] {0.19919633865356445f, -0.8210093975067139f, 1.311347246170044f, 2.8636374473571777f, 0.40904754400253296f, -0.9346289038658142f, -0.32895898818969727f, -1.7286550998687744f, 0.42810842394828796f, 1.982871413230896f, 0.18833976984024048f, -0.6814976930618286f}),
            new Case("ijk,jl->il", new long[][] {new long[] {2, 3, 2}, new long[] {3, 2}}, new float[][] {new float[] {0.42241254448890686f, 1.0718364715576172f, -1.5726420879364014f, 0.1433323621749878f, 0.8803638815879822f, -0.17333106696605682f, -0.32568028569221497f, -0.847123920917511f, 0.729716956615448f, 0.9439563155174255f, 0.227813720703125f, -0.863019585609436f}, new float[] {-0.08002713322639465f, -0.7963346242904663f, 0.9973056316375732f, 1.1077507734298706f, 0.3259534239768982f, -0.3346285820007324f}}, new long[] {2, 2}, new float[] {-1.3145793676376343f, -3.0098345279693604f, 1.5559725761413574f, 3.0005154609680176f}));

    private static Map<String, Tensor> run(String equation, long[][] shapes, float[][] inputs) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("einsum").addOutput(f32("y"));
        String[] names = new String[shapes.length];
        Map<String, Tensor> feed = new HashMap<>();
        for (int i = 0; i < shapes.length; i++) {
            names[i] = "x" + i;
            Object[] dims = new Object[shapes[i].length];
            for (int d = 0; d < dims.length; d++) dims[d] = shapes[i][d];
            g.addInput(f32(names[i], dims));
            feed.put(names[i], Tensor.of(inputs[i], shapes[i]));
        }
        g.addNode(node("es", "Einsum", names, new String[] {"y"}, string("equation", equation)));
        try (OnnxModel m = Onnx.load(model(13, g.build()).toByteArray())) {
            return m.run(feed);
        } finally {
            feed.values().forEach(Tensor::close);
        }
    }

    @Test
    void matchesTorchEinsum() {
        for (Case c : CASES) {
            Map<String, Tensor> out = run(c.equation(), c.shapes(), c.inputs());
            try {
                Tensor y = out.get("y");
                assertArrayEquals(c.outShape(), y.shape(), c.equation());
                TestModels.assertWithin(c.expected(), y.toFloatArray(), c.equation());
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }

    @Test
    void diagonalsEllipsesAndMismatchedSizesAreRefusedByName() {
        float[] four = new float[4], six = new float[6];
        OnnxException d = assertThrows(OnnxException.class, () -> run("ii->i", new long[][] {{2, 2}}, new float[][] {four}));
        assertTrue(d.getMessage().contains("Einsum") && d.getMessage().contains("repeats 'i' (a diagonal)"), d.getMessage());
        OnnxException e = assertThrows(OnnxException.class, () -> run("...ij->...ji", new long[][] {{2, 2}}, new float[][] {four}));
        assertTrue(e.getMessage().contains("ellipses are not supported"), e.getMessage());
        OnnxException s = assertThrows(OnnxException.class, () -> run("ij,jk->ik", new long[][] {{2, 2}, {3, 2}}, new float[][] {four, six}));
        assertTrue(s.getMessage().contains("'j' is 2 in one operand and 3 in another"), s.getMessage());
    }
}
