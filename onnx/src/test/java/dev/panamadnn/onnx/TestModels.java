package dev.panamadnn.onnx;

import com.google.protobuf.ByteString;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.NodeProto;
import dev.panamadnn.onnx.proto.OperatorSetIdProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import dev.panamadnn.Tensor;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** Small ONNX models built in code for the error tests, and the backend suite's location. */
final class TestModels {
    private TestModels() {}

    /** Runs {@code m} on {@code inputs} and returns output {@code name}'s values, every output tensor closed. */
    static float[] outputValues(OnnxModel m, Map<String, Tensor> inputs, String name) {
        Map<String, Tensor> out = m.run(inputs);
        try {
            return out.get(name).toFloatArray();
        } finally {
            out.values().forEach(Tensor::close);
        }
    }

    /** Every {@code want[i]} matched by {@code got[i]} within 1e-5 + 1e-5 |want[i]|, the message naming {@code what} and the element. */
    static void assertWithin(float[] want, float[] got, String what) {
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(got[i] - want[i]) <= 1e-5 + 1e-5 * Math.abs(want[i]), what + ": y[" + i + "] = " + got[i] + ", expected " + want[i]);
        }
    }

    /** A case directory of ONNX's backend suite (e.g. "pytorch-converted/test_Conv2d"). */
    static Path backendCase(String id) {
        return BackendSuiteTest.DATA.resolve(id);
    }

    static ValueInfoProto f32(String name, Object... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            if (d instanceof String p) s.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(p));
            else s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) d).longValue()));
        }
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s)))
                .build();
    }

    static NodeProto node(String name, String op, String[] inputs, String[] outputs, AttributeProto... attrs) {
        NodeProto.Builder n = NodeProto.newBuilder().setName(name).setOpType(op);
        for (String i : inputs) n.addInput(i);
        for (String o : outputs) n.addOutput(o);
        for (AttributeProto a : attrs) n.addAttribute(a);
        return n.build();
    }

    static AttributeProto ints(String name, long... v) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long x : v) a.addInts(x);
        return a.build();
    }

    static AttributeProto string(String name, String v) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.STRING).setS(ByteString.copyFromUtf8(v)).build();
    }

    /** An F32 initializer with raw_data. */
    static TensorProto weights(String name, float[] values, long... dims) {
        ByteBuffer b = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float v : values) b.putFloat(v);
        TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.FLOAT_VALUE).setRawData(ByteString.copyFrom(b.array()));
        for (long d : dims) t.addDims(d);
        return t.build();
    }

    /** A model of opset {@code opset} with the given graph. */
    static ModelProto model(int opset, GraphProto graph) {
        return ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).setGraph(graph).build();
    }

    /** x [N, 2, 4, 4] -> Conv(W [3, 2, 1, 1]) -> Relu -> y: valid, used as the base of the error tests. */
    static GraphProto.Builder convRelu() {
        float[] w = new float[6];
        for (int i = 0; i < w.length; i++) w[i] = (i - 2) * 0.25f;
        return GraphProto.newBuilder().setName("conv_relu")
                .addInput(f32("x", "N", 2, 4, 4))
                .addInitializer(weights("W", w, 3, 2, 1, 1))
                .addNode(node("conv", "Conv", new String[] {"x", "W"}, new String[] {"c"}, ints("kernel_shape", 1, 1)))
                .addNode(node("relu", "Relu", new String[] {"c"}, new String[] {"y"}))
                .addOutput(f32("y", "N", 3, 4, 4));
    }
}
