package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.TestModels.f32;
import static dev.panamadnn.onnx.TestModels.model;
import static dev.panamadnn.onnx.TestModels.node;
import static dev.panamadnn.onnx.TestModels.string;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * RoiAlign against torchvision 0.14's {@code roi_align} (avg): two images, three rois (one partly outside the image),
 * spatial_scale 0.5, adaptive sampling (sampling_ratio 0), output 3 x 2, half_pixel (aligned=True) and output_half_pixel
 * (aligned=False); batch_indices an I64 graph input. Expected values from: {@code g = torch.Generator().manual_seed(11);
 * x = torch.randn(2, 2, 6, 7, generator=g); rois = [[0.5, 1, 9, 8], [-3, -2, 5, 4], [6, 2, 14.5, 13]]; batch [1, 0, 1];
 * roi_align(x, boxes, output_size=(3, 2), spatial_scale=0.5, sampling_ratio=0, aligned=a)}.
 */
class RoiAlignTest {
    private static final float[] X = {-0.5107975602149963f, 1.0282717943191528f, -0.3531515896320343f, 0.12299131602048874f, -0.18155446648597717f, -1.4972281455993652f, 0.14210453629493713f, -0.5242824554443359f, -0.24873711168766022f, -0.5252376198768616f, 2.8922135829925537f, -0.5947133898735046f, 1.311833143234253f, 0.3521793782711029f, -1.315124273300171f, -0.007992205210030079f, 0.2478800266981125f, 1.57270348072052f, -1.6394644975662231f, -1.5925322771072388f, -0.15462511777877808f, -1.0964387655258179f, 1.3665976524353027f, 0.6892819404602051f, -0.39350491762161255f, 0.6171001195907593f, 0.7528402209281921f, 0.602252185344696f, 2.0175423622131348f, -1.1686294078826904f, -1.3241941928863525f, 1.1267435550689697f, -0.2255406230688095f, 0.5217604041099548f, -2.059774398803711f, 0.1383378505706787f, 0.4961748719215393f, -0.6052795052528381f, -0.8006939888000488f, 0.15865179896354675f, 0.7127705812454224f, -0.743821918964386f, 0.28007760643959045f, 0.37349072098731995f, 2.995054006576538f, -0.2569432556629181f, -0.6837973594665527f, 1.062118649482727f, -0.020517835393548012f, -0.6305075883865356f, 0.5485078692436218f, -1.588505506515503f, 0.528063952922821f, 0.8963978290557861f, 0.9974784255027771f, -0.2155720591545105f, 1.3265953063964844f, -0.1086408719420433f, -1.0265040397644043f, 0.04357714578509331f, -0.9723858833312988f, 0.2802908420562744f, 0.5699852705001831f, 1.4841164350509644f, -1.4555690288543701f, 0.5582261085510254f, -0.5062475800514221f, 0.46549126505851746f, -0.8604267239570618f, -0.8528172373771667f, 2.016347646713257f, 0.16927699744701385f, -0.902977705001831f, -1.7102059125900269f, -0.13622888922691345f, 1.453020691871643f, 0.5619690418243408f, 1.159051537513733f, -1.7209787368774414f, -0.05897466838359833f, 0.8454950451850891f, -0.13036076724529266f, -0.3231629729270935f, -0.7118670344352722f, -0.22731713950634003f, -2.532195568084717f, 0.3414631485939026f, 1.104830265045166f, 0.09573929756879807f, -0.029930483549833298f, 0.8552588224411011f, -0.024889791384339333f, 2.269648551940918f, 0.8601698875427246f, -1.6498924493789673f, -0.04348575696349144f, 0.4498007297515869f, -0.5505959391593933f, -0.8203154802322388f, 1.1264179944992065f, -1.2375156879425049f, -1.787545084953308f, 1.011435866355896f, -0.9982364177703857f, 2.1535050868988037f, 0.4631384015083313f, -1.6792134046554565f, 1.4899625778198242f, -0.9387314319610596f, 2.0292625427246094f, 0.7274094223976135f, 0.4035032093524933f, 0.7641916275024414f, -0.8402853608131409f, 0.3463813066482544f, -2.859041690826416f, -1.7517778873443604f, -2.9518678188323975f, 0.07453072816133499f, 0.2818499505519867f, 0.38899874687194824f, -2.267882823944092f, -0.6950193047523499f, 0.8543086051940918f, 0.17583967745304108f, 0.6641692519187927f, -1.1717382669448853f, 1.1146483421325684f, -0.9554215669631958f, -1.0054712295532227f, 1.23866868019104f, 1.9056862592697144f, -0.3732873201370239f, 0.6288152933120728f, 1.366084098815918f, -0.7475910782814026f, 0.6318632364273071f, 0.8894522786140442f, 0.9692952036857605f, 1.3373624086380005f, 0.06671639531850815f, -1.1984705924987793f, -0.06295645236968994f, -0.35285115242004395f, 0.3309580087661743f, -0.574968695640564f, 0.4126274287700653f, -0.3786863684654236f, 1.2536885738372803f, -0.13334211707115173f, -1.3512917757034302f, -2.316636323928833f, 0.4667220413684845f, 0.5497464537620544f, 0.708068311214447f, -1.2238186597824097f, 0.5933517217636108f, 1.252637505531311f, 0.2708074748516083f, 1.4569344520568848f, -0.12445152550935745f, 1.6789342164993286f, 0.3630848824977875f, -0.3321818709373474f, -0.4172966182231903f, -0.11106127500534058f, 0.7227272987365723f, -0.6375853419303894f};
    private static final float[] ROIS = {0.5f, 1, 9, 8, -3, -2, 5, 4, 6, 2, 14.5f, 13};
    private static final float[] UNALIGNED = {0.8119109272956848f, -0.4817443788051605f, -0.09885893017053604f, -0.190146803855896f, -0.0705532655119896f, -0.5009459853172302f, 0.1401701420545578f, 0.45258572697639465f, -0.258270263671875f, -0.44210708141326904f, 0.17621004581451416f, -0.589882493019104f, -0.5107975602149963f, 0.33756011724472046f, -0.5175399780273438f, -0.024713635444641113f, -0.9197033643722534f, -0.13352172076702118f, 0.28007760643959045f, 1.6842724084854126f, -0.1752149909734726f, 0.5821367502212524f, 0.34804385900497437f, -0.5437856316566467f, 0.043646808713674545f, 0.8542134165763855f, -0.859620988368988f, -0.021053194999694824f, 0.16615456342697144f, 0.2896949052810669f, -0.055333223193883896f, 0.5759043097496033f, -0.02771228551864624f, 0.2290836125612259f, 0.02731052041053772f, -0.20070993900299072f};
    private static final float[] ALIGNED = {0.1974710077047348f, -0.07250496745109558f, 0.3258381187915802f, -0.8876823782920837f, -0.25500255823135376f, -0.10825666785240173f, 0.39819517731666565f, -0.03444432094693184f, -0.17834655940532684f, -0.03168696537613869f, 0.17588426172733307f, -0.7987961769104004f, -0.25539878010749817f, 0.29814863204956055f, -0.25539878010749817f, 0.29814863204956055f, -0.26214122772216797f, -0.3867485523223877f, 0.14003880321979523f, 1.0055283308029175f, 0.14003880321979523f, 1.0055283308029175f, -0.3152537941932678f, -0.28049933910369873f, -0.5511623024940491f, 0.2917473316192627f, -0.51284259557724f, -0.05722292140126228f, -0.4399884045124054f, 0.1371581107378006f, 0.35904791951179504f, 0.6440234780311584f, -0.5537146925926208f, 0.4643026888370514f, 0.008115038275718689f, 0.06564980000257492f};

