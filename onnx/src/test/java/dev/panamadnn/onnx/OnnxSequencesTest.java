package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.TestModels.f32;
import static dev.panamadnn.onnx.TestModels.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.NodeProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * ONNX sequences, resolved when importing ({@link Sequences}). scripts/goldens/export_onnx_sequences.py writes torch 1.13
 * exports of a {@code torch.chunk} that gives fewer pieces than asked (SplitToSequence with sizes computed from Shape,
 * a SequenceAt per piece: concatenated, stacked, several outputs, a negative index; opsets 11-17) with PyTorch's outputs,
 * and models of the sequence ops built to the spec with NumPy's slicing as the expected outputs; each runs by
 * {@code run(Map)} and through a plan set (the torch exports with a dynamic batch compile, at two batch sizes). The
 * refusals: torch's negative split for a chunk of 4 of a dim of 5, a sequence as a graph output or read by another op,
 * positions out of range (at load, and fed at run time), mixed element types, an empty ConcatFromSequence.
 */
class OnnxSequencesTest {
    private static Path goldens() throws Exception {
        return Goldens.ensure("onnx-sequences", "export_onnx_sequences.py", "DONE", 300);
    }

    @TestFactory
    Stream<DynamicTest> everyCaseMatchesItsIndependentOutputsByRunAndThroughPlans() throws Exception {
        return BackendCase.passingBothWays(goldens(), 13, "export_onnx_sequences.py");
    }

    @Test
    void torchChunkExportsWithADynamicBatchCompileIntoPlanSets() throws Exception {
        Path dir = goldens();
        for (String c : List.of("torch_chunk_cat_op11", "torch_chunk_cat_op13", "torch_chunk_cat_op17", "torch_chunk_pieces_op13",
                "torch_chunk_stack_op17", "torch_chunk_last_op11")) {
            try (OnnxModel m = Onnx.load(dir.resolve(c).resolve("model.onnx"));
                 PlanSet plans = m.compile(CompileOptions.defaults())) {
                assertTrue(m.toGraph().nodes().stream().noneMatch(n -> n.op().startsWith("Sequence")), c + ": " + m.toGraph());
                assertTrue(plans.toString().contains("PlanSet"), c);
            }
        }
        // the split dim itself dynamic: the sizes are the call's, so run(Map) imports per call shape, and no plan set is made
        for (String c : List.of("torch_chunk_cat_dynamic_length_op13", "spec_split_computed_sizes")) {
            try (OnnxModel m = Onnx.load(dir.resolve(c).resolve("model.onnx"))) {
                OnnxException e = assertThrows(OnnxException.class, () -> m.compile(CompileOptions.defaults()));
                assertTrue(e.getMessage().contains("SplitToSequence") && e.getMessage().contains("must be known when importing"), e.getMessage());
            }
        }
    }

    @Test
    void torchsNegativeSplitForAChunkOfFewerPiecesIsRefusedNamingTheSizes() throws Exception {
        OnnxException e = assertThrows(OnnxException.class, () -> Onnx.load(goldens().resolve("refused_chunk.onnx")).close());
        assertTrue(e.getMessage().contains("SplitToSequence") && e.getMessage().contains("split [2, 2, 2, -1] has a negative size")
                && e.getMessage().contains("torch.chunk"), e.getMessage());
    }

    // ---- refusals, on models built here ----

    private static ModelProto model(int opset, List<NodeProto> nodes, List<ValueInfoProto> inputs, List<ValueInfoProto> outputs,
                                    List<TensorProto> inits) {
        GraphProto.Builder g = GraphProto.newBuilder().setName("seq").addAllNode(nodes).addAllInput(inputs).addAllOutput(outputs).addAllInitializer(inits);
        return TestModels.model(opset, g.build());
    }

    private static TensorProto scalar(String name, long v) {
        return TensorProto.newBuilder().setName(name).setDataType(TensorProto.DataType.INT64_VALUE).addInt64Data(v).build();
    }

