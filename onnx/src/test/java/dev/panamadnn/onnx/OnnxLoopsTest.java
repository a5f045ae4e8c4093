package dev.panamadnn.onnx;

import static dev.panamadnn.onnx.TestModels.f32;
import static dev.panamadnn.onnx.TestModels.node;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.onnx.proto.AttributeProto;
import dev.panamadnn.onnx.proto.GraphProto;
import dev.panamadnn.onnx.proto.ModelProto;
import dev.panamadnn.onnx.proto.TensorProto;
import dev.panamadnn.onnx.proto.TensorShapeProto;
import dev.panamadnn.onnx.proto.TypeProto;
import dev.panamadnn.onnx.proto.ValueInfoProto;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * ONNX Loop and Scan, unrolled when importing (Loops). scripts/goldens/export_onnx_loops.py writes
 * torch 1.13 exports of torch.jit.script modules whose Python loops stay ONNX Loops (a recurrent cell over the time
 * steps with its trip count from Shape, a list of steps stacked (a sequence carried through the Loop at opset 17, a scan
 * output split back at opset 11), a while loop whose body computes its condition) with PyTorch's outputs, and models
 * of Scan (opsets 9 and 11: reversed and non-zero axes) and Loop (trip count and condition inputs, zero trips) built to
 * the spec with NumPy's step-by-step results; each runs by {@code run(Map)} and through one compiled form. The
 * refusals: a condition computed from data, too many iterations, an unbounded loop.
 */
class OnnxLoopsTest {
    private static Path goldens() throws Exception {
        return Goldens.ensure("onnx-loops", "export_onnx_loops.py", "DONE", 300);
    }

    @TestFactory
    Stream<DynamicTest> everyCaseMatchesItsIndependentOutputsByRunAndThroughPlans() throws Exception {
        return BackendCase.passingBothWays(goldens(), 10, "export_onnx_loops.py");
    }

    @Test
    void scriptedLoopsOverAFixedLengthCompileUnrolled() throws Exception {
        Path dir = goldens();
        for (String c : List.of("torch_collect_op11", "torch_collect_op17", "torch_while_op13")) {
            try (OnnxModel m = Onnx.load(dir.resolve(c).resolve("model.onnx"));
                 PlanSet plans = m.compile(CompileOptions.defaults())) {
                assertTrue(m.toGraph().nodes().stream().noneMatch(n -> n.op().equals("Loop") || n.op().startsWith("Sequence")), c + ": " + m.toGraph());
                assertTrue(plans.toString().contains("PlanSet"), c);
            }
        }
        // the recurrent export is sequence-first ([T, N, 4]: no plan set over N); fixed at N = 3, one plan, against PyTorch
        Path rec = dir.resolve("torch_recurrent_op17");
        try (OnnxModel m = Onnx.load(rec.resolve("model.onnx"), OnnxOptions.defaults().withDim("N", 3));
             CompiledModel plan = m.plan(CompileOptions.defaults()); Arena arena = Arena.ofConfined()) {
            Tensor x = TensorProtos.toTensor(TensorProto.parseFrom(Files.readAllBytes(rec.resolve("test_data_set_1/input_0.pb"))), "x", arena, null);
            Tensor want = TensorProtos.toTensor(TensorProto.parseFrom(Files.readAllBytes(rec.resolve("test_data_set_1/output_0.pb"))), "y", arena, null);
            // each step's input projection is a row block of one Gemm over all steps, its add a sum into the recurrent one
            assertTrue(plan.rulesFired().stream().anyMatch(r -> r.startsWith("batch_gathered_gemms: 6 Gemms")), plan.describe());
            assertTrue(plan.rulesFired().stream().anyMatch(r -> r.startsWith("fuse_residual_sum: ")), plan.describe());
            Map<String, Tensor> out = plan.run(Map.of("x", x));
            try {
                assertNull(BackendCase.compare(out.get("y"), want));
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
        // the length dynamic too: the trip count is the call's, so run(Map) imports per call shape, and no plan set is made
        try (OnnxModel m = Onnx.load(dir.resolve("torch_recurrent_dynamic_length_op13/model.onnx"))) {
            OnnxException e = assertThrows(OnnxException.class, () -> m.compile(CompileOptions.defaults()));
            assertTrue(e.getMessage().contains("Loop") && e.getMessage().contains("its trip count"), e.getMessage());
        }
    }

    // ---- refusals, on loops built here ----

    private static ValueInfoProto scalar(String name, int elemType) {
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(elemType).setShape(TensorShapeProto.newBuilder()))).build();
    }

