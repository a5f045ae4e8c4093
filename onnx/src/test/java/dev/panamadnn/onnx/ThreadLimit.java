package dev.panamadnn.onnx;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.PlanSet;
import dev.panamadnn.natives.ThreadControl;
import java.nio.file.Path;
import java.util.Map;

/**
 * Run in a child JVM by {@link ThreadLimitTest}: the largest thread count accepted ({@link ThreadControl#MAX_THREADS})
 * really runs, as a plan's own count and as the process-wide one, giving PyTorch's logits for the demo's digits model;
 * one more is refused. Prints "thread limit: ok" and exits 0 only then.
 * Argument: the demo's {@code digits_resnet.onnx} (its {@code digits_test.safetensors} beside it).
 */
public final class ThreadLimit {
    private ThreadLimit() {}

    public static void main(String[] args) throws Exception {
        Path model = Path.of(args[0]);
        int max = ThreadControl.MAX_THREADS;
        try (SafeTensors digits = SafeTensors.open(model.resolveSibling("digits_test.safetensors")); OnnxModel m = Onnx.load(model)) {
            Tensor x = digits.get("images").slice(0, 0, 64), expected = digits.get("logits").slice(0, 0, 64);
            try (PlanSet plans = m.compile(CompileOptions.defaults().withThreads(max)); Tensor y = plans.run(x)) {
                compare("a plan of " + max + " threads", y, expected);
            }
            ThreadControl.setThreads(max);
            try (Tensor y = m.run(Map.of(m.inputs().get(0).name(), x)).values().iterator().next()) {
                compare("the process-wide count " + max + " (OpenMP " + ThreadControl.openmpMaxThreads() + ")", y, expected);
            }
            try {
                CompileOptions.defaults().withThreads(max + 1);
                throw new AssertionError("withThreads(" + (max + 1) + ") was accepted");
            } catch (IllegalArgumentException refused) {
                System.out.println("refused: " + refused.getMessage());
            }
        }
        System.out.println("thread limit: ok");
    }

    private static void compare(String what, Tensor got, Tensor expected) {
        float[] g = got.toFloatArray(), e = expected.toFloatArray();
        double worst = 0;
        for (int i = 0; i < e.length; i++) worst = Math.max(worst, Math.abs(g[i] - e[i]));
        if (g.length != e.length || !(worst <= 1e-4)) throw new AssertionError(what + ": max |diff| from PyTorch " + worst);
        System.out.println(what + ": PyTorch's logits, max |diff| " + worst);
    }
}
