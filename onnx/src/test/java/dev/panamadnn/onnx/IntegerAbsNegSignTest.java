package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

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
 * Abs, Neg and Sign of INT64 values, as a relative position bias computes them (T5's buckets, ALiBi: |i - j| from
 * Range, then a float bias). Before, the graph refused an integer Abs ("must be F32, got I64"): a random probe of 88
 * small transformer exports found 42 such models. Folded when the values are known (the distances of a fixed length),
 * computed by the plan when they are an input's; against values computed here.
 */
class IntegerAbsNegSignTest {
    private static TensorProto scalar(String name, long v) {
        return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE).addInt64Data(v).build();
    }

    private static TensorProto longs(String name, long... v) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE).addDims(v.length);
        for (long x : v) t.addInt64Data(x);
        return t.build();
    }

    private static AttributeProto toFloat() {
        return AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT).setI(TensorProto.DataType.FLOAT_VALUE).build();
    }

    /** y = x @ (-0.5 * |i - j|) over a length of 4: the distances from Range, folded when compiling. */
    @Test
    void aRelativePositionBiasFromRangeFolds() {
        GraphProto g = GraphProto.newBuilder().setName("relpos").addInput(TestModels.f32("x", "N", 4)).addOutput(TestModels.f32("y", "N", 4))
                .addInitializer(scalar("zero", 0)).addInitializer(scalar("four", 4)).addInitializer(scalar("one", 1))
                .addInitializer(longs("ax0", 0)).addInitializer(longs("ax1", 1))
                .addInitializer(TestModels.weights("half", new float[] {-0.5f}))
                .addNode(TestModels.node("range", "Range", new String[] {"zero", "four", "one"}, new String[] {"t"}))
                .addNode(TestModels.node("row", "Unsqueeze", new String[] {"t", "ax0"}, new String[] {"r"}))
                .addNode(TestModels.node("col", "Unsqueeze", new String[] {"t", "ax1"}, new String[] {"c"}))
                .addNode(TestModels.node("sub", "Sub", new String[] {"r", "c"}, new String[] {"d"}))
                .addNode(TestModels.node("abs", "Abs", new String[] {"d"}, new String[] {"a"}))
                .addNode(TestModels.node("cast", "Cast", new String[] {"a"}, new String[] {"af"}, toFloat()))
                .addNode(TestModels.node("scale", "Mul", new String[] {"af", "half"}, new String[] {"bias"}))
                .addNode(TestModels.node("mm", "MatMul", new String[] {"x", "bias"}, new String[] {"y"}))
                .build();
        try (OnnxModel m = Onnx.load(TestModels.model(13, g).toByteArray()); PlanSet plans = m.compile(CompileOptions.defaults())) {
            float[] x = {1, 2, 3, 4, -1, 0.5f, 2, -3};
            float[] want = new float[8];
            for (int r = 0; r < 2; r++) {
                for (int j = 0; j < 4; j++) {
                    for (int i = 0; i < 4; i++) want[r * 4 + j] += x[r * 4 + i] * -0.5f * Math.abs(i - j);
                }
            }
            try (Tensor in = Tensor.of(x, 2, 4)) {
                Map<String, Tensor> out = plans.run(Map.of("x", in));
                try {
                    assertArrayEquals(want, out.get("y").toFloatArray(), 1e-6f);
                } finally {
                    out.values().forEach(Tensor::close);
                }
            }
        }
    }

    /** Abs, Neg and Sign of an INT64 input, each cast to float: computed at run time by the plan, at batches 2 and 1. */
    @Test
    void integerInputsAreComputedAtRunTime() {
        ValueInfoProto ids = ValueInfoProto.newBuilder().setName("ids").setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.INT64_VALUE).setShape(TensorShapeProto.newBuilder()
                        .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("N")).addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(3)))))
                .build();
        for (String op : new String[] {"Abs", "Neg", "Sign"}) {
            GraphProto g = GraphProto.newBuilder().setName("int_" + op).addInput(ids).addOutput(TestModels.f32("y", "N", 3))
                    .addNode(TestModels.node("op", op, new String[] {"ids"}, new String[] {"v"}))
                    .addNode(TestModels.node("cast", "Cast", new String[] {"v"}, new String[] {"y"}, toFloat()))
                    .build();
            try (OnnxModel m = Onnx.load(TestModels.model(13, g).toByteArray()); PlanSet plans = m.compile(CompileOptions.defaults());
                 Arena arena = Arena.ofConfined()) {
                long[] v = {-7, 0, 12, 3, -1, -1000};
                for (int n : new int[] {2, 1}) {
                    Tensor t = Tensor.allocate(arena, DataType.I64, n, 3);
                    float[] want = new float[n * 3];
                    for (int i = 0; i < n * 3; i++) {
                        t.segment().setAtIndex(ValueLayout.JAVA_LONG, i, v[i]);
                        want[i] = switch (op) {
                            case "Abs" -> Math.abs(v[i]);
                            case "Neg" -> -v[i];
                            default -> Long.signum(v[i]);
                        };
                    }
                    Map<String, Tensor> out = plans.run(Map.of("ids", t));
                    try {
                        assertArrayEquals(want, out.get("y").toFloatArray(), op + " at batch " + n);
                    } finally {
                        out.values().forEach(Tensor::close);
                    }
                }
            }
        }
    }
}
