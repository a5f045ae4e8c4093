package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.TestModels.f32;
import static dev.panamadnn.onnx.TestModels.model;
import static dev.panamadnn.onnx.TestModels.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * ReverseSequence with the lengths a run-time input of a plan set (ONNX's own two cases bind them: the backend suite),
 * against the operator's definition (ONNX's reference: for each batch entry b, steps [0, len_b) reversed, the rest
 * kept), at batch sizes 3 and 1 of one plan set (the INT64 lengths converted to exact F32 values in the plan); a length
 * past the time axis is refused when run, naming the out-of-range index.
 */
class ReverseSequenceTest {
    private static GraphProto graph() {
        TensorShapeProto.Builder n = TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N"));
        ValueInfoProto lens = ValueInfoProto.newBuilder().setName("lens").setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.INT64_VALUE).setShape(n))).build();
        return GraphProto.newBuilder().setName("rev").addInput(f32("x", "N", 5, 2)).addInput(lens)
                .addNode(node("rev", "ReverseSequence", new String[] {"x", "lens"}, new String[] {"y"},
                        AttributeProto.newBuilder().setName("batch_axis").setType(AttributeProto.AttributeType.INT).setI(0).build(),
                        AttributeProto.newBuilder().setName("time_axis").setType(AttributeProto.AttributeType.INT).setI(1).build()))
                .addOutput(f32("y", "N", 5, 2)).build();
    }

    /** The definition: y[b, t] = x[b, len_b - 1 - t] for t < len_b, else x[b, t]. */
    private static float[] expected(float[] x, long[] lens) {
        float[] y = new float[x.length];
        for (int b = 0; b < lens.length; b++) {
            for (int t = 0; t < 5; t++) {
                int from = t < lens[b] ? (int) (lens[b] - 1 - t) : t;
                for (int f = 0; f < 2; f++) y[(b * 5 + t) * 2 + f] = x[(b * 5 + from) * 2 + f];
            }
        }
        return y;
    }

    @Test
    void runTimeLengthsReverseEachEntrysFirstSteps() {
        try (OnnxModel m = Onnx.load(model(13, graph()).toByteArray()); PlanSet plans = m.compile(CompileOptions.defaults());
             Arena arena = Arena.ofConfined()) {
            for (long[] lens : new long[][] {{5, 2, 0}, {3}}) {
                float[] x = new float[lens.length * 10];
                for (int i = 0; i < x.length; i++) x[i] = i * 0.5f - 3;
                Tensor xt = Tensor.of(x, lens.length, 5, 2), lt = Tensor.allocate(arena, DataType.I64, lens.length);
                for (int i = 0; i < lens.length; i++) lt.segment().setAtIndex(ValueLayout.JAVA_LONG, i, lens[i]);
                Map<String, Tensor> out = plans.run(Map.of("x", xt, "lens", lt));
                try {
                    assertArrayEquals(expected(x, lens), out.values().iterator().next().toFloatArray(), java.util.Arrays.toString(lens));
                } finally {
                    out.values().forEach(Tensor::close);
                    xt.close();
                }
            }
            Tensor xt = Tensor.of(new float[10], 1, 5, 2), lt = Tensor.allocate(arena, DataType.I64, 1);
            lt.segment().setAtIndex(ValueLayout.JAVA_LONG, 0, 7);   // past the 5 steps: index -2 reads outside the axis
            RuntimeException e = assertThrows(RuntimeException.class, () -> plans.run(Map.of("x", xt, "lens", lt)));
            assertTrue(e.getMessage().contains("GatherElements") && e.getMessage().contains("index 6") && e.getMessage().contains("out of range"), e.getMessage());
            xt.close();
        }
    }
}
