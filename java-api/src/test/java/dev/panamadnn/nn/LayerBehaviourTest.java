package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Configuration, naming, ownership and dispatch: the parts the goldens do not show. */
class LayerBehaviourTest {

    @Test
    void toStringIsPyTorchsRepr() {
        try (var linear = new Linear(3, 2, true); var fused = new Linear(4, 5, false, Activation.leakyRelu(0.2f))) {
            assertEquals("Linear(in_features=3, out_features=2, bias=True)", linear.toString());
            assertEquals("Linear(in_features=4, out_features=5, bias=False, activation=LeakyReLU(negative_slope=0.2))", fused.toString());
        }
        assertEquals("LeakyReLU(negative_slope=0.01)", new LeakyReLU().toString());
        assertEquals("GELU(approximate='none')", new GELU().toString());
        assertEquals("GELU(approximate='tanh')", new GELU("tanh").toString());
        assertEquals("ELU(alpha=1.0)", new ELU().toString());
        assertEquals("SiLU()", new SiLU().toString());
        assertEquals("Softmax(dim=-1)", new Softmax(-1).toString());
        assertEquals("Flatten(start_dim=1, end_dim=-1)", new Flatten().toString());
        try (var seq = new Sequential(new Flatten(), new Sequential(new Linear(12, 9, true), new ReLU()), new Softmax(1))) {
            assertEquals("""
                    Sequential(
                      (0): Flatten(start_dim=1, end_dim=-1)
                      (1): Sequential(
                        (0): Linear(in_features=12, out_features=9, bias=True)
                        (1): ReLU()
                      )
                      (2): Softmax(dim=1)
                    )""", seq.toString());
        }
    }

    @Test
    void parametersUsePyTorchStateDictNamesAndLayouts() {
        try (var seq = new Sequential(new Linear(6, 4, true), new Tanh(), new Sequential(new Sequential(new Linear(4, 2, false))))) {
            var p = seq.parameters();
            assertEquals(List.of("0.weight", "0.bias", "2.0.0.weight"), List.copyOf(p.keySet()));
            assertArrayEquals(new long[] {4, 6}, p.get("0.weight").shape());
            assertArrayEquals(new long[] {4}, p.get("0.bias").shape());
            assertArrayEquals(new long[] {2, 4}, p.get("2.0.0.weight").shape());
        }
        try (var noBias = new Linear(3, 2, false)) {
            assertNull(noBias.bias());
            assertEquals(List.of("weight"), List.copyOf(noBias.parameters().keySet()));
        }
    }

    @Test
    void defaultInitialisationIsPyTorchsUniformBound() {
        try (var l = new Linear(16, 8, true)) {
            for (Tensor p : l.parameters().values()) {
                for (float v : p.toFloatArray()) assertTrue(Math.abs(v) <= 0.25f, () -> "|" + v + "| > 1/sqrt(16)");
            }
        }
    }

    @Test
    void weightsWrittenAfterTheFirstCallAreUsed() {
        try (var l = new Linear(2, 1, true); Tensor x = Tensor.of(new float[] {1, 2}, 2)) {
            for (Backend b : Backend.values()) {
                l.weight().setFloat(1f, 0, 0);
                l.weight().setFloat(1f, 0, 1);
                l.bias().setFloat(0f, 0);
                try (Tensor y = l.forward(x, b)) {
                    assertEquals(3f, y.getFloat(0), b.toString());
                }
                l.weight().setFloat(10f, 0, 1);
                l.bias().setFloat(0.5f, 0);
                try (Tensor y = l.forward(x, b)) {
                    assertEquals(21.5f, y.getFloat(0), b.toString());
                }
            }
        }
    }

    @Test
    void autoPicksOpenBlasForSmallProductsAndOneDnnForLargeOnes() {
        try (var small = new Linear(512, 512, true); var large = new Linear(1024, 1024, true)) {
            assertEquals(Backend.OPENBLAS, small.autoBackend(1));
            assertEquals(Backend.ONEDNN, small.autoBackend(4));        // 4 * 512 * 512 > 2^19
            assertEquals(Backend.ONEDNN, large.autoBackend(1));
            assertFalse(small.onednnImplementation(3).isBlank());
        }
        try (var tiny = new Linear(10, 10, true)) {
            assertEquals(Backend.OPENBLAS, tiny.autoBackend(128));
            assertEquals(Backend.ONEDNN, tiny.autoBackend(129));       // many rows: oneDNN even for a tiny product
        }
    }

