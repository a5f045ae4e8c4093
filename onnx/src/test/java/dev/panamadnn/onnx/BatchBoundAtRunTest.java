package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Models with one batch symbol whose ops need its value: a Pad of the batch dim itself, and a Softmax of opset 11 over
 * axis 0 (flatten-to-2-D: one softmax over every element of the batch). Their shapes cannot be inferred with the batch
 * symbolic, so the import refused them at load, although ONNX Runtime runs them at any batch; found by a differential
 * probe against ONNX Runtime 1.23.2 (233 and 35 of 3,000 random graphs with a symbolic batch). They now load when an
 * import with the batch bound to 1, 2, 3, 4 or 8 succeeds, and {@link OnnxModel#run} binds each call's shapes (a plan per
 * shape, as for two-symbol models). A model that imports at none of them is still refused at load. Expected values from NumPy
 * ({@code np.pad(x, ((1, 0), (0, 0)), constant_values=0.25)}; softmax over all of {@code x} in float64).
 *
 * <p>ONNX makes a graph output's shape optional. Such a model whose outputs declare none was refused at load (the
 * declared outputs are what {@link OnnxModel#outputs()} reports for it): 483 refusals in 2,000 random graphs with a symbolic batch
 * and second operands fed as inputs (probe of 2026-12-07, seed 5702; with the outputs' shapes declared, 51). An output
 * without a declared shape now takes its rank from the trial imports, a dim that differs between them becoming a
 * symbol of its own; where values bound per call decide the shape, its rank comes from an import with zeros or ones
 * bound (every dim a symbol), and where no trial import tells it, the refusal names the output.
 */
class BatchBoundAtRunTest {
    private static float[] x(int n) {
        float[] x = new float[n * 3];
        for (int i = 0; i < x.length; i++) x[i] = i * 0.5f - 1;
        return x;
    }

    private static byte[] padOfTheBatch() {
        GraphProto g = GraphProto.newBuilder().setName("pad_batch").addInput(TestModels.f32("x", "N", 3)).addOutput(TestModels.f32("y", "M", 3))
                .addInitializer(TensorProto.newBuilder().setName("pads").setDataType(TensorProto.DataType.INT64_VALUE).addDims(4)
                        .addInt64Data(1).addInt64Data(0).addInt64Data(0).addInt64Data(0))
                .addInitializer(TensorProto.newBuilder().setName("value").setDataType(TensorProto.DataType.FLOAT_VALUE).addFloatData(0.25f))
                .addNode(TestModels.node("pad", "Pad", new String[] {"x", "pads", "value"}, new String[] {"y"})).build();
        return TestModels.model(13, g).toByteArray();
    }

    /** {@link #padOfTheBatch()} with its output declared as a float tensor without a shape. */
    private static byte[] padOfTheBatchWithoutOutputShape() {
        GraphProto g = GraphProto.newBuilder().setName("pad_batch").addInput(TestModels.f32("x", "N", 3)).addOutput(shapeless("y"))
                .addInitializer(TensorProto.newBuilder().setName("pads").setDataType(TensorProto.DataType.INT64_VALUE).addDims(4)
                        .addInt64Data(1).addInt64Data(0).addInt64Data(0).addInt64Data(0))
                .addInitializer(TensorProto.newBuilder().setName("value").setDataType(TensorProto.DataType.FLOAT_VALUE).addFloatData(0.25f))
                .addNode(TestModels.node("pad", "Pad", new String[] {"x", "pads", "value"}, new String[] {"y"})).build();
        return TestModels.model(13, g).toByteArray();
    }

    private static ValueInfoProto shapeless(String name) {
        return ValueInfoProto.newBuilder().setName(name)
                .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))).build();
    }

    @Test
    void anOutputDeclaredWithoutAShapeGetsTheTrialImportsShape() {
        try (OnnxModel m = Onnx.load(padOfTheBatchWithoutOutputShape())) {
            assertEquals("[y: f32[y_d0, 3]]", m.outputs().toString());
            try (Tensor in = Tensor.of(x(2), 2, 3)) {
                assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f}, TestModels.outputValues(m, Map.of("x", in), "y"));
            }
            try (Tensor in = Tensor.of(x(3), 3, 3)) {
                assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f, 3.0f},
                        TestModels.outputValues(m, Map.of("x", in), "y"));
            }
        }
    }

    /** x [2, 6] reshaped to a shape given per call (an int64 input of {@code length} elements): the output declares no shape. */
    private static GraphProto reshapeByInput(int length) {
        return byInput("Reshape", length);
    }

    /** {@code op}(x [2, 6], an int64 input of {@code length} elements), its output declared without a shape. */
    private static GraphProto byInput(String op, int length) {
        return GraphProto.newBuilder().setName("by_input").addInput(TestModels.f32("x", 2, 6))
                .addInput(ValueInfoProto.newBuilder().setName("shape").setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                        .setElemType(TensorProto.DataType.INT64_VALUE).setShape(dev.panamadnn.onnx.proto.TensorShapeProto.newBuilder()
                                .addDim(dev.panamadnn.onnx.proto.TensorShapeProto.Dimension.newBuilder().setDimValue(length))))))
                .addOutput(shapeless("y")).addNode(TestModels.node("r", op, new String[] {"x", "shape"}, new String[] {"y"})).build();
    }

    @Test
    void anOutputWithoutAShapeThatValuesDecideTakesItsRankFromATrial() {
        // the rank is the shape input's length (2); its sizes are the call's values: both dims symbols
        try (OnnxModel m = Onnx.load(TestModels.model(13, reshapeByInput(2)).toByteArray())) {
            assertEquals("[y: f32[y_d0, y_d1]]", m.outputs().toString());
            for (long[] shape : new long[][] {{3, 4}, {12, 1}}) {
                try (Tensor in = Tensor.of(x(4), 2, 6); Tensor s = Tensor.allocate(java.lang.foreign.Arena.ofAuto(), dev.panamadnn.DataType.I64, 2)) {
                    s.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, 0, shape[0]);
                    s.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, 1, shape[1]);
                    Map<String, Tensor> out = m.run(Map.of("x", in, "shape", s));
                    try {
                        assertArrayEquals(shape, out.get("y").shape());
                        assertArrayEquals(x(4), out.get("y").toFloatArray());   // a reshape moves no element (row-major order)
                    } finally {
                        out.values().forEach(Tensor::close);
                    }
                }
            }
        }
    }

    @Test
    void aThreeValueShapeTakesItsRankFromMinusOneThenOnes() {
        // zeros ask for x's nonexistent dim 2 and ones for 1 element of 12: only [-1, 1, 1] imports
        try (OnnxModel m = Onnx.load(TestModels.model(13, reshapeByInput(3)).toByteArray())) {
            assertEquals("[y: f32[y_d0, y_d1, y_d2]]", m.outputs().toString());
            try (Tensor in = Tensor.of(x(4), 2, 6); Tensor s = Tensor.allocate(java.lang.foreign.Arena.ofAuto(), dev.panamadnn.DataType.I64, 3)) {
                long[] shape = {2, 3, 2};
                for (int i = 0; i < 3; i++) s.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, i, shape[i]);
                Map<String, Tensor> out = m.run(Map.of("x", in, "shape", s));
                try {
                    assertArrayEquals(shape, out.get("y").shape());
                    assertArrayEquals(x(4), out.get("y").toFloatArray());
                } finally {
                    out.values().forEach(Tensor::close);
                }
            }
        }
    }

    @Test
    void anOutputWithoutAShapeNoTrialTellsIsRefusedByName() {
        // Tile's repeats must have x's rank (2); 3 values import with none (the model is invalid: run would refuse it too)
        OnnxException e = assertThrows(OnnxException.class, () -> Onnx.load(TestModels.model(13, byInput("Tile", 3)).toByteArray()).close());
        assertTrue(e.getMessage().contains("graph output(s) 'y' declare no shape, and no import at concrete sizes, or with zeros, ones or"),
                e.getMessage());
    }

    private static byte[] legacySoftmaxOverTheBatch() {
        GraphProto g = GraphProto.newBuilder().setName("softmax_batch").addInput(TestModels.f32("x", "N", 3)).addOutput(TestModels.f32("y", "N", 3))
                .addNode(TestModels.node("sm", "Softmax", new String[] {"x"}, new String[] {"y"},
                        AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT).setI(0).build())).build();
        return TestModels.model(11, g).toByteArray();
    }

    @Test
    void aPadOfTheBatchDimRunsAtEachCallsBatch() {
        try (OnnxModel m = Onnx.load(padOfTheBatch())) {
            try (Tensor in = Tensor.of(x(2), 2, 3)) {
                assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f}, TestModels.outputValues(m, Map.of("x", in), "y"));
            }
            try (Tensor in = Tensor.of(x(3), 3, 3)) {
                assertArrayEquals(new float[] {0.25f, 0.25f, 0.25f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 1.5f, 2.0f, 2.5f, 3.0f},
                        TestModels.outputValues(m, Map.of("x", in), "y"));
            }
            OnnxException e = assertThrows(OnnxException.class, m::toGraph);
            assertTrue(e.getMessage().contains("cannot pad the symbolic dim 0"), e.getMessage());
        }
    }

    @Test
    void aLegacySoftmaxOverTheBatchRunsAtEachCallsBatch() {
        try (OnnxModel m = Onnx.load(legacySoftmaxOverTheBatch())) {
            try (Tensor in = Tensor.of(x(2), 2, 3)) {
                TestModels.assertWithin(new float[] {0.03399020433425903f, 0.05604036897420883f, 0.09239494800567627f, 0.15233352780342102f,
                        0.2511555254459381f, 0.4140854477882385f}, TestModels.outputValues(m, Map.of("x", in), "y"), "batch 2");
            }
            try (Tensor in = Tensor.of(x(3), 3, 3)) {
                TestModels.assertWithin(new float[] {0.007287600077688694f, 0.012015221640467644f, 0.019809750840067863f, 0.03266075998544693f,
                        0.05384848639369011f, 0.08878114819526672f, 0.1463753581047058f, 0.24133217334747314f, 0.39788949489593506f},
                        TestModels.outputValues(m, Map.of("x", in), "y"), "batch 3");
            }
        }
    }

    @Test
    void aModelValidOnlyFromBatchThreeLoadsAndRuns() {
        // A Pad cropping 2 rows off the batch: no batch of 1 or 2 survives it, 3 does (NumPy: x[2:])
        GraphProto g = GraphProto.newBuilder().setName("crop").addInput(TestModels.f32("x", "N", 3)).addOutput(TestModels.f32("y", "M", 3))
                .addInitializer(TensorProto.newBuilder().setName("pads").setDataType(TensorProto.DataType.INT64_VALUE).addDims(4)
                        .addInt64Data(-2).addInt64Data(0).addInt64Data(0).addInt64Data(0))
                .addNode(TestModels.node("pad", "Pad", new String[] {"x", "pads"}, new String[] {"y"})).build();
        try (OnnxModel m = Onnx.load(TestModels.model(13, g).toByteArray()); Tensor in = Tensor.of(x(3), 3, 3)) {
            assertArrayEquals(new float[] {2.0f, 2.5f, 3.0f}, TestModels.outputValues(m, Map.of("x", in), "y"));
        }
    }

    @Test
    void aModelThatImportsAtNoBatchIsStillRefusedAtLoad() {
        // A Pad cropping 9 rows off the batch dim: none of the sizes tried at load (1, 2, 3, 4, 8) survives it.
        GraphProto g = GraphProto.newBuilder().setName("never").addInput(TestModels.f32("x", "N", 3)).addOutput(TestModels.f32("y", "M", "K"))
                .addInitializer(TensorProto.newBuilder().setName("pads").setDataType(TensorProto.DataType.INT64_VALUE).addDims(4)
                        .addInt64Data(-9).addInt64Data(0).addInt64Data(0).addInt64Data(0))
                .addNode(TestModels.node("pad", "Pad", new String[] {"x", "pads"}, new String[] {"y"})).build();
        OnnxException e = assertThrows(OnnxException.class, () -> Onnx.load(TestModels.model(13, g).toByteArray()).close());
        assertTrue(e.getMessage().contains("cannot pad the symbolic dim 0"), e.getMessage());
    }
}
