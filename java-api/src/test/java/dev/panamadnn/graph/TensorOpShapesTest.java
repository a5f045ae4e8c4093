package dev.panamadnn.graph;

import static dev.panamadnn.graph.GraphTesting.infer;
import static dev.panamadnn.graph.GraphTesting.shape;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Shape inference of the activations and the tensor ops (Flatten, Gemm, MatMul, broadcasting,
 * Concat, Reshape, Transpose, Pad, Constant), with a symbolic batch N. Every expectation comes
 * from {@code scripts/goldens/generate_graph_shapes.py} (PyTorch and/or ONNX's shape inference at
 * N = 2 and 3); the comment names its case and the call behind it.
 */
class TensorOpShapesTest {
    private static Attributes attrs(Object... kv) {
        return Attributes.of(kv);
    }

    @Test
    void activationsKeepTheShape() {
        // activation_relu ... activation_gelu_tanh: F.relu(zeros(n,4,3)).shape etc. (ONNX agrees where it has the op)
        for (String op : new String[] {"Relu", "Sigmoid", "Tanh", "Silu", "Identity"}) {
            assertEquals(shape("[N, 4, 3]"), infer(op, Attributes.empty(), "[N, 4, 3]"), op);
        }
        assertEquals(shape("[N, 4, 3]"), infer("LeakyRelu", attrs("alpha", 0.2), "[N, 4, 3]"));
        assertEquals(shape("[N, 4, 3]"), infer("Elu", attrs("alpha", 1.0), "[N, 4, 3]"));
        assertEquals(shape("[N, 4, 3]"), infer("Gelu", attrs("approximate", "tanh"), "[N, 4, 3]"));
    }

    @Test
    void softmax() {
        // softmax_axis1: F.softmax(zeros(n,10), 1)
        assertEquals(shape("[N, 10]"), infer("Softmax", attrs("axis", 1), "[N, 10]"));
        assertEquals(shape("[N, 10]"), infer("Softmax", Attributes.empty(), "[N, 10]"));
    }

    @Test
    void flattenIsTwoDimensionalAsInOnnx() {
        // ONNX Flatten of [n,3,4,5], cases flatten_axis*: onnx_shape("Flatten", [("x", (n,3,4,5))], dict(axis=...))
        assertEquals(shape("[N, 60]"), infer("Flatten", Attributes.empty(), "[N, 3, 4, 5]"));      // flatten_axis1 (the default)
        assertEquals(shape("[N, 60]"), infer("Flatten", attrs("axis", 1), "[N, 3, 4, 5]"));        // flatten_axis1
        assertEquals(shape("[3*N, 20]"), infer("Flatten", attrs("axis", 2), "[N, 3, 4, 5]"));      // flatten_axis2
        assertEquals(shape("[1, 60*N]"), infer("Flatten", attrs("axis", 0), "[N, 3, 4, 5]"));      // flatten_axis0
        assertEquals(shape("[12*N, 5]"), infer("Flatten", attrs("axis", -1), "[N, 3, 4, 5]"));     // flatten_axism1
        assertEquals(shape("[60*N, 1]"), infer("Flatten", attrs("axis", 4), "[N, 3, 4, 5]"));      // flatten_axis4
    }

    @Test
    void gemmTransposesAndBroadcastsC() {
        // gemm_plain: ONNX Gemm a [n,4], b [4,6]
        assertEquals(shape("[N, 6]"), infer("Gemm", Attributes.empty(), List.of("[N, 4]", "[4, 6]")));
        // gemm_transA: a [4,n], b [4,6], transA=1
        assertEquals(shape("[N, 6]"), infer("Gemm", attrs("transA", 1), List.of("[4, N]", "[4, 6]")));
        // gemm_transB_bias: a [n,4], b [6,4], c [6], transB=1
        assertEquals(shape("[N, 6]"), infer("Gemm", attrs("transB", 1), List.of("[N, 4]", "[6, 4]", "[6]")));
        // gemm_transA_transB_c_column: a [4,n], b [6,4], c [n,1], transA=1, transB=1
        assertEquals(shape("[N, 6]"), infer("Gemm", attrs("transA", 1, "transB", 1, "alpha", 0.5, "beta", 2.0),
                List.of("[4, N]", "[6, 4]", "[N, 1]")));
        // gemm_c_scalar: a [n,4], b [4,6], c []
        assertEquals(shape("[N, 6]"), infer("Gemm", Attributes.empty(), List.of("[N, 4]", "[4, 6]", "[]")));
    }