    @Test
    void flattenOfAContiguousInputIsAViewAndOfAStridedOneACopy() {
        try (Tensor x = NativeVsReferenceTest.random(new long[] {2, 3, 4}, 1); Flatten f = new Flatten()) {
            Tensor y = f.forward(x);
            assertArrayEquals(new long[] {2, 12}, y.shape());
            assertEquals(x.segment().address(), y.segment().address(), "expected a view of the input's memory");
            y.close();   // closing a view frees nothing
            assertTrue(x.isAlive());
            Tensor strided = x.slice(2, 1, 3);
            try (Tensor z = f.forward(strided)) {
                assertArrayEquals(new long[] {2, 6}, z.shape());
                assertArrayEquals(strided.toFloatArray(), z.toFloatArray());
                assertNotEquals(x.segment().scope(), z.segment().scope(), "expected a copy the caller owns");
            }
        }
    }

    @Test
    void sequentialEndingInAViewReturnsATensorTheCallerOwns() {
        try (var seq = new Sequential(new Linear(4, 6, true), new Flatten(0, -1)); Tensor x = Tensor.zeros(2, 4)) {
            Tensor y = seq.forward(x);
            assertArrayEquals(new long[] {12}, y.shape());
            float[] values = y.toFloatArray();
            y.close();
            assertFalse(y.isAlive(), "the result must own its memory, so closing it frees it");
            try (Tensor again = seq.forward(x)) {
                assertArrayEquals(values, again.toFloatArray());
            }
        }
    }

    @Test
    void activationsKeepTheInputShapeIncludingRankZero() {
        try (var gelu = new GELU(); Tensor scalar = Tensor.zeros(); Tensor y = gelu.forward(scalar)) {
            assertArrayEquals(new long[0], y.shape());
            assertEquals(0f, y.getFloat());
        }
        try (var softmax = new Softmax(0); Tensor scalar = Tensor.zeros(); Tensor y = softmax.forward(scalar)) {
            assertEquals(1f, y.getFloat());   // softmax of one value
        }
    }

    @Test
    void softmaxSurvivesValuesBeyondExpsRange() {
        try (var softmax = new Softmax(-1); Tensor x = Tensor.of(new float[] {1000f, 1000f, -1000f, 89f}, 1, 4)) {
            for (Backend b : Backend.values()) {
                try (Tensor y = softmax.forward(x, b)) {
                    float[] v = y.toFloatArray();
                    assertEquals(0.5f, v[0], 1e-6f, b.toString());
                    assertEquals(0.5f, v[1], 1e-6f, b.toString());
                    assertEquals(0f, v[2], b.toString());
                    assertEquals(0f, v[3], b.toString());
                }
            }
        }
    }

    @Test
    void outputShapeFollowsPyTorch() {
        try (var l = new Linear(5, 3, true); var seq = new Sequential(new Flatten(), new Linear(20, 7, false))) {
            assertArrayEquals(new long[] {3}, l.outputShape(5));
            assertArrayEquals(new long[] {2, 4, 3}, l.outputShape(2, 4, 5));
            assertArrayEquals(new long[] {6, 7}, seq.outputShape(6, 4, 5));
        }
        assertArrayEquals(new long[] {2, 60}, new Flatten().outputShape(2, 3, 4, 5));
        assertArrayEquals(new long[] {2, 12, 5}, new Flatten(1, 2).outputShape(2, 3, 4, 5));
        assertArrayEquals(new long[] {1}, new Flatten(0, -1).outputShape());
    }

    @Test
    void closingALayerFreesItsParameters() {
        var l = new Linear(3, 2, true);
        Tensor w = l.weight();
        l.close();
        l.close();   // idempotent
        assertFalse(w.isAlive());
        var seq = new Sequential(new Linear(3, 2, true));
        Tensor inner = seq.parameters().get("0.weight");
        seq.close();
        assertFalse(inner.isAlive());
    }

    @Test
    void linearOnRank1InputGivesRank1Output() {
        try (var l = new Linear(3, 2, false); Tensor x = Tensor.of(new float[] {1, 2, 3}, 3)) {
            MemorySegmentFill.set(l.weight(), 1, 0, 0, 0, 1, 0);
            for (Backend b : Backend.values()) {
                try (Tensor y = l.forward(x, b)) {
                    assertArrayEquals(new float[] {1, 2}, y.toFloatArray(), b.toString());
                }
            }
        }
    }

    private static final class MemorySegmentFill {
        static void set(Tensor t, float... values) {
            for (int i = 0; i < values.length; i++) t.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, values[i]);
        }
    }
}
