package dev.panamadnn.demo;

import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Conv1d;
import java.io.PrintStream;
import java.util.Locale;

/**
 * The classic first example of convolution: the distribution of the sum of two independent
 * dice is the convolution of their distributions (here a fair die and a loaded one, so that
 * forgetting the flip would visibly give the distribution of the difference instead), (f*g)(s) = sum_k f(k) g(s-k). A deep-learning
 * "convolution" is a cross-correlation (no kernel flip), so the kernel is g reversed, and
 * padding of 5 on both sides gives every one of the 11 sums 2..12 ("full" convolution).
 * Checked against direct enumeration of the 36 outcomes.
 */
final class Dice {
    private Dice() {}

    /** Returns the number of mismatches (0 when Conv1d agrees with enumeration). */
    static int run(PrintStream out) {
        out.println("== Sum of a fair die and a loaded one (P(6) = 1/2) as a 1-D convolution (Conv1d, kernel flipped)");
        double[] f = new double[6], g = new double[6];
        java.util.Arrays.fill(f, 1.0 / 6);
        java.util.Arrays.fill(g, 1.0 / 6);
        // A loaded second die makes the flip visible: P(6) = 1/2, the rest 1/10 each.
        java.util.Arrays.fill(g, 0.1);
        g[5] = 0.5;
        double[] enumerated = new double[13];
        for (int a = 1; a <= 6; a++)
            for (int b = 1; b <= 6; b++) enumerated[a + b] += f[a - 1] * g[b - 1];
        float[] kernel = new float[6];
        for (int i = 0; i < 6; i++) kernel[i] = (float) g[5 - i];
        float[] input = new float[6];
        for (int i = 0; i < 6; i++) input[i] = (float) f[i];
        int mismatches = 0;
        try (Conv1d conv = Conv1d.builder(1, 1, 6).padding(5).bias(false).build();
             Tensor x = Tensor.of(input, 1, 1, 6)) {
            conv.weight().segment().copyFrom(java.lang.foreign.MemorySegment.ofArray(kernel));
            conv.weightsChanged();
            try (Tensor y = conv.forward(x)) {
                float[] p = y.toFloatArray();
                out.println(" sum   Conv1d      enumeration");
                for (int s = 2; s <= 12; s++) {
                    boolean ok = Math.abs(p[s - 2] - enumerated[s]) < 1e-6;
                    mismatches += ok ? 0 : 1;
                    out.printf(Locale.ROOT, " %3d   %.6f    %.6f%s%n", s, p[s - 2], enumerated[s], ok ? "" : "  MISMATCH");
                }
            }
        }
        out.println(mismatches == 0 ? " all 11 probabilities agree (ok)" : " " + mismatches + " MISMATCH(ES)");
        out.println();
        return mismatches;
    }
}
