package dev.panamadnn.graph;

import static dev.panamadnn.graph.GraphTesting.assertGraphError;
import static dev.panamadnn.graph.GraphTesting.f32;
import static dev.panamadnn.graph.GraphTesting.graph;
import static dev.panamadnn.graph.GraphTesting.node;
import static dev.panamadnn.graph.GraphTesting.oneNode;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Linear;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Malformed and inconsistent graphs: each is a {@link GraphException} whose message names the
 * node and its op ({@code "name (Op)"}) and the mismatch (or the graph and the value, for
 * graph-level faults). Structural faults use {@link Graph#of} on hand-made nodes, since the
 * builder cannot produce most of them.
 */
class MalformedGraphTest {
    private static final List<Value> X = List.of(f32("x", "[N, 3]"));

    private static Attributes attrs(Object... kv) {
        return Attributes.of(kv);
    }

    // ---- structure: order, definitions, names ---------------------------------------------

    @Test
    void cycle() {
        List<Node> nodes = List.of(node("a", "Relu", List.of("b"), "a"), node("b", "Relu", List.of("a"), "b"));
        assertGraphError(() -> graph(X, nodes, "b"), "a (Relu)", "reads 'b' before node b (Relu) defines it", "cycle");
    }

    @Test
    void nodesOutOfTopologicalOrder() {
        List<Node> nodes = List.of(node("second", "Sigmoid", List.of("first"), "second"), node("first", "Relu", List.of("x"), "first"));
        assertGraphError(() -> graph(X, nodes, "second"), "second (Sigmoid)", "reads 'first' before node first (Relu) defines it");
    }

    @Test
    void nodeReadingItsOwnOutput() {
        List<Node> nodes = List.of(new Node("add", "Add", List.of("x", "add"), List.of("add"), Attributes.empty()));
        assertGraphError(() -> graph(X, nodes, "add"), "add (Add)", "reads its own output 'add'");
    }

    @Test
    void undefinedInput() {
        List<Node> nodes = List.of(node("relu", "Relu", List.of("nope"), "relu"));
        assertGraphError(() -> graph(X, nodes, "relu"), "relu (Relu)", "reads 'nope', which nothing defines");
    }

    @Test
    void valueDefinedByTwoNodes() {
        List<Node> nodes = List.of(node("a", "Relu", List.of("x"), "h"), node("b", "Tanh", List.of("x"), "h"));
        assertGraphError(() -> graph(X, nodes, "h"), "'h' is defined twice", "a (Relu)", "b (Tanh)");
    }

    @Test
    void nodeOutputNamedLikeAGraphInput() {
        List<Node> nodes = List.of(node("relu", "Relu", List.of("x"), "x"));
        assertGraphError(() -> graph(X, nodes, "x"), "relu (Relu)", "defines 'x'", "already a graph input");
    }

    @Test
    void nodeOutputNamedLikeAnInitializer() {
        try (Tensor w = Tensor.zeros(3)) {
            List<Node> nodes = List.of(node("relu", "Relu", List.of("x"), "w"));
            assertGraphError(() -> Graph.of("g", X, nodes, Map.of("w", w), List.of("w")), "relu (Relu)", "defines 'w'",
                    "already a graph initializer");
        }
    }

    @Test
    void graphInputNamedLikeAnInitializer() {
        try (Tensor w = Tensor.zeros(3)) {
            List<Node> nodes = List.of(node("relu", "Relu", List.of("x"), "y"));
            assertGraphError(() -> Graph.of("g", X, nodes, Map.of("x", w), List.of("y")), "graph g", "initializer 'x'", "graph input");
        }
    }

    @Test
    void graphInputDeclaredTwice() {
        List<Value> ins = List.of(f32("x", "[N, 3]"), f32("x", "[N, 4]"));
        assertGraphError(() -> graph(ins, List.of(node("relu", "Relu", List.of("x"), "y")), "y"), "graph g", "input 'x' is defined twice");
    }

    @Test
    void duplicateNodeNames() {
        List<Node> nodes = List.of(node("act", "Relu", List.of("x"), "a"), node("act", "Sigmoid", List.of("a"), "b"));
        assertGraphError(() -> graph(X, nodes, "b"), "two nodes are named 'act'", "act (Relu)", "act (Sigmoid)");
    }

    @Test
    void nullEntriesAreGraphErrorsNotNullPointers() {
        List<Node> withNull = new ArrayList<>(Arrays.asList(node("relu", "Relu", List.of("x"), "y"), null));
        assertGraphError(() -> graph(X, withNull, "y"), "graph g", "node 1 is null");
        List<Value> nullInput = new ArrayList<>(Arrays.asList((Value) null));
        assertGraphError(() -> graph(nullInput, List.of(), "y"), "graph g", "a graph input is null");
        List<String> nullOutput = new ArrayList<>(Arrays.asList((String) null));
        assertGraphError(() -> Graph.of("g", X, List.of(node("relu", "Relu", List.of("x"), "y")), Map.of(), nullOutput),
                "graph g", "output 'null' is not defined");
    }

    // ---- ops, attributes, inputs, dtypes -------------------------------------------------------

    @Test
    void unknownOp() {
        List<Node> nodes = List.of(node("c", "Conv3x3", List.of("x"), "y"));
        assertGraphError(() -> graph(X, nodes, "y"), "c (Conv3x3)", "unknown op 'Conv3x3'");
    }

    @Test
    void unknownAttribute() {
        // "stride" for ONNX's "strides": a typo must not silently mean stride 1
        assertGraphError(() -> oneNode("MaxPool", attrs("kernel_shape", new long[] {2}, "stride", new long[] {2}), List.of("[N, 3, 8]")),
                "y (MaxPool)", "unknown attribute 'stride'", "strides");
    }

    @Test
    void attributeOfTheWrongType() {
        assertGraphError(() -> oneNode("Conv", attrs("group", 1.5), List.of("[N, 4, 8]", "[4, 4, 3]")),
                "y (Conv)", "attribute 'group' must be an integer", "1.5");
        assertGraphError(() -> oneNode("Concat", attrs("axis", new long[] {1}), List.of("[N, 3]", "[N, 4]")),
                "y (Concat)", "attribute 'axis' must be an integer", "[1]");
        // never read by the shape rule, still checked
        assertGraphError(() -> oneNode("BatchNormalization", attrs("momentum", "0.9"), List.of("[N, 3]", "[3]", "[3]", "[3]", "[3]")),
                "y (BatchNormalization)", "attribute 'momentum' must be a float", "'0.9'");
    }

    @Test
    void missingRequiredAttribute() {
        assertGraphError(() -> oneNode("Concat", Attributes.empty(), List.of("[N, 3]", "[N, 4]")), "y (Concat)", "attribute 'axis' is missing");
    }

    @Test
    void wrongInputCount() {
        assertGraphError(() -> oneNode("Relu", Attributes.empty(), List.of("[N, 3]", "[N, 3]")), "y (Relu)", "expected 1 inputs, got 2");
        assertGraphError(() -> oneNode("Conv", Attributes.empty(), List.of("[N, 3, 8]")), "y (Conv)", "expected 2 to 3 inputs, got 1");
    }

    @Test
    void wrongOutputCount() {
        // AveragePool has one output (MaxPool has two since its Indices output)
        List<Node> nodes = List.of(new Node("pool", "AveragePool", List.of("x"), List.of("y", "indices"),
                attrs("kernel_shape", new long[] {2})));
        assertGraphError(() -> graph(List.of(f32("x", "[N, 3, 8]")), nodes, "y"), "pool (AveragePool)", "expected 1 output(s), got 2");
    }

    @Test
    void wrongDtype() {
        List<Value> ins = List.of(new Value("ids", DataType.I64, Shape.batched("N", 3)));
        assertGraphError(() -> graph(ins, List.of(node("relu", "Relu", List.of("ids"), "y")), "y"), "relu (Relu)", "input 0", "must be F32",
                "I64");
    }

    @Test
    void requiredInputAbsent() {
        List<Node> nodes = List.of(node("conv", "Conv", List.of("x", ""), "y"));
        assertGraphError(() -> graph(List.of(f32("x", "[N, 3, 8]")), nodes, "y"), "conv (Conv)", "input 1 is required");
    }

    @Test
    void reshapeShapeThatIsNotAConstant() {
        List<Value> ins = List.of(f32("x", "[N, 3]"), new Value("s", DataType.I64, Shape.of(2)));
        List<Node> nodes = List.of(node("reshape", "Reshape", List.of("x", "s"), "y"));
        assertGraphError(() -> graph(ins, nodes, "y"), "reshape (Reshape)", "shape 's' must be a constant");
    }

    // ---- shape conflicts ---------------------------------------------------------------------

    @Test
    void convChannels() {
        assertGraphError(() -> oneNode("Conv", Attributes.empty(), List.of("[N, 4, 8, 8]", "[6, 3, 3, 3]")),
                "y (Conv)", "has 4 channels", "expects 3");
        assertGraphError(() -> oneNode("Conv", attrs("group", 2), List.of("[N, 4, 8, 8]", "[5, 2, 3, 3]")),
                "y (Conv)", "not divisible by group 2");
    }

    @Test
    void convBiasSize() {
        assertGraphError(() -> oneNode("Conv", Attributes.empty(), List.of("[N, 3, 8]", "[6, 3, 3]", "[5]")), "y (Conv)", "input 2", "[6]");
    }

    @Test
    void kernelLargerThanInput() {
        assertGraphError(() -> oneNode("Conv", Attributes.empty(), List.of("[N, 3, 4, 4]", "[6, 3, 5, 3]")),
                "y (Conv)", "kernel", "larger than the padded input", "spatial dim 0");
        assertGraphError(() -> oneNode("MaxPool", attrs("kernel_shape", new long[] {3, 3}, "dilations", new long[] {1, 2}),
                List.of("[N, 3, 8, 4]")), "y (MaxPool)", "larger than the padded input", "spatial dim 1");
    }

    @Test
    void convTransposeOutputPaddingTooLarge() {
        assertGraphError(() -> oneNode("ConvTranspose", attrs("strides", new long[] {2}, "output_padding", new long[] {2}),
                List.of("[N, 3, 8]", "[3, 4, 3]")), "y (ConvTranspose)", "output_padding [2]", "smaller than the stride or the dilation");
    }

    @Test
    void symbolicChannels() {
        assertGraphError(() -> oneNode("Conv", Attributes.empty(), List.of("[1, C, 8]", "[6, 3, 3]")), "y (Conv)", "channels", "must be fixed");
    }

    @Test
    void gemmInnerDimension() {
        assertGraphError(() -> oneNode("Gemm", attrs("transB", 1), List.of("[N, 4]", "[4, 6]")),
                "y (Gemm)", "inner dimension", "4 vs 6", "transB=1");
    }

    @Test
    void gemmBiasThatDoesNotBroadcast() {
        assertGraphError(() -> oneNode("Gemm", Attributes.empty(), List.of("[N, 4]", "[4, 6]", "[N, 6, 1]")), "y (Gemm)", "C [N, 6, 1]",
                "[N, 6]");
    }

    @Test
    void matMulInnerDimension() {
        assertGraphError(() -> oneNode("MatMul", Attributes.empty(), List.of("[N, 3, 4]", "[5, 2]")), "y (MatMul)", "inner dimensions 4 and 5");
    }

    @Test
    void broadcastFailure() {
        assertGraphError(() -> oneNode("Add", Attributes.empty(), List.of("[N, 3]", "[4]")), "y (Add)", "[N, 3] and [4] do not broadcast",
                "3 vs 4");
        // a symbol broadcasts only with itself or 1: N against 3 holds for N = 1 or 3 only, so it is refused
        assertGraphError(() -> oneNode("Mul", Attributes.empty(), List.of("[N, 3]", "[3, 3]")), "y (Mul)", "N vs 3");
    }

    @Test
    void concatMismatch() {
        assertGraphError(() -> oneNode("Concat", attrs("axis", 1), List.of("[N, 3, 4]", "[N, 3, 5]")), "y (Concat)", "differ in dim 2");
        assertGraphError(() -> oneNode("Concat", attrs("axis", 0), List.of("[N, 3]", "[2, 3]")), "y (Concat)", "N", "2");
        assertGraphError(() -> oneNode("Concat", attrs("axis", 0), List.of("[N, 3]", "[N]")), "y (Concat)", "rank 1");
    }

    @Test
    void reshapeElementCount() {
        assertGraphError(() -> oneNode("Reshape", Attributes.empty(), List.of("[2, 3, 4]"), new long[] {5, -1}),
                "y (Reshape)", "cannot reshape [2, 3, 4] (24 elements) to [5, -1]");
        assertGraphError(() -> oneNode("Reshape", Attributes.empty(), List.of("[N, 3, 4]"), new long[] {0, 13}),
                "y (Reshape)", "(12*N elements) to [0, 13]");
        assertGraphError(() -> oneNode("Reshape", Attributes.empty(), List.of("[N, 3]"), new long[] {-1, -1}), "y (Reshape)", "more than one -1");
    }

    @Test
    void batchNormParameterSize() {
        assertGraphError(() -> oneNode("BatchNormalization", Attributes.empty(), List.of("[N, 3, 8]", "[3]", "[3]", "[4]", "[3]")),
                "y (BatchNormalization)", "input 3", "[4]", "must be [3]");
    }

    @Test
    void layerNormScaleShape() {
        assertGraphError(() -> oneNode("LayerNormalization", Attributes.empty(), List.of("[N, 6, 8]", "[6]")),
                "y (LayerNormalization)", "normalized shape [8]");
    }

    @Test
    void badPermutation() {
        assertGraphError(() -> oneNode("Transpose", attrs("perm", new long[] {0, 0, 1}), List.of("[N, 3, 4]")),
                "y (Transpose)", "perm [0, 0, 1] is not a permutation");
        assertGraphError(() -> oneNode("Transpose", attrs("perm", new long[] {1, 0}), List.of("[N, 3, 4]")), "y (Transpose)", "perm [1, 0]");
        assertGraphError(() -> oneNode("Transpose", attrs("perm", new long[] {0}), List.of("[]")), "y (Transpose)", "perm [0]");
    }

    @Test
    void padThatRemovesTooMuch() {
        assertGraphError(() -> oneNode("Pad", Attributes.empty(), List.of("[N, 3]"), new long[] {0, -2, 0, -2}), "y (Pad)", "remove more than");
    }

    @Test
    void axisOutOfRange() {
        assertGraphError(() -> oneNode("Softmax", attrs("axis", 2), List.of("[N, 3]")), "y (Softmax)", "axis 2 is out of range for rank 2");
        assertGraphError(() -> oneNode("Flatten", attrs("axis", 3), List.of("[N, 3]")), "y (Flatten)", "axis 3 is out of range");
    }

    @Test
    void layerWithAClosedModule() {
        Linear closed = new Linear(3, 2, true);
        closed.close();
        assertGraphError(() -> oneNode("Layer", attrs("module", closed), List.of("[N, 3]")), "y (Layer)", "closed");
    }

    // ---- outputs and initializers ------------------------------------------------------------

    @Test
    void undefinedOutput() {
        assertGraphError(() -> graph(X, List.of(node("relu", "Relu", List.of("x"), "y")), "z"), "graph g", "output 'z' is not defined");
    }

    @Test
    void duplicateOutput() {
        assertGraphError(() -> graph(X, List.of(node("relu", "Relu", List.of("x"), "y")), "y", "y"), "graph g", "output 'y' is listed twice");
    }

    @Test
    void noOutputs() {
        assertGraphError(() -> graph(X, List.of(node("relu", "Relu", List.of("x"), "y"))), "graph g", "at least one output");
    }

    @Test
    void freedInitializer() {
        Tensor w = Tensor.zeros(6, 3, 3);
        w.close();
        Map<String, Tensor> init = new LinkedHashMap<>(Map.of("w", w));
        List<Node> nodes = List.of(node("conv", "Conv", List.of("x", "w"), "y"));
        // Freed memory is a lifetime state, not a malformed graph: the IllegalStateException of every call on freed memory
        // (a compile whose initializer another thread closes gets the same one, LifetimeRaces "compile-close")
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> Graph.of("g", List.of(f32("x", "[N, 3, 8]")), nodes, init, List.of("y")));
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("graph g") && e.getMessage().contains("initializer 'w'")
                && e.getMessage().contains("freed"), e.getMessage());
    }

    @Test
    void freedConstant() {
        Tensor t = Tensor.zeros(2);
        t.close();
        List<Node> nodes = List.of(new Node("c", "Constant", List.of(), List.of("c"), attrs("value", t)));
        assertGraphError(() -> graph(X, nodes, "c"), "c (Constant)", "freed");
    }
}
