package dev.panamadnn.graph;

import static dev.panamadnn.graph.GraphTesting.assertGraphError;
import static dev.panamadnn.graph.GraphTesting.infer;
import static dev.panamadnn.graph.GraphTesting.oneNode;
import static dev.panamadnn.graph.GraphTesting.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Shape rules of the math ops and their errors. Expected shapes are ONNX's own shape inference,
 * printed by {@code scripts/goldens/generate_math_shapes.py} (case names quoted; N = 3 there).
 */
class MathShapesTest {
    private static Attributes attrs(Object... kv) {
        return Attributes.of(kv);
    }

    @Test
    void elementwiseOpsBroadcast() {
        assertEquals(shape("[N, 4, 5]"), infer("Pow", Attributes.empty(), List.of("[N, 1, 5]", "[4, 1]")));   // pow_broadcast [3, 4, 5]
        assertEquals(shape("[N, 4, 5]"), infer("Max", Attributes.empty(), List.of("[N, 4, 1]", "[5]")));      // max_two [3, 4, 5]
        assertEquals(shape("[N, 4]"), infer("Min", Attributes.empty(), List.of("[N, 4]")));
        assertEquals(shape("[N, 4, 5]"), infer("PRelu", Attributes.empty(), List.of("[N, 4, 5]", "[4, 1]"))); // prelu_slope [3, 4, 5]
        assertEquals(shape("[N, 4]"), infer("Clip", Attributes.empty(), List.of("[N, 4]", "[]", "[]")));      // clip_bounds [3, 4]
        for (String op : new String[] {"Exp", "Log", "Sqrt", "Abs", "Neg", "Reciprocal", "Erf", "Softplus", "HardSwish", "HardSigmoid",
                "Selu", "Floor", "Ceil", "Round"}) {
            assertEquals(shape("[N, 4, 3]"), infer(op, Attributes.empty(), "[N, 4, 3]"), op);
        }
        assertEquals(shape("[N, 4, 5]"), infer("LogSoftmax", attrs("axis", 1L), "[N, 4, 5]"));                // logsoftmax
    }

    @Test
    void reductions() {
        assertEquals(shape("[N, 1, 5, 1]"), infer("ReduceMean", attrs("axes", new long[] {1, -1}), "[N, 4, 5, 6]"));   // reduce_mean_keep
        assertEquals(shape("[N, 4, 6]"), infer("ReduceMax", attrs("axes", new long[] {2}, "keepdims", 0L), "[N, 4, 5, 6]")); // reduce_max_drop
        assertEquals(shape("[]"), infer("ReduceMin", attrs("keepdims", 0L), "[3, 4, 5]"));                              // reduce_min_all
        assertEquals(shape("[N, 1, 5]"), infer("ReduceSum", Attributes.empty(), List.of("[N, 4, 5]"), new long[] {-2})); // reduce_sum_input
        assertEquals(shape("[N, 4, 5]"), infer("ReduceSum", attrs("noop_with_empty_axes", 1L, "axes", new long[0]), "[N, 4, 5]")); // reduce_sum_noop (axes: an empty list)
        assertEquals(shape("[N, 4, 5, 6]"), infer("InstanceNormalization", Attributes.empty(), List.of("[N, 4, 5, 6]", "[4]", "[4]")));
        assertEquals(shape("[N, 2, 4, 6]"), infer("MatMul", Attributes.empty(), List.of("[N, 1, 4, 5]", "[2, 5, 6]"))); // matmul_both_batch
        assertEquals(shape("[N, 6, 4, 5]"), infer("Transpose", attrs("perm", new long[] {0, 3, 1, 2}), "[N, 4, 5, 6]")); // transpose_perm
    }

    @Test
    void errorsNameNodeOpExpectedAndGiven() {
        assertGraphError(() -> oneNode("Transpose", attrs("perm", new long[] {0, 2, 2}), List.of("[N, 4, 5]")), "y (Transpose)",
                "perm [0, 2, 2] is not a permutation", "[N, 4, 5]");
        assertGraphError(() -> oneNode("Pow", Attributes.empty(), List.of("[N, 3]", "[4]")), "y (Pow)", "[N, 3] and [4] do not broadcast");
        assertGraphError(() -> oneNode("MatMul", Attributes.empty(), List.of("[N, 3, 4]", "[N, 5, 2]")), "y (MatMul)", "inner dimensions 4 and 5");
        assertGraphError(() -> oneNode("PRelu", Attributes.empty(), List.of("[N, 3, 4]", "[5, 1]")), "y (PRelu)", "slope [5, 1]",
                "does not broadcast into", "[N, 3, 4]");
        assertGraphError(() -> oneNode("Clip", Attributes.empty(), List.of("[N, 3]", "[2]")), "y (Clip)", "input 1 (min) must be a scalar");
        assertGraphError(() -> oneNode("ReduceMean", attrs("axes", new long[] {3}), List.of("[N, 3, 4]")), "y (ReduceMean)",
                "axis 3 is out of range for rank 3");
        assertGraphError(() -> oneNode("ReduceSum", attrs("axes", new long[] {1, -2}), List.of("[N, 3, 4]")), "y (ReduceSum)",
                "name dim 1 twice");
        assertGraphError(() -> oneNode("ReduceMax", attrs("keepdims", 2L), List.of("[N, 3]")), "y (ReduceMax)", "keepdims must be 0 or 1, got 2");
        assertGraphError(() -> oneNode("ReduceSum", attrs("axes", new long[] {1}), List.of("[N, 3]"), new long[] {1}), "y (ReduceSum)",
                "both as an attribute and as input 1");
        assertGraphError(() -> oneNode("ReduceSum", Attributes.empty(), List.of("[N, 3]", "[1]")), "y (ReduceSum)", "must be I64");
        assertGraphError(() -> oneNode("InstanceNormalization", Attributes.empty(), List.of("[N, 3, 4]", "[4]", "[3]")),
                "y (InstanceNormalization)", "input 1", "must be [3]");
        assertGraphError(() -> oneNode("LogSoftmax", attrs("axis", 3L), List.of("[N, 3, 4]")), "y (LogSoftmax)", "axis 3 is out of range");
        assertGraphError(() -> oneNode("HardSigmoid", attrs("alpha", "x"), List.of("[N, 3]")), "y (HardSigmoid)", "alpha");
    }
}
