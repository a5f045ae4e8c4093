package dev.panamadnn.demo;

import dev.panamadnn.Module;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Backend;
import dev.panamadnn.nn.Conv2d;
import dev.panamadnn.nn.GELU;
import dev.panamadnn.nn.Linear;
import dev.panamadnn.nn.Softmax;
import java.io.PrintStream;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Function;

/**
 * Native vs plain-Java reference for a few layers at realistic sizes, with the largest
 * difference between the two. Best-of-N wall clock: orientation, not a benchmark.
 */
final class LayerTimings {
    private LayerTimings() {}

    private record Row(String name, Module layer, long[] inputShape, Function<Tensor, Tensor> reference) {}

    static int run(PrintStream out) {
        out.println("== Layers: native vs plain-Java reference (best of 5 / best of 1, wall clock)");
        out.println(" layer                                   input              native ms  reference ms  speed-up  max |diff|");
        int mismatches = 0;
        Conv2d conv = Conv2d.builder(64, 64, 3).padding(1).build();
        Linear linear = new Linear(512, 512, true);
        GELU gelu = new GELU();
        Softmax softmax = new Softmax(1);
        Row[] rows = {
            new Row("Linear(512, 512)", linear, new long[] {64, 512}, x -> linear.forward(x, Backend.REFERENCE)),
            new Row("Conv2d(64, 64, 3x3, padding 1)", conv, new long[] {1, 64, 56, 56}, conv::forwardReference),
            new Row("GELU", gelu, new long[] {64, 4096}, x -> gelu.forward(x, Backend.REFERENCE)),
            new Row("Softmax(dim=1)", softmax, new long[] {64, 1000}, x -> softmax.forward(x, Backend.REFERENCE)),
        };
        try (conv; linear; gelu; softmax) {
            for (Row r : rows) {
                try (Tensor x = random(r.inputShape())) {
                    Tensor[] nat = new Tensor[1], ref = new Tensor[1];
                    double nativeMs = Timing.bestMs(5, () -> swap(nat, r.layer().forward(x)));
                    double refMs = Timing.bestMs(1, () -> swap(ref, r.reference().apply(x)));
                    double diff = maxAbsDiff(nat[0].toFloatArray(), ref[0].toFloatArray());
                    boolean ok = diff < 1e-3;
                    mismatches += ok ? 0 : 1;
                    out.printf(Locale.ROOT, " %-38s  %-17s %9.3f  %12.3f  %7.1fx  %.1e%s%n", r.name(),
                            java.util.Arrays.toString(r.inputShape()), nativeMs, refMs, refMs / nativeMs, diff, ok ? "" : " MISMATCH");
                    nat[0].close();
                    ref[0].close();
                }
            }
        }
        out.println();
        return mismatches;
    }

    private static void swap(Tensor[] slot, Tensor t) {
        if (slot[0] != null) slot[0].close();
        slot[0] = t;
    }

    private static Tensor random(long[] shape) {
        var rnd = new SplittableRandom(3);
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) (rnd.nextDouble() * 2 - 1);
        return Tensor.of(v, shape);
    }

    private static double maxAbsDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }
}
