package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.DataType;
import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Integer arithmetic on an int64 attention mask at run time, as decoder exports compute it
 * (scripts/goldens/export_onnx_position_ids.py): position ids as CumSum - 1 with a Where for the padding, an embedding
 * lookup by those computed ids, and int64 lengths by ReduceSum. These compile into a plan set now (integer Add, Sub,
 * Mul, ReduceSum and CumSum in long, each result checked exact in F32; a Where and a Gather of held integers): before,
 * only run(Map) took the model, binding each call's mask as constants. Against PyTorch at batch 3 and 1 of one plan set:
 * the float output within {@code 1e-4 * max + 1e-4}, the int64 outputs exactly.
 */
class OnnxPositionIdsTest {
    @ParameterizedTest(name = "opset {0}")
    @ValueSource(ints = {13, 17})
    void positionIdsAndLengthsFromAnInt64MaskCompileIntoAPlanSet(int opset) throws Exception {
        Path dir = Goldens.ensure("onnx-position-ids", "export_onnx_position_ids.py", "posids.goldens.safetensors", 300);
        try (OnnxModel model = Onnx.load(dir.resolve("posids.opset" + opset + ".onnx"));
             SafeTensors goldens = SafeTensors.open(dir.resolve("posids.goldens.safetensors"));
             PlanSet plans = model.compile(CompileOptions.defaults())) {
            for (String b : new String[] {"b3", "b1"}) {
                Map<String, Tensor> out = plans.run(Map.of("ids", goldens.get("ids_" + b), "mask", goldens.get("mask_" + b)));
                try {
                    var names = model.toGraph().outputs();   // our graph's names for y, pos, len, in order
                    OnnxModelsTest.assertClose("position ids opset " + opset + " " + b, goldens.get("y_" + b), out.get(names.get(0)));
                    for (int k = 1; k < 3; k++) {
                        Tensor got = out.get(names.get(k)), want = goldens.get((k == 1 ? "pos_" : "len_") + b);
                        assertEquals(DataType.I64, got.dtype());
                        assertArrayEquals(longs(want), longs(got), names.get(k) + " " + b);
                    }
                } finally {
                    out.values().forEach(Tensor::close);
                }
            }
        }
    }

    private static long[] longs(Tensor t) {
        return t.segment().toArray(ValueLayout.JAVA_LONG);
    }
}
