package dev.panamadnn.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.graph.Dim;
import dev.panamadnn.graph.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Onnx#load(Path, OnnxOptions)}: a multi-head attention pooler whose Reshape needs both its dynamic dims (batch N
 * and sequence S; scripts/goldens/export_onnx_load_options.py) imports only as a model {@code run(Map)} binds per call;
 * with S fixed at load it is a graph, and a plan set over N whose outputs match PyTorch's. The same model with its input
 * shape removed from the file is refused naming the option, and runs with the shape given. Options that contradict the
 * file, or name what it does not have, are refused naming each.
 */
class OnnxLoadOptionsTest {
    private static Path dir;

    @BeforeAll
    static void goldens() throws Exception {
        dir = Goldens.ensure("onnx-load-options", "export_onnx_load_options.py", "heads.goldens.safetensors", 300);
    }

    /** Runs {@code plans} on the goldens' {@code x_<key>} and checks {@code y_<key>} (PyTorch's). */
    private static void check(String what, PlanSet plans, SafeTensors goldens, String key) {
        Map<String, Tensor> out = plans.run(Map.of("x", goldens.get("x_" + key)));
        try {
            OnnxModelsTest.assertClose(what + " " + key, goldens.get("y_" + key), out.get("y"));
        } finally {
            out.values().forEach(Tensor::close);
        }
    }

    @Test
    void aFixedSequenceLengthMakesAGraphAndAPlanSetOverTheBatch() throws Exception {
        try (SafeTensors goldens = SafeTensors.open(dir.resolve("heads.goldens.safetensors"))) {
            try (OnnxModel declared = Onnx.load(dir.resolve("heads.onnx"))) {
                assertEquals(Shape.of(Dim.symbol("N"), Dim.symbol("S"), Dim.of(16)), declared.inputs().get(0).shape());
                assertThrows(OnnxException.class, declared::toGraph);   // S unknown: only run(Map) takes it
            }
            try (OnnxModel m = Onnx.load(dir.resolve("heads.onnx"), OnnxOptions.defaults().withDim("S", 6));
                 PlanSet plans = m.compile(CompileOptions.defaults())) {
                assertEquals(Shape.of(Dim.symbol("N"), Dim.of(6), Dim.of(16)), m.inputs().get(0).shape());
                assertEquals(Shape.of(Dim.symbol("N"), Dim.of(4)), m.outputs().get(0).shape());
                check("S = 6", plans, goldens, "b3");
                check("S = 6", plans, goldens, "b1");
                var e = assertThrows(IllegalArgumentException.class, () -> plans.run(Map.of("x", goldens.get("x_s9"))));
                assertTrue(e.getMessage().contains("[2, 9, 16]"), e.getMessage());
            }
            try (OnnxModel m = Onnx.load(dir.resolve("heads.onnx"),
                    OnnxOptions.defaults().withInputShape("x", Shape.of(Dim.symbol("N"), Dim.of(9), Dim.of(16))));
                 PlanSet plans = m.compile(CompileOptions.defaults())) {
                check("S = 9 by the input's shape", plans, goldens, "s9");
            }
        }
    }