    private static GraphProto graph(String coords, String mode) {
        AttributeProto[] a = {
            AttributeProto.newBuilder().setName("output_height").setType(AttributeProto.AttributeType.INT).setI(3).build(),
            AttributeProto.newBuilder().setName("output_width").setType(AttributeProto.AttributeType.INT).setI(2).build(),
            AttributeProto.newBuilder().setName("sampling_ratio").setType(AttributeProto.AttributeType.INT).setI(0).build(),
            AttributeProto.newBuilder().setName("spatial_scale").setType(AttributeProto.AttributeType.FLOAT).setF(0.5f).build(),
            string("coordinate_transformation_mode", coords), string("mode", mode)};
        ValueInfoProto batch = ValueInfoProto.newBuilder().setName("b").setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.INT64_VALUE).setShape(dev.panamadnn.onnx.proto.TensorShapeProto.newBuilder()
                        .addDim(dev.panamadnn.onnx.proto.TensorShapeProto.Dimension.newBuilder().setDimValue(3))))).build();
        return GraphProto.newBuilder().setName("roi").addInput(f32("x", 2, 2, 6, 7)).addInput(f32("rois", 3, 4)).addInput(batch)
                .addOutput(f32("y", 3, 2, 3, 2)).addNode(node("ra", "RoiAlign", new String[] {"x", "rois", "b"}, new String[] {"y"}, a)).build();
    }

    private static float[] run(GraphProto g, long... batch) {
        Tensor b = Tensor.wrap(Arena.ofAuto().allocateFrom(ValueLayout.JAVA_LONG, batch), dev.panamadnn.DataType.I64, 3);
        try (OnnxModel m = Onnx.load(model(16, g).toByteArray()); Tensor x = Tensor.of(X, 2, 2, 6, 7); Tensor r = Tensor.of(ROIS, 3, 4)) {
            return TestModels.outputValues(m, Map.of("x", x, "rois", r, "b", b), "y");
        }
    }

    @Test
    void matchesTorchvisionAlignedAndNot() {
        for (boolean aligned : new boolean[] {false, true}) {
            TestModels.assertWithin(aligned ? ALIGNED : UNALIGNED, run(graph(aligned ? "half_pixel" : "output_half_pixel", "avg"), 1, 0, 1),
                    "aligned " + aligned);
        }
    }

    @Test
    void aBatchIndexOutsideTheImagesAndMaxModeAreRefused() {
        OnnxException e = assertThrows(OnnxException.class, () -> run(graph("half_pixel", "avg"), 1, 2, 0));
        assertTrue(e.getMessage().contains("RoiAlign") && e.getMessage().contains("batch index 2") && e.getMessage().contains("is outside [0, 2)"), e.getMessage());
        OnnxException max = assertThrows(OnnxException.class, () -> run(graph("half_pixel", "max"), 1, 0, 1));
        assertTrue(max.getMessage().contains("mode max is not compiled"), max.getMessage());
    }
}
