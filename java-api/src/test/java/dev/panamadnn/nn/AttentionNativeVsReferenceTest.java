package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Shapes larger and less regular than the goldens' (where oneDNN picks blocked/brgemm kernels):
 * the native paths against the plain-Java reference, which the goldens tie to PyTorch.
 * Tolerance 1e-4 relative + 1e-5 absolute: sums of up to 96 float products in different orders.
 */
class AttentionNativeVsReferenceTest {
    private static Tensor random(SplittableRandom r, long... shape) {
        int n = 1;
        for (long d : shape) n *= (int) d;
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) r.nextGaussian();
        return Tensor.of(x, shape);
    }

    private static void assertClose(String what, Tensor ref, Tensor y) {
        assertArrayEquals(ref.shape(), y.shape(), what + ": shape");
        float[] a = ref.toFloatArray(), b = y.toFloatArray();
        for (int i = 0; i < a.length; i++) {
            boolean ok = Float.isNaN(a[i]) ? Float.isNaN(b[i]) : Math.abs(a[i] - b[i]) <= 1e-5 + 1e-4 * Math.abs(a[i]);
            assertTrue(ok, what + ": at " + i + " reference " + a[i] + ", native " + b[i]);
        }
    }

    @ParameterizedTest(name = "B={0} L={1} S={2} E={3} Ev={4} causal={5}")
    @CsvSource({"3, 37, 53, 64, 40, false", "2, 64, 64, 96, 96, true", "1, 1, 129, 32, 17, false", "5, 16, 8, 8, 8, true"})
    void sdpa(int b, int l, int s, int e, int ev, boolean causal) {
        SplittableRandom r = new SplittableRandom(b * 1000L + l);
        try (Tensor q = random(r, b, l, e); Tensor k = random(r, b, s, e); Tensor v = random(r, b, s, ev);
             Tensor m = random(r, l, s)) {
            AttentionMask mask = causal ? null : AttentionMask.additive(m);
            try (Tensor ref = Attention.scaledDotProductAttention(q, k, v, mask, causal, null, Backend.REFERENCE);
                 Tensor y = Attention.scaledDotProductAttention(q, k, v, mask, causal, null, Backend.ONEDNN)) {
                assertClose("sdpa", ref, y);
            }
        }
    }

    @ParameterizedTest(name = "E={0} H={1} L={2} S={3} N={4} kdim={5} batch_first={6}")
    @CsvSource({"64, 8, 17, 23, 3, 48, true", "64, 8, 17, 23, 3, 64, false", "96, 4, 33, 33, 2, 96, true"})
    void multiheadAttention(int e, int h, int l, int s, int n, int kdim, boolean batchFirst) {
        SplittableRandom r = new SplittableRandom(e * 31L + kdim);
        try (MultiheadAttention mha = new MultiheadAttention(e, h, 0, true, false, false, kdim, kdim, batchFirst);
             Tensor q = batchFirst ? random(r, n, l, e) : random(r, l, n, e);
             Tensor k = batchFirst ? random(r, n, s, kdim) : random(r, s, n, kdim);
             Tensor v = batchFirst ? random(r, n, s, kdim) : random(r, s, n, kdim);
             Tensor pad = Tensor.zeros(n, s)) {
            pad.setFloat(1f, 0, s - 1);   // the last key of batch element 0 is padding
            AttentionMask kpm = AttentionMask.bool(pad);
            for (Backend b : new Backend[] {Backend.ONEDNN, Backend.OPENBLAS, Backend.AUTO}) {
                try (MultiheadAttention.Output ref = mha.forward(q, k, v, kpm, true, null, false, Backend.REFERENCE);
                     MultiheadAttention.Output y = mha.forward(q, k, v, kpm, true, null, false, b)) {
                    assertClose("mha output " + b, ref.output(), y.output());
                    assertClose("mha weights " + b, ref.weights(), y.weights());
                }
            }
        }
    }
}
