package dev.panamadnn.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Shape inference with value propagation on PyTorch models exported to ONNX (opset 13): every
 * value's dtype and shape as ONNX's own shape inference ({@code infer_shapes(data_prop=True)})
 * gives it, with the symbolic batch N, and the shape-computing chains known once bound.
 */
class OnnxExportShapesTest {
    private static final Map<String, OnnxTextGraphs.Model> MODELS = OnnxTextGraphs.load();

    /** Every value ONNX inferred completely has that dtype and shape here (symbolic N before binding). */
    @TestFactory
    Stream<DynamicTest> shapesMatchOnnxShapeInference() {
        List<DynamicTest> tests = new ArrayList<>();
        for (OnnxTextGraphs.Model m : MODELS.values()) {
            tests.add(DynamicTest.dynamicTest(m.name(), () -> {
                assertTrue(m.onnxShapes().size() >= 3 || m.name().equals("embedding"), "few shapes for " + m.name());
                for (Map.Entry<String, String> e : m.onnxShapes().entrySet()) {
                    Value v = m.graph().value(e.getKey());
                    String[] expected = e.getValue().split(" ");
                    assertEquals(expected[0], v.dtype().name(), m.name() + ": dtype of " + v);
                    assertEquals(OnnxTextGraphs.shape(expected[1]), v.shape(), m.name() + ": shape of " + v);
                }
            }));
        }
        return tests.stream();
    }

    /** After binding N, every output has PyTorch's shape at that batch, and the shape chain's values are known. */
    @TestFactory
    Stream<DynamicTest> boundShapesMatchPyTorch() {
        List<DynamicTest> tests = new ArrayList<>();
        for (OnnxTextGraphs.Model m : MODELS.values()) {
            for (int batch : m.outputs().keySet()) {
                tests.add(DynamicTest.dynamicTest(m.name() + " N=" + batch, () -> {
                    Graph g = m.graph().bind(Map.of("N", (long) batch));
                    for (Map.Entry<String, OnnxTextGraphs.Data> e : m.outputs().get(batch).entrySet()) {
                        assertArrayEquals(e.getValue().dims(), g.value(e.getKey()).shape().sizes(), m.name() + ": " + e.getKey());
                    }
                }));
            }
        }
        return tests.stream();
    }

    /** x.view(x.size(0), -1): before binding the Concat is [N, -1] (symbolic) and Reshape gets [N, 60]; bound, it is a known [3, -1]. */
    @Test
    void viewFlattenChainIsKnownOnceBound() {
        Graph g = MODELS.get("view_flatten").graph();
        assertNull(g.knownValue("/Concat_output_0"), "symbolic before binding");
        assertEquals(Shape.of(Dim.symbol("N"), Dim.of(60)), g.value("y").shape());
        Graph bound = g.bind(Map.of("N", 3L));
        Tensor shape = bound.knownValue("/Concat_output_0");
        assertNotNull(shape);
        assertEquals(DataType.I64, shape.dtype());
        assertEquals(3L, shape.segment().getAtIndex(ValueLayout.JAVA_LONG, 0));
        assertEquals(-1L, shape.segment().getAtIndex(ValueLayout.JAVA_LONG, 1));
        assertNull(bound.knownValue("/Relu_output_0"), "an activation is never known");
    }

    /** The Expand chain torch exports for x.shape[0] (ConstantOfShape, Mul, Equal, Where on I64) resolves, symbolic and at batch 5. */
    @Test
    void expandShapeChainResolves() {
        Graph g = MODELS.get("expand_where").graph();
        assertEquals(Shape.of(Dim.symbol("N"), Dim.of(4)), g.value("/Expand_output_0").shape());
        Graph bound = g.bind(Map.of("N", 5L));
        Tensor where = bound.knownValue("/Where_output_0");
        assertNotNull(where);
        assertEquals(5L, where.segment().getAtIndex(ValueLayout.JAVA_LONG, 0));
        assertEquals(4L, where.segment().getAtIndex(ValueLayout.JAVA_LONG, 1));
        assertEquals(DataType.BOOL, bound.value("/Equal_output_0").dtype());
        assertEquals("bool[2]", bound.value("/Equal_output_0").type().toLowerCase(Locale.ROOT));
        assertNotNull(bound.knownValue("/Expand_output_0"), "a constant expanded to a known shape is known");
    }
}
