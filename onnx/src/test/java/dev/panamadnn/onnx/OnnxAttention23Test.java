package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.NodeProto;
import dev.panamadnn.onnx.proto.TensorProto;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Opset 23's Attention and RotaryEmbedding ({@link AttentionOps}): multi-head, grouped-query with a causal mask and a
 * KV cache (present_key/present_value), multi-query from 3-D inputs with a BOOL mask holding a fully masked row (zeros),
 * a scale and a softcap, a FLOAT mask with qk_matmul_output in modes 0-3; rotary embeddings on 4-D inputs with
 * position_ids and on 3-D inputs interleaved and partial. Inputs {@code ((i * a) % 23) * 0.1 - b}; expected values from
 * numpy in float64 following the operator texts (scripts/goldens/attention23_expected.py).
 */
class OnnxAttention23Test {
    private static float[] v(int n, int a, double b) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (((long) i * a % 23) * 0.1 - b);
        return x;
    }

    private static Object[] box(long[] dims) {
        Object[] o = new Object[dims.length];
        for (int i = 0; i < dims.length; i++) o[i] = dims[i];
        return o;
    }

    private static long[] dims(long... d) {
        return d;
    }

    private static int count(long[] d) {
        int n = 1;
        for (long x : d) n *= (int) x;
        return n;
    }

    private static AttributeProto integer(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    private static AttributeProto real(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    private static TensorProto floats(String name, float[] values, long... shape) {
        return TestModels.weights(name, values, shape);
    }

    /** One node over graph input x (xDims) and initializers; every output's values, by name. */
    private static Map<String, float[]> run(long[] xDims, float[] x, NodeProto node, TensorProto... inits) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("att").addInput(TestModels.f32("x", box(xDims))).addNode(node);
        for (TensorProto t : inits) g.addInitializer(t);
        for (String o : node.getOutputList()) if (!o.isEmpty()) g.addOutput(TestModels.f32(o));
        ModelProto m = TestModels.model(23, g.build()).toBuilder().setIrVersion(11).build();
        try (OnnxModel model = Onnx.load(m.toByteArray()); Tensor in = Tensor.of(x, xDims)) {
            Map<String, Tensor> out = model.run(Map.of("x", in));
            Map<String, float[]> values = new HashMap<>();
            try {
                for (var e : out.entrySet()) values.put(e.getKey(), e.getValue().toFloatArray());
            } finally {
                out.values().forEach(Tensor::close);
            }
            return values;
        }
    }

    private static NodeProto node(String op, String[] inputs, String[] outputs, AttributeProto... attrs) {
        return TestModels.node("n", op, inputs, outputs, attrs);
    }

    @Test
    void multiHead() {
        long[] q = dims(2, 2, 3, 4), kv = dims(2, 2, 5, 4);
        Map<String, float[]> y = run(q, v(count(q), 37, 1.1), node("Attention", new String[] {"x", "k", "v"}, new String[] {"y"}),
                floats("k", v(count(kv), 29, 0.9), kv), floats("v", v(count(kv), 31, 1.3), kv));
        TestModels.assertWithin(new float[] {-0.4328044354915619f, -0.09239070117473602f, -0.19879549741744995f, -0.33280444145202637f, -0.4460064470767975f, -0.10435471683740616f, -0.19756411015987396f, -0.34600648283958435f, -0.40964508056640625f, -0.0693577229976654f, -0.20100261270999908f, -0.3096450865268707f, -0.05749428644776344f, -0.1820942461490631f, -0.29979997873306274f, -0.42210572957992554f, -0.0984223410487175f, -0.14498068392276764f, -0.3032849133014679f, -0.38791120052337646f, -0.026589728891849518f, -0.20630651712417603f, -0.29735440015792847f, -0.4482441246509552f, 0.04807991534471512f, -0.36781206727027893f, -0.2882463335990906f, 0.14807990193367004f, -0.24852320551872253f, -0.24344444274902344f, -0.44853875041007996f, -0.14852319657802582f, -0.004421325400471687f, -0.3545050621032715f, -0.3266659379005432f, 0.09557867050170898f, -0.270430326461792f, -0.35973963141441345f, -0.040188007056713104f, -0.17043031752109528f, -0.13671621680259705f, -0.36017468571662903f, 0.20220983028411865f, -0.036716215312480927f, -0.27609312534332275f, -0.3892640769481659f, -0.07651746273040771f, -0.17609310150146484f}, y.get("y"), "MHA");
    }

    @Test
    void groupedQueriesCausalWithACache() {
        long[] q = dims(1, 4, 3, 4), kv = dims(1, 2, 3, 4), past = dims(1, 2, 2, 4);
        Map<String, float[]> y = run(q, v(count(q), 37, 1.1), node("Attention", new String[] {"x", "k", "v", "", "pk", "pv"},
                new String[] {"y", "present_key", "present_value"}, integer("is_causal", 1)), floats("k", v(count(kv), 29, 0.9), kv),
                floats("v", v(count(kv), 31, 1.3), kv), floats("pk", v(count(past), 19, 1.0), past), floats("pv", v(count(past), 17, 0.7), past));
        TestModels.assertWithin(new float[] {-0.49146080017089844f, 0.3438120186328888f, 0.3366285562515259f, -0.644467830657959f, 0.003650607541203499f, 0.4605671167373657f, -0.004630184266716242f, -0.5025126934051514f, -0.087641142308712f, 0.07345335930585861f, -0.10687234997749329f, -0.2746606171131134f, -0.43967482447624207f, 0.6391782760620117f, 0.3590846359729767f, -0.4465694725513458f, 0.15634110569953918f, 0.5271304249763489f, 0.012423860840499401f, -0.4638422131538391f, -0.3213706910610199f, 0.3406592905521393f, 0.043649591505527496f, -0.2779161036014557f, 0.5584676265716553f, 0.4495651125907898f, 0.3406625986099243f, -0.5750429034233093f, -0.02802138775587082f, 0.44275450706481934f, 0.038362301886081696f, -0.37482553720474243f, 0.5828566551208496f, 0.2444433569908142f, 0.1171664446592331f, -0.6422606706619263f, 0.808273196220398f, 0.5416450500488281f, 0.2750168442726135f, -0.5392935872077942f, 0.6685287356376648f, 0.5982872843742371f, 0.08962339162826538f, -0.41251322627067566f, 0.717548668384552f, 0.469723105430603f, 0.11024467647075653f, -0.5124779343605042f}, y.get("y"), "GQA causal Y");
        TestModels.assertWithin(new float[] {-1.0f, 0.8999999761581421f, 0.5f, 0.10000000149011612f, -0.30000001192092896f, -0.699999988079071f, 1.2000000476837158f, 0.800000011920929f, -0.8999999761581421f, -0.30000001192092896f, 0.30000001192092896f, 0.8999999761581421f, -0.800000011920929f, -0.20000000298023224f, 0.4000000059604645f, 1.0f, -0.699999988079071f, -0.10000000149011612f, 0.5f, 1.100000023841858f, 0.4000000059604645f, 0.0f, -0.4000000059604645f, -0.800000011920929f, 1.100000023841858f, 0.699999988079071f, 0.30000001192092896f, -0.10000000149011612f, -0.6000000238418579f, 0.0f, 0.6000000238418579f, 1.2000000476837158f, -0.5f, 0.10000000149011612f, 0.699999988079071f, 1.2999999523162842f, -0.4000000059604645f, 0.20000000298023224f, 0.800000011920929f, -0.8999999761581421f}, y.get("present_key"), "present_key");
        TestModels.assertWithin(new float[] {-0.699999988079071f, 1.0f, 0.4000000059604645f, -0.20000000298023224f, 1.5f, 0.8999999761581421f, 0.30000001192092896f, -0.30000001192092896f, -1.2999999523162842f, -0.5f, 0.30000001192092896f, -1.2000000476837158f, -0.4000000059604645f, 0.4000000059604645f, -1.100000023841858f, -0.30000001192092896f, 0.5f, -1.0f, -0.20000000298023224f, 0.6000000238418579f, 1.399999976158142f, 0.800000011920929f, 0.20000000298023224f, -0.4000000059604645f, 1.2999999523162842f, 0.699999988079071f, 0.10000000149011612f, -0.5f, -0.8999999761581421f, -0.10000000149011612f, 0.699999988079071f, -0.800000011920929f, 0.0f, 0.800000011920929f, -0.699999988079071f, 0.10000000149011612f, 0.8999999761581421f, -0.6000000238418579f, 0.20000000298023224f, -1.2999999523162842f}, y.get("present_value"), "present_value");
    }

    @Test
    void multiQueryFrom3dInputsWithABoolMask() {
        long[] q = dims(2, 3, 8), kv = dims(2, 4, 4);
        boolean[] m = {true, false, true, true, false, false, false, false, true, true, false, true};
        TensorProto.Builder mask = TensorProto.newBuilder().setName("mask").setDataType(TensorProto.DataType.BOOL_VALUE).addDims(3).addDims(4);
        for (boolean b : m) mask.addInt32Data(b ? 1 : 0);
        Map<String, float[]> y = run(q, v(count(q), 37, 1.1), node("Attention", new String[] {"x", "k", "v", "mask"}, new String[] {"y", "", "", "qk"},
                integer("q_num_heads", 2), integer("kv_num_heads", 1), real("scale", 0.3f), real("softcap", 2f), integer("qk_matmul_output_mode", 3)),
                floats("k", v(count(kv), 29, 0.9), kv), floats("v", v(count(kv), 31, 1.3), kv), mask.build());
        TestModels.assertWithin(new float[] {-0.5732971429824829f, -0.5354143381118774f, 0.2645857036113739f, -0.4732971787452698f, -0.5808030962944031f, -0.537549614906311f, 0.2624503970146179f, -0.48080313205718994f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, -0.8611149191856384f, -0.061114951968193054f, -0.01433596108108759f, -0.7611149549484253f, -0.8715848326683044f, -0.07158485800027847f, -0.047150809317827225f, -0.7715848684310913f, -0.03256545588374138f, -0.02873576246201992f, -0.7325654625892639f, 0.06743454188108444f, -0.02648351714015007f, 0.1819653958082199f, -0.7264835238456726f, 0.07351648062467575f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.49675536155700684f, -0.46691805124282837f, -0.2032446414232254f, -0.2773805558681488f, 0.40203988552093506f, -0.21589502692222595f, -0.297960102558136f, -0.21299564838409424f}, y.get("y"), "MQA 3-D, BOOL mask (row 1 fully masked: zeros)");
        TestModels.assertWithin(new float[] {0.34298640489578247f, 0.0f, 0.3313552737236023f, 0.32565832138061523f, 0.0f, 0.0f, 0.0f, 0.0f, 0.3121466338634491f, 0.32748737931251526f, 0.0f, 0.36036598682403564f, 0.3535785377025604f, 0.0f, 0.3290202021598816f, 0.317401260137558f, 0.0f, 0.0f, 0.0f, 0.0f, 0.3504653871059418f, 0.3372025787830353f, 0.0f, 0.31233203411102295f, 0.31177929043769836f, 0.0f, 0.3420597016811371f, 0.34616100788116455f, 0.0f, 0.0f, 0.0f, 0.0f, 0.23318548500537872f, 0.3800590932369232f, 0.0f, 0.38675540685653687f, 0.48407992720603943f, 0.0f, 0.2587239444255829f, 0.2571961283683777f, 0.0f, 0.0f, 0.0f, 0.0f, 0.38350656628608704f, 0.3108850121498108f, 0.0f, 0.3056084215641022f}, y.get("qk"), "qk_matmul_output mode 3");
    }

    @Test
    void floatMaskAndEveryQkOutputMode() {
        long[] q = dims(1, 2, 3, 4), kv = dims(1, 2, 4, 4);
        List<float[]> want = List.of(new float[] {0.7199999690055847f, 0.6899999976158142f, 0.6600000262260437f, 0.6300000548362732f, 0.03000001423060894f, -0.029999995604157448f, -0.09000000357627869f, -0.15000000596046448f, -0.3149999976158142f, -0.28999999165534973f, -0.26499998569488525f, -0.23999999463558197f, -0.3349999785423279f, 0.5799999833106995f, 0.5750000476837158f, 0.5699999928474426f, 0.3499999940395355f, 0.20000000298023224f, 0.2799999713897705f, 0.36000001430511475f, -0.574999988079071f, 0.625f, 0.5600000023841858f, 0.4950000047683716f}, new float[] {0.669365406036377f, 0.6451263427734375f, 0.6204666495323181f, 0.5953956842422485f, 0.02999601513147354f, -0.02999599650502205f, -0.08989215642213821f, -0.1495019942522049f, -0.3104497492313385f, -0.28644001483917236f, -0.2622769773006439f, -0.23797275125980377f, -0.3295392096042633f, 0.5527245402336121f, 0.5483981966972351f, 0.5440611839294434f, 0.34378349781036377f, 0.19882319867610931f, 0.2767925262451172f, 0.3532436192035675f, -0.5483981370925903f, 0.5911778211593628f, 0.5353558659553528f, 0.47778117656707764f}, new float[] {-0.130634605884552f, 1.1451263427734375f, 0.1204666718840599f, 1.3953956365585327f, -0.1700039803981781f, 1.0700039863586426f, 0.010107842274010181f, 1.2504979372024536f, 0.08955027163028717f, -0.8864400386810303f, 0.4377230107784271f, -0.5379727482795715f, -1.1295392513275146f, 1.0527245998382568f, 0.04839817434549332f, 1.344061255455017f, 0.14378347992897034f, 1.2988232374191284f, 0.3767925500869751f, 1.7532435655593872f, -0.14839814603328705f, -0.008822176605463028f, 1.2353558540344238f, 0.1777811497449875f});
        for (int mode = 0; mode < 3; mode++) {
            Map<String, float[]> y = run(q, v(count(q), 37, 1.1), node("Attention", new String[] {"x", "k", "v", "mask"}, new String[] {"y", "", "", "qk"},
                    real("softcap", 1.5f), integer("qk_matmul_output_mode", mode)), floats("k", v(count(kv), 29, 0.9), kv),
                    floats("v", v(count(kv), 31, 1.3), kv), floats("mask", v(12, 13, 0.8), 3, 4));
            TestModels.assertWithin(want.get(mode), y.get("qk"), "qk_matmul_output mode " + mode);
            TestModels.assertWithin(new float[] {-0.5951938033103943f, -0.07766100764274597f, -0.06465620547533035f, -0.49519380927085876f, -0.5932134389877319f, -0.07444857060909271f, -0.08611324429512024f, -0.4932134449481964f, -0.36757853627204895f, -0.5467467904090881f, -0.0072305151261389256f, -0.2675785720348358f, 0.44444817304611206f, -0.6644395589828491f, -0.25555184483528137f, -0.2719385623931885f, 0.40487906336784363f, -0.5965412259101868f, -0.2951209545135498f, -0.194630965590477f, -0.05393175408244133f, -0.02885551191866398f, -0.7539317607879639f, -0.3053473234176636f}, y.get("y"), "Y, mode " + mode);
        }
    }

    private static float[] trig(float[] x, boolean cos) {
        float[] r = new float[x.length];
        for (int i = 0; i < x.length; i++) r[i] = (float) (cos ? Math.cos(x[i]) : Math.sin(x[i]));
        return r;
    }

    @Test
    void rotaryEmbedding() {
        long[] x = dims(2, 2, 3, 4);
        TensorProto pos = TensorProto.newBuilder().setName("pos").setDataType(TensorProto.DataType.INT64_VALUE).addDims(2).addDims(3)
                .addAllInt64Data(List.of(0L, 1L, 2L, 4L, 3L, 2L)).build();
        Map<String, float[]> y = run(x, v(count(x), 37, 1.1), node("RotaryEmbedding", new String[] {"x", "cos", "sin", "pos"}, new String[] {"y"}),
                floats("cos", trig(v(10, 7, 0.5), true), 5, 2), floats("sin", trig(v(10, 7, 0.5), false), 5, 2), pos);
        TestModels.assertWithin(new float[] {-1.2529962062835693f, 0.13508450984954834f, 0.0008185458136722445f, 0.8436540961265564f, -0.37549176812171936f, 0.5289863348007202f, 0.17031130194664001f, -0.9849738478660583f, 0.8999999761581421f, -0.32210883498191833f, -0.8999999761581421f, 0.3824211061000824f, -0.30309048295021057f, 1.1390020847320557f, 0.2795284688472748f, -0.585383951663971f, -0.48869359493255615f, -0.1911548525094986f, 1.1537671089172363f, -0.3057120144367218f, -0.699999988079071f, 1.2440290451049805f, -0.20000000298023224f, -0.3903740644454956f, -0.1202656552195549f, -0.12421072274446487f, 0.8458937406539917f, -0.5954592823982239f, 0.32275769114494324f, 0.5708290338516235f, -1.070433259010315f, 0.8025921583175659f, 0.0f, -0.4306708872318268f, 0.5f, -0.8857327699661255f, 1.2611229419708252f, -0.5229877233505249f, -0.2226405143737793f, 0.3106185495853424f, -0.24808010458946228f, 0.9390047192573547f, -0.2616415023803711f, -0.9045828580856323f, 0.699999988079071f, -0.3462337553501129f, -1.100000023841858f, 0.10060913115739822f}, y.get("y"), "4-D, position_ids");
        long[] x3 = dims(2, 3, 12);
        y = run(x3, v(count(x3), 41, 1.0), node("RotaryEmbedding", new String[] {"x", "cos", "sin"}, new String[] {"y"}, integer("interleaved", 1),
                integer("rotary_embedding_dim", 4), integer("num_heads", 2)), floats("cos", trig(v(12, 11, 0.4), true), 2, 3, 2),
                floats("sin", trig(v(12, 11, 0.4), false), 2, 3, 2));
        TestModels.assertWithin(new float[] {-0.6095263361930847f, 1.1262671947479248f, 0.3582962155342102f, 0.04029687121510506f, -0.699999988079071f, 1.100000023841858f, 0.5915784239768982f, -0.14154492318630219f, 0.27385902404785156f, -0.9460450410842896f, 0.8999999761581421f, 0.4000000059604645f, 0.6070288419723511f, 0.038936469703912735f, 0.5951530337333679f, 1.2553058862686157f, 0.20000000298023224f, -0.30000001192092896f, -0.7920860052108765f, -1.0062801837921143f, 0.41266781091690063f, 0.2823212444782257f, -0.5f, -1.0f, -0.40057510137557983f, 0.75467848777771f, 0.16008135676383972f, -0.7101929187774658f, 1.100000023841858f, 0.6000000238418579f, 0.38378146290779114f, 0.1507042944431305f, -1.2213072776794434f, 0.3583413064479828f, 0.4000000059604645f, -0.10000000149011612f, -1.1819686889648438f, -0.6347836256027222f, 0.5668590068817139f, 0.4568050503730774f, -0.30000001192092896f, -0.800000011920929f, -0.5289863348007202f, 0.9849738478660583f, 0.1947091668844223f, -0.46053048968315125f, -1.0f, 0.800000011920929f, 0.22072015702724457f, 0.285101056098938f, -0.9938077926635742f, 0.8440060019493103f, 0.6000000238418579f, 0.10000000149011612f, 0.869450569152832f, -0.462661474943161f, 0.7415947318077087f, 0.6481027603149414f, -0.10000000149011612f, -0.6000000238418579f, -0.4858541786670685f, 1.3015167713165283f, 0.25561413168907166f, -0.25428611040115356f, -0.800000011920929f, 1.0f, 0.08498357981443405f, 0.49272486567497253f, -0.2913639545440674f, -1.0794012546539307f, 0.800000011920929f, 0.30000001192092896f}, y.get("y"), "3-D, interleaved, rotary_embedding_dim 4 of 6");
    }
    private static String refusal(long[] xDims, NodeProto node, TensorProto... inits) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("bad").addInput(TestModels.f32("x", box(xDims))).addNode(node);
        for (TensorProto t : inits) g.addInitializer(t);
        g.addOutput(TestModels.f32(node.getOutput(0)));
        ModelProto m = TestModels.model(23, g.build()).toBuilder().setIrVersion(11).build();
        return assertThrows(OnnxException.class, () -> Onnx.load(m.toByteArray())).getMessage();
    }

    @Test
    void badAttributesAndInputsAreRefusedByName() {
        long[] q3 = dims(1, 3, 8), kv3 = dims(1, 3, 8);
        TensorProto k = floats("k", v(24, 29, 0.9), kv3), val = floats("v", v(24, 31, 1.3), kv3);
        String e = refusal(q3, node("Attention", new String[] {"x", "k", "v"}, new String[] {"y"}), k, val);
        assertTrue(e.contains("3-D Q, K and V need q_num_heads and kv_num_heads"), e);
        e = refusal(q3, node("Attention", new String[] {"x", "k", "v"}, new String[] {"y"}, integer("q_num_heads", 0), integer("kv_num_heads", 1)),
                k, val);
        assertTrue(e.contains("q_num_heads 0 must be a positive multiple of kv_num_heads 1"), e);
        e = refusal(q3, node("Attention", new String[] {"x", "k", "v"}, new String[] {"y"}, integer("q_num_heads", 4), integer("kv_num_heads", 3)),
                floats("k", v(18, 29, 0.9), 1, 3, 6), floats("v", v(18, 31, 1.3), 1, 3, 6));
        assertTrue(e.contains("q_num_heads 4 must be a positive multiple of kv_num_heads 3"), e);
        TensorProto intMask = TensorProto.newBuilder().setName("m").setDataType(TensorProto.DataType.INT64_VALUE).addDims(3).addDims(3)
                .addAllInt64Data(java.util.Collections.nCopies(9, 1L)).build();
        e = refusal(q3, node("Attention", new String[] {"x", "k", "v", "m"}, new String[] {"y"}, integer("q_num_heads", 2), integer("kv_num_heads", 2)),
                k, val, intMask);
        assertTrue(e.contains("attn_mask must be BOOL or FLOAT, got"), e);
        long[] longQ = dims(1, 1, 9000, 1);
        e = refusal(longQ, node("Attention", new String[] {"x", "x", "x"}, new String[] {"y"}, integer("is_causal", 1)));
        assertTrue(e.contains("is_causal over 9000 queries x 9000 keys"), e);
        e = refusal(dims(1, 2, 3, 4), node("RotaryEmbedding", new String[] {"x", "c", "s"}, new String[] {"y"}, integer("rotary_embedding_dim", 3),
                integer("num_heads", 2)), floats("c", new float[6], 1, 3, 2), floats("s", new float[6], 1, 3, 2));
        assertTrue(e.contains("rotary_embedding_dim must be even and in [2, 4], got 3"), e);
        e = refusal(dims(1, 3, 8), node("RotaryEmbedding", new String[] {"x", "c", "s"}, new String[] {"y"}), floats("c", new float[6], 1, 3, 2),
                floats("s", new float[6], 1, 3, 2));
        assertTrue(e.contains("a 3-D X needs num_heads >= 1, got 0"), e);
    }
}
