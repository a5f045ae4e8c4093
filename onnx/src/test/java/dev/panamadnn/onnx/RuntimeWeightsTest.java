package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.TensorProto;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Weights computed at run time (graph inputs), on ONNX's own backend cases: one model run several times with
 * different weights must follow each call's weights, not the first call's (a plan that reordered them once would
 * not). Expected values come from ONNX's output {@code y} for the case's inputs, by exact arithmetic: a convolution
 * with its weights doubled gives {@code 2y}; a batch or instance norm with scale and shift doubled gives {@code 2y}
 * (every term carries the factor 2, exact in binary floating point); PRelu with its slope negated gives {@code y}
 * where {@code x > 0} and {@code -y} elsewhere.
 */
class RuntimeWeightsTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource({"test_basic_conv_with_padding, 1", "test_conv_with_strides_and_asymmetric_padding, 1", "test_batchnorm_example, 1 2",
                "test_instancenorm_example, 1 2", "test_prelu_example, -1", "test_prelu_broadcast, -1"})
    void aModelFollowsEachCallsWeights(String name, String change) throws Exception {
        Path dir = BackendSuiteTest.DATA.resolve("node").resolve(name);
        assumeTrue(Files.isDirectory(dir), "ONNX backend test data not installed (apt-get install libonnx-testdata)");
        Path set = dir.resolve("test_data_set_0");
        try (Arena arena = Arena.ofConfined(); OnnxModel model = Onnx.load(dir.resolve("model.onnx"))) {
            Map<String, Tensor> in = new LinkedHashMap<>(), changed = new LinkedHashMap<>();
            for (int k = 0; Files.exists(set.resolve("input_" + k + ".pb")); k++) {
                in.put(model.inputs().get(k).name(), read(set.resolve("input_" + k + ".pb"), arena));
            }
            Tensor y = read(set.resolve("output_0.pb"), arena);
            assertEquals(DataType.F32, y.dtype());
            float[] x = in.get(model.inputs().get(0).name()).toFloatArray(), want = y.toFloatArray();
            changed.putAll(in);
            if (change.equals("-1")) {   // PRelu: the slope negated
                String slope = model.inputs().get(1).name();
                changed.put(slope, Tensor.of(scaled(in.get(slope).toFloatArray(), -1), in.get(slope).shape()));
                for (int i = 0; i < want.length; i++) if (!(x[i] > 0)) want[i] = -want[i];
            } else {   // the named inputs doubled: twice the output
                for (String k : change.split(" ")) {
                    String v = model.inputs().get(Integer.parseInt(k)).name();
                    changed.put(v, Tensor.of(scaled(in.get(v).toFloatArray(), 2), in.get(v).shape()));
                }
                want = scaled(want, 2);
            }
            Tensor expectedChanged = Tensor.of(want, y.shape());
            String out = model.outputs().get(0).name();
            for (int round = 0; round < 2; round++) {
                try (Tensor got = model.run(in).get(out)) {
                    assertNull(BackendCase.compare(got, y), name + " round " + round + ", the case's weights");
                }
                try (Tensor got = model.run(changed).get(out)) {
                    assertNull(BackendCase.compare(got, expectedChanged), name + " round " + round + ", weights changed (" + change + ")");
                }
            }
            expectedChanged.close();
            for (Map.Entry<String, Tensor> e : changed.entrySet()) if (e.getValue() != in.get(e.getKey())) e.getValue().close();
        }
    }

    private static Tensor read(Path pb, Arena arena) throws java.io.IOException {
        return TensorProtos.toTensor(TensorProto.parseFrom(Files.readAllBytes(pb)), pb.getFileName().toString(), arena, null);
    }

    private static float[] scaled(float[] v, float k) {
        float[] r = v.clone();
        for (int i = 0; i < r.length; i++) r[i] *= k;
        return r;
    }
}
