package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.OnnxTextGraphs;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Plans of several inputs and outputs, with the shape computations torch exports folded and the
 * index ops (Split, Concat, Slice, Gather, Unsqueeze, Expand, Where) run on activations: each
 * exported model's outputs against PyTorch's at two batch sizes ({@code generate_onnx_graphs.py}).
 */
class CompiledOnnxGraphsTest {
    private static final Map<String, OnnxTextGraphs.Model> MODELS = OnnxTextGraphs.load();
    private static final List<String> COMPILED = List.of("view_flatten", "reshape_keep", "two_inputs", "split_cat", "slice_gather", "expand_where",
            "embedding", "shape_slice", "var_std", "gather_sorted", "repeat_interleave");

    @TestFactory
    Stream<DynamicTest> outputsMatchPyTorch() {
        List<DynamicTest> tests = new ArrayList<>();
        for (String name : COMPILED) {
            OnnxTextGraphs.Model m = MODELS.get(name);
            for (int batch : m.inputs().keySet()) {
                tests.add(DynamicTest.dynamicTest(name + " N=" + batch, () -> check(m, batch)));
            }
        }
        assertEquals(22, tests.size());
        return tests.stream();
    }

    private static void check(OnnxTextGraphs.Model m, int batch) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        Map<String, Tensor> in = new LinkedHashMap<>();
        m.inputs().get(batch).forEach((k, d) -> {
            shapes.put(k, d.dims());
            in.put(k, d.tensor());
        });
        try (CompiledModel plan = CompiledModel.compile(m.graph(), CompileOptions.defaults(), shapes)) {
            assertTrue(plan.steps().stream().noneMatch(s -> s.contains("Shape") || s.contains("Gather_output")), plan.describe());
            Map<String, Tensor> out = plan.run(in);
            try {
                assertEquals(List.copyOf(m.outputs().get(batch).keySet()), List.copyOf(out.keySet()), "outputs in graph order");
                for (Map.Entry<String, OnnxTextGraphs.Data> e : m.outputs().get(batch).entrySet()) {
                    Tensor y = out.get(e.getKey());
                    assertArrayEquals(e.getValue().dims(), y.shape(), e.getKey());
                    float[] got = y.toFloatArray(), want = e.getValue().floats();
                    for (int i = 0; i < want.length; i++) {
                        assertEquals(want[i], got[i], 1e-6f * Math.max(1f, Math.abs(want[i])), m.name() + " " + e.getKey() + "[" + i + "]");
                    }
                }
            } finally {
                out.values().forEach(Tensor::close);
            }
        }
    }

    /** x.view(x.size(0), -1): the Shape/Gather/Unsqueeze/Concat chain is folded into a constant, leaving Relu and a view. */
    @Test
    void shapeChainIsFolded() {
        try (CompiledModel plan = CompiledModel.compile(MODELS.get("view_flatten").graph(), CompileOptions.defaults(), 4, 3, 4, 5)) {
            String rules = String.join("\n", plan.rulesFired());
            for (String node : List.of("/Shape", "/Gather", "/Unsqueeze", "/Concat")) assertTrue(rules.contains(node + " (known when compiling)"), rules);
            assertArrayEquals(new long[] {4, 60}, plan.outputShape());
            assertEquals(1, plan.primitiveCount(), plan.describe());
        }
    }

    /** An embedding lookup of run-time ids: an id out of range is an exception naming the node and the id, never a read out of bounds. */
    @Test
    void embeddingIdsOutOfRangeAreRefused() {
        try (CompiledModel plan = CompiledModel.compile(MODELS.get("embedding").graph(), CompileOptions.defaults(), Map.of("ids", new long[] {1, 3}));
             java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            Tensor ids = Tensor.allocate(arena, DataType.I64, 1, 3);
            for (long bad : new long[] {10, -11, Long.MAX_VALUE}) {
                ids.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, 1, bad);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plan.run(Map.of("ids", ids)));
                assertTrue(e.getMessage().contains("/emb/Gather") && e.getMessage().contains("index " + bad) && e.getMessage().contains("10 rows"),
                        e.getMessage());
            }
            ids.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, 1, -1);   // ONNX: negative ids count from the end
            Map<String, Tensor> out = plan.run(Map.of("ids", ids));
            try {
                float[] table = MODELS.get("embedding").graph().initializers().get("emb.weight").toFloatArray();
                assertArrayEquals(java.util.Arrays.copyOfRange(table, 36, 40), java.util.Arrays.copyOfRange(out.get("e").toFloatArray(), 4, 8));
            } finally {
                out.values().forEach(Tensor::close);
            }
            Tensor floats = Tensor.allocate(arena, DataType.F32, 1, 3);
            assertMessage(() -> plan.run(Map.of("ids", floats)), "input 'ids': expected I64 (i64[1, 3]), got F32");
        }
    }

    /** torch.gather by an I64 input: an index out of range is an exception naming the node, the index and the dim, before anything is read. */
    @Test
    void gatherIndicesOutOfRangeAreRefused() {
        try (CompiledModel plan = CompiledModel.compile(MODELS.get("gather_sorted").graph(), CompileOptions.defaults(),
                Map.of("x", new long[] {1, 6}, "idx", new long[] {1, 4}));
             java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined(); Tensor x = Tensor.zeros(1, 6)) {
            Tensor idx = Tensor.allocate(arena, DataType.I64, 1, 4);
            for (long bad : new long[] {6, -7, Long.MIN_VALUE}) {
                idx.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_LONG, 2, bad);
                IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> plan.run(Map.of("x", x, "idx", idx)));
                assertTrue(e.getMessage().contains("GatherElements") && e.getMessage().contains("index " + bad)
                        && e.getMessage().contains("out of range for dim 1 (6)"), e.getMessage());
            }
        }
    }

    /** Wrong names, missing inputs, dtypes and shapes are refused before any native call, naming the input, expected and given. */
    @Test
    void badInputsAreRefused() {
        OnnxTextGraphs.Model m = MODELS.get("two_inputs");
        try (CompiledModel plan = CompiledModel.compile(m.graph(), CompileOptions.defaults(), Map.of("a", new long[] {2, 3, 4}, "b", new long[] {2, 3, 4}));
             Tensor a = Tensor.zeros(2, 3, 4); Tensor b = Tensor.zeros(2, 3, 4); Tensor wrong = Tensor.zeros(3, 3, 4)) {
            assertEquals("[a: f32[2, 3, 4], b: f32[2, 3, 4]]", plan.inputs().toString());
            assertEquals("[sum: f32[2, 3, 4], first: f32[2, 3, 4]]", plan.outputs().toString());
            assertMessage(() -> plan.run(Map.of("a", a, "c", b)), "unknown input 'c'");
            assertMessage(() -> plan.run(Map.of("a", a)), "missing input 'b' (f32[2, 3, 4])");
            assertMessage(() -> plan.run(Map.of("a", a, "b", wrong)), "input 'b': expected shape [2, 3, 4], got [3, 3, 4]");
            try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                Tensor ints = Tensor.allocate(arena, DataType.I64, 2, 3, 4);
                assertMessage(() -> plan.run(Map.of("a", ints, "b", b)), "input 'a': expected F32 (f32[2, 3, 4]), got I64");
            }
            assertMessage(() -> plan.run(a), "run it with run(Map)");
            Map<String, Tensor> outs = new HashMap<>(Map.of("sum", Tensor.zeros(2, 3, 4), "first", Tensor.zeros(2, 3, 4)));
            try {
                assertMessage(() -> plan.run(Map.of("a", a, "b", b), Map.of("sum", outs.get("sum"), "first", a)), "input 'a' and output 'first' must not overlap");
                assertMessage(() -> plan.run(Map.of("a", a, "b", b), Map.of("sum", outs.get("sum"))), "missing output 'first'");
                plan.run(Map.of("a", a, "b", b), outs);   // the allocation-free form
            } finally {
                outs.values().forEach(Tensor::close);
            }
            assertMessage(() -> CompiledModel.compile(m.graph(), CompileOptions.defaults(), 2, 3, 4), "has 2 inputs");
            assertMessage(() -> CompiledModel.compile(m.graph(), CompileOptions.defaults(), Map.of("a", new long[] {2, 3, 4}, "b", new long[] {3, 3, 4})),
                    "N = 2 from input a dim 0");
        }
    }

    /** A plan set over two inputs sharing N: the batch is read from both, a plan per size, and inputs that disagree are refused. */
    @Test
    void planSetReadsTheBatchOfEveryInput() {
        OnnxTextGraphs.Model m = MODELS.get("split_cat");
        OnnxTextGraphs.Model two = MODELS.get("two_inputs");
        try (PlanSet set = PlanSet.of(two.graph(), CompileOptions.defaults(), 4)) {
            for (int batch : List.of(2, 3, 2)) {
                Map<String, Tensor> in = new LinkedHashMap<>();
                two.inputs().get(batch).forEach((k, d) -> in.put(k, d.tensor()));
                Map<String, Tensor> out = set.run(in);
                try {
                    float[] want = two.outputs().get(batch).get("sum").floats(), got = out.get("sum").toFloatArray();
                    for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-6f, "sum[" + i + "] at N=" + batch);
                } finally {
                    out.values().forEach(Tensor::close);
                }
            }
            assertEquals(2, set.plansBuilt());
            try (Tensor a = Tensor.zeros(2, 3, 4); Tensor b = Tensor.zeros(3, 3, 4); Tensor c = Tensor.zeros(2, 3, 5)) {
                assertMessage(() -> set.run(Map.of("a", a, "b", b)), "inputs 'a' (N = 2) and 'b' (N = 3) disagree on the batch N");
                assertMessage(() -> set.run(Map.of("a", a, "b", c)), "input 'b': expected shape [N, 3, 4] (any batch N >= 1), got [2, 3, 5]");
                assertMessage(() -> set.run(Map.of("a", a)), "missing input 'b'");
                assertMessage(() -> set.run(Map.of("a", a, "b", a, "z", a)), "unknown input 'z'");
            }
        }
        try (PlanSet set = PlanSet.of(m.graph(), CompileOptions.defaults(), 2)) {   // one input, two outputs (Split)
            Map<String, Tensor> in = Map.of("x", m.inputs().get(3).get("x").tensor());
            Map<String, Tensor> out = set.run(in);
            try {
                assertArrayEquals(m.outputs().get(3).get("mid").floats(), out.get("mid").toFloatArray(), 0f);   // copies: exact (0 == -0)
                assertArrayEquals(m.outputs().get(3).get("cat").floats(), out.get("cat").toFloatArray(), 0f);
                // outputs(batch): what run(in, out) needs, in the graph's order; tensors made from it take the same values
                List<dev.panamadnn.graph.Value> made = set.outputs(3);
                assertEquals(m.graph().outputs(), made.stream().map(dev.panamadnn.graph.Value::name).toList());
                try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
                    Map<String, Tensor> into = new LinkedHashMap<>();
                    for (dev.panamadnn.graph.Value v : made) {
                        assertArrayEquals(out.get(v.name()).shape(), v.shape().sizes(), v.name());
                        into.put(v.name(), Tensor.allocate(arena, v.dtype(), v.shape().sizes()));
                    }
                    set.run(in, into);
                    for (String name : into.keySet()) assertArrayEquals(out.get(name).toFloatArray(), into.get(name).toFloatArray(), 0f, name);
                }
            } finally {
                out.values().forEach(Tensor::close);
            }
            assertMessage(() -> set.outputs(0), "batch");
            set.close();
            assertThrows(IllegalStateException.class, () -> set.outputs(3));
        }
    }

    /** close() racing multi-input runs on 8 threads: every run either completes with PyTorch's values or fails as closed. */
    @Test
    void closeRacingMultiInputRunsIsSafe() throws Exception {
        OnnxTextGraphs.Model m = MODELS.get("two_inputs");
        Map<String, Tensor> in = new LinkedHashMap<>();
        m.inputs().get(3).forEach((k, d) -> in.put(k, d.tensor()));
        float[] want = m.outputs().get(3).get("sum").floats();
        CompiledModel plan = CompiledModel.compile(m.graph(), CompileOptions.defaults(), Map.of("a", new long[] {3, 3, 4}, "b", new long[] {3, 3, 4}));
        java.util.concurrent.atomic.AtomicReference<Throwable> failure = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicInteger completed = new java.util.concurrent.atomic.AtomicInteger(), refused = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.CountDownLatch started = new java.util.concurrent.CountDownLatch(8);
        List<Thread> threads = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            threads.add(Thread.ofPlatform().start(() -> {
                try (Tensor sum = Tensor.zeros(3, 3, 4); Tensor first = Tensor.zeros(3, 3, 4)) {
                    Map<String, Tensor> out = Map.of("sum", sum, "first", first);
                    started.countDown();
                    for (int i = 0; i < 2000; i++) {
                        try {
                            plan.run(in, out);
                        } catch (IllegalStateException closed) {
                            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
                            refused.incrementAndGet();
                            return;
                        }
                        float[] got = sum.toFloatArray();
                        for (int j = 0; j < want.length; j++) assertEquals(want[j], got[j], 1e-6f);
                        completed.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            }));
        }
        started.await();
        Thread.sleep(20);
        plan.close();
        for (Thread t : threads) t.join();
        if (failure.get() != null) throw new AssertionError("a thread failed", failure.get());
        assertTrue(completed.get() > 0, "no run completed before close");
        assertThrows(IllegalStateException.class, () -> plan.run(in));
    }

    private static void assertMessage(org.junit.jupiter.api.function.Executable call, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), "expected '" + part + "' in: " + e.getMessage());
    }
}