    @Test
    void matMulOneAndTwoDimensional() {
        // matmul_1d_1d, matmul_2d_1d, matmul_1d_2d, matmul_1d_3d: torch.matmul(zeros(a), zeros(b)) (ONNX agrees)
        assertEquals(shape("[]"), infer("MatMul", Attributes.empty(), List.of("[4]", "[4]")));
        assertEquals(shape("[3]"), infer("MatMul", Attributes.empty(), List.of("[3, 4]", "[4]")));
        assertEquals(shape("[5]"), infer("MatMul", Attributes.empty(), List.of("[4]", "[4, 5]")));
        assertEquals(shape("[2, 5]"), infer("MatMul", Attributes.empty(), List.of("[4]", "[2, 4, 5]")));
    }

    @Test
    void matMulBatchedWithBroadcasting() {
        // matmul_batched_by_2d: torch.matmul(zeros(n,3,4), zeros(4,5))
        assertEquals(shape("[N, 3, 5]"), infer("MatMul", Attributes.empty(), List.of("[N, 3, 4]", "[4, 5]")));
        // matmul_broadcast_batch: torch.matmul(zeros(2,1,3,4), zeros(5,4,6))
        assertEquals(shape("[2, 5, 3, 6]"), infer("MatMul", Attributes.empty(), List.of("[2, 1, 3, 4]", "[5, 4, 6]")));
        // matmul_broadcast_symbolic: torch.matmul(zeros(n,1,3,4), zeros(1,7,4,2))
        assertEquals(shape("[N, 7, 3, 2]"), infer("MatMul", Attributes.empty(), List.of("[N, 1, 3, 4]", "[1, 7, 4, 2]")));
        // matmul_3d_by_1d: torch.matmul(zeros(n,3,4), zeros(4))
        assertEquals(shape("[N, 3]"), infer("MatMul", Attributes.empty(), List.of("[N, 3, 4]", "[4]")));
    }

    @Test
    void elementwiseBroadcasting() {
        // add_broadcast: zeros(n,3,1,5) + zeros(4,1)
        assertEquals(shape("[N, 3, 4, 5]"), infer("Add", Attributes.empty(), List.of("[N, 3, 1, 5]", "[4, 1]")));
        // sub_lower_rank_first: zeros(5) - zeros(n,1,5)
        assertEquals(shape("[N, 1, 5]"), infer("Sub", Attributes.empty(), List.of("[5]", "[N, 1, 5]")));
        // mul_scalar: zeros(()) * zeros(n,4)
        assertEquals(shape("[N, 4]"), infer("Mul", Attributes.empty(), List.of("[]", "[N, 4]")));
        // div_symbolic_with_one: zeros(n,3,4) / zeros(1,3,1)
        assertEquals(shape("[N, 3, 4]"), infer("Div", Attributes.empty(), List.of("[N, 3, 4]", "[1, 3, 1]")));
        // add_symbolic_both: zeros(n,3) + zeros(n,1)
        assertEquals(shape("[N, 3]"), infer("Add", Attributes.empty(), List.of("[N, 3]", "[N, 1]")));
    }

    @Test
    void concat() {
        // concat_axis1: torch.cat([zeros(n,3,4), zeros(n,5,4)], 1)
        assertEquals(shape("[N, 8, 4]"), infer("Concat", attrs("axis", 1), List.of("[N, 3, 4]", "[N, 5, 4]")));
        // concat_symbolic_axis: torch.cat([zeros(n,3)] * 3, 0)
        assertEquals(shape("[3*N, 3]"), infer("Concat", attrs("axis", 0), List.of("[N, 3]", "[N, 3]", "[N, 3]")));
        // concat_negative_axis: torch.cat([zeros(n,2,1), zeros(n,2,6)], -1)
        assertEquals(shape("[N, 2, 7]"), infer("Concat", attrs("axis", -1), List.of("[N, 2, 1]", "[N, 2, 6]")));
    }

