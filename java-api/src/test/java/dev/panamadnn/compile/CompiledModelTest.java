package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.AdaptiveAvgPool2d;
import dev.panamadnn.nn.AvgPool2d;
import dev.panamadnn.nn.BasicBlock;
import dev.panamadnn.nn.BatchNorm2d;
import dev.panamadnn.nn.Bottleneck;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.MaxPool2d;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Compiled vs eager on small models with random weights and randomized batch-norm statistics.
 * Tolerance {@code 1e-4 * max|eager| + 1e-5}: both are fp32 oneDNN convolutions, but the compiled
 * plan folds batch-norm into the weights (one extra rounding per weight, and a different
 * summation order through other layouts), a relative difference of a few 2^-24 per layer.
 */
class CompiledModelTest {
    /** Random parameters; batch-norm running variances in [0.5, 1.5] so the folding is exercised. */
    static void randomize(Module m, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        for (Map.Entry<String, Tensor> e : m.parameters().entrySet()) {
            Tensor t = e.getValue();
            if (t.dtype() != DataType.F32) continue;
            MemorySegment s = t.segment();
            boolean var = e.getKey().endsWith("running_var");
            for (long i = 0; i < t.numel(); i++) {
                float v = var ? (float) r.nextDouble(0.5, 1.5) : (float) r.nextDouble(-0.5, 0.5);
                s.setAtIndex(ValueLayout.JAVA_FLOAT, i, v);
            }
        }
    }

