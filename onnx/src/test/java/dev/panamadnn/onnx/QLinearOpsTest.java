package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.DataType;
import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * QLinearConv (per-channel weight scales and zero points, an INT32 bias, stride, padding, groups), QLinearMatMul
 * (per-column scale and zero point, an INT8 output) and ConvInteger (per-channel zero points, dilation) as
 * scripts/goldens/export_onnx_qlinear.py writes them, with outputs computed there by NumPy from the definitions as ONNX
 * Runtime evaluates them (an int32 sum, then a float32 multiplier and round half to even): equal, element for element,
 * through run(Map) and through a plan set. Also a Linear as ONNX Runtime's dynamic quantization writes it
 * (DynamicQuantizeLinear, MatMulInteger, Cast, scale, bias): within {@code 1e-4 * max + 1e-4} of NumPy's evaluation.
 */
class QLinearOpsTest {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"qlinearconv", "qlinearmatmul", "convinteger"})
    void integerOpsEqualTheirDefinitions(String name) throws Exception {
        Path dir = Goldens.ensure("onnx-qlinear", "export_onnx_qlinear.py", "qlinear.goldens.safetensors", 120);
        try (OnnxModel model = Onnx.load(dir.resolve(name + ".onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve("qlinear.goldens.safetensors"));
             Arena arena = Arena.ofConfined();
             PlanSet plans = model.compile(CompileOptions.defaults())) {
            Tensor xf = goldens.get(name + "_x");
            float[] xv = xf.toFloatArray();
            Tensor x = Tensor.allocate(arena, DataType.U8, xf.shape());   // every first input here is UINT8
            for (int i = 0; i < xv.length; i++) x.segment().set(ValueLayout.JAVA_BYTE, i, (byte) (int) xv[i]);
            float[] want = goldens.get(name + "_y").toFloatArray();
            String in = model.inputs().get(0).name();
            for (boolean viaPlanSet : new boolean[] {false, true}) {
                Map<String, Tensor> out = viaPlanSet ? plans.run(Map.of(in, x)) : model.run(Map.of(in, x));
                try {
                    Tensor y = out.values().iterator().next();
                    assertEquals(model.outputs().get(0).dtype(), y.dtype());
                    assertArrayEquals(want, values(y), name + (viaPlanSet ? " (plan set)" : " (run)"));
                } finally {
                    out.values().forEach(Tensor::close);
                }
            }
        }
    }

    @org.junit.jupiter.api.Test
    void aDynamicallyQuantizedLinearMatchesItsDefinition() throws Exception {
        Path dir = Goldens.ensure("onnx-qlinear", "export_onnx_qlinear.py", "qlinear.goldens.safetensors", 120);
        try (OnnxModel model = Onnx.load(dir.resolve("dynamiclinear.onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve("qlinear.goldens.safetensors"));
             PlanSet plans = model.compile(CompileOptions.defaults())) {
            Map<String, Tensor> out = plans.run(Map.of("x", goldens.get("dynamiclinear_x")));
            try {
                OnnxModelsTest.assertClose("dynamically quantized linear", goldens.get("dynamiclinear_y"), out.values().iterator().next());
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }

    /** An integer tensor's values as floats (exact). */
    private static float[] values(Tensor t) {
        float[] v = new float[(int) t.numel()];
        for (int i = 0; i < v.length; i++) {
            v[i] = switch (t.dtype()) {
                case U8 -> t.segment().get(ValueLayout.JAVA_BYTE, i) & 0xff;
                case I8 -> t.segment().get(ValueLayout.JAVA_BYTE, i);
                case I32 -> t.segment().getAtIndex(ValueLayout.JAVA_INT, i);
                default -> throw new IllegalArgumentException(t.dtype().toString());
            };
        }
        return v;
    }
}
