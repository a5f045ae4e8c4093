package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.TestModels.f32;
import static dev.panamadnn.onnx.TestModels.model;
import static dev.panamadnn.onnx.TestModels.node;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.lang.foreign.Arena;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Empty tensors (a dim of 0) through {@code OnnxModel.run}: an empty I64 {@code axes} input bound per call, outputs empty
 * by their shapes (returned without a plan), and the refusal of a plan that would compute on an empty value. Expected
 * values from numpy 1.24 on {@code x = np.random.RandomState(7).randn(2, 3, 2).astype(np.float32)}: {@code np.sum(x,
 * keepdims=True)} (ReduceSum-13 with empty axes and noop_with_empty_axes 0, ONNX's reference), x itself (noop 1), {@code
 * np.sum(x, axis=1, keepdims=True)}; {@code x[:, 5:7].shape == (2, 0, 2)}; {@code np.maximum(np.empty((0, 3)), 0).shape
 * == (0, 3)}. Sums within 1e-6 (another order of addition than numpy's, values of order 1).
 */
class OnnxEmptyTensorsTest {
    private static final float[] X = {1.69052565f, -0.465937376f, 0.0328201652f, 0.407516271f, -0.788923025f, 0.00206557289f,
        -0.000890385883f, -1.75472426f, 1.017658f, 0.600498497f, -0.625428975f, -0.171548262f};

    @Test
    void anEmptyAxesInputReducesEveryAxisOrNoneByNoopWithEmptyAxes() {
        try (Arena arena = Arena.ofConfined(); Tensor x = Tensor.of(X, 2, 3, 2);
             OnnxModel all = Onnx.load(reduceSum(0).toByteArray()); OnnxModel noop = Onnx.load(reduceSum(1).toByteArray())) {
            Tensor none = TensorProtos.longs(arena, new long[0], 0), one = TensorProtos.longs(arena, new long[] {1}, 1);
            try (Tensor y = all.run(Map.of("x", x, "axes", none)).get("y")) {
                assertArrayEquals(new long[] {1, 1, 1}, y.shape());
                assertEquals(-0.0563681275f, y.toFloatArray()[0], 1e-6f);
            }
            try (Tensor y = noop.run(Map.of("x", x, "axes", none)).get("y")) {
                assertArrayEquals(new long[] {2, 3, 2}, y.shape());
                assertArrayEquals(X, y.toFloatArray());
            }
            for (OnnxModel m : new OnnxModel[] {all, noop}) {   // the same model with axes [1], then empty again: a binding per value
                try (Tensor y = m.run(Map.of("x", x, "axes", one)).get("y")) {
                    assertArrayEquals(new long[] {2, 1, 2}, y.shape());
                    assertArrayEquals(new float[] {0.934422731f, -0.0563555323f, 0.391338646f, -1.32577407f}, y.toFloatArray(), 1e-6f);
                }
                try (Tensor y = m.run(Map.of("x", x, "axes", none)).get("y")) {
                    assertEquals(m == all ? 1 : 12, y.numel());
                }
            }
        }
    }

    @Test
    void aSlicePastTheEndGivesAnEmptyOutputWithoutAPlan() {
        GraphProto g = slice().build();
        try (OnnxModel m = Onnx.load(model(13, g).toByteArray()); Tensor x = Tensor.of(X, 2, 3, 2)) {
            Tensor y = m.run(Map.of("x", x)).get("y");
            try (y) {
                assertEquals(DataType.F32, y.dtype());
                assertArrayEquals(new long[] {2, 0, 2}, y.shape());   // x[:, 5:7]
                assertArrayEquals(new float[0], y.toFloatArray());
            }
        }
    }

    @Test
    void anEmptyOutputBesideAComputedOneIsReturnedEmptyWhileThePlanComputesTheOther() {
        GraphProto g = slice().addNode(node("relu", "Relu", new String[] {"x"}, new String[] {"r"})).addOutput(f32("r", 2, 3, 2)).build();
        try (OnnxModel m = Onnx.load(model(13, g).toByteArray()); Tensor x = Tensor.of(X, 2, 3, 2)) {
            assertEquals(1, m.toGraph().outputs().size(), "the empty output is no output of the graph");
            for (int run = 0; run < 2; run++) {   // the second from the kept plan
                Map<String, Tensor> out = m.run(Map.of("x", x));
                try (Tensor y = out.get("y"); Tensor r = out.get("r")) {
                    assertArrayEquals(new long[] {2, 0, 2}, y.shape());
                    float[] relu = new float[X.length];   // np.maximum(x, 0)
                    for (int i = 0; i < X.length; i++) relu[i] = Math.max(X[i], 0f);
                    assertArrayEquals(relu, r.toFloatArray(), 0f);   // -0.0 for -1 until the fast ReLU is proven after the first run (docs/numerics.md)
                }
            }
        }
    }

    @Test
    void aConcatDropsItsEmptyOperandsAndAPlanThatWouldReadAnEmptyValueIsRefusedNamingTheNode() {
        // np.concatenate([x[:, 5:7], x], axis=1) is x: the empty slice adds nothing (remove_dead_values drops it)
        GraphProto g = slice().clearOutput().addNode(node("cat", "Concat", new String[] {"y", "x"}, new String[] {"c"}, integer("axis", 1)))
                .addOutput(f32("c", 2, 3, 2)).build();
        try (OnnxModel m = Onnx.load(model(13, g).toByteArray()); Tensor x = Tensor.of(X, 2, 3, 2); Tensor c = m.run(Map.of("x", x)).get("c")) {
            assertArrayEquals(X, c.toFloatArray());
        }
        // np.concatenate([x, np.empty((0, 3, 2))]) is x: an empty initializer (raw_data of 0 bytes) too
        GraphProto concat = GraphProto.newBuilder().setName("concat").addInput(f32("x", 2, 3, 2))
                .addInitializer(TestModels.weights("e", new float[0], 0, 3, 2))
                .addNode(node("cat", "Concat", new String[] {"x", "e"}, new String[] {"y"}, integer("axis", 0)))
                .addOutput(f32("y", 2, 3, 2)).build();
        try (OnnxModel m = Onnx.load(model(13, concat).toByteArray()); Tensor x = Tensor.of(X, 2, 3, 2); Tensor y = m.run(Map.of("x", x)).get("y")) {
            assertArrayEquals(X, y.toFloatArray());
        }
        // np.matmul of [2, 4, 0] and [2, 0, 2] is zeros [2, 4, 2] (a sum of nothing): a plan computing the empty slice it reads is refused, naming it
        GraphProto matmul = GraphProto.newBuilder().setName("matmul").addInput(f32("x", 2, 3, 2))
                .addInitializer(i64("starts", 5)).addInitializer(i64("ends", 7)).addInitializer(i64("axes", 1))
                .addNode(node("slice", "Slice", new String[] {"x", "starts", "ends", "axes"}, new String[] {"s"}))   // [2, 0, 2]
                .addInitializer(TestModels.weights("w", new float[0], 2, 4, 0))
                .addNode(node("mm", "MatMul", new String[] {"w", "s"}, new String[] {"y"}))   // [2, 4, 0] x [2, 0, 2] -> [2, 4, 2]
                .addOutput(f32("y", 2, 4, 2)).build();
        try (OnnxModel m = Onnx.load(model(13, matmul).toByteArray()); Tensor x = Tensor.of(X, 2, 3, 2)) {
            OnnxException e = assertThrows(OnnxException.class, () -> m.run(Map.of("x", x)));
            assertTrue(e.getMessage().contains("(Slice)") && e.getMessage().contains("of shape [2, 0, 2] is empty (a size of 0)"), e.getMessage());
        }
    }

    @Test
    void anEmptyBatchGivesEmptyOutputsWhereTheShapesSaySoAndIsRefusedWhereSomethingIsComputed() {
        GraphProto relu = GraphProto.newBuilder().setName("relu").addInput(f32("x", "N", 3))
                .addNode(node("relu", "Relu", new String[] {"x"}, new String[] {"y"})).addOutput(f32("y", "N", 3)).build();
        GraphProto sum = GraphProto.newBuilder().setName("sum").addInput(f32("x", "N", 3))
                .addInitializer(TensorProto.newBuilder().setName("axes").setDataType(TensorProto.DataType.INT64_VALUE).addDims(1).addInt64Data(0))
                .addNode(node("sum", "ReduceSum", new String[] {"x", "axes"}, new String[] {"y"})).addOutput(f32("y", 1, 3)).build();
        try (OnnxModel r = Onnx.load(model(13, relu).toByteArray()); OnnxModel s = Onnx.load(model(13, sum).toByteArray());
             Tensor empty = Tensor.zeros(0, 3); Tensor x = Tensor.of(new float[] {-1, 2, 3}, 1, 3)) {
            try (Tensor y = r.run(Map.of("x", empty)).get("y")) {
                assertArrayEquals(new long[] {0, 3}, y.shape());
            }
            try (Tensor y = r.run(Map.of("x", x)).get("y")) {   // the model's own plan still serves a batch of 1
                assertArrayEquals(new float[] {0, 2, 3}, y.toFloatArray(), 0f);   // -0.0 for -1 until the fast ReLU is proven after the first run (docs/numerics.md)
            }
            // np.sum(np.empty((0, 3)), axis=0, keepdims=True) is [[0, 0, 0]]: a plan would compute it from an empty input
            OnnxException e = assertThrows(OnnxException.class, () -> s.run(Map.of("x", empty)));
            assertTrue(e.getMessage().contains("input 'x' of shape [0, 3] is empty"), e.getMessage());
        }
    }

    /** ReduceSum-13(x f32[2, 3, 2], axes i64[k]) keepdims 1, noop_with_empty_axes {@code noop}. */
    private static dev.panamadnn.onnx.proto.ModelProto reduceSum(long noop) {
        AttributeProto a = integer("noop_with_empty_axes", noop);
        ValueInfoProto axes = ValueInfoProto.newBuilder().setName("axes").setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.INT64_VALUE).setShape(TensorShapeProto.newBuilder()
                        .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("k"))))).build();
        return model(13, GraphProto.newBuilder().setName("reduce_sum").addInput(f32("x", 2, 3, 2)).addInput(axes)
                .addNode(node("sum", "ReduceSum", new String[] {"x", "axes"}, new String[] {"y"}, a)).addOutput(f32("y")).build());
    }

    /** Slice-13 of x f32[2, 3, 2] from 5 to 7 on axis 1 (constants): x[:, 5:7]. */
    private static GraphProto.Builder slice() {
        return GraphProto.newBuilder().setName("slice").addInput(f32("x", 2, 3, 2))
                .addInitializer(i64("starts", 5)).addInitializer(i64("ends", 7)).addInitializer(i64("axes", 1))
                .addNode(node("slice", "Slice", new String[] {"x", "starts", "ends", "axes"}, new String[] {"y"})).addOutput(f32("y", 2, 0, 2));
    }

    private static AttributeProto integer(String name, long v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
    }

    private static TensorProto i64(String name, long v) {
        return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE).addDims(1).addInt64Data(v).build();
    }
}
