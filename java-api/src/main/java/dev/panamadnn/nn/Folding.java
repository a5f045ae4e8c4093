package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import dev.panamadnn.internal.Sizes;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Folding, as in Kalchbrenner, Grefenstette &amp; Blunsom 2014 (the DCNN): sums every two
 * adjacent rows of the feature dimension, {@code y[n, i, t] = x[n, 2i, t] + x[n, 2i+1, t]},
 * halving it: {@code [N, C, S] -> [N, C/2, S]}, or unbatched {@code [C, S] -> [C/2, S]}.
 * C must be even. In PyTorch terms: {@code x.view(N, C/2, 2, S).sum(2)}.
 *
 * <p>One float addition per output, so every backend gives bit-identical results. oneDNN has
 * no pairwise-row primitive short of a reduction over a reshaped view, which would cost a
 * primitive per shape for one add, so the "native" path is a Java kernel over whole rows
 * (the add loop vectorises); the reference ({@link Backend#REFERENCE}) is element by element
 * through the tensor's indexing. No parameters; thread-safe.
 */
public final class Folding extends Layer {
    /** DCNN folding: sums each pair of adjacent feature rows. */
    public Folding() {}

    @Override
    public long[] outputShape(long... inputShape) {
        checkShapeArgument(inputShape);
        if (inputShape.length != 2 && inputShape.length != 3) {
            throw new IllegalArgumentException(this + ": expected a 2-D [C, S] or 3-D [N, C, S] input, got shape "
                    + Arrays.toString(inputShape));
        }
        int c = inputShape.length - 2;
        if (inputShape[c] % 2 != 0) {
            throw new IllegalArgumentException(this + ": expected an even number of rows C (dimension " + c + "), got C="
                    + inputShape[c] + " (input shape " + Arrays.toString(inputShape) + ")");
        }
        long[] out = inputShape.clone();
        out[c] /= 2;
        return out;
    }

    @Override
    void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        if (input.numel() > Sizes.MAX_ARRAY_LENGTH) Sizes.arrayLength(toString(), "the input " + Arrays.toString(input.shape()), input.numel());   // fold() works on a Java array
        if (backend == Backend.REFERENCE) reference(input, outShape, out);
        else fold(input, outShape, out);
    }

    private static void fold(Tensor input, long[] outShape, Tensor out) {
        float[] x = input.toFloatArray();
        int s = Math.toIntExact(outShape[outShape.length - 1]);
        float[] y = new float[x.length / 2];
        for (int row = 0, rows = y.length / s; row < rows; row++) {
            int a = 2 * row * s, b = a + s, o = row * s;   // rows 2i and 2i+1 of the same sample are adjacent
            for (int t = 0; t < s; t++) y[o + t] = x[a + t] + x[b + t];
        }
        MemorySegment.copy(y, 0, out.segment(), ValueLayout.JAVA_FLOAT, 0, y.length);
    }

    private static void reference(Tensor input, long[] outShape, Tensor y) {
        boolean batched = outShape.length == 3;
        long n = batched ? outShape[0] : 1, c = outShape[outShape.length - 2], s = outShape[outShape.length - 1];
        for (long b = 0; b < n; b++) {
            for (long i = 0; i < c; i++) {
                for (long t = 0; t < s; t++) {
                    float sum = batched ? input.getFloat(b, 2 * i, t) + input.getFloat(b, 2 * i + 1, t)
                            : input.getFloat(2 * i, t) + input.getFloat(2 * i + 1, t);
                    if (batched) y.setFloat(sum, b, i, t);
                    else y.setFloat(sum, i, t);
                }
            }
        }
    }

    @Override
    public String toString() {
        return "Folding()";
    }
}