    @Test
    void reshapeWithZeroAndMinusOne() {
        // ONNX Reshape of x by an initializer shape, cases reshape_*: onnx_shape("Reshape", [x, shape], inits={"shape": [...]})
        Attributes none = Attributes.empty();
        assertEquals(shape("[N, 12]"), infer("Reshape", none, List.of("[N, 3, 4]"), new long[] {0, -1}));        // reshape_keep_batch
        assertEquals(shape("[N, 12]"), infer("Reshape", none, List.of("[N, 3, 4]"), new long[] {-1, 12}));       // reshape_infer_batch
        assertEquals(shape("[N, 2, 6]"), infer("Reshape", none, List.of("[N, 3, 4]"), new long[] {0, 2, -1}));   // reshape_keep_and_split
        assertEquals(shape("[12*N]"), infer("Reshape", none, List.of("[N, 3, 4]"), new long[] {-1}));            // reshape_all
        assertEquals(shape("[3, 4, N]"), infer("Reshape", none, List.of("[N, 3, 4]"), new long[] {3, 4, -1}));   // reshape_batch_last
        assertEquals(shape("[4, 3, 2]"), infer("Reshape", none, List.of("[2, 3, 4]"), new long[] {4, 0, -1}));   // reshape_fixed_with_zero
        assertEquals(shape("[2, 3, 2]"), infer("Reshape", none, List.of("[3, 4]"), new long[] {2, 3, 2}));       // reshape_fixed
    }

    @Test
    void transpose() {
        // transpose_default_reverses: zeros(n,3,4).permute(2,1,0); transpose_perm: .permute(0,2,1)
        assertEquals(shape("[4, 3, N]"), infer("Transpose", Attributes.empty(), "[N, 3, 4]"));
        assertEquals(shape("[N, 4, 3]"), infer("Transpose", attrs("perm", new long[] {0, 2, 1}), "[N, 3, 4]"));
    }

    @Test
    void padBeginsThenEnds() {
        // pad_constant: F.pad(zeros(n,3,5,5), (2,4,1,3)) = ONNX pads [0,0,1,2, 0,0,3,4]
        assertEquals(shape("[N, 3, 9, 11]"), infer("Pad", Attributes.empty(), List.of("[N, 3, 5, 5]"), new long[] {0, 0, 1, 2, 0, 0, 3, 4}));
        assertEquals(shape("[N, 3, 9, 11]"), infer("Pad", attrs("mode", "reflect"), List.of("[N, 3, 5, 5]"),
                new long[] {0, 0, 1, 2, 0, 0, 3, 4}));
        // pad_negative_crops: F.pad(zeros(n,3,5,5), (0,-2,-1,0)) = ONNX pads [0,0,-1,0, 0,0,0,-2]
        assertEquals(shape("[N, 3, 4, 3]"), infer("Pad", Attributes.empty(), List.of("[N, 3, 5, 5]"), new long[] {0, 0, -1, 0, 0, 0, 0, -2}));
    }

    @Test
    void constantHasItsTensorsShapeAndType() {
        try (Tensor t = Tensor.zeros(2, 3)) {
            GraphBuilder b = Graph.builder("const");
            String c = b.node("Constant", "c", Attributes.of("value", t));
            Graph g = b.output(c).build();
            assertEquals(new Value("c", DataType.F32, Shape.of(2, 3)), g.value("c"));
        }
        Arena arena = Arena.ofAuto();
        Tensor shape = Tensor.wrap(arena.allocateFrom(ValueLayout.JAVA_LONG, 0, -1), DataType.I64, 2);
        GraphBuilder b = Graph.builder("const-i64");
        String c = b.node("Constant", "shape", Attributes.of("value", shape));
        assertEquals(new Value("shape", DataType.I64, Shape.of(2)), b.value(c), "a Constant's dtype is its tensor's");
    }

    @Test
    void reshapeReadsItsShapeFromAConstantNode() {
        // As in ONNX files exported by PyTorch: Reshape(x, Constant(value=[0, -1])); reshape_keep_batch
        Tensor shape = Tensor.wrap(Arena.ofAuto().allocateFrom(ValueLayout.JAVA_LONG, 0, -1), DataType.I64, 2);
        GraphBuilder b = Graph.builder("reshape");
        String x = b.input("x", Shape.batched("N", 3, 4));
        String s = b.node("Constant", "shape", Attributes.of("value", shape));
        String y = b.node("Reshape", "reshape", Attributes.empty(), x, s);
        assertEquals(shape("[N, 12]"), b.output(y).build().value(y).shape());
    }
}