    @Test
    void anInputWithoutAShapeIsRefusedNamingTheOptionAndRunsWithOne() throws Exception {
        Path file = dir.resolve("heads_noshape.onnx");
        var e = assertThrows(OnnxException.class, () -> Onnx.load(file));
        assertTrue(e.getMessage().contains("graph input 'x': has no shape (give it at load: Onnx.load(file, OnnxOptions.defaults().withInputShape(\"x\", shape)))"),
                e.getMessage());
        byte[] bytes = Files.readAllBytes(file);
        try (SafeTensors goldens = SafeTensors.open(dir.resolve("heads.goldens.safetensors"));
             OnnxModel fromFile = Onnx.load(file, OnnxOptions.defaults().withInputShape("x", Shape.of(Dim.symbol("batch"), Dim.of(6), Dim.of(16))));
             OnnxModel fromBytes = Onnx.load(bytes, OnnxOptions.defaults().withInputShape("x", Shape.of(Dim.symbol("batch"), Dim.of(6), Dim.of(16))));
             PlanSet plans = fromFile.compile(CompileOptions.defaults());
             PlanSet plans2 = fromBytes.compile(CompileOptions.defaults())) {
            assertEquals(Shape.of(Dim.symbol("batch"), Dim.of(6), Dim.of(16)), fromFile.inputs().get(0).shape());
            for (String key : new String[] {"b3", "b1"}) {
                check("no declared shape, from the file", plans, goldens, key);
                check("no declared shape, from bytes", plans2, goldens, key);
            }
            // run(Map) on the fixed shape the options gave
            try (OnnxModel fixed = Onnx.load(file, OnnxOptions.defaults().withInputShape("x", Shape.of(2, 9, 16)))) {
                Map<String, Tensor> out = fixed.run(Map.of("x", goldens.get("x_s9")));
                try {
                    OnnxModelsTest.assertClose("no declared shape, fixed [2, 9, 16]", goldens.get("y_s9"), out.get("y"));
                } finally {
                    out.values().forEach(Tensor::close);
                }
            }
        }
    }

