package dev.panamadnn.onnx;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.compile.PlanSet;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * Run in a child JVM by {@link MappedTruncationTest} (a crash fails that test, not the suite): loads a copy of the
 * demo's digits model from a file (its aligned initializers are views of the file's mapping), compiles plans, then
 * truncates the file to nothing, as a writer replacing it in place would, and checks every way a caller can still
 * reach the lost pages: plans compiled before run on (they copied their weights) and equal PyTorch's logits;
 * compiling again (a graph, a plan set's new batch size, a one-off {@link OnnxModel#run} at a new shape) and reading
 * a mapped initializer by Java each throw an {@link IllegalStateException} saying the file was truncated, before any
 * native call; closing the model still works. Prints one line per check and a summary; exits 0 only if all held.
 * Argument: the demo's {@code digits_resnet.onnx} (its {@code digits_test.safetensors} beside it).
 */
public final class MappedTruncation {
    private MappedTruncation() {}

    private static final List<String> FAILED = new ArrayList<>();
    private static int passed;

    public static void main(String[] args) throws Exception {
        Path original = Path.of(args[0]);
        Path copy = Files.createTempFile("truncated", ".onnx");
        try (SafeTensors digits = SafeTensors.open(original.resolveSibling("digits_test.safetensors"))) {
            Files.copy(original, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            Tensor images = digits.get("images"), logits = digits.get("logits");
            try (OnnxModel model = Onnx.load(copy)) {
                String in = model.inputs().get(0).name();
                List<Tensor> mapped = model.toGraph().initializers().values().stream().filter(t -> t.segment().isMapped()).toList();
                check("some initializers are views of the mapped file (" + mapped.size() + " of "
                        + model.toGraph().initializers().size() + ")", !mapped.isEmpty());
                long[] shape3 = images.slice(0, 0, 3).shape();   // [3, 1, 8, 8]
                CompileOptions one = CompileOptions.defaults().withThreads(1);
                try (CompiledModel plan = CompiledModel.compile(model.toGraph(), one, Map.of(in, shape3));
                     PlanSet plans = model.compile(one)) {
                    Tensor x3 = images.slice(0, 0, 3), x2 = images.slice(0, 0, 2), x5 = images.slice(0, 0, 5);
                    checkLogits("before: a plan for batch 3", run(plan, in, x3), logits.slice(0, 0, 3));
                    checkLogits("before: the plan set at batch 2", plans.run(x2), logits.slice(0, 0, 2));
                    try (Tensor y = model.run(Map.of(in, x2)).values().iterator().next()) {
                        checkLogits("before: a one-off run at batch 2", y, logits.slice(0, 0, 2));
                    }

                    // a mapping of the whole file, as Onnx.load reads it, left open across the truncation
                    java.lang.foreign.Arena mapping = java.lang.foreign.Arena.ofConfined();
                    java.lang.foreign.MemorySegment whole;
                    try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.READ)) {
                        whole = ch.map(FileChannel.MapMode.READ_ONLY, 0, ch.size(), mapping);
                    }
                    try (FileChannel ch = FileChannel.open(copy, StandardOpenOption.WRITE)) {
                        ch.truncate(0);
                    }
                    check("the file is empty now", Files.size(copy) == 0);
                    try {
                        Onnx.read(whole, "digits.onnx");
                        check("after: reading the model from a mapping of the truncated file: expected an OnnxException, it returned", false);
                    } catch (OnnxException e) {
                        check("after: reading the model from a mapping of the truncated file: " + e.getMessage(),
                                e.getMessage().contains("truncated while mapped, as it was being read"));
                    } catch (Throwable t) {
                        check("after: reading the model from a mapping of the truncated file: expected an OnnxException, got " + t, false);
                    }
                    mapping.close();

                    checkLogits("after: the plan for batch 3 compiled before", run(plan, in, x3), logits.slice(0, 0, 3));
                    checkLogits("after: the plan set at batch 2, built before", plans.run(x2), logits.slice(0, 0, 2));
                    refused("after: compiling the graph for batch 4", () -> CompiledModel.compile(model.toGraph(), one, Map.of(in, new long[] {4, 1, 8, 8})));
                    refused("after: the plan set at a new batch size (5)", () -> plans.run(x5));
                    refused("after: a one-off run at a new batch size (5)", () -> model.run(Map.of(in, x5)));
                    refused("after: toFloatArray of a mapped initializer", () -> mapped.get(0).toFloatArray());
                    refused("after: getFloat of a mapped initializer", () -> mapped.get(0).getFloat(new long[mapped.get(0).rank()]));
                    checkLogits("after the refusals: the plan set at batch 2", plans.run(x2), logits.slice(0, 0, 2));
                    try (Tensor y = model.run(Map.of(in, x2)).values().iterator().next()) {
                        checkLogits("after the refusals: a one-off run at batch 2", y, logits.slice(0, 0, 2));
                    }
                }
            }
            check("the model closed", true);
        } finally {
            Files.deleteIfExists(copy);
        }
        System.out.println("truncation summary: " + passed + " passed, " + FAILED.size() + " failed " + FAILED);
        System.exit(FAILED.isEmpty() ? 0 : 1);
    }

    private static Tensor run(CompiledModel plan, String in, Tensor x) {
        Tensor y = Tensor.zeros(plan.outputShape());
        plan.run(Map.of(in, x), Map.of(plan.outputs().get(0).name(), y));
        return y;
    }

    /** {@code call} must throw an IllegalStateException whose message says the file was truncated. */
    private static void refused(String what, Callable<?> call) {
        try {
            Object result = call.call();
            if (result instanceof AutoCloseable c) c.close();
            check(what + ": expected an IllegalStateException, it returned", false);
        } catch (IllegalStateException e) {
            check(what + ": " + e.getMessage(), e.getMessage() != null && e.getMessage().contains("truncated while mapped"));
        } catch (Throwable t) {
            check(what + ": expected an IllegalStateException, got " + t, false);
        }
    }

    private static void checkLogits(String what, Tensor got, Tensor expected) {
        float[] g = got.toFloatArray(), e = expected.toFloatArray();
        double worst = g.length == e.length ? 0 : Double.POSITIVE_INFINITY;
        for (int i = 0; i < Math.min(g.length, e.length); i++) worst = Math.max(worst, Math.abs(g[i] - e[i]));
        got.close();
        check(what + " gives PyTorch's logits (max |diff| " + worst + ")", worst <= 1e-4);
    }

    private static void check(String what, boolean ok) {
        System.out.println((ok ? "ok   " : "FAIL ") + what);
        if (ok) passed++;
        else FAILED.add(what);
    }
}
