package dev.panamadnn.lifetime;

import dev.panamadnn.Blas;
import dev.panamadnn.DataType;
import dev.panamadnn.Eltwise;
import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.Flatten;
import dev.panamadnn.nn.Layer;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.MaxPool2d;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import dev.panamadnn.nn.Softmax;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Supplier;

/**
 * Lifetime races and crash regressions, run in a child JVM by {@link LifetimeRaceTest} (a crash
 * kills this process, not the test suite). Each scenario repeats a call on one thread while
 * another thread closes something the call uses (its input or output tensor, the caller's arena,
 * the {@link SafeTensors} mapping, the layer, the compiled plan) after a random delay spanning
 * the call, or truncates the mapped file under it; half the iterations on platform threads,
 * half on virtual threads. Allowed outcomes per iteration: the call completes with exactly the
 * result of an undisturbed call (so it never read freed memory), or it fails with an
 * {@link IllegalStateException} whose message names what was closed. Anything else, or an
 * exception on the closing thread other than the documented ones, is counted as unexpected.
 *
 * <p>Usage: {@code LifetimeRaces SCENARIO ITERATIONS SEED}; prints one summary line per scenario,
 * {@code scenario NAME: N iterations, C completed, R refused, U unexpected}, and exits 1 if any
 * was unexpected.
 */
public final class LifetimeRaces {
    /** One iteration's resources: the call under test and the disruption racing it. */
    interface Iteration extends AutoCloseable {
        /** The call; returns its result as floats (or null if it has none to compare). */
        float[] call() throws Exception;

        /** What the other thread does. */
        void disrupt() throws Exception;

        /** Frees whatever is still open. */
        @Override
        void close() throws Exception;
    }

    /**
     * A scenario: makes fresh resources per iteration. Delays are drawn from 0 to the larger of
     * {@code maxDelayNanos} and 1.5 x the undisturbed call's time; 0 marks a deterministic regression (run once).
     */
    record Scenario(String name, Supplier<Iteration> make, long maxDelayNanos, String refusal) {}

    private static final Map<String, Scenario> SCENARIOS = new LinkedHashMap<>();
    private static Path dir;

    public static void main(String[] args) throws Exception {
        String which = args[0];
        int iterations = Integer.parseInt(args[1]);
        long seed = Long.parseLong(args[2]);
        dir = Files.createTempDirectory("pdnn-races");
        define();
        int unexpected = 0;
        try {
            for (Scenario s : SCENARIOS.values()) {
                if (!which.equals("all") && !s.name().startsWith(which)) continue;
                unexpected += run(s, iterations, new SplittableRandom(seed));
            }
        } finally {   // the scenarios' files are deleted as they go; the directory was left behind in /tmp by every run
            try (var left = Files.list(dir)) {
                for (Path f : left.toList()) Files.deleteIfExists(f);
            }
            Files.deleteIfExists(dir);
        }
        System.out.flush();
        System.exit(unexpected == 0 ? 0 : 1);
    }

