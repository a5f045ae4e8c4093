package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.NodeProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.lang.foreign.Arena;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Opsets 18 to 23: the forms that changed after opset 17 (axes as an input of the reductions, Pad's axes and wrap mode,
 * Split's num_outputs, Resize's axes, GridSample's renamed modes, QuantizeLinear's output_dtype, Cast's saturate), the new
 * ops composed of ours (GroupNormalization both ways, Mish, Gelu, RMSNormalization), an unchanged op at opset 23, and the
 * refusals. Inputs {@code arange * step + offset}; expected values from torch 1.13 (float64 where it computes the op:
 * group_norm, mish, gelu, interpolate, grid_sample, conv2d) or numpy in float64 (the reductions, pad, split, RMS norm,
 * quantization), written by {@code scripts/goldens/later_opsets_expected.py}. A differential probe against ONNX Runtime
 * 1.23.2 ({@code scripts/ort-probe --opsets 18-23}) checks the same forms on random graphs.
 */
class OnnxLaterOpsetsTest {
    private static float[] x(int n, double step, double offset) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (i * step + offset);
        return x;
    }

    private static AttributeProto integer(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static AttributeProto real(String name, float v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(v).build();
    }

    private static TensorProto longs(String name, long... v) {
        return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE).addDims(v.length)
                .addAllInt64Data(java.util.Arrays.stream(v).boxed().toList()).build();
    }

    private static ValueInfoProto i64(String name, long n) {
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.INT64_VALUE).setShape(TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dimension
                .newBuilder().setDimValue(n))))).build();
    }

    /** One node {@code op} of opset {@code opset} reading x (its dims) and the initializers, writing y (its dims); y's values. */
    private static float[] run(int opset, long[] xDims, float[] x, long[] yDims, NodeProto node, TensorProto... inits) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("later").addInput(TestModels.f32("x", box(xDims))).addNode(node);
        for (TensorProto t : inits) g.addInitializer(t);
        for (String o : node.getOutputList()) g.addOutput(TestModels.f32(o, box(yDims)));
        try (OnnxModel m = Onnx.load(model(opset, g.build()).toByteArray()); Tensor in = Tensor.of(x, xDims)) {
            return TestModels.outputValues(m, Map.of("x", in), node.getOutput(0));
        }
    }

    private static ModelProto model(int opset, GraphProto g) {
        return TestModels.model(opset, g).toBuilder().setIrVersion(opset >= 23 ? 11 : opset >= 21 ? 10 : opset >= 19 ? 9 : 8).build();
    }

    private static Object[] box(long[] dims) {
        Object[] o = new Object[dims.length];
        for (int i = 0; i < dims.length; i++) o[i] = dims[i];
        return o;
    }

    private static NodeProto node(String op, String[] inputs, AttributeProto... attrs) {
        return TestModels.node("n", op, inputs, new String[] {"y"}, attrs);
    }

    private static final long[] X234 = {2, 3, 4};

    @Test
    void reductionsTakeAxesAsAnInputFromOpset18() {
        float[] x = x(24, 0.25, -2.9);
        TestModels.assertWithin(new float[] {-1.899999976158142f, -1.649999976158142f, -1.399999976158142f, -1.149999976158142f, 1.100000023841858f, 1.350000023841858f, 1.600000023841858f, 1.850000023841858f}, run(18, X234, x, new long[] {2, 4}, node("ReduceMean", new String[] {"x", "axes"},
                integer("keepdims", 0)), longs("axes", 1)), "ReduceMean axes [1] keepdims 0");
        TestModels.assertWithin(new float[] {-2.1500000953674316f, -1.149999976158142f, -0.15000000596046448f, 0.8500000238418579f, 1.850000023841858f, 2.8499999046325684f}, run(20, X234, x, new long[] {2, 3, 1}, node("ReduceMax", new String[] {"x", "axes"}),
                longs("axes", -1)), "ReduceMax axes [-1]");
        TestModels.assertWithin(new float[] {5.199038505554199f, 4.316248416900635f, 5.121522903442383f}, run(18, X234, x, new long[] {3}, node("ReduceL2", new String[] {"x", "axes"},
                integer("keepdims", 0)), longs("axes", 0, 2)), "ReduceL2 axes [0, 2]");
        TestModels.assertWithin(new float[] {4.356209754943848f}, run(18, X234, x, new long[] {1, 1, 1}, node("ReduceLogSumExp", new String[] {"x"})),
                "ReduceLogSumExp, no axes: all");
        // noop_with_empty_axes: no axes is the identity
        assertArrayEquals(x, run(18, X234, x, X234, node("ReduceProd", new String[] {"x"}, integer("noop_with_empty_axes", 1))));
        float[] empty = run(18, X234, x, X234, node("ReduceMin", new String[] {"x", "axes"}, integer("noop_with_empty_axes", 1)),
                TensorProto.newBuilder().setName("axes").setDataType(TensorProto.DataType.INT64_VALUE).addDims(0).build());
        assertArrayEquals(x, empty, "ReduceMin of empty axes with noop_with_empty_axes");
    }

    /**
     * No axes with {@code noop_with_empty_axes}: nothing is reduced, but the op's other operations are done (the operator
     * text: "ReduceSumSquare acts as a vanilla Square"; ONNX's reference reduces over {@code axes=()}, and ONNX Runtime
     * agrees). Found by {@code scripts/ort-probe --opsets 18-23} (seed 5812): ours was the identity for all of them.
     */
    @Test
    void noopReductionsStillDoTheirElementwiseOperations() {
        float[] x = x(24, 0.25, -2.9);
        AttributeProto noop = integer("noop_with_empty_axes", 1);
        TestModels.assertWithin(new float[] {2.9000000953674316f, 2.6500000953674316f, 2.4000000953674316f, 2.1500000953674316f, 1.899999976158142f, 1.649999976158142f, 1.399999976158142f, 1.149999976158142f, 0.8999999761581421f, 0.6499999761581421f, 0.4000000059604645f, 0.15000000596046448f, 0.10000000149011612f, 0.3499999940395355f, 0.6000000238418579f, 0.8500000238418579f, 1.100000023841858f, 1.350000023841858f, 1.600000023841858f, 1.850000023841858f, 2.0999999046325684f, 2.3499999046325684f, 2.5999999046325684f, 2.8499999046325684f}, run(18, X234, x, X234, node("ReduceL1", new String[] {"x"}, noop)), "ReduceL1 noop: |x|");
        TestModels.assertWithin(new float[] {2.9000000953674316f, 2.6500000953674316f, 2.4000000953674316f, 2.1500000953674316f, 1.899999976158142f, 1.649999976158142f, 1.399999976158142f, 1.149999976158142f, 0.8999999761581421f, 0.6499999761581421f, 0.4000000059604645f, 0.15000000596046448f, 0.10000000149011612f, 0.3499999940395355f, 0.6000000238418579f, 0.8500000238418579f, 1.100000023841858f, 1.350000023841858f, 1.600000023841858f, 1.850000023841858f, 2.0999999046325684f, 2.3499999046325684f, 2.5999999046325684f, 2.8499999046325684f}, run(18, X234, x, X234, node("ReduceL2", new String[] {"x"}, noop)), "ReduceL2 noop: sqrt(x * x)");
        TestModels.assertWithin(new float[] {8.410000801086426f, 7.022500514984131f, 5.760000228881836f, 4.622500419616699f, 3.609999895095825f, 2.7224998474121094f, 1.959999918937683f, 1.3224999904632568f, 0.809999942779541f, 0.42249995470046997f, 0.1600000113248825f, 0.02250000089406967f, 0.010000000707805157f, 0.1224999949336052f, 0.36000001430511475f, 0.7225000262260437f, 1.2100000381469727f, 1.8225001096725464f, 2.56000018119812f, 3.4225001335144043f, 4.409999370574951f, 5.5224995613098145f, 6.7599992752075195f, 8.122499465942383f}, run(23, X234, x, X234, node("ReduceSumSquare", new String[] {"x", "axes"}, noop),
                TensorProto.newBuilder().setName("axes").setDataType(TensorProto.DataType.INT64_VALUE).addDims(0).build()),
                "ReduceSumSquare noop, empty axes: x * x");
        TestModels.assertWithin(new float[] {-2.3025851249694824f, -1.0498220920562744f, -0.5108255743980408f, -0.16251890361309052f, 0.09531020373106003f, 0.30010461807250977f, 0.4700036346912384f, 0.6151856780052185f, 0.7419372797012329f, 0.8544152975082397f, 0.9555113911628723f, 1.047318935394287f, 1.1314021348953247f, 1.2089602947235107f, 1.2809338569641113f, 1.348073124885559f, 1.4109869003295898f, 1.470175862312317f, 1.5260562896728516f, 1.5789786577224731f, 1.6292405128479004f, 1.6770964860916138f, 1.722766637802124f, 1.7664417028427124f}, run(18, X234, x(24, 0.25, 0.1), X234, node("ReduceLogSum", new String[] {"x"}, noop)),
                "ReduceLogSum noop: log(x)");
        assertArrayEquals(x, run(18, X234, x, X234, node("ReduceLogSumExp", new String[] {"x"}, noop)), "ReduceLogSumExp noop: log(exp(x)) = x");
    }

    @Test
    void reductionAxesFedAtRunTime() {
        GraphProto g = GraphProto.newBuilder().setName("bound").addInput(TestModels.f32("x", 2, 3, 4)).addInput(i64("axes", 1))
                .addNode(node("ReduceSumSquare", new String[] {"x", "axes"})).addOutput(TestModels.f32("y", 2, 3, 1)).build();
        try (OnnxModel m = Onnx.load(model(18, g).toByteArray()); Arena arena = Arena.ofConfined(); Tensor in = Tensor.of(x(24, 0.25, -2.9), X234)) {
            Map<String, Tensor> inputs = new HashMap<>(Map.of("x", in, "axes", TensorProtos.longs(arena, new long[] {2}, 1)));
            TestModels.assertWithin(new float[] {25.81500244140625f, 9.614999771118164f, 1.4149999618530273f, 1.215000033378601f, 9.015000343322754f, 24.814998626708984f}, TestModels.outputValues(m, inputs, "y"), "ReduceSumSquare, axes [2] bound");
        }
    }

    @Test
    void splitIntoNumOutputs() {
        NodeProto split = TestModels.node("n", "Split", new String[] {"x"}, new String[] {"a", "b", "c"}, integer("axis", 1), integer("num_outputs", 3));
        GraphProto g = GraphProto.newBuilder().setName("split").addInput(TestModels.f32("x", 2, 7)).addNode(split)
                .addOutput(TestModels.f32("a", 2, 3)).addOutput(TestModels.f32("b", 2, 3)).addOutput(TestModels.f32("c", 2, 1)).build();
        try (OnnxModel m = Onnx.load(model(18, g).toByteArray()); Tensor in = Tensor.of(x(14, 0.25, -2.9), 2, 7)) {
            assertArrayEquals(new float[] {-2.9000000953674316f, -2.6500000953674316f, -2.4000000953674316f, -1.149999976158142f, -0.8999999761581421f, -0.6499999761581421f}, TestModels.outputValues(m, Map.of("x", in), "a"));
            assertArrayEquals(new float[] {-2.1500000953674316f, -1.899999976158142f, -1.649999976158142f, -0.4000000059604645f, -0.15000000596046448f, 0.10000000149011612f}, TestModels.outputValues(m, Map.of("x", in), "b"));
            assertArrayEquals(new float[] {-1.399999976158142f, 0.3499999940395355f}, TestModels.outputValues(m, Map.of("x", in), "c"));
        }
        NodeProto uneven = TestModels.node("n", "Split", new String[] {"x"}, new String[] {"a", "b", "c", "d"}, integer("axis", 1),
                integer("num_outputs", 4));
        GraphProto bad = GraphProto.newBuilder().setName("split").addInput(TestModels.f32("x", 2, 5)).addNode(uneven).addOutput(TestModels.f32("a"))
                .addOutput(TestModels.f32("b")).addOutput(TestModels.f32("c")).addOutput(TestModels.f32("d")).build();
        OnnxException e = assertThrows(OnnxException.class, () -> Onnx.load(model(18, bad).toByteArray()));
        assertTrue(e.getMessage().contains("cannot split dim 1 (5) into 4 parts"), e.getMessage());
    }

    @Test
    void padAlongAxesAndWrap() {
        float[] x = x(24, 0.25, -2.9);
        TestModels.assertWithin(new float[] {0.5f, -2.9000000953674316f, -2.6500000953674316f, -2.4000000953674316f, -2.1500000953674316f, 0.5f, 0.5f, 0.5f, -1.899999976158142f, -1.649999976158142f, -1.399999976158142f, -1.149999976158142f, 0.5f, 0.5f, 0.5f, -0.8999999761581421f, -0.6499999761581421f, -0.4000000059604645f, -0.15000000596046448f, 0.5f, 0.5f, 0.5f, 0.10000000149011612f, 0.3499999940395355f, 0.6000000238418579f, 0.8500000238418579f, 0.5f, 0.5f, 0.5f, 1.100000023841858f, 1.350000023841858f, 1.600000023841858f, 1.850000023841858f, 0.5f, 0.5f, 0.5f, 2.0999999046325684f, 2.3499999046325684f, 2.5999999046325684f, 2.8499999046325684f, 0.5f, 0.5f}, run(18, X234, x, new long[] {2, 3, 7}, node("Pad", new String[] {"x", "pads", "value", "axes"}),
                longs("pads", 1, 2), TestModels.weights("value", new float[] {0.5f}), longs("axes", -1)), "Pad axes [-1]");
        TestModels.assertWithin(new float[] {-1.899999976158142f, -1.649999976158142f, -1.399999976158142f, -1.149999976158142f, -0.8999999761581421f, -0.6499999761581421f, -0.4000000059604645f, -0.15000000596046448f, -2.9000000953674316f, -2.6500000953674316f, -2.4000000953674316f, -2.1500000953674316f, -1.899999976158142f, -1.649999976158142f, -1.399999976158142f, -1.149999976158142f, -0.8999999761581421f, -0.6499999761581421f, -0.4000000059604645f, -0.15000000596046448f, -2.9000000953674316f, -2.6500000953674316f, -2.4000000953674316f, -2.1500000953674316f, 1.100000023841858f, 1.350000023841858f, 1.600000023841858f, 1.850000023841858f, 2.0999999046325684f, 2.3499999046325684f, 2.5999999046325684f, 2.8499999046325684f, 0.10000000149011612f, 0.3499999940395355f, 0.6000000238418579f, 0.8500000238418579f, 1.100000023841858f, 1.350000023841858f, 1.600000023841858f, 1.850000023841858f, 2.0999999046325684f, 2.3499999046325684f, 2.5999999046325684f, 2.8499999046325684f, 0.10000000149011612f, 0.3499999940395355f, 0.6000000238418579f, 0.8500000238418579f}, run(19, X234, x, new long[] {2, 6, 4}, node("Pad", new String[] {"x", "pads", "", "axes"},
                TestModels.string("mode", "wrap")), longs("pads", 2, 1), longs("axes", 1)), "Pad wrap, axes [1]");
        GraphProto wrap18 = GraphProto.newBuilder().setName("w").addInput(TestModels.f32("x", 2, 3, 4)).addInitializer(longs("pads", 0, 1, 0, 0, 1, 0))
                .addNode(node("Pad", new String[] {"x", "pads"}, TestModels.string("mode", "wrap"))).addOutput(TestModels.f32("y")).build();
        OnnxException e = assertThrows(OnnxException.class, () -> Onnx.load(model(18, wrap18).toByteArray()));
        assertTrue(e.getMessage().contains("mode 'wrap' exists from opset 19 on"), e.getMessage());
    }

    @Test
    void resizeAlongAxes() {
        long[] dims = {1, 2, 3, 4};
        float[] x = x(24, 0.25, -2.9);
        TestModels.assertWithin(new float[] {-2.9000000953674316f, -2.8375000953674316f, -2.7125000953674316f, -2.5875000953674316f, -2.4625000953674316f, -2.3375000953674316f, -2.2125000953674316f, -2.1500000953674316f, -2.6500000953674316f, -2.5875000953674316f, -2.4625000953674316f, -2.3375000953674316f, -2.2125000953674316f, -2.0875000953674316f, -1.9625000953674316f, -1.9000000953674316f, -2.1500000953674316f, -2.0875000953674316f, -1.962499976158142f, -1.837499976158142f, -1.712499976158142f, -1.587499976158142f, -1.462499976158142f, -1.399999976158142f, -1.649999976158142f, -1.587499976158142f, -1.462499976158142f, -1.337499976158142f, -1.212499976158142f, -1.087499976158142f, -0.9624999761581421f, -0.8999999761581421f, -1.149999976158142f, -1.087499976158142f, -0.9624999761581421f, -0.8374999761581421f, -0.7124999761581421f, -0.5874999761581421f, -0.4625000059604645f, -0.4000000059604645f, -0.8999999761581421f, -0.8374999761581421f, -0.7124999761581421f, -0.5874999761581421f, -0.4625000059604645f, -0.3375000059604645f, -0.21250000596046448f, -0.15000000596046448f, 0.10000000149011612f, 0.16249999403953552f, 0.2874999940395355f, 0.4124999940395355f, 0.5375000238418579f, 0.6625000238418579f, 0.7875000238418579f, 0.8500000238418579f, 0.3499999940395355f, 0.4124999940395355f, 0.5375000238418579f, 0.6625000238418579f, 0.7875000238418579f, 0.9125000238418579f, 1.037500023841858f, 1.100000023841858f, 0.8500000238418579f, 0.9125000238418579f, 1.037500023841858f, 1.162500023841858f, 1.287500023841858f, 1.412500023841858f, 1.537500023841858f, 1.600000023841858f, 1.350000023841858f, 1.412500023841858f, 1.537500023841858f, 1.662500023841858f, 1.787500023841858f, 1.912500023841858f, 2.0374999046325684f, 2.0999999046325684f, 1.8499999046325684f, 1.9124999046325684f, 2.0374999046325684f, 2.1624999046325684f, 2.2874999046325684f, 2.4124999046325684f, 2.5374999046325684f, 2.5999999046325684f, 2.0999999046325684f, 2.1624999046325684f, 2.2874999046325684f, 2.4124999046325684f, 2.5374999046325684f, 2.6624999046325684f, 2.7874999046325684f, 2.8499999046325684f}, run(18, dims, x, new long[] {1, 2, 6, 8}, node("Resize", new String[] {"x", "", "scales"},
                TestModels.string("mode", "linear"), TestModels.ints("axes", 2, 3)), TestModels.weights("scales", new float[] {2, 2}, 2)),
                "Resize linear, scales over axes [2, 3]");
        TestModels.assertWithin(new float[] {-2.9000000953674316f, -2.4000000953674316f, -2.9000000953674316f, -2.4000000953674316f, -1.899999976158142f, -1.399999976158142f, -1.899999976158142f, -1.399999976158142f, -0.8999999761581421f, -0.4000000059604645f, -0.8999999761581421f, -0.4000000059604645f, 0.10000000149011612f, 0.6000000238418579f, 0.10000000149011612f, 0.6000000238418579f, 1.100000023841858f, 1.600000023841858f, 1.100000023841858f, 1.600000023841858f, 2.0999999046325684f, 2.5999999046325684f, 2.0999999046325684f, 2.5999999046325684f}, run(19, dims, x, new long[] {1, 2, 6, 2}, node("Resize", new String[] {"x", "", "", "sizes"},
                TestModels.string("coordinate_transformation_mode", "asymmetric"), TestModels.string("nearest_mode", "floor"),
                TestModels.ints("axes", -2, -1)), longs("sizes", 6, 2)), "Resize nearest, sizes over axes [-2, -1]");
        GraphProto aa = GraphProto.newBuilder().setName("aa").addInput(TestModels.f32("x", 1, 2, 3, 4)).addInitializer(TestModels.weights("scales",
                new float[] {0.5f, 0.5f}, 2)).addNode(node("Resize", new String[] {"x", "", "scales"}, TestModels.string("mode", "linear"),
                integer("antialias", 1), TestModels.ints("axes", 2, 3))).addOutput(TestModels.f32("y")).build();
        OnnxException e = assertThrows(OnnxException.class, () -> Onnx.load(model(18, aa).toByteArray()));
        assertTrue(e.getMessage().contains("antialias = 1 is not supported"), e.getMessage());
    }

    @Test
    void groupNormalizationPerGroupAndPerChannel() {
        long[] dims = {2, 4, 3};
        float[] x = x(24, 0.37, -4.1);
        TestModels.assertWithin(new float[] {-0.6319158673286438f, -0.3391495943069458f, -0.04638313502073288f, -0.09276627004146576f, -0.6782991886138916f, -1.2638317346572876f, -3.227663516998291f, -2.05659818649292f, -0.8855326771736145f, 0.43914955854415894f, 1.317448616027832f, 2.1957476139068604f, -0.6319158673286438f, -0.3391495645046234f, -0.04638316109776497f, -0.09276636689901352f, -0.678299069404602f, -1.2638317346572876f, -3.22766375541687f, -2.056597948074341f, -0.885532796382904f, 0.43914979696273804f, 1.317448616027832f, 2.1957473754882812f}, run(21, dims, x, dims, node("GroupNormalization", new String[] {"x", "scale", "bias"},
                integer("num_groups", 2)), TestModels.weights("scale", new float[] {0.5f, -1f, 2f, 1.5f}, 4),
                TestModels.weights("bias", new float[] {0.1f, 0.2f, -0.3f, 0f}, 4)), "GroupNormalization-21, per channel");
        TestModels.assertWithin(new float[] {-0.48101022839546204f, -0.18860620260238647f, 0.10379799455404282f, 0.3962019979953766f, 0.6886062026023865f, 0.9810101985931396f, 2.1740410327911377f, 1.0044245719909668f, -0.16519182920455933f, -1.3348082304000854f, -2.504424571990967f, -3.6740410327911377f, -0.48101022839546204f, -0.1886061728000641f, 0.10379796475172043f, 0.39620205760002136f, 0.6886061429977417f, 0.9810102581977844f, 2.174041271209717f, 1.0044243335723877f, -0.16519170999526978f, -1.334808588027954f, -2.504424571990967f, -3.6740407943725586f}, run(18, dims, x, dims, node("GroupNormalization", new String[] {"x", "scale", "bias"},
                integer("num_groups", 2), real("epsilon", 1e-3f)), TestModels.weights("scale", new float[] {0.5f, -2f}, 2),
                TestModels.weights("bias", new float[] {0.25f, -0.75f}, 2)), "GroupNormalization-18, per group");
        GraphProto wrong = GraphProto.newBuilder().setName("g").addInput(TestModels.f32("x", 2, 4, 3)).addInitializer(TestModels.weights("s",
                new float[] {1, 1}, 2)).addInitializer(TestModels.weights("b", new float[] {0, 0}, 2)).addNode(node("GroupNormalization",
                new String[] {"x", "s", "b"}, integer("num_groups", 2))).addOutput(TestModels.f32("y")).build();
        OnnxException e = assertThrows(OnnxException.class, () -> Onnx.load(model(21, wrong).toByteArray()));
        assertTrue(e.getMessage().contains("scale must be [4] (one per channel)"), e.getMessage());
    }

    private static final float[] SPECIAL = {-100, -20, -3, -1, -0.5f, 0, 0.5f, 1, 3, 20, 100, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY,
            Float.NaN};

    private static void assertSame(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            if (Float.isNaN(want[i]) || Float.isInfinite(want[i])) assertEquals(want[i], got[i], what + ": y[" + i + "]");
            else TestModels.assertWithin(new float[] {want[i]}, new float[] {got[i]}, what + ": y[" + i + "]");
        }
    }

    @Test
    void mishAndGelu() {
        long[] dims = {SPECIAL.length};
        assertSame(new float[] {-3.7204474227823893e-42f, -4.122307117881974e-08f, -0.14564746618270874f, -0.30340147018432617f, -0.22074377536773682f, 0.0f, 0.37524521350860596f, 0.8650984168052673f, 2.98653507232666f, 20.0f, 100.0f, Float.POSITIVE_INFINITY, Float.NaN, Float.NaN}, run(18, dims, SPECIAL, dims, node("Mish", new String[] {"x"})), "Mish");
        // exact GELU of +inf is NaN in a plan with oneDNN's AVX-512 gelu_erf (docs/numerics.md, exceptions in compiled plans, 2),
        // +inf (PyTorch's) with its AVX2 kernel: checked without that element, and that it is one of those two
        float[] exact = new float[] {-0.0f, -0.0f, -0.004049694165587425f, -0.15865525603294373f, -0.1542687714099884f, 0.0f, 0.3457312285900116f, 0.8413447737693787f, 2.995950222015381f, 20.0f, 100.0f, Float.POSITIVE_INFINITY, Float.NaN, Float.NaN};
        float[] got = run(20, dims, SPECIAL, dims, node("Gelu", new String[] {"x"}));
        assertEquals(Float.POSITIVE_INFINITY, SPECIAL[11]);
        assertTrue(Float.isNaN(got[11]) || got[11] == Float.POSITIVE_INFINITY, "Gelu(+inf) in a plan: " + got[11]);
        exact[11] = got[11] = 0;
        assertSame(exact, got, "Gelu");
        assertSame(new float[] {-0.0f, -0.0f, -0.003637392073869705f, -0.15880800783634186f, -0.1542859971523285f, 0.0f, 0.3457140028476715f, 0.8411920070648193f, 2.9963626861572266f, 20.0f, 100.0f, Float.POSITIVE_INFINITY, Float.NaN, Float.NaN}, run(20, dims, SPECIAL, dims, node("Gelu", new String[] {"x"}, TestModels.string("approximate", "tanh"))),
                "Gelu tanh");
    }

    @Test
    void rmsNormalization() {
        float[] x = x(24, 0.25, -2.9);
        TestModels.assertWithin(new float[] {-1.1415412425994873f, -0.5215662121772766f, 1.889447569847107f, -1.269472599029541f, -1.22548508644104f, -0.532118558883667f, 1.8059780597686768f, -1.1126115322113037f, -1.5131714344024658f, -0.5464230179786682f, 1.3450413942337036f, -0.37829288840293884f, 0.18144069612026215f, 0.31752121448516846f, -2.177288293838501f, 2.313368797302246f, 0.7327213883399963f, 0.4496244788169861f, -2.1315529346466064f, 1.8484561443328857f, 0.8431246876716614f, 0.47174832224845886f, -2.0877373218536377f, 1.7163609266281128f}, run(23, X234, x, X234, node("RMSNormalization", new String[] {"x", "scale"}),
                TestModels.weights("scale", new float[] {1f, 0.5f, -2f, 1.5f}, 4)), "RMSNormalization, default axis -1");
        TestModels.assertWithin(new float[] {-0.4964207410812378f, -0.6048344373703003f, -0.6847182512283325f, -0.7360721230506897f, -0.758895993232727f, -0.7531900405883789f, -0.7189540863037109f, -0.6561882495880127f, -0.5648925304412842f, -0.4450668394565582f, -0.2967112064361572f, -0.11982568353414536f, 0.01755191572010517f, 0.0819089412689209f, 0.1755191534757614f, 0.29838258028030396f, 0.45049914717674255f, 0.6318689584732056f, 0.8424919247627258f, 1.0823681354522705f, 1.3514974117279053f, 1.649880051612854f, 1.977515697479248f, 2.334404706954956f}, run(23, X234, x, X234, node("RMSNormalization", new String[] {"x", "scale"}, integer("axis", 1),
                real("epsilon", 1e-3f)), TestModels.weights("scale", x(12, 0.1, 0.3), 3, 4)), "RMSNormalization, axis 1");
    }

    @Test
    void gridSampleLinearMode() {
        GraphProto g = GraphProto.newBuilder().setName("grid").addInput(TestModels.f32("x", 1, 2, 3, 4)).addInput(TestModels.f32("grid", 1, 2, 3, 2))
                .addNode(node("GridSample", new String[] {"x", "grid"}, TestModels.string("mode", "linear"))).addOutput(TestModels.f32("y", 1, 2, 2, 3))
                .build();
        try (OnnxModel m = Onnx.load(model(20, g).toByteArray()); Tensor in = Tensor.of(x(24, 0.25, -2.9), 1, 2, 3, 4);
             Tensor grid = Tensor.of(x(12, 0.11, -0.8), 1, 2, 3, 2)) {
            TestModels.assertWithin(new float[] {-2.5186500549316406f, -2.5199999809265137f, -2.080000162124634f, -1.6399999856948853f, -1.1999998092651367f, -0.7600000500679016f, 0.08685000240802765f, 0.47999995946884155f, 0.9200000166893005f, 1.3600000143051147f, 1.8000000715255737f, 2.240000009536743f}, TestModels.outputValues(m, Map.of("x", in, "grid", grid), "y"), "GridSample-20 linear");
        }
    }

    @Test
    void quantizeToInt8WithoutAZeroPoint() {
        GraphProto g = GraphProto.newBuilder().setName("q").addInput(TestModels.f32("x", 2, 5)).addInitializer(TestModels.weights("s", new float[] {0.25f}))
                .addNode(node("QuantizeLinear", new String[] {"x", "s"}, integer("output_dtype", 3), integer("saturate", 1)))
                .addOutput(ValueInfoProto.newBuilder().setName("y").setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.INT8_VALUE)))).build();
        try (OnnxModel m = Onnx.load(model(21, g).toByteArray()); Tensor in = Tensor.of(x(10, 7.3, -30), 2, 5)) {
            Map<String, Tensor> out = m.run(Map.of("x", in));
            try (Tensor y = out.get("y")) {
                assertEquals(dev.panamadnn.DataType.I8, y.dtype());
                float[] got = new float[10];
                for (int i = 0; i < 10; i++) got[i] = y.segment().get(java.lang.foreign.ValueLayout.JAVA_BYTE, i);
                assertArrayEquals(new float[] {-120.0f, -91.0f, -62.0f, -32.0f, -3.0f, 26.0f, 55.0f, 84.0f, 114.0f, 127.0f}, got);
            }
        }
    }

    /** Ops whose later versions only add element types run as at opset 17: a Conv, Relu and GlobalAveragePool at opset 23. */
    @Test
    void unchangedOpsAtOpset23() {
        GraphProto g = GraphProto.newBuilder().setName("c").addInput(TestModels.f32("x", 1, 2, 5, 5))
                .addInitializer(TestModels.weights("w", x(54, 0.013, -0.7), 3, 2, 3, 3)).addInitializer(TestModels.weights("b", new float[] {0.1f, -0.2f, 0.3f}, 3))
                .addNode(TestModels.node("c", "Conv", new String[] {"x", "w", "b"}, new String[] {"c"}, TestModels.ints("pads", 1, 1, 1, 1)))
                .addNode(TestModels.node("r", "Relu", new String[] {"c"}, new String[] {"r"}))
                .addNode(TestModels.node("p", "GlobalAveragePool", new String[] {"r"}, new String[] {"y"})).addOutput(TestModels.f32("y", 1, 3, 1, 1)).build();
        for (int opset : new int[] {18, 21, 22, 23}) {
            try (OnnxModel m = Onnx.load(model(opset, g).toByteArray()); Tensor in = Tensor.of(x(50, 0.05, -1.0), 1, 2, 5, 5)) {
                TestModels.assertWithin(new float[] {0.48033595085144043f, 0.26907598972320557f, 0.5080080032348633f}, TestModels.outputValues(m, Map.of("x", in), "y"), "opset " + opset);
            }
        }
    }

    @Test
    void refusals() {
        GraphProto relu = GraphProto.newBuilder().setName("r").addInput(TestModels.f32("x", 2)).addNode(node("Relu", new String[] {"x"}))
                .addOutput(TestModels.f32("y", 2)).build();
        OnnxException e = assertThrows(OnnxException.class, () -> Onnx.load(model(24, relu).toByteArray()));
        assertTrue(e.getMessage().endsWith("model opset 24 is out of range: supported are opsets 1 to 23"), e.getMessage());
        GraphProto pool = GraphProto.newBuilder().setName("p").addInput(TestModels.f32("x", 1, 1, 6, 6)).addNode(node("AveragePool", new String[] {"x"},
                TestModels.ints("kernel_shape", 2, 2), TestModels.ints("dilations", 2, 2))).addOutput(TestModels.f32("y")).build();
        e = assertThrows(OnnxException.class, () -> Onnx.load(model(19, pool).toByteArray()));
        assertTrue(e.getMessage().contains("dilations other than 1 are not supported, got [2, 2]"), e.getMessage());
        e = assertThrows(OnnxException.class, () -> Onnx.load(model(18, pool).toByteArray()));   // AveragePool-11's attributes at 18
        assertTrue(e.getMessage().contains("dilations"), e.getMessage());
        GraphProto deq = GraphProto.newBuilder().setName("d").addInput(ValueInfoProto.newBuilder().setName("x").setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.UINT8_VALUE).setShape(TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(4)))))).addInitializer(TestModels.weights("s", new float[] {0.5f, 2f}, 2))
                .addNode(node("DequantizeLinear", new String[] {"x", "s"}, integer("block_size", 2))).addOutput(TestModels.f32("y", 4)).build();
        e = assertThrows(OnnxException.class, () -> Onnx.load(model(21, deq).toByteArray()));
        assertTrue(e.getMessage().contains("block_size (blocked quantization) is not supported"), e.getMessage());
        GraphProto scatter = GraphProto.newBuilder().setName("s").addInput(TestModels.f32("x", 4)).addInitializer(longs("i", 1))
                .addInitializer(TestModels.weights("u", new float[] {2f}, 1)).addNode(node("ScatterElements", new String[] {"x", "i", "u"},
                TestModels.string("reduction", "max"))).addOutput(TestModels.f32("y", 4)).build();
        e = assertThrows(OnnxException.class, () -> Onnx.load(model(18, scatter).toByteArray()));
        assertTrue(e.getMessage().contains("reduction 'max' is not supported (none, add, mul)"), e.getMessage());
        GraphProto symmetric = GraphProto.newBuilder().setName("r").addInput(TestModels.f32("x", 1, 1, 2, 2)).addInitializer(TestModels.weights("s",
                new float[] {1, 1, 2, 2}, 4)).addNode(node("Resize", new String[] {"x", "", "s"}, TestModels.string("coordinate_transformation_mode",
                "half_pixel_symmetric"))).addOutput(TestModels.f32("y")).build();
        e = assertThrows(OnnxException.class, () -> Onnx.load(model(19, symmetric).toByteArray()));
        assertTrue(e.getMessage().contains("half_pixel_symmetric"), e.getMessage());
        GraphProto noGroups = GraphProto.newBuilder().setName("g").addInput(TestModels.f32("x", 2, 4, 3)).addInitializer(TestModels.weights("s",
                new float[] {1, 1, 1, 1}, 4)).addInitializer(TestModels.weights("b", new float[4], 4)).addNode(node("GroupNormalization",
                new String[] {"x", "s", "b"})).addOutput(TestModels.f32("y")).build();
        e = assertThrows(OnnxException.class, () -> Onnx.load(model(21, noGroups).toByteArray()));
        assertTrue(e.getMessage().contains("GroupNormalization") && e.getMessage().contains("num_groups"), e.getMessage());
        GraphProto mish17 = GraphProto.newBuilder().setName("m").addInput(TestModels.f32("x", 2)).addNode(node("Mish", new String[] {"x"}))
                .addOutput(TestModels.f32("y", 2)).build();
        e = assertThrows(OnnxException.class, () -> Onnx.load(model(17, mish17).toByteArray()));
        assertTrue(e.getMessage().contains("Mish"), e.getMessage());
    }
}
