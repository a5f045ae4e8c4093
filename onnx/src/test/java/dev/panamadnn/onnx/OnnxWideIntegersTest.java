package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * UINT64, UINT16, UINT32 and INT16 in an ONNX model: initializers in their typed fields (uint64_data for UINT32/UINT64,
 * int32_data for the 16-bit types, as onnx.proto stores them), graph inputs bound per call by value (two calls whose
 * inputs agree in their first bytes but not in their values must each get their own result), outputs of their dtypes.
 * Expected values from numpy 1.24: {@code np.maximum(x, c64)}, {@code np.mod(y, c16)}, {@code w // c32} and
 * {@code np.minimum(z, ci16)} on arrays of the same dtype.
 */
class OnnxWideIntegersTest {
    private static ValueInfoProto typed(String name, int elemType) {
        TensorShapeProto s = TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(3)).build();
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s))).build();
    }

    private static TensorProto uint64Data(String name, int elemType, long... v) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(elemType).addDims(v.length);
        for (long x : v) t.addUint64Data(x);
        return t.build();
    }

    private static TensorProto int32Data(String name, int elemType, int... v) {
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(elemType).addDims(v.length);
        for (int x : v) t.addInt32Data(x);
        return t.build();
    }

    private static Tensor input(DataType t, long... v) {
        MemorySegment s = Arena.ofAuto().allocate((long) v.length * t.byteSize(), t.byteSize());
        for (int i = 0; i < v.length; i++) {
            switch (t.byteSize()) {
                case 2 -> s.setAtIndex(ValueLayout.JAVA_SHORT, i, (short) v[i]);
                case 4 -> s.setAtIndex(ValueLayout.JAVA_INT, i, (int) v[i]);
                default -> s.setAtIndex(ValueLayout.JAVA_LONG, i, v[i]);
            }
        }
        return Tensor.wrap(s, t, v.length);
    }

    private static long[] values(Tensor t) {
        long[] out = new long[(int) t.numel()];
        for (int i = 0; i < out.length; i++) {
            out[i] = switch (t.dtype()) {
                case I16 -> t.segment().getAtIndex(ValueLayout.JAVA_SHORT, i);
                case U16 -> t.segment().getAtIndex(ValueLayout.JAVA_SHORT, i) & 0xffff;
                case U32 -> t.segment().getAtIndex(ValueLayout.JAVA_INT, i) & 0xffffffffL;
                default -> t.segment().getAtIndex(ValueLayout.JAVA_LONG, i);
            };
        }
        return out;
    }

    @Test
    void typedInitializersAndInputsOfEveryWidth() {
        int u64 = TensorProto.DataType.UINT64_VALUE, u32 = TensorProto.DataType.UINT32_VALUE, u16 = TensorProto.DataType.UINT16_VALUE,
                i16 = TensorProto.DataType.INT16_VALUE;
        GraphProto g = GraphProto.newBuilder().setName("wide")
                .addInput(typed("x", u64)).addInput(typed("y", u16)).addInput(typed("w", u32)).addInput(typed("z", i16))
                .addInitializer(uint64Data("c64", u64, Long.MIN_VALUE, 5, -1))   // 2^63, 5, 2^64 - 1
                .addInitializer(int32Data("c16", u16, 65535, 7, 300))
                .addInitializer(uint64Data("c32", u32, 4000000000L, 3, 1))
                .addInitializer(int32Data("ci16", i16, -3, -32768, 32767))
                .addNode(TestModels.node("max", "Max", new String[] {"x", "c64"}, new String[] {"m"}))
                .addNode(TestModels.node("mod", "Mod", new String[] {"y", "c16"}, new String[] {"r"}))
                .addNode(TestModels.node("div", "Div", new String[] {"w", "c32"}, new String[] {"q"}))
                .addNode(TestModels.node("min", "Min", new String[] {"z", "ci16"}, new String[] {"n"}))
                .addOutput(typed("m", u64)).addOutput(typed("r", u16)).addOutput(typed("q", u32)).addOutput(typed("n", i16)).build();
        try (OnnxModel model = Onnx.load(TestModels.model(13, g).toByteArray())) {
            Map<String, Tensor> first = model.run(Map.of("x", input(DataType.U64, 1, 2, 3), "y", input(DataType.U16, 1, 2, 3),
                    "w", input(DataType.U32, 4294967295L, 10, 7), "z", input(DataType.I16, 1, 2, 3)));
            assertEquals(DataType.U64, first.get("m").dtype());
            assertArrayEquals(new long[] {Long.MIN_VALUE, 5, -1}, values(first.get("m")));   // 2^63, 5, 2^64 - 1
            assertArrayEquals(new long[] {1, 2, 3}, values(first.get("r")));
            assertArrayEquals(new long[] {1, 3, 7}, values(first.get("q")));
            assertArrayEquals(new long[] {-3, -32768, 3}, values(first.get("n")));
            // the same first three bytes in every input, other values
            Map<String, Tensor> second = model.run(Map.of("x", input(DataType.U64, Long.MIN_VALUE + 1, 257, 0), "y", input(DataType.U16, 1, 65282, 60000),
                    "w", input(DataType.U32, 4294967295L, 266, 7), "z", input(DataType.I16, 1, -32766, -1)));
            assertArrayEquals(new long[] {Long.MIN_VALUE + 1, 257, -1}, values(second.get("m")));   // 2^63 + 1, 257, 2^64 - 1
            assertArrayEquals(new long[] {1, 0, 0}, values(second.get("r")));
            assertArrayEquals(new long[] {1, 88, 7}, values(second.get("q")));
            assertArrayEquals(new long[] {-3, -32768, -1}, values(second.get("n")));
        }
    }
}
