package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import dev.panamadnn.graph.Attributes;
import dev.panamadnn.graph.Graph;
import dev.panamadnn.graph.GraphBuilder;
import dev.panamadnn.graph.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code split_batch}: a plan of 2 threads for a small graph that computes each sample alone runs as two
 * single-threaded halves of the batch side by side, with the same outputs as the plan with the rule off (which runs
 * one batch over both threads); every graph that mixes samples (a reduction, softmax, concat, gather or transpose over
 * the batch axis, a reshape through it, a shape computation feeding data, MaxPool's indices)
 * runs unsplit, as do batches not divisible by the threads, one-thread plans and graphs with large weights.
 */
class BatchSplitTest {
    private static final String RULE = BatchSplit.NAME;
    private static final CompileOptions TWO = CompileOptions.defaults().withThreads(2);
    private final RandomTensors tensors = new RandomTensors(17);

    @AfterEach
    void free() {
        tensors.close();
    }

    private Tensor random(long... shape) {
        return tensors.uniform(shape);
    }

    /** A graph with input {@code x} of {@code [N, c, h, w]}, built by {@code body} (which names its output "y"). */
    private static Graph graph(long c, long h, long w, Consumer<GraphBuilder> body) {
        GraphBuilder g = Graph.builder("g");
        g.input("x", Shape.batched("N", c, h, w));
        body.accept(g);
        g.output("y");
        return g.build();
    }

    /** Conv 3x3 -> Relu -> MaxPool -> pointwise Conv -> GlobalAveragePool -> Flatten -> Gemm: every sample alone. */
    private Graph smallCnn() {
        Tensor w1 = random(8, 4, 3, 3), b1 = random(8), w2 = random(16, 8, 1, 1), b2 = random(16), wl = random(10, 16), bl = random(10);
        return graph(4, 12, 12, g -> {
            String a = g.node("Conv", "conv1", Attributes.of("pads", new long[] {1, 1, 1, 1}), "x", g.initializer("w1", w1), g.initializer("b1", b1));
            String r = g.node("Relu", "relu", Attributes.empty(), a);
            String p = g.node("MaxPool", "pool", Attributes.of("kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2}), r);
            String c = g.node("Conv", "conv2", Attributes.empty(), p, g.initializer("w2", w2), g.initializer("b2", b2));
            String gp = g.node("GlobalAveragePool", "gap", Attributes.empty(), c);
            String f = g.node("Flatten", "flatten", Attributes.of("axis", 1L), gp);
            g.node("Gemm", "y", Attributes.of("transB", 1L), f, g.initializer("wl", wl), g.initializer("bl", bl));
        });
    }

    private static float[] run(CompiledModel p, Tensor x) {
        Map<String, Tensor> out = p.run(Map.of("x", x));
        try {
            return out.get("y").toFloatArray();
        } finally {
            out.values().forEach(Tensor::close);
        }
    }

    private static boolean split(CompiledModel p) {
        return p.rulesFired().stream().anyMatch(r -> r.startsWith(RULE));
    }

    /** Compiles {@code g} for {@code x} with {@code options} and with the rule off; same outputs; returns whether it split. */
    private boolean sameAsUnsplit(Graph g, Tensor x, CompileOptions options) {
        try (CompiledModel with = CompiledModel.compile(g, options, Map.of("x", x.shape()));
             CompiledModel without = CompiledModel.compile(g, options.withoutRule(RULE), Map.of("x", x.shape()))) {
            assertFalse(split(without), without.describe());
            assertArrayEquals(run(without, x), run(with, x), 1e-5f, with.describe());
            return split(with);
        }
    }

    @Test
    void aSmallConvNetRunsAsTwoHalvesWithTheSameResults() {
        Graph g = smallCnn();
        Tensor x = random(6, 4, 12, 12);
        assertTrue(sameAsUnsplit(g, x, TWO));
        try (CompiledModel p = CompiledModel.compile(g, TWO, Map.of("x", x.shape()));
             CompiledModel unsplit = CompiledModel.compile(g, TWO.withoutRule(RULE), Map.of("x", x.shape()))) {
            assertTrue(p.rulesFired().contains(RULE + ": 6 samples as 2 single-threaded runs of 3 side by side"), p.rulesFired().toString());
            assertTrue(p.toString().contains("run as 2 single-threaded runs of 3 samples side by side"), p.toString());
            assertArrayEquals(new long[] {6, 10}, p.outputShape());
            assertEquals(unsplit.flops(), p.flops(), "the work of the whole batch");
            assertEquals(p.primitiveCount(), p.profileSteps(Map.of("x", x), Map.of("y", Tensor.zeros(6, 10)), 3).length);
            // the single-output API too
            Tensor y = Tensor.zeros(6, 10);
            tensors.keep(y);
            p.run(x, y);
            assertArrayEquals(run(unsplit, x), y.toFloatArray(), 1e-5f);
        }
    }

    @Test
    void theCallersThreadKeepsItsOpenMpTeamSize() {
        org.junit.jupiter.api.Assumptions.assumeTrue(dev.panamadnn.natives.ThreadControl.openmp(), "oneDNN is not on OpenMP: no team to keep");
        long[] shape = {4, 4, 12, 12};
        Tensor x = random(shape);
        int before = dev.panamadnn.natives.ThreadControl.openmpMaxThreads();
        try (CompiledModel p = CompiledModel.compile(smallCnn(), TWO, Map.of("x", shape))) {
            assertTrue(split(p));
            for (int team : new int[] {2, 3}) {
                dev.panamadnn.natives.ThreadControl.applyToCurrentThread(team);
                run(p, x);   // part 0 ran here single-threaded
                assertEquals(team, dev.panamadnn.natives.ThreadControl.openmpMaxThreads(), "eager calls on this thread keep their team");
            }
        } finally {
            dev.panamadnn.natives.ThreadControl.applyToCurrentThread(before);   // as the next test on this thread expects
        }
    }

    @Test
    void tensorsOfAConfinedArenaRunThePartsOnTheCallingThread() {
        Graph g = smallCnn();
        long[] shape = {4, 4, 12, 12};
        Tensor x = random(shape);
        try (CompiledModel p = CompiledModel.compile(g, TWO, Map.of("x", shape));
             CompiledModel unsplit = CompiledModel.compile(g, TWO.withoutRule(RULE), Map.of("x", shape));
             java.lang.foreign.Arena confined = java.lang.foreign.Arena.ofConfined()) {
            assertTrue(split(p));
            Tensor cx = Tensor.allocate(confined, DataType.F32, shape), cy = Tensor.allocate(confined, DataType.F32, 4, 10);
            cx.segment().copyFrom(x.segment());
            p.run(cx, cy);   // a helper thread may not touch it: no WrongThreadException, the same result
            assertArrayEquals(run(unsplit, x), cy.toFloatArray(), 1e-5f);
            p.warmup();      // its zeros live in a confined arena too
        }
    }

    @Test
    void concurrentCallersGetTheirOwnResults() throws Exception {
        Graph g = smallCnn();
        int callers = 8;
        List<Tensor> inputs = new ArrayList<>();
        for (int i = 0; i < callers; i++) inputs.add(random(4, 4, 12, 12));
        try (CompiledModel p = CompiledModel.compile(g, TWO, Map.of("x", new long[] {4, 4, 12, 12}));
             CompiledModel unsplit = CompiledModel.compile(g, TWO.withoutRule(RULE), Map.of("x", new long[] {4, 4, 12, 12}))) {
            assertTrue(split(p));
            assertConcurrentCallersGetTheirOwnResults(p, unsplit, inputs, 20);
        }
    }

    /** Each of {@code inputs.size()} callers at once runs {@code p} {@code runs} times on its input: the unsplit plan's result every time. */
    private static void assertConcurrentCallersGetTheirOwnResults(CompiledModel p, CompiledModel unsplit, List<Tensor> inputs, int runs)
            throws Exception {
        List<float[]> expected = new ArrayList<>();
        for (Tensor x : inputs) expected.add(run(unsplit, x));
        ExecutorService pool = Executors.newFixedThreadPool(inputs.size());
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < inputs.size(); i++) {
                int k = i;
                futures.add(pool.submit(() -> {
                    for (int r = 0; r < runs; r++) assertArrayEquals(expected.get(k), run(p, inputs.get(k)), 1e-5f, "caller " + k + " run " + r);
                    return null;
                }));
            }
            for (Future<?> f : futures) f.get();
        } finally {
            pool.shutdown();
        }
    }

    /** Three parts (two helper tasks per run, reused run after run and grown for concurrent callers), six callers at once. */
    @Test
    void threePartsForConcurrentCallersGetTheirOwnResults() throws Exception {
        Graph g = smallCnn();
        CompileOptions three = CompileOptions.defaults().withThreads(3);
        int callers = 6;
        List<Tensor> inputs = new ArrayList<>();
        for (int i = 0; i < callers; i++) inputs.add(random(6, 4, 12, 12));
        try (CompiledModel p = CompiledModel.compile(g, three, Map.of("x", new long[] {6, 4, 12, 12}));
             CompiledModel unsplit = CompiledModel.compile(g, three.withoutRule(RULE), Map.of("x", new long[] {6, 4, 12, 12}))) {
            assertTrue(split(p), p.toString());
            assertTrue(p.toString().contains("run as 3 single-threaded runs of 2 samples"), p.toString());
            assertConcurrentCallersGetTheirOwnResults(p, unsplit, inputs, 15);
        }
    }

    @Test
    void batchesNotDivisibleOneThreadAndLargeWeightsRunUnsplit() {
        Graph g = smallCnn();
        assertFalse(sameAsUnsplit(g, random(5, 4, 12, 12), TWO));
        assertFalse(sameAsUnsplit(g, random(1, 4, 12, 12), TWO));
        assertFalse(sameAsUnsplit(g, random(4, 4, 12, 12), CompileOptions.defaults().withThreads(1)));
        // a Linear of 4200 x 2048 floats: 34.4 MB of weights, past MAX_WEIGHT_BYTES
        Tensor w = random(4200, 2048);
        assertTrue(w.segment().byteSize() > BatchSplit.MAX_WEIGHT_BYTES);
        Graph big = graph(2048, 1, 1, b -> {
            String f = b.node("Flatten", "flatten", Attributes.of("axis", 1L), "x");
            b.node("Gemm", "y", Attributes.of("transB", 1L), f, b.initializer("w", w));
        });
        assertFalse(sameAsUnsplit(big, random(4, 2048, 1, 1), TWO));
    }

    /** The reason {@code g} bound at batch 4 does not split, or null. */
    private static String whyNot(Graph g) {
        return BatchSplit.whyNot(g.bind(new long[] {4, 6, 4, 4}), 4);
    }

    @Test
    void graphsThatMixSamplesAreNotSplit() {
        Tensor x = random(4, 6, 4, 4);
        Map<String, Graph> mixing = new java.util.LinkedHashMap<>();
        mixing.put("x minus its mean over the batch", graph(6, 4, 4, g -> {
            String m = g.node("ReduceMean", "mean", Attributes.of("axes", new long[] {0}, "keepdims", 1L), "x");
            g.node("Sub", "y", Attributes.empty(), "x", m);
        }));
        mixing.put("a reduction over every axis", graph(6, 4, 4, g -> {
            String m = g.node("ReduceMax", "max", Attributes.of("keepdims", 1L), "x");
            g.node("Div", "y", Attributes.empty(), "x", m);
        }));
        mixing.put("softmax over the batch", graph(6, 4, 4, g -> g.node("Softmax", "y", Attributes.of("axis", 0L), "x")));
        mixing.put("a transpose moving the batch", graph(6, 4, 4, g -> {
            String t = g.node("Transpose", "t", Attributes.of("perm", new long[] {1, 0, 2, 3}), "x");
            String r = g.node("Softmax", "r", Attributes.of("axis", 1L), t);
            g.node("Transpose", "y", Attributes.of("perm", new long[] {1, 0, 2, 3}), r);
        }));
        mixing.put("a reshape through the batch", graph(6, 4, 4, g -> {
            String r = g.node("Reshape", "r", Attributes.empty(), "x", g.constant("s1", 2, -1, 4, 4));
            String s = g.node("Softmax", "s", Attributes.of("axis", 1L), r);
            g.node("Reshape", "y", Attributes.empty(), s, g.constant("s2", -1, 6, 4, 4));
        }));
        mixing.put("a gather along the batch", graph(6, 4, 4, g -> g.node("Gather", "y", Attributes.of("axis", 0L), "x", g.constant("i", 3, 2, 1, 0))));
        mixing.put("a concat along the batch", graph(6, 4, 4, g -> {
            String c = g.node("Concat", "c", Attributes.of("axis", 0L), "x", "x");
            g.node("ReduceSum", "y", Attributes.of("axes", new long[] {0}, "keepdims", 0L), c);
        }));
        mixing.put("the batch size as data", graph(6, 4, 4, g -> {
            String s = g.node("Shape", "s", Attributes.empty(), "x");
            String n = g.node("Gather", "n", Attributes.of("axis", 0L), s, g.constant("zero", 0));
            String f = g.node("Cast", "f", Attributes.of("to", 1L), n);
            g.node("Div", "y", Attributes.empty(), "x", f);
        }));
        mixing.put("MaxPool's indices", graph(6, 4, 4, g -> {
            // the indices count positions across the whole batch
            List<String> out = g.node("MaxPool", "pool", Attributes.of("kernel_shape", new long[] {2, 2}, "strides", new long[] {2, 2}), List.of("x"), 2);
            g.node("Identity", "y", Attributes.empty(), out.get(0));
        }));
        for (var e : mixing.entrySet()) {
            Graph g = e.getValue();
            assertNotNull(whyNot(g), e.getKey());
            try (CompiledModel p = CompiledModel.compile(g, TWO, Map.of("x", x.shape()))) {
                assertFalse(split(p), e.getKey() + ": " + p.rulesFired());
            } catch (UnsupportedOperationException | IllegalArgumentException notCompiled) {
                // the compiler's own refusal; the rule's decision above is what this test is about
            }
        }
        // and the end-to-end result of one of them is the whole batch's
        assertFalse(sameAsUnsplit(mixing.get("x minus its mean over the batch"), x, TWO));
        // where the channels equal the batch, a transpose or a constant reshape keeps axis 0 of the batch's size
        Tensor square = random(4, 4, 4, 4);
        Graph transposed = graph(4, 4, 4, g -> {
            String t = g.node("Transpose", "t", Attributes.of("perm", new long[] {1, 0, 2, 3}), "x");
            String r = g.node("Softmax", "r", Attributes.of("axis", 1L), t);
            g.node("Transpose", "y", Attributes.of("perm", new long[] {1, 0, 2, 3}), r);
        });
        Graph reshaped = graph(4, 4, 4, g -> {
            String r = g.node("Reshape", "r", Attributes.empty(), "x", g.constant("s1", 4, -1, 4, 4));
            String t = g.node("Softmax", "t", Attributes.of("axis", 1L), r);
            g.node("Reshape", "y", Attributes.empty(), t, g.constant("s2", -1, 4, 4, 4));
        });
        assertNotNull(BatchSplit.whyNot(transposed.bind(square.shape()), 4));
        assertFalse(sameAsUnsplit(transposed, square, TWO));
        assertFalse(sameAsUnsplit(reshaped, square, TWO));
    }

    @Test
    void perSampleShapesOfTheGraphSplit() {
        // ShuffleNet's channel shuffle: Reshape [N, 2, C/2, H, W] (batch from Shape), Transpose [0, 2, 1, 3, 4], Reshape back; softmax over channels
        Graph g = graph(6, 4, 4, b -> {
            String s = b.node("Shape", "s", Attributes.empty(), "x");
            String n = b.node("Gather", "n", Attributes.of("axis", 0L), s, b.constant("zero", 0));
            String shape = b.node("Concat", "shape", Attributes.of("axis", 0L), n, b.constant("rest", 2, 3, 4, 4));
            String r = b.node("Reshape", "r", Attributes.empty(), "x", shape);
            String t = b.node("Transpose", "t", Attributes.of("perm", new long[] {0, 2, 1, 3, 4}), r);
            String back = b.node("Reshape", "back", Attributes.empty(), t, b.constant("s2", -1, 6, 4, 4));
            b.node("Softmax", "y", Attributes.of("axis", 1L), back);
        });
        assertNull(whyNot(g));
        assertTrue(sameAsUnsplit(g, random(4, 6, 4, 4), TWO));
        assertEquals(DataType.F32, g.value("y").dtype());
    }
}
