package dev.panamadnn.compile;

import dev.panamadnn.DataType;
import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.models.ResNets;
import dev.panamadnn.nn.AvgPool2d;
import dev.panamadnn.nn.BasicBlock;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.Sequential;
import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The measurements behind Winograd's guard (docs/compile.md), not a test: run with
 * {@code -Dpdnn.measure=true -Dtest=WinogradGuardMeasurement} ({@code -Dpdnn.measure.batch16=true} for
 * the batch-16 timings, {@code -Dpdnn.measure.threads=2} for 2-thread plans). Prints
 * <ul>
 *   <li>{@code leak}: with the guard off, how far outputs outside a large pixel's 3x3 reach move away
 *       from the direct convolution's, per unit of the pixel's magnitude, next to Winograd's ordinary
 *       error (ResNet's first 3x3 layer, 64 channels at 56x56, PyTorch's default initialisation);</li>
 *   <li>{@code firesOnResNets}: whether the guard fires on ResNet-18/50 for inputs in [-1, 1] and [0, 255];</li>
 *   <li>{@code memory}: the direct weights the fallbacks keep, next to the transformed ones;</li>
 *   <li>{@code cost}: run time with and without the scan, in alternating back-to-back pairs in one JVM
 *       (median of the pair ratios, best and median of each), and the scan alone, per ResNet-18 layer
 *       shape and for a whole ResNet-18.</li>
 * </ul>
 */
@EnabledIfSystemProperty(named = "pdnn.measure", matches = "true")
class WinogradGuardMeasurement {
    /** Intra-op threads of the timed plans ({@code -Dpdnn.measure.threads}, default 1: on a shared machine a 2-thread OpenMP team stalls whenever either core is taken). */
    private static final int THREADS = Integer.getInteger("pdnn.measure.threads", 1);
    @Test
    void leak() {
        long[] shape = {1, 64, 56, 56};
        try (Module m = new Sequential(new AvgPool2d(1), Conv2d.builder(64, 64, 3).padding(1).build());
             CompiledModel wino = CompiledModel.compile(m, shape);
             CompiledModel direct = CompiledModel.compile(m, CompileOptions.defaults().withWinograd(false), shape);
             Tensor x = CompiledModelTest.randomInput(41, shape)) {
            Winograd.guardForMeasurement = false;
            float[] d0 = run(direct, x), w0 = run(wino, x);
            double scale = maxAbs(d0), base = maxDiff(d0, w0, -1, -1);
            System.out.printf("leak: ordinary inputs in [-1, 1]: max |output| %.3g, max |winograd - direct| %.3g (%.2g of the scale)%n",
                    scale, base, base / scale);
            int py = 28, px = 29;
            long at = ((0 * 64 + 5) * 56 + py) * 56 + px;
            for (double mag : new double[] {1e2, 1e3, 1e4, 65536, 1e5, 1e6, 1e8, 1e12, 1e20, 1e30, 1e37}) {
                x.segment().setAtIndex(ValueLayout.JAVA_FLOAT, at, (float) mag);
                float[] d = run(direct, x), w = run(wino, x);
                double leak = maxDiff(d, w, py, px);
                System.out.printf("leak: pixel %.3g: max |winograd - direct| outside its 3x3 reach %.3g = %.3g x the pixel, %.3g x the ordinary error%n",
                        mag, leak, leak / mag, leak / base);
            }
        } finally {
            Winograd.guardForMeasurement = true;
        }
    }

