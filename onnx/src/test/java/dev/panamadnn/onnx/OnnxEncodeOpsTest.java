package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.Tensor;
import dev.panamadnn.DataType;
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
 * The encoding ops where ONNX's backend suite leaves a form untested: OneHot before opset 11 (a negative index is out
 * of range, a line of off) and from 11 (it counts from the end); CumSum of a bound I64 attention mask (the suite's
 * cases are DOUBLE); EyeLike with an I64 dtype and a negative k; BitShift by the type's width or more (the suite's cases
 * shift less). Expected values by ONNX's rule in numpy 1.24:
 * {@code np.where(np.arange(depth) == j, on, off)}, j the index (opset 11: plus depth where negative).
 */
class OnnxEncodeOpsTest {
    private static float[] run(int opset, GraphProto g, Map<String, Tensor> inputs) {
        try (OnnxModel m = Onnx.load(TestModels.model(opset, g).toByteArray())) {
            return m.run(inputs).get("y").toFloatArray();
        }
    }

    @Test
    void oneHotNegativeIndicesAreOffBeforeOpset11AndFromTheEndAfter() {
        GraphProto g = GraphProto.newBuilder().setName("one_hot").addInput(TestModels.f32("x", 4)).addOutput(TestModels.f32("y"))
                .addInitializer(TestModels.weights("depth", new float[] {3}, 1)).addInitializer(TestModels.weights("values", new float[] {0, 1}, 2))
                .addNode(TestModels.node("h", "OneHot", new String[] {"x", "depth", "values"}, new String[] {"y"})).build();
        try (Tensor x = Tensor.of(new float[] {1, -1, 3, 0}, 4)) {
            assertArrayEquals(new float[] {0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0}, run(10, g, Map.of("x", x)));
            assertArrayEquals(new float[] {0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0}, run(11, g, Map.of("x", x)));
        }
    }

