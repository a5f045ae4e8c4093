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
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * Models whose inputs or outputs are not FLOAT, as torch 1.13 exports them (scripts/goldens/export_onnx_dtype_models.py,
 * opsets 13 and 17, dynamic batch): a uint8 image normalized in the graph (Cast, Div, Sub, Div, then Conv...) and a
 * half-precision input cast to float and the result cast back to half. Each at batch 1 and 2 through {@link OnnxModel#run}
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
        for (String model : new String[] {"uint8", "half"}) {
            for (int opset : new int[] {13, 17}) tests.add(DynamicTest.dynamicTest(model + " opset " + opset, () -> check(dir, model, opset)));
        }
        return tests.stream();
    }

    private static void check(Path dir, String name, int opset) throws Exception {
        DataType in = name.equals("uint8") ? DataType.U8 : DataType.F16;
        try (OnnxModel model = Onnx.load(dir.resolve(name + ".opset" + opset + ".onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve("dtype.goldens.safetensors"));
             PlanSet plans = model.compile(CompileOptions.defaults())) {
            assertEquals(in, model.inputs().get(0).dtype(), "the declared input");
            assertEquals(name.equals("uint8") ? DataType.F32 : DataType.F16, model.outputs().get(0).dtype(), "the declared output");
            for (int batch : new int[] {1, 2}) {
                String what = name + " opset " + opset + " batch " + batch;
                Tensor x = typed(goldens.get(name + "_input_b" + batch), in);
                Tensor expected = goldens.get(name + "_output_b" + batch);
                compare(what + " (run)", expected, model.run(Map.of("input", x)).get("output"));
                compare(what + " (plan set)", expected, plans.run(Map.of("input", x)).get("output"));
            }
        }
    }

    /** {@code f} (F32 holding exact U8 or F16 values) as a tensor of {@code dtype}. */
    private static Tensor typed(Tensor f, DataType dtype) {
        float[] v = f.toFloatArray();
        Tensor t = Tensor.allocate(Arena.ofAuto(), dtype, f.shape());
        for (int i = 0; i < v.length; i++) {
            if (dtype == DataType.U8) t.segment().set(ValueLayout.JAVA_BYTE, i, (byte) v[i]);
            else t.segment().setAtIndex(ValueLayout.JAVA_SHORT, i, Float.floatToFloat16(v[i]));
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