    static int run(Scenario s, int iterations, SplittableRandom random) throws Exception {
        float[] expected;
        long callNanos;
        try (Iteration it = s.make().get()) {
            it.call();   // warm
            long t0 = System.nanoTime();
            expected = it.call();
            callNanos = System.nanoTime() - t0;
        }
        // Delays spread over the call's own duration (and a little beyond), so closes land before, during and after it.
        long maxDelay = Math.max(s.maxDelayNanos(), callNanos * 3 / 2);
        int completed = 0, refused = 0, unexpected = 0;
        if (s.maxDelayNanos() == 0) iterations = 1;   // a deterministic regression, not a race
        for (int i = 0; i < iterations; i++) {
            boolean virtual = i % 2 == 1;
            long delay = random.nextLong(maxDelay + 1);
            Iteration it = s.make().get();
            AtomicReference<Throwable> closerFailure = new AtomicReference<>();
            Runnable closer = () -> {
                spin(delay);
                try {
                    it.disrupt();
                } catch (Throwable t) {
                    closerFailure.set(t);
                }
            };
            Thread t = virtual ? Thread.ofVirtual().start(closer) : Thread.ofPlatform().start(closer);
            try {
                float[] got = it.call();
                if (expected != null && got != null && !Arrays.equals(expected, got)) {
                    unexpected++;
                    System.out.println("  " + s.name() + " #" + i + ": completed with a different result (read freed memory?)");
                } else {
                    completed++;
                }
            } catch (IllegalStateException e) {
                if (e.getMessage() != null && e.getMessage().contains(s.refusal())) {
                    refused++;
                } else {
                    unexpected++;
                    System.out.println("  " + s.name() + " #" + i + ": refused without naming '" + s.refusal() + "': " + e);
                }
            } catch (Throwable e) {
                unexpected++;
                System.out.println("  " + s.name() + " #" + i + ": " + e);
                e.printStackTrace(System.out);
            }
            t.join();
            if (Thread.interrupted()) {
                unexpected++;
                System.out.println("  " + s.name() + " #" + i + ": the calling thread was left interrupted");
            }
            Throwable cf = closerFailure.get();
            if (cf != null && !(cf instanceof ExpectedByCloser)) {
                unexpected++;
                System.out.println("  " + s.name() + " #" + i + ": the closing thread failed: " + cf);
                cf.printStackTrace(System.out);
            }
            it.close();
        }
        System.out.println("scenario " + s.name() + ": " + iterations + " iterations, " + completed + " completed, " + refused
                + " refused, " + unexpected + " unexpected");
        return unexpected;
    }

    /** A failure the closing thread is allowed to see (the JDK refusing to close an arena a call holds). */
    static final class ExpectedByCloser extends Exception {
        ExpectedByCloser(Throwable cause) {
            super(cause);
        }
    }

    private static void spin(long nanos) {
        long end = System.nanoTime() + nanos;
        while (System.nanoTime() < end) {
            if (end - System.nanoTime() > 200_000) LockSupport.parkNanos(100_000);
            else Thread.onSpinWait();
        }
    }