    private static ValueInfoProto typed(String name, int elemType, long... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (long d : dims) s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s))).build();
    }

    private static long[] longs(Tensor t) {
        assertEquals(DataType.I64, t.dtype());
        long[] v = new long[(int) t.numel()];
        for (int i = 0; i < v.length; i++) v[i] = t.segment().getAtIndex(ValueLayout.JAVA_LONG, i);
        return v;
    }

    @Test
    void positionIdsFromABoundAttentionMaskAreSummedExactly() {
        // HF text models: position_ids = attention_mask.long().cumsum(-1) - 1
        TensorProto axis = TensorProto.newBuilder().setName("axis").setDataType(TensorProto.DataType.INT64_VALUE).addInt64Data(-1).build();
        TensorProto one = TensorProto.newBuilder().setName("one").setDataType(TensorProto.DataType.INT64_VALUE).addInt64Data(1).build();
        GraphProto g = GraphProto.newBuilder().setName("positions").addInput(typed("mask", TensorProto.DataType.INT64_VALUE, 2, 5))
                .addOutput(typed("y", TensorProto.DataType.INT64_VALUE)).addInitializer(axis).addInitializer(one)
                .addNode(TestModels.node("c", "CumSum", new String[] {"mask", "axis"}, new String[] {"s"}))
                .addNode(TestModels.node("d", "Sub", new String[] {"s", "one"}, new String[] {"y"})).build();
        try (OnnxModel m = Onnx.load(TestModels.model(14, g).toByteArray());
             Tensor mask = Tensor.wrap(Arena.ofAuto().allocateFrom(ValueLayout.JAVA_LONG, 0, 0, 1, 1, 1, 1, 1, 1, 1, 0), DataType.I64, 2, 5)) {
            assertArrayEquals(new long[] {-1, -1, 0, 1, 2, 0, 1, 2, 3, 3}, longs(m.run(Map.of("mask", mask)).get("y")));   // numpy 1.24
        }
    }

    @Test
    void eyeLikeOnAnyDiagonalAndDtype() {
        AttributeProto k = AttributeProto.newBuilder().setName("k").setType(AttributeProto.AttributeType.INT).setI(2).build();
        AttributeProto i64 = AttributeProto.newBuilder().setName("dtype").setType(AttributeProto.AttributeType.INT).setI(TensorProto.DataType.INT64_VALUE).build();
        GraphProto g = GraphProto.newBuilder().setName("eye").addInput(TestModels.f32("x", 3, 5)).addOutput(typed("y", TensorProto.DataType.INT64_VALUE))
                .addNode(TestModels.node("e", "EyeLike", new String[] {"x"}, new String[] {"y"}, k, i64)).build();
        try (OnnxModel m = Onnx.load(TestModels.model(9, g).toByteArray()); Tensor x = Tensor.of(new float[15], 3, 5)) {
            // numpy 1.24: np.eye(3, 5, k=2, dtype=np.int64)
            assertArrayEquals(new long[] {0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1}, longs(m.run(Map.of("x", x)).get("y")));
        }
        k = AttributeProto.newBuilder().setName("k").setType(AttributeProto.AttributeType.INT).setI(-1).build();
        g = GraphProto.newBuilder().setName("eye").addInput(TestModels.f32("x", 4, 3)).addOutput(TestModels.f32("y"))
                .addNode(TestModels.node("e", "EyeLike", new String[] {"x"}, new String[] {"y"}, k)).build();
        try (Tensor x = Tensor.of(new float[12], 4, 3)) {
            // numpy 1.24: np.eye(4, 3, k=-1, dtype=np.float32)
            assertArrayEquals(new float[] {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}, run(9, g, Map.of("x", x)));
        }
    }

    /** BitShift of x and y bound per call (ONNX's backend suite feeds them so), of {@code elemType} (U8 or U64 here). */
    private static long[] shift(String direction, int elemType, DataType t, long[] x, long[] y) {
        AttributeProto d = AttributeProto.newBuilder().setName("direction").setType(AttributeProto.AttributeType.STRING)
                .setS(com.google.protobuf.ByteString.copyFromUtf8(direction)).build();
        GraphProto g = GraphProto.newBuilder().setName("shift").addInput(typed("x", elemType, x.length)).addInput(typed("y", elemType, y.length))
                .addOutput(typed("z", elemType)).addNode(TestModels.node("s", "BitShift", new String[] {"x", "y"}, new String[] {"z"}, d)).build();
        try (OnnxModel m = Onnx.load(TestModels.model(11, g).toByteArray()); Tensor tx = unsigned(t, x); Tensor ty = unsigned(t, y)) {
            Tensor z = m.run(Map.of("x", tx, "y", ty)).get("z");
            assertEquals(t, z.dtype());
            long[] v = new long[(int) z.numel()];
            for (int i = 0; i < v.length; i++) v[i] = t == DataType.U8 ? z.segment().get(ValueLayout.JAVA_BYTE, i) & 0xff : z.segment().getAtIndex(ValueLayout.JAVA_LONG, i);
            return v;
        }
    }

    private static Tensor unsigned(DataType t, long[] v) {
        java.lang.foreign.MemorySegment s = Arena.ofAuto().allocate(v.length * t.byteSize(), 8);
        for (int i = 0; i < v.length; i++) {
            if (t == DataType.U8) s.set(ValueLayout.JAVA_BYTE, i, (byte) v[i]);
            else s.setAtIndex(ValueLayout.JAVA_LONG, i, v[i]);
        }
        return Tensor.wrap(s, t, v.length);
    }

    @Test
    void bitShiftLosesTheBitsShiftedOutAndGivesZeroForAWidthOrMore() {
        // numpy 1.24: np.left_shift / np.right_shift of uint64 [16, 255, 1, 2^63 + 5] by [1, 8, 70, 1], of uint8 [16, 255, 1, 129] alike
        long[] x64 = {16, 255, 1, Long.MIN_VALUE + 5}, by = {1, 8, 70, 1};
        assertArrayEquals(new long[] {32, 65280, 0, 10}, shift("LEFT", TensorProto.DataType.UINT64_VALUE, DataType.U64, x64, by));
        assertArrayEquals(new long[] {8, 0, 0, 4611686018427387906L}, shift("RIGHT", TensorProto.DataType.UINT64_VALUE, DataType.U64, x64, by));
        long[] x8 = {16, 255, 1, 129};
        assertArrayEquals(new long[] {32, 0, 0, 2}, shift("LEFT", TensorProto.DataType.UINT8_VALUE, DataType.U8, x8, by));
        assertArrayEquals(new long[] {8, 0, 0, 64}, shift("RIGHT", TensorProto.DataType.UINT8_VALUE, DataType.U8, x8, by));
    }
}