    /** Whether the guard fires on ResNets with this library's default initialisation, on inputs in [-1, 1] and in [0, 255]. */
    @Test
    void firesOnResNets() {
        for (boolean fifty : new boolean[] {false, true}) {
            long[] shape = {1, 3, 224, 224};
            try (Module m = fifty ? ResNets.resnet50(1000) : ResNets.resnet18(1000); CompiledModel plan = CompiledModel.compile(m, shape);
                 Arena a = Arena.ofConfined()) {
                Tensor x = Tensor.allocate(a, DataType.F32, shape);
                long steps = plan.steps().stream().filter(s -> s.contains("winograd")).count();
                for (double range : new double[] {1, 255}) {
                    java.util.SplittableRandom r = new java.util.SplittableRandom(43);
                    for (long i = 0; i < x.numel(); i++) {
                        x.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) (range == 1 ? r.nextDouble(-1, 1) : r.nextDouble(0, 255)));
                    }
                    long before = plan.winogradFallbacks();
                    plan.run(x).close();
                    System.out.printf("fires: %s, input in %s: %d of %d Winograd steps fell back%n", fifty ? "ResNet-50" : "ResNet-18",
                            range == 1 ? "[-1, 1]" : "[0, 255]", plan.winogradFallbacks() - before, steps);
                }
            }
        }
    }

    /** Bytes the fallbacks keep: the direct weights (in the layout the convolution chose) next to the 4x larger transformed ones. */
    @Test
    void memory() {
        for (long batch : new long[] {1, 16}) {
            try (Module m = ResNets.resnet18(1000); CompiledModel plan = CompiledModel.compile(m, batch, 3, 224, 224)) {
                long direct = 0, transformed = 0, steps = 0;
                for (PlanStep s : steps(plan)) {
                    if (s.winograd() == null) continue;
                    steps++;
                    direct += s.winograd().fallback().args().get(1).md().byteSize();
                    transformed += s.args().get(1).md().byteSize();
                }
                System.out.printf("memory: ResNet-18 batch %d: %d Winograd steps, fallback weights %.2f MB, transformed weights %.2f MB%n", batch,
                        steps, direct / 1e6, transformed / 1e6);
            }
        }
    }

    @Test
    void cost() {
        boolean large = Boolean.getBoolean("pdnn.measure.batch16");
        int[][] layers = large ? new int[][] {{64, 56, 16}, {128, 28, 16}, {256, 14, 16}, {512, 7, 16}}
                : new int[][] {{64, 56, 1}, {128, 28, 1}, {256, 14, 1}};
        for (int[] l : layers) {
            try (Module m = new Sequential(new AvgPool2d(1), Conv2d.builder(l[0], l[0], 3).padding(1).build(), new dev.panamadnn.nn.ReLU())) {
                time("3x3 conv+ReLU " + l[0] + "@" + l[1] + "x" + l[1] + ", batch " + l[2], m, new long[] {l[2], l[0], l[1], l[1]},
                        l[2] == 1 ? 1500 : 60);
            }
        }
        try (Module m = ResNets.resnet18(1000)) {
            if (large) time("ResNet-18 batch 16", m, new long[] {16, 3, 224, 224}, 30);
            else time("ResNet-18 batch 1", m, new long[] {1, 3, 224, 224}, 400);
        }
    }

    /**
     * Runs with and without the guard's scan, alternating, after a warm-up; prints best and median of
     * each and their ratios, and the best time of the scan alone (one thread) over the input of each
     * Winograd step, summed.
     */
    private static void time(String what, Module m, long[] shape, int runs) {
        try (CompiledModel plan = CompiledModel.compile(m, CompileOptions.defaults().withThreads(THREADS), shape).warmup();
             Arena a = Arena.ofConfined()) {
            Tensor x = Tensor.allocate(a, DataType.F32, shape), y = Tensor.allocate(a, DataType.F32, plan.outputShape());
            for (long i = 0; i < x.numel(); i++) x.segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, (float) Math.sin(i));
            long steps = plan.steps().stream().filter(s -> s.contains("winograd")).count();
            long[] on = new long[runs], off = new long[runs];
            try {
                for (int i = 0; i < runs / 4 + 2; i++) plan.run(x, y);
                for (int i = 0; i < runs; i++) {
                    boolean first = (i & 1) == 0;   // alternate which variant goes first
                    for (int k = 0; k < 2; k++) {
                        Winograd.guardForMeasurement = first == (k == 0);
                        long t0 = System.nanoTime();
                        plan.run(x, y);
                        long t = System.nanoTime() - t0;
                        if (Winograd.guardForMeasurement) on[i] = t;
                        else off[i] = t;
                    }
                }
            } finally {
                Winograd.guardForMeasurement = true;
            }
            if (plan.winogradFallbacks() != 0) throw new AssertionError("the guard fired on the timing input");
            long scan = 0;   // the scan alone, one thread, best of 200, over a buffer of each step's input size
            for (PlanStep s : steps(plan)) {
                Winograd.Conv c = s.winograd();
                if (c == null) continue;
                long floats = (long) c.n() * c.h() * c.w() * c.c(), best = Long.MAX_VALUE;
                try (Arena b = Arena.ofConfined()) {
                    var buf = b.allocate(floats * 4, 64);
                    for (int i = 0; i < 200; i++) {
                        long t0 = System.nanoTime();
                        if (WinogradKernels.maxMagnitudeBits(buf, 0, floats) != 0) throw new AssertionError();
                        best = Math.min(best, System.nanoTime() - t0);
                    }
                }
                scan += best;
            }
            double[] pairs = new double[runs];   // a pair ran back to back, under the same load from other processes
            for (int i = 0; i < runs; i++) pairs[i] = (double) on[i] / off[i];
            Arrays.sort(pairs);
            Arrays.sort(on);
            Arrays.sort(off);
            System.out.printf("cost: %-32s %2d Winograd steps, guard on / off: median of pair ratios %.4f, best %.3f / %.3f ms (%.4f), "
                            + "median %.3f / %.3f ms (%.4f); scan alone %.1f us (%.4f of the best run)%n", what, steps, pairs[runs / 2],
                    on[0] / 1e6, off[0] / 1e6, (double) on[0] / off[0],
                    on[runs / 2] / 1e6, off[runs / 2] / 1e6, (double) on[runs / 2] / off[runs / 2], scan / 1e3, (double) scan / off[0]);
        }
    }

    @SuppressWarnings("unchecked")
    private static java.util.List<PlanStep> steps(CompiledModel plan) {
        try {
            var f = CompiledModel.class.getDeclaredField("steps");
            f.setAccessible(true);
            return (java.util.List<PlanStep>) f.get(plan);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
    }

    private static float[] run(CompiledModel plan, Tensor x) {
        try (Tensor y = plan.run(x)) {
            return y.toFloatArray();
        }
    }

    private static double maxAbs(float[] v) {
        double max = 0;
        for (float f : v) max = Math.max(max, Math.abs(f));
        return max;
    }

    /** Max |a - b| over [1, k, 56, 56] outputs outside rows py-1..py+1 x columns px-1..px+1 (py < 0: all). */
    private static double maxDiff(float[] a, float[] b, int py, int px) {
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            int y = i / 56 % 56, x = i % 56;
            if (py >= 0 && Math.abs(y - py) <= 1 && Math.abs(x - px) <= 1) continue;
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