    static float[] pattern(int n, int salt) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = ((i * 31 + salt * 17) % 97 - 48) / 48f;
        return v;
    }

    static <L extends Layer> L withWeights(L layer) {
        int salt = 1;
        for (Tensor p : layer.parameters().values()) {
            float[] v = pattern((int) p.numel(), salt++);
            MemorySegment.copy(v, 0, p.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, v.length);
        }
        return layer;
    }

    /** What the disrupting thread does. */
    interface Disruption {
        void run() throws Exception;
    }

    /**
     * {@code layer.forward(x, backend)}, raced by {@code disruption}; afterwards {@code cleanup}
     * (in order) and the layer are closed.
     */
    static Iteration forward(Layer layer, Backend backend, Tensor x, Disruption disruption, AutoCloseable... cleanup) {
        return new Iteration() {
            public float[] call() {
                try (Tensor y = layer.forward(x, backend)) {
                    return y.toFloatArray();
                }
            }

            public void disrupt() throws Exception {
                disruption.run();
            }

            public void close() throws Exception {
                for (AutoCloseable c : cleanup) c.close();
                layer.close();
            }
        };
    }

    /** Closes a tensor the call reads while it runs. */
    static Iteration closingInput(Layer layer, Backend backend, long... shape) {
        Tensor x = Tensor.of(pattern((int) numel(shape), 3), shape);
        return forward(layer, backend, x, x::close, x);
    }

    static Conv2d conv16() {
        return withWeights(Conv2d.builder(16, 16, 3).padding(1).build());
    }

    static void truncate(Path file) throws java.io.IOException {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(64);
        }
    }

    static long numel(long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    static Sequential smallCnn() {
        return withWeightsAll(new Sequential(
                Conv2d.builder(3, 32, 3).padding(1).build(), new ReLU(),
                Conv2d.builder(32, 32, 3).padding(1).build(), new ReLU(),
                new MaxPool2d(2), Conv2d.builder(32, 32, 3).padding(1).build(), new ReLU(),
                new Flatten(), new Linear(32 * 32 * 32, 10, true)));
    }

    static Sequential withWeightsAll(Sequential s) {
        int salt = 1;
        for (Tensor p : s.parameters().values()) {
            float[] v = pattern((int) p.numel(), salt++);
            for (int i = 0; i < v.length; i++) v[i] *= 0.05f;
            MemorySegment.copy(v, 0, p.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, v.length);
        }
        return s;
    }

    static final long[] CNN_INPUT = {2, 3, 64, 64};

    static void define() {
        long ms = 1_000_000;
        add(new Scenario("tensor-close/conv2d", () -> closingInput(conv16(), Backend.AUTO, 1, 16, 192, 192), ms / 2, "freed"));
        add(new Scenario("tensor-close/maxpool2d", () -> closingInput(new MaxPool2d(2), Backend.AUTO, 1, 16, 512, 512), ms / 2, "freed"));
        add(new Scenario("tensor-close/linear-onednn", () -> closingInput(withWeights(new Linear(1024, 1024, true)), Backend.ONEDNN, 256, 1024),
                ms / 2, "freed"));
        add(new Scenario("tensor-close/linear-openblas", () -> closingInput(withWeights(new Linear(1024, 1024, true)), Backend.OPENBLAS, 256, 1024),
                ms / 2, "freed"));
        add(new Scenario("tensor-close/softmax", () -> closingInput(new Softmax(1), Backend.AUTO, 512, 4096), ms / 2, "freed"));

        // The caller's own shared arena closed directly: the JDK refuses while the call holds it.
        add(new Scenario("arena-close/conv2d", () -> {
            Arena arena = Arena.ofShared();
            Tensor x = Tensor.allocate(arena, DataType.F32, 1, 16, 192, 192);
            float[] v = pattern((int) x.numel(), 3);
            MemorySegment.copy(v, 0, x.segment(), ValueLayout.JAVA_FLOAT_UNALIGNED, 0, v.length);
            return forward(conv16(), Backend.AUTO, x, () -> {
                try {
                    arena.close();
                } catch (IllegalStateException acquired) {
                    throw new ExpectedByCloser(acquired);   // "Session is acquired by 1 clients": the call holds it
                }
            }, () -> {
                if (arena.scope().isAlive()) arena.close();
            });
        }, ms / 2, "freed"));

        // SafeTensors.close() while a forward reads one of its mapped tensors; the mapped file truncated under a forward.
        add(new Scenario("safetensors-close/conv2d", () -> {
            SafeTensors st = openInput(1, 16, 192, 192);
            return forward(conv16(), Backend.AUTO, st.get("x"), st::close, st);
        }, ms / 2, "freed"));
        add(new Scenario("truncate/conv2d", () -> {
            SafeTensors st = openInput(1, 16, 192, 192);
            return forward(conv16(), Backend.AUTO, st.get("x"), () -> truncate(st.file()), st);
        }, ms / 2, "truncated"));

        // Closing a layer while other threads are inside forward.
        add(new Scenario("layer-close/conv2d", () -> {
            Conv2d conv = conv16();
            Tensor x = Tensor.of(pattern(16 * 192 * 192, 3), 1, 16, 192, 192);
            return forward(conv, Backend.AUTO, x, conv::close, x);
        }, ms / 2, "is closed"));
        add(new Scenario("layer-close/linear-onednn", () -> {
            Linear fc = withWeights(new Linear(1024, 1024, true));
            Tensor x = Tensor.of(pattern(256 * 1024, 3), 256, 1024);
            return forward(fc, Backend.ONEDNN, x, fc::close, x);
        }, ms / 2, "is closed"));
        add(new Scenario("eltwise-close/gelu", () -> {
            Eltwise gelu = new Eltwise(Eltwise.Kind.GELU_ERF);
            Arena arena = Arena.ofShared();
            MemorySegment src = arena.allocate(4L << 20, 64), dst = arena.allocate(4L << 20, 64);
            return new Iteration() {
                public float[] call() {
                    gelu.forward(src, dst);
                    return null;
                }

                public void disrupt() {
                    gelu.close();
                }

                public void close() {
                    gelu.close();
                    arena.close();
                }
            };
        }, ms / 2, "is closed"));

        // Compiled plans: closing the plan, its input or its output during runs.
        // A compile raced by a close of the module whose weights it reads, of the mapping a graph's initializers are
        // views of, or the mapped file's truncation. A compile reads weights by Java copies only (PlanGraph.source: no
        // heap array, no native code on the caller's memory), so it completes - a plan giving the undisturbed result,
        // which no longer needs those weights - or refuses, naming what happened.
        add(new Scenario("compile-close/module-bn", () -> compileIteration(CompileDisrupt.MODULE), ms / 2, "closed"));
        add(new Scenario("compile-close/mapped-graph-bn", () -> compileIteration(CompileDisrupt.MAPPING), ms / 2, "closed"));
        add(new Scenario("compile-truncate/mapped-graph-bn", () -> compileIteration(CompileDisrupt.TRUNCATE), ms / 2, "truncated"));
        add(new Scenario("plan-close/cnn", () -> planIteration(Disrupt.PLAN), ms / 2, "is closed"));
        add(new Scenario("plan-input-close/cnn", () -> planIteration(Disrupt.INPUT), ms / 2, "freed"));
        add(new Scenario("plan-output-close/cnn", () -> planIteration(Disrupt.OUTPUT), ms / 2, "freed"));
        add(new Scenario("plan-truncate/cnn", () -> planIteration(Disrupt.TRUNCATE), ms / 2, "truncated"));
        // the same against a plan run as two single-threaded halves of the batch on two threads (split_batch)
        add(new Scenario("plan-close/cnn-split", () -> planIteration(Disrupt.PLAN, true), ms / 2, "is closed"));
        add(new Scenario("plan-input-close/cnn-split", () -> planIteration(Disrupt.INPUT, true), ms / 2, "freed"));
        add(new Scenario("plan-output-close/cnn-split", () -> planIteration(Disrupt.OUTPUT, true), ms / 2, "freed"));
        add(new Scenario("plan-truncate/cnn-split", () -> planIteration(Disrupt.TRUNCATE, true), ms / 2, "truncated"));
        // a fresh plan closed while the proof its first run started (fast_when_finite, on a thread of its own) may be running
        add(new Scenario("proof-close/cnn", () -> proofIteration(false), ms / 2, "is closed"));
        add(new Scenario("proof-close/cnn-split", () -> proofIteration(true), ms / 2, "is closed"));

        // Deterministic crash regressions (no race): read-only and mapped write targets.
        add(new Scenario("readonly-output/compiled-mapped", () -> readOnlyOutput(true), 0, "n/a"));
        add(new Scenario("readonly-output/compiled-asReadOnly", () -> readOnlyOutput(false), 0, "n/a"));
        add(new Scenario("readonly-output/eltwise-mapped", () -> {
            Eltwise relu = new Eltwise(Eltwise.Kind.RELU);
            SafeTensors st = openInput(1024);
            Arena arena = Arena.ofConfined();
            MemorySegment src = arena.allocate(4096, 64);
            return new Iteration() {
                public float[] call() {
                    expectIllegalArgument("read-only", () -> relu.forward(src, st.get("x").segment()));
                    return null;
                }

                public void disrupt() {}

                public void close() {
                    relu.close();
                    st.close();
                    arena.close();
                }
            };
        }, 0, "n/a"));
        add(new Scenario("readonly-output/sgemm-mapped", () -> {
            SafeTensors st = openInput(16 * 16);
            return new Iteration() {
                public float[] call() {
                    float[] a = pattern(256, 1);
                    expectIllegalArgument("read-only", () -> Blas.sgemm(false, false, 16, 16, 16, 1f, MemorySegment.ofArray(a), 16,
                            MemorySegment.ofArray(a), 16, 0f, st.get("x").segment(), 16));
                    return null;
                }

                public void disrupt() {}

                public void close() {
                    st.close();
                }
            };
        }, 0, "n/a"));
    }

    enum Disrupt { PLAN, INPUT, OUTPUT, TRUNCATE }

    enum CompileDisrupt { MODULE, MAPPING, TRUNCATE }

    static final long[] BN_INPUT = {2, 3, 32, 32};

    /** Conv (bias-free) -> batch norm -> ReLU -> conv -> ReLU: the batch norm folds into the first convolution's weights. */
    static Sequential bnCnn() {
        Sequential s = withWeightsAll(new Sequential(Conv2d.builder(3, 32, 3).padding(1).bias(false).build(), new dev.panamadnn.nn.BatchNorm2d(32),
                new ReLU(), Conv2d.builder(32, 64, 3).padding(1).build(), new ReLU()));
        for (Map.Entry<String, Tensor> e : s.parameters().entrySet()) {
            if (!e.getKey().endsWith("running_var")) continue;
            Tensor v = e.getValue();
            for (int i = 0; i < v.numel(); i++) v.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, 0.5f + i * 0.01f);
        }
        return s;
    }

    /** {@link #bnCnn()}'s graph, its initializers views of a mapped safetensors file ({@code st}). */
    static dev.panamadnn.graph.Graph mappedGraph(SafeTensors st) {
        try (Sequential m = bnCnn()) {
            dev.panamadnn.graph.Graph g = dev.panamadnn.graph.Graph.lower(m, dev.panamadnn.graph.Shape.of(BN_INPUT));
            Map<String, Tensor> mapped = new LinkedHashMap<>();
            for (String name : g.initializers().keySet()) mapped.put(name, st.get(name));
            return dev.panamadnn.graph.Graph.of(g.name(), g.inputs(), g.nodes(), mapped, g.outputs());
        }
    }

    static SafeTensors bnWeights() {
        try (Sequential m = bnCnn()) {
            return saved("w", m.parameters());
        }
    }

    /** Compiles (Winograd off: its first runs would depend on a background thread) and runs once, raced by {@code what}. */
    static Iteration compileIteration(CompileDisrupt what) {
        Sequential module = what == CompileDisrupt.MODULE ? bnCnn() : null;
        SafeTensors st = module == null ? bnWeights() : null;
        dev.panamadnn.graph.Graph graph = st == null ? null : mappedGraph(st);
        Tensor x = Tensor.of(pattern((int) numel(BN_INPUT), 7), BN_INPUT);
        CompileOptions options = CompileOptions.defaults().withWinograd(false);
        return new Iteration() {
            public float[] call() {
                try (CompiledModel plan = module != null ? CompiledModel.compile(module, options, BN_INPUT) : CompiledModel.compile(graph, options, BN_INPUT);
                     Tensor y = plan.run(x)) {
                    if (!plan.rulesFired().stream().anyMatch(r -> r.startsWith("fold_batch_norm"))) throw new AssertionError(plan.rulesFired());
                    return y.toFloatArray();
                }
            }

            public void disrupt() throws Exception {
                switch (what) {
                    case MODULE -> module.close();
                    case MAPPING -> st.close();
                    case TRUNCATE -> truncate(st.file());
                }
            }

            public void close() {
                if (module != null) module.close();
                if (st != null) st.close();
                x.close();
            }
        };
    }

    private static CompiledModel sharedPlan, sharedSplitPlan;

    /** One plan for the scenarios that do not close it (compiling one per iteration would dominate the run time). */
    static synchronized CompiledModel sharedPlan() {
        if (sharedPlan == null) sharedPlan = compileCnn(false);
        return sharedPlan;
    }

    static synchronized CompiledModel sharedSplitPlan() {
        if (sharedSplitPlan == null) sharedSplitPlan = compileCnn(true);
        return sharedSplitPlan;
    }

    /** {@code split}: two threads, so the plan runs as two single-threaded halves of the batch side by side. */
    static CompiledModel compileCnn(boolean split) {
        try (Sequential model = smallCnn()) {
            // warmup(): its Winograd steps run the direct convolution (other rounding) until the transforms are JIT-compiled
            CompiledModel plan = CompiledModel.compile(model, CompileOptions.defaults().withThreads(split ? 2 : 1), CNN_INPUT).warmup();
            if (split != plan.rulesFired().stream().anyMatch(r -> r.startsWith("split_batch"))) {
                plan.close();
                throw new AssertionError("expected the plan " + (split ? "" : "not ") + "to run split: " + plan.rulesFired());
            }
            return plan;
        }
    }

    static Iteration planIteration(Disrupt what) {
        return planIteration(what, false);
    }

    static Iteration planIteration(Disrupt what, boolean split) {
        CompiledModel shared = split ? sharedSplitPlan() : sharedPlan();
        CompiledModel plan = what == Disrupt.PLAN ? compileCnn(split) : shared;
        SafeTensors st = what == Disrupt.TRUNCATE ? openInput(CNN_INPUT) : null;
        Tensor x = st != null ? st.get("x") : Tensor.of(pattern((int) numel(CNN_INPUT), 5), CNN_INPUT);
        Tensor y = Tensor.zeros(plan.outputShape());
        return new Iteration() {
            public float[] call() {
                plan.run(x, y);
                return y.toFloatArray();
            }

            public void disrupt() throws Exception {
                switch (what) {
                    case PLAN -> plan.close();
                    case INPUT -> x.close();
                    case OUTPUT -> y.close();
                    case TRUNCATE -> truncate(st.file());
                }
            }

            public void close() {
                if (plan != shared) plan.close();
                x.close();
                y.close();
                if (st != null) st.close();
            }
        };
    }

    /**
     * A fresh plan (no warmup(): its first run starts the proof of its fast ReLUs in the background) run twice, the
     * second run racing the proof; closed meanwhile by the disruption. Results with -0.0 (before the proof) and +0.0
     * (after it) are the same values: compared as such (+ 0f turns -0.0 into +0.0).
     */
    static Iteration proofIteration(boolean split) {
        Sequential model = smallCnn();   // open until the end: the proof reads its weights
        CompiledModel plan = CompiledModel.compile(model, CompileOptions.defaults().withThreads(split ? 2 : 1), CNN_INPUT);
        if (split != plan.rulesFired().stream().anyMatch(r -> r.startsWith("split_batch"))) {
            plan.close();
            model.close();
            throw new AssertionError("expected the plan " + (split ? "" : "not ") + "to run split: " + plan.rulesFired());
        }
        Tensor x = Tensor.of(pattern((int) numel(CNN_INPUT), 5), CNN_INPUT);
        Tensor y = Tensor.zeros(plan.outputShape());
        return new Iteration() {
            public float[] call() {
                plan.run(x, y);   // starts the proof
                plan.run(x, y);   // races it
                float[] v = y.toFloatArray();
                for (int i = 0; i < v.length; i++) v[i] += 0f;
                return v;
            }

            public void disrupt() {
                plan.close();
            }

            public void close() {
                plan.close();
                model.close();
                x.close();
                y.close();
            }
        };
    }

    static Iteration readOnlyOutput(boolean mapped) {
        CompiledModel plan = sharedPlan();
        Tensor x = Tensor.of(pattern((int) numel(CNN_INPUT), 5), CNN_INPUT);
        SafeTensors st = mapped ? openInput(plan.outputShape()) : null;
        Tensor plain = mapped ? null : Tensor.zeros(plan.outputShape());
        Tensor y = mapped ? st.get("x") : Tensor.wrap(plain.segment().asReadOnly(), DataType.F32, plan.outputShape());
        return new Iteration() {
            public float[] call() {
                expectIllegalArgument("writable", () -> plan.run(x, y));
                if (plain != null && Arrays.equals(plain.toFloatArray(), new float[(int) plain.numel()]) == false) {
                    throw new AssertionError("a read-only output was written");
                }
                return null;
            }

            public void disrupt() {}

            public void close() {
                x.close();
                if (st != null) st.close();
                if (plain != null) plain.close();
            }
        };
    }

    static void expectIllegalArgument(String word, Runnable r) {
        try {
            r.run();
        } catch (IllegalArgumentException e) {
            if (e.getMessage().contains(word)) return;
            throw new AssertionError("expected a message naming '" + word + "', got: " + e.getMessage(), e);
        }
        throw new AssertionError("expected an IllegalArgumentException naming '" + word + "', the call succeeded");
    }

    /** A fresh safetensors file holding one tensor "x" of {@code shape} (pattern values), opened (mapped). */
    static SafeTensors openInput(long... shape) {
        try (Tensor x = Tensor.of(pattern((int) numel(shape), 3), shape)) {
            return saved("x", Map.of("x", x));
        }
    }

    /** {@code tensors} saved to a new file of the scenarios' directory (prefix {@code prefix}), opened (mapped). */
    static SafeTensors saved(String prefix, Map<String, Tensor> tensors) {
        try {
            Path f = Files.createTempFile(dir, prefix, ".safetensors");
            SafeTensors.save(f, tensors, null);
            f.toFile().deleteOnExit();
            return SafeTensors.open(f);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void add(Scenario s) {
        SCENARIOS.put(s.name(), s);
    }

    private LifetimeRaces() {}
}