    private static ValueInfoProto i64(String name) {
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.INT64_VALUE).setShape(TensorShapeProto.newBuilder()))).build();
    }

    private static ValueInfoProto sequenceOutput(String name) {
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setSequenceType(TypeProto.Sequence.newBuilder()
                .setElemType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))))).build();
    }

    private static String refusal(ModelProto m) {
        return assertThrows(OnnxException.class, () -> Onnx.load(m.toByteArray()).close()).getMessage();
    }

    private static final String[] NONE = {};

    @Test
    void aSequenceAsAGraphOutputOrReadByAnotherOpIsRefusedByName() {
        ModelProto out = model(13, List.of(node("c", "SequenceConstruct", new String[] {"x", "x"}, new String[] {"s"})), List.of(f32("x", 2)),
                List.of(sequenceOutput("s")), List.of());
        String m = refusal(out);
        assertTrue(m.contains("graph output 's': a sequence; only tensor outputs are supported"), m);

        ModelProto read = model(13, List.of(node("c", "SequenceConstruct", new String[] {"x"}, new String[] {"s"}),
                node("r", "Relu", new String[] {"s"}, new String[] {"y"})), List.of(f32("x", 2)), List.of(f32("y", 2)), List.of());
        m = refusal(read);
        assertTrue(m.contains("node 'r' (Relu") && m.contains("input 0 ('s') is a sequence; Relu takes tensors"), m);
    }

    @Test
    void positionsOutOfRangeAreRefusedAtLoadNamingTheRange() {
        ModelProto at = model(13, List.of(node("c", "SequenceConstruct", new String[] {"x", "x"}, new String[] {"s"}),
                node("at", "SequenceAt", new String[] {"s", "p"}, new String[] {"y"})), List.of(f32("x", 2)), List.of(f32("y", 2)), List.of(scalar("p", 2)));
        String m = refusal(at);
        assertTrue(m.contains("node 'at' (SequenceAt") && m.contains("the position is 2, out of range for a sequence of 2 tensors (expected -2 to 1)"), m);

        ModelProto insert = model(13, List.of(node("c", "SequenceConstruct", new String[] {"x"}, new String[] {"s"}),
                node("ins", "SequenceInsert", new String[] {"s", "x", "p"}, new String[] {"s2"}),
                node("at", "SequenceAt", new String[] {"s2", "z"}, new String[] {"y"})), List.of(f32("x", 2)), List.of(f32("y", 2)),
                List.of(scalar("p", -2), scalar("z", 0)));
        m = refusal(insert);
        assertTrue(m.contains("the position to insert at is -2, out of range for a sequence of 1 tensor (expected -1 to 1)"), m);

        ModelProto erase = model(13, List.of(node("e", "SequenceEmpty", NONE, new String[] {"s"}),
                node("er", "SequenceErase", new String[] {"s"}, new String[] {"s2"}),
                node("n", "SequenceLength", new String[] {"s2"}, new String[] {"y"})), List.of(f32("x", 2)), List.of(i64("y")), List.of());
        m = refusal(erase);
        assertTrue(m.contains("cannot erase from an empty sequence"), m);
    }

    @Test
    void aPositionFedAtRunTimeOutOfRangeIsAnExceptionNamingItNotACrash() {
        ModelProto fed = model(13, List.of(node("c", "SequenceConstruct", new String[] {"x", "x", "x"}, new String[] {"s"}),
                node("at", "SequenceAt", new String[] {"s", "p"}, new String[] {"y"})), List.of(f32("x", 2), i64("p")), List.of(f32("y", 2)), List.of());
        try (OnnxModel m = Onnx.load(fed.toByteArray()); Arena arena = Arena.ofConfined(); Tensor x = Tensor.of(new float[] {1.5f, -2f}, 2)) {
            Tensor p = Tensor.allocate(arena, DataType.I64);
            p.segment().set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, -3);
            float[] y = TestModels.outputValues(m, Map.of("x", x, "p", p), "y");
            assertEquals(List.of(1.5f, -2f), List.of(y[0], y[1]));
            p.segment().set(java.lang.foreign.ValueLayout.JAVA_LONG, 0, 3);
            OnnxException e = assertThrows(OnnxException.class, () -> m.run(Map.of("x", x, "p", p)));
            assertTrue(e.getMessage().contains("the position is 3, out of range for a sequence of 3 tensors (expected -3 to 2)"), e.getMessage());
        }
    }

    @Test
    void mixedElementTypesAndAnEmptyConcatenationAreRefused() {
        ModelProto mixed = model(13, List.of(node("c", "SequenceConstruct", new String[] {"x", "p"}, new String[] {"s"}),
                node("n", "SequenceLength", new String[] {"s"}, new String[] {"y"})), List.of(f32("x", 2), i64("p")), List.of(i64("y")), List.of());
        String m = refusal(mixed);
        assertTrue(m.contains("every tensor of a sequence has one element type: input 0 is F32, input 1 ('p') I64"), m);

        ModelProto empty = model(13, List.of(node("e", "SequenceEmpty", NONE, new String[] {"s"}),
                node("cat", "ConcatFromSequence", new String[] {"s"}, new String[] {"y"}, AttributeProto.newBuilder().setName("axis")
                        .setType(AttributeProto.AttributeType.INT).setI(0).build())), List.of(f32("x", 2)), List.of(f32("y", 2)), List.of());
        m = refusal(empty);
        assertTrue(m.contains("ConcatFromSequence of an empty sequence"), m);

        ModelProto old = TestModels.model(10, GraphProto.newBuilder().setName("g").addNode(node("e", "SequenceEmpty", NONE, new String[] {"s"}))
                .addNode(node("n", "SequenceLength", new String[] {"s"}, new String[] {"y"})).addOutput(i64("y")).build());
        m = refusal(old);
        assertTrue(m.contains("not supported at this opset (sequence ops came in opset 11)"), m);
    }
}
