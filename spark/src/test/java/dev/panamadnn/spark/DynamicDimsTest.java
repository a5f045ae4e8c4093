package dev.panamadnn.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.NodeProto;
import dev.panamadnn.onnx.proto.OperatorSetIdProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An ONNX model exported with a dynamic length beside the batch, whose shapes need both (x [N, L] reshaped to
 * [Shape(x)[0], -1, 2], the target computed from Shape as torch exports it, then the max of each pair): with
 * {@code inputShape} giving L, the executors import it with L fixed and score it; without, it is refused naming the
 * dynamic dim. Against the pairwise maxima computed here.
 */
class DynamicDimsTest {
    @TempDir
    Path dir;

    private static ValueInfoProto f32(String name, Object... dims) {
        TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
        for (Object d : dims) {
            s.addDim(d instanceof String p ? TensorShapeProto.Dimension.newBuilder().setDimParam(p)
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(((Number) d).longValue()));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(s))).build();
    }

    private Path pairsModel() throws Exception {
        TensorProto zero = TensorProto.newBuilder().setName("zero").setDataType(TensorProto.DataType.INT64_VALUE).addInt64Data(0).build();
        TensorProto axes0 = TensorProto.newBuilder().setName("axes0").setDataType(TensorProto.DataType.INT64_VALUE).addDims(1).addInt64Data(0).build();
        TensorProto rest = TensorProto.newBuilder().setName("rest").setDataType(TensorProto.DataType.INT64_VALUE).addDims(2).addInt64Data(-1)
                .addInt64Data(2).build();
        GraphProto g = GraphProto.newBuilder().setName("pairs").addInitializer(zero).addInitializer(axes0).addInitializer(rest)
                .addInput(f32("x", "N", "L"))
                .addNode(NodeProto.newBuilder().setOpType("Shape").addInput("x").addOutput("s"))
                .addNode(NodeProto.newBuilder().setOpType("Gather").addInput("s").addInput("zero").addOutput("n"))
                .addNode(NodeProto.newBuilder().setOpType("Unsqueeze").addInput("n").addInput("axes0").addOutput("n1"))
                .addNode(NodeProto.newBuilder().setOpType("Concat").addInput("n1").addInput("rest").addOutput("target")
                        .addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(0)))
                .addNode(NodeProto.newBuilder().setOpType("Reshape").addInput("x").addInput("target").addOutput("r"))
                .addNode(NodeProto.newBuilder().setOpType("ReduceMax").addInput("r").addOutput("y")
                        .addAttribute(AttributeProto.newBuilder().setName("axes").setType(AttributeProto.AttributeType.INTS).addInts(2))
                        .addAttribute(AttributeProto.newBuilder().setName("keepdims").setType(AttributeProto.AttributeType.INT).setI(0)))
                .addOutput(f32("y", "N", "H")).build();
        Path file = dir.resolve("pairs.onnx");
        Files.write(file, ModelProto.newBuilder().setIrVersion(8).setProducerName("test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(g).build().toByteArray());
        return file;
    }

    @Test
    void inputShapeSizesTheModelsDynamicLength() throws Exception {
        Path file = pairsModel();
        int n = 37;
        float[][] rows = new float[n][6];
        for (int i = 0; i < n; i++) for (int j = 0; j < 6; j++) rows[i][j] = (float) Math.sin(i * 6 + j * 1.7) * (j + 1);
        Dataset<Row> df = SparkTests.frame(rows, 3);
        PanamaModel model = new PanamaModel().setModelPath(file.toString()).setInputShape(6).setOutputCol("pairs").setBatchSize(8);
        float[][] got = SparkTests.byId(model.transform(df), "pairs", n);
        for (int i = 0; i < n; i++) {
            float[] want = new float[3];
            for (int p = 0; p < 3; p++) want[p] = Math.max(rows[i][2 * p], rows[i][2 * p + 1]);
            assertArrayEquals(want, got[i], "row " + i + ": the max of each pair");
        }
        Exception e = assertThrows(Exception.class, () -> new PanamaModel().setModelPath(file.toString()).setOutputCol("pairs")
                .transform(df).collectAsList());
        String msg = String.valueOf(e.getMessage()) + (e.getCause() == null ? "" : " " + e.getCause().getMessage());
        assertTrue(msg.contains("only the batch may be symbolic"), "without inputShape, the dynamic L is refused by name: " + msg);
    }
}