    @Test
    void optionsThatDoNotFitTheModelAreRefusedNamingEachProblem() {
        Path file = dir.resolve("heads.onnx");
        var e = assertThrows(OnnxException.class, () -> Onnx.load(file, OnnxOptions.defaults()
                .withInputShape("x", Shape.of(Dim.symbol("N"), Dim.of(6)))
                .withInputShape("nope", Shape.of(1))
                .withDim("T", 3)));
        String m = e.getMessage();
        assertTrue(m.contains("the load options do not fit the model"), m);
        assertTrue(m.contains("input 'x': the model declares rank 3 [N, S, 16], the options give rank 2 [N, 6]"), m);
        assertTrue(m.contains("input 'nope' is not a graph input of the model; its inputs are [x]"), m);
        assertTrue(m.contains("dim 'T' is not a dim name of the model's inputs; they name [N, S]"), m);
        assertEquals(3, e.problems().size(), m);

        var fixedDim = assertThrows(OnnxException.class, () -> Onnx.load(file, OnnxOptions.defaults()
                .withInputShape("x", Shape.of(Dim.symbol("N"), Dim.of(6), Dim.of(8)))));
        assertTrue(fixedDim.getMessage().contains("input 'x': dim 2 is 16 in the model [N, S, 16], the options give 8 [N, 6, 8]"), fixedDim.getMessage());
        var symbolForFixed = assertThrows(OnnxException.class, () -> Onnx.load(file, OnnxOptions.defaults()
                .withInputShape("x", Shape.of(Dim.symbol("N"), Dim.of(6), Dim.symbol("C")))));
        assertTrue(symbolForFixed.getMessage().contains("dim 2 is 16 in the model [N, S, 16], the options give C"), symbolForFixed.getMessage());
        var weight = assertThrows(OnnxException.class, () -> Onnx.load(file, OnnxOptions.defaults().withInputShape("qkv.weight", Shape.of(48, 16))));
        assertTrue(weight.getMessage().contains("input 'qkv.weight' is not a graph input"), weight.getMessage());

        assertThrows(IllegalArgumentException.class, () -> Onnx.load(file, null));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> OnnxOptions.defaults().withDim("S", -1)).getMessage()
                .contains("dim 'S': expected a size >= 0, got -1"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> OnnxOptions.defaults().withDim("S", 1).withDim("S", 2)).getMessage()
                .contains("was given a size already (1)"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> OnnxOptions.defaults().withInputShape("x", Shape.of(new Dim(2, "N"))))
                .getMessage().contains("a dim must be a size or a plain symbol, got 2*N"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> OnnxOptions.defaults().withInputShape("x", null)).getMessage()
                .contains("input 'x': expected a shape, got null"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> OnnxOptions.defaults().withInputShape(null, Shape.of(1))).getMessage()
                .contains("expected an input name, got null"));
    }

    /**
     * Every dim fixed at load (as in a file exported without dynamic axes): {@link OnnxModel#plan} compiles one plan, which
     * answers PyTorch's outputs; {@code compile} (a plan set wants a symbolic batch) is refused pointing to it, and
     * {@code plan} on a model with a symbolic dim is refused naming the dim and the option that fixes it.
     */
    /**
     * withOptions imports the model again from what it read, not from the file: the same outputs as a load with those
     * options, also after the file was deleted; and once the model it came from is closed, a new batch size (which reads
     * the weights again) is refused naming the freed weight, the sizes compiled before still running.
     */
    @Test
    void withOptionsImportsAgainFromWhatTheModelReadNotFromTheFile() throws Exception {
        Path copy = Files.copy(dir.resolve("heads.onnx"), Files.createTempFile("heads", ".onnx"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        try (SafeTensors goldens = SafeTensors.open(dir.resolve("heads.goldens.safetensors"))) {
            OnnxModel declared = Onnx.load(copy);
            Files.delete(copy);
            try (OnnxModel six = declared.withOptions(OnnxOptions.defaults().withDim("S", 6));
                 OnnxModel nine = declared.withOptions(OnnxOptions.defaults().withInputShape("x", Shape.of(Dim.symbol("N"), Dim.of(9), Dim.of(16))));
                 PlanSet sixPlans = six.compile(CompileOptions.defaults()); PlanSet ninePlans = nine.compile(CompileOptions.defaults())) {
                assertEquals(Shape.of(Dim.symbol("N"), Dim.of(6), Dim.of(16)), six.inputs().get(0).shape());
                check("withOptions S = 6", sixPlans, goldens, "b3");
                check("withOptions S = 9", ninePlans, goldens, "s9");
                var e = assertThrows(OnnxException.class, () -> declared.withOptions(OnnxOptions.defaults().withDim("T", 2)));
                assertTrue(e.getMessage().contains("T"), e.getMessage());
                declared.close();
                check("S = 6 after the model it came from closed", sixPlans, goldens, "b3");   // batch 3: compiled before
                var freed = assertThrows(IllegalStateException.class, () -> check("a new batch size", sixPlans, goldens, "b1"));
                assertTrue(freed.getMessage().contains("building the plan for input [1, 6, 16] failed") && freed.getMessage().contains("was freed (closed)"),
                        freed.getMessage());
                assertThrows(IllegalStateException.class, () -> declared.withOptions(OnnxOptions.defaults().withDim("S", 2)));
            } finally {
                declared.close();
            }
        }
    }

    @Test
    void fixedShapesCompileToOnePlan() throws Exception {
        try (SafeTensors goldens = SafeTensors.open(dir.resolve("heads.goldens.safetensors"))) {
            try (OnnxModel m = Onnx.load(dir.resolve("heads.onnx"), OnnxOptions.defaults().withDim("S", 6).withDim("N", 3));
                 dev.panamadnn.compile.CompiledModel plan = m.plan(CompileOptions.defaults())) {
                assertArrayEquals(new long[] {3, 6, 16}, plan.inputShape());
                Map<String, Tensor> out = plan.run(Map.of("x", goldens.get("x_b3")));
                try {
                    OnnxModelsTest.assertClose("one plan, [3, 6, 16]", goldens.get("y_b3"), out.get("y"));
                } finally {
                    out.values().forEach(Tensor::close);
                }
                var e = assertThrows(OnnxException.class, () -> m.compile(CompileOptions.defaults()));
                assertTrue(e.getMessage().contains("plan(options) compiles one plan for them"), e.getMessage());
            }
            try (OnnxModel m = Onnx.load(dir.resolve("heads.onnx"), OnnxOptions.defaults().withDim("S", 6))) {
                var e = assertThrows(OnnxException.class, () -> m.plan(CompileOptions.defaults()));
                assertTrue(e.getMessage().contains("input 'x' [N, 6, 16]: dim 0 is symbolic (N)") && e.getMessage().contains("OnnxOptions.withDim(\"N\", size)"),
                        e.getMessage());
            }
        }
    }
}
