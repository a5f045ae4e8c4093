package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * Inputs in other forms than a contiguous off-heap tensor (a strided view, heap memory) give the
 * same results, bit for bit, as their contiguous copies on both paths; the values themselves are
 * checked against PyTorch in {@link RnnGoldenTest}, whose inputs are memory-mapped.
 */
class RnnInputsTest {
    @Test
    void stridedViewsAndHeapMemoryGiveTheContiguousResults() {
        try (GoldenFile file = GoldenFile.open("rnn.safetensors")) {
            GoldenFile.Case c = file.cases().stream().filter(k -> k.name().equals("lstm_lengths_bi")).findFirst().orElseThrow();
            try (LSTM lstm = (LSTM) RnnTesting.build(c)) {
                RnnTesting.load(lstm, c);
                Tensor x = c.input(), h0 = c.extras().get("h0"), c0 = c.extras().get("c0");
                long[] xs = x.shape();
                // x inside a wider tensor: the view [T, N, in] of [T, N, in + 3] has row stride in + 3
                try (Tensor wide = Tensor.zeros(xs[0], xs[1], xs[2] + 3); Tensor hHeap = heap(h0)) {
                    float[] v = x.toFloatArray();
                    for (int i = 0; i < v.length; i++) {
                        long t = i / (xs[1] * xs[2]), b = i / xs[2] % xs[1], f = i % xs[2];
                        wide.setFloat(v[i], t, b, f);
                    }
                    Tensor view = wide.slice(2, 0, xs[2]);
                    assertFalse(view.isContiguous());
                    int[] lengths = RnnTesting.lengths(c);
                    for (Backend backend : new Backend[] {Backend.AUTO, Backend.REFERENCE}) {
                        try (RecurrentOutput want = lstm.forward(x, h0, c0, lengths, backend);
                             RecurrentOutput got = lstm.forward(view, hHeap, c0, lengths, backend)) {
                            assertArrayEquals(want.output().toFloatArray(), got.output().toFloatArray(), backend + " output");
                            assertArrayEquals(want.hN().toFloatArray(), got.hN().toFloatArray(), backend + " h_n");
                            assertArrayEquals(want.cN().toFloatArray(), got.cN().toFloatArray(), backend + " c_n");
                        }
                    }
                }
            }
        }
    }

    private static Tensor heap(Tensor t) {
        return Tensor.wrap(MemorySegment.ofArray(t.toFloatArray()), DataType.F32, t.shape());
    }
}