    static Tensor randomInput(long seed, long... shape) {
        SplittableRandom r = new SplittableRandom(seed);
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) r.nextDouble(-1, 1);
        return Tensor.of(v, shape);
    }

    static void assertClose(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double max = 0, err = 0;
        for (float v : expected) max = Math.max(max, Math.abs(v));
        for (int i = 0; i < expected.length; i++) err = Math.max(err, Math.abs(expected[i] - actual[i]));
        double tol = 1e-4 * max + 1e-5;
        System.out.printf("%s: max |compiled - eager| %.3g (max |eager| %.3g, tolerance %.3g)%n", what, err, max, tol);
        assertTrue(err <= tol, what + ": max error " + err + " > " + tol);
    }

    private static void compareWithEager(Module model, String what, long... shape) {
        randomize(model, 42);
        try (model; Tensor x = randomInput(7, shape); CompiledModel c = CompiledModel.compile(model, shape);
             Tensor eager = model.forward(x); Tensor compiled = c.run(x)) {
            assertArrayEquals(eager.shape(), compiled.shape());
            c.steps().forEach(s -> System.out.println("  " + s));
            assertClose(eager.toFloatArray(), compiled.toFloatArray(), what);
        }
    }

    @Test
    void convBnReluStack() {
        compareWithEager(new Sequential(
                Conv2d.builder(3, 16, 3).padding(1).bias(false).build(), new BatchNorm2d(16), new ReLU(),
                Conv2d.builder(16, 24, 3).stride(2).padding(1).build(), new BatchNorm2d(24), new ReLU(),
                new MaxPool2d(3, 2, 1),
                Conv2d.builder(24, 8, 1).build(), new ReLU(),
                new AdaptiveAvgPool2d(1), new Flatten(), new Linear(8, 5, true)), "conv-bn-relu stack", 2, 3, 17, 15);
    }

    @Test
    void otherActivationsAvgPoolAndStandaloneBatchNorm() {
        compareWithEager(new Sequential(
                Conv2d.builder(3, 16, 3).padding(1).build(), new dev.panamadnn.nn.LeakyReLU(0.1f),
                Conv2d.builder(16, 16, 3).padding(1).groups(4).build(), new BatchNorm2d(16), new dev.panamadnn.nn.GELU(),
                new AvgPool2d(new int[] {3, 3}, new int[] {2, 2}, new int[] {1, 1}, true, false),
                new BatchNorm2d(16), new dev.panamadnn.nn.SiLU(),
                Conv2d.builder(16, 8, 1).build(), new dev.panamadnn.nn.ELU(0.5f), new dev.panamadnn.nn.Tanh(),
                new AvgPool2d(2), new dev.panamadnn.nn.GELU("tanh"),
                new Flatten(), new Linear(8 * 4 * 4, 6, true), new dev.panamadnn.nn.Sigmoid()), "activations + avgpool + bn", 2, 3, 17, 17);
    }

    @Test
    void fastReluIsTheSameOnFiniteInputsAndDropsNaNWhereTheDefaultKeepsIt() {
        // The default plan keeps a NaN through ReLU as PyTorch does (CompiledNonFiniteTest checks it
        // against PyTorch); withFastRelu trades that for oneDNN's max(x, 0), which turns it into 0.
        try (Sequential m = new Sequential(Conv2d.builder(3, 8, 1).build(), new ReLU())) {
            randomize(m, 42);
            long[] shape = {1, 3, 4, 4};
            try (Tensor x = randomInput(7, shape); Tensor eager = m.forward(x);
                 CompiledModel exact = CompiledModel.compile(m, shape);
                 CompiledModel fast = CompiledModel.compile(m, CompileOptions.defaults().withFastRelu(true), shape);
                 Tensor a = exact.run(x); Tensor b = fast.run(x)) {
                assertTrue(fast.options().fastRelu() && !exact.options().fastRelu());
                assertClose(eager.toFloatArray(), a.toFloatArray(), "default plan, finite input");
                assertClose(eager.toFloatArray(), b.toFloatArray(), "fastRelu plan, finite input");
                x.setFloat(Float.NaN, 0, 0, 1, 1);   // a 1x1 convolution: reaches the 8 outputs at (1, 1) only
                try (Tensor nanEager = m.forward(x); Tensor nanExact = exact.run(x); Tensor nanFast = fast.run(x)) {
                    for (int c = 0; c < 8; c++) {
                        assertTrue(Float.isNaN(nanEager.getFloat(0, c, 1, 1)), "eager keeps NaN, channel " + c);
                        assertTrue(Float.isNaN(nanExact.getFloat(0, c, 1, 1)), "default plan keeps NaN, channel " + c);
                        assertEquals(0f, nanFast.getFloat(0, c, 1, 1), "fastRelu plan turns NaN into 0, channel " + c);
                    }
                }
            }
        }
    }

    @Test
    void avgPoolWhosePyTorchDivisorOneDnnLacksRunsTheEagerLayer() {
        // ceil_mode + count_include_pad with a last window past the padding: oneDNN lacks PyTorch's divisor there,
        // so the plan runs the eager layer (which repairs it) as a Java step.
        try (Sequential m = new Sequential(new AvgPool2d(new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, true, true));
             CompiledModel c = CompiledModel.compile(m, 1, 3, 5, 5)) {
            assertTrue(c.steps().stream().anyMatch(st -> st.startsWith("java ")), c.describe());
        }
        compareWithEager(new Sequential(new AvgPool2d(new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, true, true)),
                "avgpool ceil_mode, last window past the padding", 1, 3, 5, 5);
        compareWithEager(new Sequential(new AvgPool2d(new int[] {2, 2}, new int[] {2, 2}, new int[] {0, 0}, true, true)),
                "avgpool ceil_mode, windows inside", 1, 3, 6, 6);
    }

    @Test
    void basicBlockWithoutDownsample() {
        compareWithEager(new BasicBlock(16, 16), "BasicBlock(16, 16)", 2, 16, 12, 12);
    }

    @Test
    void basicBlockWithDownsample() {
        compareWithEager(new BasicBlock(16, 32, 2, BasicBlock.downsample(16, 32, 2)), "BasicBlock(16, 32, stride 2)", 2, 16, 13, 13);
    }

    @Test
    void bottleneckWithDownsample() {
        compareWithEager(new Bottleneck(32, 16, 2, Bottleneck.downsample(32, 64, 2)), "Bottleneck(32, 16, stride 2)", 3, 32, 10, 10);
    }

    @Test
    void bottleneckIdentityAtTheInput() {
        compareWithEager(new Sequential(new Bottleneck(64, 16), new Bottleneck(64, 16)), "Bottleneck x2 identity", 1, 64, 7, 7);
    }

    /** Every fusion switched off alone, all off, and the other layouts: same results as eager, and the plan shows the split. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.ValueSource(strings = {"no-bn-fold", "no-postops", "no-sum", "plain-layouts", "channel-blocked", "unfused"})
    void eachFusionOffGivesTheSameResult(String variant) {
        CompileOptions o = switch (variant) {
            case "no-bn-fold" -> CompileOptions.defaults().withFoldBatchNorm(false);
            case "no-postops" -> CompileOptions.defaults().withFusePostOps(false);
            case "no-sum" -> CompileOptions.defaults().withFuseResidualSum(false);
            case "plain-layouts" -> CompileOptions.defaults().withLayout(CompileOptions.Layout.PLAIN);
            case "channel-blocked" -> CompileOptions.defaults().withLayout(CompileOptions.Layout.CHANNEL_BLOCKED);
            default -> CompileOptions.unfused();
        };
        for (boolean bottleneck : new boolean[] {false, true}) {
            long[] shape = bottleneck ? new long[] {2, 32, 10, 10} : new long[] {2, 3, 16, 16};
            Module m = bottleneck ? new Sequential(new Bottleneck(32, 16, 2, Bottleneck.downsample(32, 64, 2)), new Bottleneck(64, 16))
                    : smallNet();
            randomize(m, 42);
            try (m; Tensor x = randomInput(7, shape); CompiledModel fused = CompiledModel.compile(m, shape);
                 CompiledModel c = CompiledModel.compile(m, o, shape); Tensor eager = m.forward(x); Tensor y = c.run(x)) {
                assertEquals(o, c.options());
                String what = variant + (bottleneck ? " bottlenecks" : " small net");
                c.steps().forEach(st -> System.out.println("  " + st));
                assertClose(eager.toFloatArray(), y.toFloatArray(), what);
                assertEquals(fused.flops(), c.flops(), what + ": the same work");
                List<String> steps = c.steps();
                long bn = steps.stream().filter(st -> st.startsWith("batchnorm ")).count();
                long add = steps.stream().filter(st -> st.startsWith("add ")).count();
                long relu = steps.stream().filter(st -> st.startsWith("relu ")).count();
                long reorders = steps.stream().filter(st -> st.startsWith("reorder")).count();
                int convs = bottleneck ? 7 : 6, blocks = 2;
                assertEquals(o.foldBatchNorm() ? 0 : convs, bn, what + ": batch-norm primitives");
                assertEquals(o.fuseResidualSum() && o.foldBatchNorm() ? 0 : blocks, add, what + ": residual adds");
                if (variant.equals("no-postops")) assertTrue(relu >= convs - 1, what + ": standalone ReLUs " + relu);
                if (variant.equals("plain-layouts") || variant.equals("unfused")) assertEquals(0, reorders, what + ": plain needs no reorders");
                boolean layoutOnly = variant.equals("plain-layouts") || variant.equals("channel-blocked");
                assertTrue(c.primitiveCount() > fused.primitiveCount() || layoutOnly, what);
                if (layoutOnly) assertEquals(fused.primitiveCount() - fusedReorders(fused), c.primitiveCount() - reorders, what + ": the same operations");
            }
        }
    }

    /**
     * Channels-last (the default): the 3-channel stem reads the plain input as it is (no input
     * reorder) and writes channel-blocked; the block after it needs that value in nhwc twice (its
     * downsample and its first convolution), and gets one reorder.
     */
    @Test
    void channelsLastStemAndOneReorderForTwoConsumers() {
        long[] shape = {2, 3, 16, 16};
        Module m = new Sequential(Conv2d.builder(3, 16, 3).padding(1).build(), new ReLU(),
                new BasicBlock(16, 32, 2, BasicBlock.downsample(16, 32, 2)), new BasicBlock(32, 32));
        randomize(m, 8);
        try (m; Tensor x = randomInput(9, shape); CompiledModel c = CompiledModel.compile(m, shape); Tensor eager = m.forward(x);
             Tensor y = c.run(x)) {
            List<String> steps = c.steps();
            steps.forEach(st -> System.out.println("  " + st));
            assertEquals(CompileOptions.Layout.CHANNELS_LAST, c.options().layout());
            assertTrue(steps.get(0).startsWith("conv 0+1"), "the stem reads the caller's input directly: " + steps.get(0));
            assertEquals(1, steps.stream().filter(st -> st.startsWith("reorder into")).count(), "one reorder for two consumers: " + steps);
            assertEquals(0, steps.stream().filter(st -> st.startsWith("reorder shortcut")).count(), steps.toString());
            assertClose(eager.toFloatArray(), y.toFloatArray(), "channels-last stem + blocks");
        }
    }

    private static long fusedReorders(CompiledModel c) {
        return c.steps().stream().filter(st -> st.startsWith("reorder")).count();
    }

    @Test
    void threadCountIsFixedPerPlanAndApplied() {
        long[] shape = {2, 3, 16, 16};
        try (Sequential m = smallNet(); Tensor x = randomInput(5, shape);
             CompiledModel one = CompiledModel.compile(m, CompileOptions.defaults().withThreads(1), shape);
             CompiledModel two = CompiledModel.compile(m, CompileOptions.defaults().withThreads(2), shape);
             Tensor a = one.run(x)) {
            assertEquals(1, one.threads());
            assertEquals(2, two.threads());
            boolean openmp = dev.panamadnn.natives.ThreadControl.openmp();   // a TBB oneDNN has no team to set (ThreadControl)
            if (openmp) assertEquals(1, dev.panamadnn.natives.ThreadControl.openmpMaxThreads(), "the last run set this thread's OpenMP team");
            try (Tensor b = two.run(x)) {
                if (openmp) assertEquals(2, dev.panamadnn.natives.ThreadControl.openmpMaxThreads());
                assertClose(a.toFloatArray(), b.toFloatArray(), "1 vs 2 threads");
            }
        }
        var e = assertThrows(IllegalArgumentException.class, () -> CompileOptions.defaults().withThreads(-1));
        assertTrue(e.getMessage().contains("-1"), e.getMessage());
        var many = assertThrows(IllegalArgumentException.class, () -> CompileOptions.defaults().withThreads(10_000));
        assertEquals("CompileOptions: expected threads from 0 (the default) to 1024, got 10000", many.getMessage());
        var noRule = assertThrows(IllegalArgumentException.class, () -> CompileOptions.defaults().withoutRule(null));   // was a bare NPE
        assertTrue(noRule.getMessage().startsWith("CompileOptions.withoutRule: expected a rule name (one of [fold_constants"), noRule.getMessage());
        var l = assertThrows(IllegalArgumentException.class, () -> CompileOptions.defaults().withLayout(null));
        assertTrue(l.getMessage().contains("CHANNELS_LAST"), l.getMessage());
        try (Sequential m = smallNet()) {
            var n = assertThrows(IllegalArgumentException.class, () -> CompiledModel.compile(m, null, shape));
            assertTrue(n.getMessage().contains("options"), n.getMessage());
        }
    }

    /**
     * FLOPs against torchvision's published per-model operation counts (its weights' {@code _ops}
     * metadata, in giga multiply-adds at 224 x 224: resnet18 1.814, resnet50 4.089), an independent source.
     */
    @Test
    void flopsMatchTorchvisionsPublishedCounts() {
        try (var r18 = dev.panamadnn.models.ResNets.resnet18(1000);
             CompiledModel c = CompiledModel.compile(r18, 2, 3, 224, 224)) {
            assertEquals(2 * 2 * 1.814e9, c.flops(), 2 * 2 * 0.0006e9, "resnet18, batch 2");
        }
        try (var r50 = dev.panamadnn.models.ResNets.resnet50(1000);
             CompiledModel c = CompiledModel.compile(r50, 1, 3, 224, 224)) {
            assertEquals(2 * 4.089e9, c.flops(), 2 * 0.0006e9, "resnet50");
        }
    }

    @Test
    void compilingDoesNotModifyTheModel() {
        try (Sequential m = new Sequential(Conv2d.builder(3, 8, 3).build(), new BatchNorm2d(8), new ReLU())) {
            randomize(m, 3);
            Map<String, float[]> before = new java.util.HashMap<>();
            m.parameters().forEach((k, v) -> { if (v.dtype() == DataType.F32) before.put(k, v.toFloatArray()); });
            try (CompiledModel c = CompiledModel.compile(m, 1, 3, 8, 8)) {
                c.warmup();
            }
            m.parameters().forEach((k, v) -> { if (v.dtype() == DataType.F32) assertArrayEquals(before.get(k), v.toFloatArray(), k); });
        }
    }

    private static Sequential smallNet() {
        Sequential m = new Sequential(Conv2d.builder(3, 16, 3).padding(1).bias(false).build(), new BatchNorm2d(16), new ReLU(),
                new BasicBlock(16, 16), new BasicBlock(16, 32, 2, BasicBlock.downsample(16, 32, 2)),
                new AdaptiveAvgPool2d(1), new Flatten(), new Linear(32, 10, true));
        randomize(m, 11);
        return m;
    }

    @Test
    void manyThreadsGiveExactlyTheSingleThreadResult() throws Exception {
        long[] shape = {2, 3, 16, 16};
        // warmup(): until the Winograd transforms are JIT-compiled their steps run the direct convolution (other rounding)
        try (Sequential m = smallNet(); CompiledModel c = CompiledModel.compile(m, shape).warmup(); Tensor x = randomInput(5, shape);
             Tensor single = c.run(x)) {
            // the first block's convolutions are Winograd steps, their transforms on each caller's OpenMP team
            assertEquals(2, count(c, "winograd"), c.steps().toString());
            float[] expected = single.toFloatArray();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            CountDownLatch start = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 32; t++) {
                Runnable body = () -> {
                    try (Arena a = Arena.ofConfined()) {
                        Tensor out = Tensor.allocate(a, DataType.F32, c.outputShape());
                        start.await();
                        for (int i = 0; i < 20; i++) {
                            c.run(x, out);
                            assertArrayEquals(expected, out.toFloatArray());
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                };
                threads.add(t < 16 ? Thread.ofPlatform().start(body) : Thread.ofVirtual().start(body));
            }
            start.countDown();
            for (Thread t : threads) t.join();
            if (failure.get() != null) throw new AssertionError("a thread failed", failure.get());
            assertTrue(c.contextCount() >= 1 && c.contextCount() <= 32, "contexts: " + c.contextCount());
        }
    }

    @Test
    void warmRunsCreateNoNativeObjects() {
        long[] shape = {1, 3, 16, 16};
        try (Sequential m = smallNet(); CompiledModel c = CompiledModel.compile(m, shape); Tensor x = randomInput(5, shape);
             Arena a = Arena.ofConfined()) {
            Tensor out = Tensor.allocate(a, DataType.F32, c.outputShape());
            c.warmup();
            long objects = c.nativeObjectsCreated(), contexts = c.contextCount(), primitives = c.primitiveCount();
            long memories = dev.panamadnn.internal.dnnl.Execution.memoryObjectsCreated();
            assertTrue(objects > 0);
            for (int i = 0; i < 100; i++) c.run(x, out);
            assertEquals(objects, c.nativeObjectsCreated());
            assertEquals(contexts, c.contextCount());
            assertEquals(primitives, c.primitiveCount());
            // other tests may run in parallel in this JVM only if configured so; this module runs them sequentially
            assertEquals(memories, dev.panamadnn.internal.dnnl.Execution.memoryObjectsCreated());
        }
    }

    @Test
    void wrongInputShapeDtypeLayoutAndClosed() {
        long[] shape = {1, 3, 16, 16};
        Sequential m = smallNet();
        CompiledModel c = CompiledModel.compile(m, shape);
        try (m; Tensor wrongShape = Tensor.zeros(2, 3, 16, 16); Arena a = Arena.ofConfined()) {
            var e = assertThrows(IllegalArgumentException.class, () -> c.run(wrongShape));
            assertTrue(e.getMessage().contains("[1, 3, 16, 16]") && e.getMessage().contains("[2, 3, 16, 16]"), e.getMessage());
            Tensor i64 = Tensor.allocate(a, DataType.I64, shape);
            e = assertThrows(IllegalArgumentException.class, () -> c.run(i64));
            assertTrue(e.getMessage().contains("F32") && e.getMessage().contains("I64"), e.getMessage());
            Tensor big = Tensor.zeros(1, 3, 16, 32);
            Tensor strided = big.slice(3, 0, 16);
            e = assertThrows(IllegalArgumentException.class, () -> c.run(strided));
            assertTrue(e.getMessage().contains("contiguous"), e.getMessage());
            big.close();
            Tensor x = Tensor.zeros(shape);
            Tensor out = Tensor.zeros(1, 5);
            e = assertThrows(IllegalArgumentException.class, () -> c.run(x, out));
            assertTrue(e.getMessage().contains("output"), e.getMessage());
            c.close();
            var s = assertThrows(IllegalStateException.class, () -> c.run(x));
            assertTrue(s.getMessage().contains("closed"), s.getMessage());
            c.close();   // idempotent
            x.close();
            out.close();
        }
    }

    @Test
    void layersWithoutAOneDnnLoweringRunInsideThePlan() {
        // Softmax on oneDNN's softmax + the Java repair of NaN lines (LowerMath); reflect padding as a Pad kernel before the convolution.
        compareWithEager(new Sequential(Conv2d.builder(3, 4, 3).build(), new dev.panamadnn.nn.Softmax(1)), "conv + softmax", 2, 3, 8, 8);
        compareWithEager(new Sequential(Conv2d.builder(3, 4, 3).paddingMode(dev.panamadnn.nn.PaddingMode.REFLECT).padding(1).build()),
                "reflect-padded conv", 2, 3, 8, 8);
        compareWithEager(new Sequential(Conv2d.builder(3, 4, 3).paddingMode(dev.panamadnn.nn.PaddingMode.CIRCULAR).padding(2).build(),
                new ReLU()), "circular-padded conv", 1, 3, 7, 9);
    }

    @Test
    void unsupportedOpsAndMisfitsAreNamed() {
        var g = dev.panamadnn.graph.Graph.builder("compare");
        String x = g.input("input", dev.panamadnn.graph.Shape.batched("N", 3, 4));
        String idx = g.node("ArgMax", "idx", dev.panamadnn.graph.Attributes.of("axis", 1L), x);   // an I64 computed at run time (held as F32)
        String y = g.node("Pow", "ratio", dev.panamadnn.graph.Attributes.empty(), idx, idx);   // an integer power at run time: not compiled
        var graph = g.output(y).build();
        var e = assertThrows(UnsupportedOperationException.class, () -> CompiledModel.compile(graph, CompileOptions.defaults(), 2, 3, 4));
        assertTrue(e.getMessage().contains("ratio (Pow)") && e.getMessage().contains("I64 computed at run time"), e.getMessage());
        try (Sequential m = new Sequential(Conv2d.builder(3, 4, 3).build())) {
            var s = assertThrows(IllegalArgumentException.class, () -> CompiledModel.compile(m, 1, 5, 8, 8));
            assertTrue(s.getMessage().contains("5"), s.getMessage());
        }
    }

    // ---- Winograd F(4x4, 3x3) ------------------------------------------------------------------

    @Test
    void winogradIsAvailableToTheseTests() {
        // The build runs every test JVM with --add-modules jdk.incubator.vector, so the tests below
        // exercise the Winograd path rather than silently falling back to the direct kernels.
        assertTrue(Winograd.available(), "jdk.incubator.vector must be in the test JVM (pom.xml pdnn.test.argLine)");
        assertTrue(Winograd.lanes() == 4 || Winograd.lanes() == 8 || Winograd.lanes() == 16, "lanes " + Winograd.lanes());
        // The selection rule reads the lanes from the preferred shape (no species init at compile); the kernels use the species.
        assertEquals(WinogradKernels.LANES, Winograd.lanes(), "the rule's channel multiple must be the kernels' lanes");
    }

    /** 3x3 convolutions with ReLU, none, and a residual sum; map sizes that are not multiples of 4 (edge tiles). */
    static Sequential winogradNet() {
        return new Sequential(
                Conv2d.builder(16, 16, 1).build(), new ReLU(),   // reads the caller's plain input: direct
                Conv2d.builder(16, 32, 3).padding(1).build(), new ReLU(),                       // bias, ReLU
                new BasicBlock(32, 32),                                                        // folded bn + ReLU; bn + sum + ReLU
                Conv2d.builder(32, 16, 3).padding(1).bias(false).build(),                      // no bias, no activation
                Conv2d.builder(16, 16, 3).padding(1).build(), new dev.panamadnn.nn.LeakyReLU(0.1f),  // not ReLU: direct
                Conv2d.builder(16, 16, 3).padding(2).dilation(2).build(), new ReLU());          // dilated: direct
    }

    @Test
    void winogradConvolutionsMatchEagerAndTheDirectPlan() {
        long[] shape = {2, 16, 13, 15};   // 4 x 4 tiles per image, the last row and column partly outside
        Module m = winogradNet();
        randomize(m, 11);
        try (m; Tensor x = randomInput(12, shape); CompiledModel wino = CompiledModel.compile(m, shape);
             CompiledModel direct = CompiledModel.compile(m, CompileOptions.defaults().withWinograd(false), shape);
             Tensor eager = m.forward(x); Tensor y = wino.run(x); Tensor yd = direct.run(x)) {
            wino.steps().forEach(st -> System.out.println("  " + st));
            List<String> w = wino.steps().stream().filter(st -> st.contains("winograd")).toList();
            assertEquals(4, w.size(), "the four 3x3 / pad 1 / ReLU-or-none convolutions: " + wino.steps());
            assertTrue(w.get(2).contains("+sum("), w.get(2));
            assertTrue(w.stream().allMatch(st -> st.contains("1 x 32 tiles")), w.toString());   // 2 images x 4 x 4
            assertEquals(0, direct.steps().stream().filter(st -> st.contains("winograd")).count(), direct.steps().toString());
            assertEquals(direct.flops(), wino.flops(), "flops count the direct convolution's work");
            assertClose(eager.toFloatArray(), y.toFloatArray(), "Winograd plan vs eager");
            assertClose(yd.toFloatArray(), y.toFloatArray(), "Winograd plan vs direct plan");
        }
    }

    @Test
    void winogradChunksOfTilesIncludingAPartialLastChunk() {
        long[] shape = {3, 16, 60, 58};   // 3 x 15 x 15 = 675 tiles: two chunks, 338 + 337
        Module m = new Sequential(Conv2d.builder(16, 16, 1).build(), Conv2d.builder(16, 16, 3).padding(1).build(), new BatchNorm2d(16),
                new ReLU());
        randomize(m, 13);
        assertEquals(338, Winograd.chunkTiles(675, 16, 16));
        try (m; Tensor x = randomInput(14, shape); CompiledModel c = CompiledModel.compile(m, shape); Tensor eager = m.forward(x);
             Tensor y = c.run(x)) {
            c.steps().forEach(st -> System.out.println("  " + st));
            assertTrue(c.steps().stream().anyMatch(st -> st.contains("winograd") && st.contains("2 x 338 tiles")), c.steps().toString());
            assertClose(eager.toFloatArray(), y.toFloatArray(), "chunked Winograd vs eager");
        }
    }

    @Test
    void winogradChunkSizes() {
        // tiles x 36 x (c + k) x 4 bytes of transformed data, over max(1 MiB, 4 x the transformed weights)
        assertEquals(196, Winograd.chunkTiles(196, 64, 64), "ResNet 64@56, batch 1: 3.6 MB / 2.4 MB -> one chunk");
        assertEquals(131, Winograd.chunkTiles(3136, 64, 64), "64@56, batch 16: 57.8 MB / 2.4 MB -> 24 chunks");
        assertEquals(256, Winograd.chunkTiles(256, 256, 256), "256@14, batch 16: weights too big to re-read, one chunk");
        assertEquals(100, Winograd.chunkTiles(100, 8, 8), "0.2 MB: one chunk");
    }

    @Test
    void winogradNeedsEnoughTilesAndChannelsChannelsLastAndTheOptionOn() {
        Module m = new Sequential(Conv2d.builder(16, 16, 1).build(), new ReLU(),
                Conv2d.builder(16, 16, 3).padding(1).build(), new ReLU(), Conv2d.builder(16, 16, 3).padding(1).build());
        randomize(m, 15);
        try (m; CompiledModel few = CompiledModel.compile(m, 1, 16, 15, 12);                       // 4 x 3 = 12 tiles
             CompiledModel enough = CompiledModel.compile(m, 1, 16, 13, 16);                      // 4 x 4 = 16 tiles
             CompiledModel blocked = CompiledModel.compile(m, CompileOptions.defaults().withLayout(CompileOptions.Layout.CHANNEL_BLOCKED), 1, 16, 13, 16);
             CompiledModel off = CompiledModel.compile(m, CompileOptions.defaults().withWinograd(false), 1, 16, 13, 16)) {
            assertEquals(16, Winograd.MIN_TILES);
            assertEquals(0, count(few, "winograd"), few.steps().toString());
            assertEquals(2, count(enough, "winograd"), enough.steps().toString());
            assertEquals(0, count(blocked, "winograd"), blocked.steps().toString());
            assertEquals(0, count(off, "winograd"), off.steps().toString());
            assertFalse(CompileOptions.unfused().winograd());
            assertTrue(CompileOptions.defaults().winograd());
        }
    }

    private static long count(CompiledModel c, String what) {
        return c.steps().stream().filter(st -> st.contains(what)).count();
    }

    @Test
    void winogradPlanFromManyThreadsGivesExactlyTheSingleThreadResult() throws Exception {
        long[] shape = {2, 16, 13, 15};
        Module m = winogradNet();
        randomize(m, 16);
        try (m; CompiledModel c = CompiledModel.compile(m, shape).warmup(); Tensor x = randomInput(17, shape); Tensor single = c.run(x)) {
            assertTrue(count(c, "winograd") > 0, c.steps().toString());
            float[] expected = single.toFloatArray();
            AtomicReference<Throwable> failure = new AtomicReference<>();
            List<Thread> threads = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    try (Arena a = Arena.ofConfined()) {
                        Tensor out = Tensor.allocate(a, DataType.F32, c.outputShape());
                        for (int i = 0; i < 10; i++) {
                            c.run(x, out);
                            assertArrayEquals(expected, out.toFloatArray());
                        }
                    } catch (Throwable e) {
                        failure.compareAndSet(null, e);
                    }
                }));
            }
            for (Thread t : threads) t.join();
            if (failure.get() != null) throw new AssertionError("a thread failed", failure.get());
        }
    }

    @Test
    void winogradWeightTransformOfADeltaKernelIsGsColumnOuterProduct() {
        // g = delta at (1, 1): G g G^T = outer(G[:,1], G[:,1]); checked against the published G.
        float[] w = new float[9];
        w[4] = 1f;
        float[] u = Winograd.transformWeights(w, 1, 1);
        double[] g1 = {0, -1 / 6.0, 1 / 6.0, 1 / 12.0, -1 / 12.0, 0};
        for (int a = 0; a < 6; a++) {
            for (int b = 0; b < 6; b++) assertEquals(g1[a] * g1[b], u[a * 6 + b], 1e-7, "point " + a + "," + b);
        }
        assertThrows(IllegalArgumentException.class, () -> Winograd.transformWeights(new float[8], 1, 1));
    }
}
