package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.util.Set;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Models whose inputs or outputs are not FLOAT, as torch 1.13 exports them (scripts/goldens/export_onnx_dtype_models.py,
 * opsets 13 and 17, dynamic batch): a uint8 image normalized in the graph (Cast, Div, Sub, Div, then Conv...) and a
 * half-precision input cast to float and the result cast back to half; and a text classifier taking int64 token ids and
 * a bool key padding mask. Each at batch 1 and 2 through {@link OnnxModel#run}
 * and through a {@link PlanSet} (a compiled plan per batch: the uint8 and float16 inputs converted by its first step),
 * against PyTorch: float logits within {@code 1e-4 * max|output| + 1e-4}; a half output within one half-precision ulp
 * (both sides compute in float and round once; a last-bit difference in float may round the other way), infinities
 * equal.
 */
class OnnxDtypeModelsTest {
    @TestFactory
    Stream<DynamicTest> nonFloatInputsAndOutputsMatchPyTorch() throws Exception {
        Path dir = Goldens.ensure("onnx-dtype-models", "export_onnx_dtype_models.py", "dtype.goldens.safetensors", 300);
        List<DynamicTest> tests = new ArrayList<>();
        for (String model : new String[] {"uint8", "half", "halfweights"}) {
            for (int opset : new int[] {13, 17}) tests.add(DynamicTest.dynamicTest(model + " opset " + opset, () -> check(dir, model, opset)));
        }
        return tests.stream();
    }

    private static void check(Path dir, String name, int opset) throws Exception {
        DataType in = name.equals("uint8") ? DataType.U8 : name.equals("half") ? DataType.F16 : DataType.F32;   // halfweights: F16/BF16 weights
        try (OnnxModel model = Onnx.load(dir.resolve(name + ".opset" + opset + ".onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve("dtype.goldens.safetensors"));
             PlanSet plans = model.compile(CompileOptions.defaults())) {
            assertEquals(in, model.inputs().get(0).dtype(), "the declared input");
            assertEquals(name.equals("half") ? DataType.F16 : DataType.F32, model.outputs().get(0).dtype(), "the declared output");
            for (int batch : new int[] {1, 2}) {
                String what = name + " opset " + opset + " batch " + batch;
                Tensor x = typed(goldens.get(name + "_input_b" + batch), in);
                Tensor expected = goldens.get(name + "_output_b" + batch);
                compare(what + " (run)", expected, model.run(Map.of("input", x)).get("output"));
                compare(what + " (plan set)", expected, plans.run(Map.of("input", x)).get("output"));
            }
        }
    }

    /**
     * A text classifier as torch exports it: int64 token ids and a bool key padding mask (reshaped, expanded, cast and
     * turned into -inf by a Where inside each attention; negated, cast and multiplied into a masked mean outside), through
     * run(Map) and a PlanSet at batch 1 and 2 (one padded sequence in each) against PyTorch.
     */
    @TestFactory
    Stream<DynamicTest> tokenIdsAndABoolPaddingMaskMatchPyTorch() throws Exception {
        Path dir = Goldens.ensure("onnx-dtype-models", "export_onnx_dtype_models.py", "dtype.goldens.safetensors", 300);
        List<DynamicTest> tests = new ArrayList<>();
        for (int opset : new int[] {13, 17}) {
            tests.add(DynamicTest.dynamicTest("textmask opset " + opset, () -> {
                try (OnnxModel model = Onnx.load(dir.resolve("textmask.opset" + opset + ".onnx"));
                     SafeTensors goldens = SafeTensors.open(dir.resolve("dtype.goldens.safetensors"));
                     PlanSet plans = model.compile(CompileOptions.defaults())) {
                    assertEquals(List.of(DataType.I64, DataType.BOOL), model.inputs().stream().map(v -> v.dtype()).toList());
                    for (int batch : new int[] {1, 2}) {
                        Map<String, Tensor> in = textInputs(goldens, "b" + batch);
                        String what = "textmask opset " + opset + " batch " + batch;
                        Tensor expected = goldens.get("textmask_output_b" + batch);
                        compare(what + " (run)", expected, model.run(in).get("output"));
                        compare(what + " (plan set)", expected, plans.run(in).get("output"));
                    }
                }
            }));
        }
        return tests.stream();
    }

    /** The text goldens {@code textmask_ids_<suffix>} and {@code textmask_mask_<suffix>} as I64 ids and a BOOL mask. */
    private static Map<String, Tensor> textInputs(SafeTensors goldens, String suffix) {
        return Map.of("ids", typed(goldens.get("textmask_ids_" + suffix), DataType.I64),
                "mask", typed(goldens.get("textmask_mask_" + suffix), DataType.BOOL));
    }

    /**
     * The text classifier with a dynamic sequence length as well ({@code [batch, seq]}): torch's reshapes inside the
     * attention span both symbols, so no graph or plan set is inferred from the declared shapes (refused, saying why),
     * and {@code run(Map)} binds each call's shapes: lengths 12 and 7, batch 1 and 2, against PyTorch, and the first shape
     * once more after the others (its kept plan).
     */
    @TestFactory
    Stream<DynamicTest> aDynamicSequenceLengthRunsPerShape() throws Exception {
        Path dir = Goldens.ensure("onnx-dtype-models", "export_onnx_dtype_models.py", "dtype.goldens.safetensors", 300);
        List<DynamicTest> tests = new ArrayList<>();
        for (int opset : new int[] {13, 17}) {
            tests.add(DynamicTest.dynamicTest("textdyn opset " + opset, () -> {
                try (OnnxModel model = Onnx.load(dir.resolve("textdyn.opset" + opset + ".onnx"));
                     SafeTensors goldens = SafeTensors.open(dir.resolve("dtype.goldens.safetensors"))) {
                    assertEquals(2, model.inputs().get(0).shape().dims().stream().filter(d -> !d.isFixed()).count(), model.inputs().toString());
                    OnnxException refused = org.junit.jupiter.api.Assertions.assertThrows(OnnxException.class, () -> model.compile(CompileOptions.defaults()));
                    assertTrue(refused.getMessage().contains("more than one symbolic dim"), refused.getMessage());
                    for (String suffix : new String[] {"b1", "b2", "b2s7", "b1"}) {
                        compare("textdyn opset " + opset + " " + suffix + " (run)", goldens.get("textmask_output_" + suffix),
                                model.run(textInputs(goldens, suffix)).get("output"));
                    }
                }
            }));
        }
        return tests.stream();
    }

    /**
     * A decoder-style block with both dims dynamic and the causal mask built from the run's length ({@code torch.triu} of
     * an {@code -inf} square: Trilu over the sequence's symbolic size, refused by a plan set naming the node), through
     * {@code run(Map)} at lengths 9 and 5 against PyTorch's per-token logits.
     */
    @TestFactory
    Stream<DynamicTest> aCausalMaskOfTheRunsLengthRunsPerShape() throws Exception {
        Path dir = Goldens.ensure("onnx-dtype-models", "export_onnx_dtype_models.py", "dtype.goldens.safetensors", 300);
        List<DynamicTest> tests = new ArrayList<>();
        for (int opset : new int[] {14, 17}) {
            tests.add(DynamicTest.dynamicTest("causal opset " + opset, () -> {
                try (OnnxModel model = Onnx.load(dir.resolve("causal.opset" + opset + ".onnx"));
                     SafeTensors goldens = SafeTensors.open(dir.resolve("dtype.goldens.safetensors"))) {
                    OnnxException refused = org.junit.jupiter.api.Assertions.assertThrows(OnnxException.class, () -> model.compile(CompileOptions.defaults()));
                    assertTrue(refused.getMessage().contains("Trilu"), refused.getMessage());
                    for (String suffix : new String[] {"b1s9", "b2s5"}) {
                        Tensor t = typed(goldens.get("causal_ids_" + suffix), DataType.I64);
                        compare("causal opset " + opset + " " + suffix + " (run)", goldens.get("causal_output_" + suffix),
                                model.run(Map.of("ids", t)).get("output"));
                    }
                }
            }));
        }
        return tests.stream();
    }

    private static ValueInfoProto input(String name, int elemType, long... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (long d : dims) s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s))).build();
    }

    /**
     * {@code run(Map)} binds the inputs a plan cannot take: a Reshape's shape fed as an I64 input, but not a uint8 image
     * that only a Cast reads (a plan converts it), so one compiled binding serves every image; uint8 values an Add reads
     * are bound (a plan computes no uint8 arithmetic).
     */
    @Test
    void uint8InputsAreBoundOnlyWhereMoreThanACastReadsThem() {
        GraphProto.Builder g = GraphProto.newBuilder().setName("cast_reshape")
                .addInput(input("img", TensorProto.DataType.UINT8_VALUE, 2, 3)).addInput(input("shape", TensorProto.DataType.INT64_VALUE, 2))
                .addNode(TestModels.node("cast", "Cast", new String[] {"img"}, new String[] {"f"},
                        dev.panamadnn.onnx.proto.AttributeProto.newBuilder().setName("to").setType(dev.panamadnn.onnx.proto.AttributeProto.AttributeType.INT).setI(1).build()))
                .addNode(TestModels.node("reshape", "Reshape", new String[] {"f", "shape"}, new String[] {"y"}))
                .addOutput(TestModels.f32("y", 3, 2));
        ModelProto castReshape = TestModels.model(13, g.build());
        try (OnnxModel m = Onnx.load(castReshape.toByteArray())) {
            assertEquals(Set.of("shape"), BoundInputs.bindable(castReshape, m.inputs()));
            Tensor shape = Tensor.allocate(Arena.ofAuto(), DataType.I64, 2);
            shape.segment().setAtIndex(ValueLayout.JAVA_LONG, 0, 3);
            shape.segment().setAtIndex(ValueLayout.JAVA_LONG, 1, 2);
            for (int round = 0; round < 2; round++) {   // two images, one shape: the same binding
                Tensor img = Tensor.allocate(Arena.ofAuto(), DataType.U8, 2, 3);
                for (int i = 0; i < 6; i++) img.segment().set(ValueLayout.JAVA_BYTE, i, (byte) (250 + i + round));
                float[] want = new float[6];
                for (int i = 0; i < 6; i++) want[i] = (250 + i + round) & 0xff;
                Tensor y = m.run(Map.of("img", img, "shape", shape)).get("y");
                assertArrayEquals(new long[] {3, 2}, y.shape());
                assertArrayEquals(want, y.toFloatArray(), "round " + round);
            }
        }
        GraphProto.Builder a = GraphProto.newBuilder().setName("add_u8")
                .addInput(input("p", TensorProto.DataType.UINT8_VALUE, 3)).addInput(input("q", TensorProto.DataType.UINT8_VALUE, 3))
                .addNode(TestModels.node("add", "Add", new String[] {"p", "q"}, new String[] {"s"}))
                .addOutput(input("s", TensorProto.DataType.UINT8_VALUE, 3));
        ModelProto add = TestModels.model(13, a.build());
        try (OnnxModel m = Onnx.load(add.toByteArray())) {
            assertEquals(Set.of("p", "q"), BoundInputs.bindable(add, m.inputs()));
        }
    }

    /** {@code f} (F32 holding exact U8, F16, I64 or 0/1 values) as a tensor of {@code dtype}. */
    private static Tensor typed(Tensor f, DataType dtype) {
        if (dtype == DataType.F32) return f;
        float[] v = f.toFloatArray();
        Tensor t = Tensor.allocate(Arena.ofAuto(), dtype, f.shape());
        for (int i = 0; i < v.length; i++) {
            switch (dtype) {
                case U8 -> t.segment().set(ValueLayout.JAVA_BYTE, i, (byte) v[i]);
                case BOOL -> t.segment().set(ValueLayout.JAVA_BYTE, i, (byte) (v[i] != 0 ? 1 : 0));
                case I64 -> t.segment().setAtIndex(ValueLayout.JAVA_LONG, i, (long) v[i]);
                default -> t.segment().setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16(v[i]));
            }
        }
        return t;
    }

    private static void compare(String what, Tensor expectedTensor, Tensor actual) {
        assertArrayEquals(expectedTensor.shape(), actual.shape(), what + ": shape");
        float[] expected = expectedTensor.toFloatArray();
        if (actual.dtype() == DataType.F32) {
            OnnxModelsTest.assertClose(what, expectedTensor, actual);
            return;
        }
        assertEquals(DataType.F16, actual.dtype(), what);
        for (int i = 0; i < expected.length; i++) {
            float a = Float.float16ToFloat(actual.segment().getAtIndex(ValueLayout.JAVA_SHORT, i)), e = expected[i];
            boolean ok = Float.isInfinite(e) ? a == e : Math.abs(a - e) <= Math.ulp(Float.float16ToFloat(Float.floatToFloat16(e))) * 0x1p13f + 1e-4f;
            assertTrue(ok, what + ": element " + i + " is " + a + ", expected " + e);
        }
    }
}