    /** Loop(trip count m (an initializer, or none), true, v [2]) whose body's condition is {@code condition}'s output, v negated each step. */
    private static ModelProto loop(Long trips, boolean conditionFromData) {
        GraphProto.Builder body = GraphProto.newBuilder().setName("body").addInput(scalar("i", TensorProto.DataType.INT64_VALUE))
                .addInput(scalar("c_in", TensorProto.DataType.BOOL_VALUE)).addInput(f32("v_in", 2))
                .addNode(node("neg", "Neg", new String[] {"v_in"}, new String[] {"v_out"}))
                .addOutput(scalar("c_out", TensorProto.DataType.BOOL_VALUE)).addOutput(f32("v_out", 2));
        if (conditionFromData) {
            body.addNode(node("sum", "ReduceSum", new String[] {"v_out"}, new String[] {"s"}, AttributeProto.newBuilder().setName("keepdims")
                    .setType(AttributeProto.AttributeType.INT).setI(0).build()));
            body.addNode(node("positive", "Greater", new String[] {"s", "zero"}, new String[] {"c_out"}));
        } else {
            body.addNode(node("keep", "Identity", new String[] {"c_in"}, new String[] {"c_out"}));
        }
        AttributeProto b = AttributeProto.newBuilder().setName("body").setType(AttributeProto.AttributeType.GRAPH).setG(body).build();
        GraphProto.Builder g = GraphProto.newBuilder().setName("loop").addInput(f32("v", 2)).addOutput(f32("w", 2))
                .addNode(node("loop", "Loop", new String[] {trips == null ? "" : "m", "", "v"}, new String[] {"w"}, b))
                .addInitializer(TestModels.weights("zero", new float[] {0}));
        if (trips != null) g.addInitializer(TensorProto.newBuilder().setName("m").setDataType(TensorProto.DataType.INT64_VALUE).addInt64Data(trips));
        return TestModels.model(13, g.build());
    }

    private static String refusal(ModelProto m) {
        return assertThrows(OnnxException.class, () -> Onnx.load(m.toByteArray()).close()).getMessage();
    }

    @Test
    void aConditionComputedFromDataOrTooManyIterationsAreRefusedAtLoad() {
        String m = refusal(loop(5L, true));
        assertTrue(m.contains("node 'loop' (Loop") && m.contains("its condition (body output 0) ('c_out') is computed at run time")
                && m.contains("imported unrolled"), m);
        m = refusal(loop((long) Loops.MAX_ITERATIONS + 1, false));
        assertTrue(m.contains("runs more than " + Loops.MAX_ITERATIONS + " iterations (" + (Loops.MAX_ITERATIONS + 1) + ")"), m);
        m = refusal(loop(null, false));
        assertTrue(m.contains("runs more than " + Loops.MAX_ITERATIONS + " iterations (no trip count, and its condition stays true)"), m);
        // a body that takes a carried value the node does not give (its body reads an outer value too, which the import
        // appends to the node's inputs for ordering only): refused, not bound to that outer value
        ModelProto missing = loop(3L, false);
        GraphProto.Builder g = missing.getGraph().toBuilder();
        AttributeProto body = g.getNode(0).getAttribute(0);
        GraphProto.Builder b = body.getG().toBuilder().setNode(0, node("neg", "Sub", new String[] {"v_in", "zero"}, new String[] {"v_out"}));
        g.setNode(0, g.getNode(0).toBuilder().clearInput().addInput("m").addInput("").setAttribute(0, body.toBuilder().setG(b)));
        m = refusal(missing.toBuilder().setGraph(g).build());
        assertTrue(m.contains("node 'loop' (Loop") && m.contains("got a body of 3 inputs and 2 outputs for 2 inputs and 1 outputs"), m);
        try (OnnxModel ok = Onnx.load(loop(3L, false).toByteArray()); Tensor v = Tensor.of(new float[] {1.5f, -2f}, 2)) {   // 3 trips: v negated three times
            float[] w = TestModels.outputValues(ok, Map.of("v", v), "w");
            assertEquals(List.of(-1.5f, 2f), List.of(w[0], w[1]));
        }
    }
}
