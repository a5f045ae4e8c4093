package dev.panamadnn.nn;

import dev.panamadnn.Tensor;
import dev.panamadnn.internal.Sizes;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * k-max pooling over the last dimension, as in Kalchbrenner, Grefenstette &amp; Blunsom 2014,
 * "A Convolutional Neural Network for Modelling Sentences" (the DCNN): of each row it keeps the
 * {@code k} largest values <em>in their original order</em> (not sorted by value).
 * {@code [N, C, S] -> [N, C, k]}, or unbatched {@code [C, S] -> [C, k]}.
 *
 * <p>Two ways to choose k:
 * <ul>
 * <li>fixed: {@code new KMaxPool1d(k)} (the paper's top layer, {@code k = k_top});</li>
 * <li>dynamic: {@link #dynamic(int, int, int) dynamic(kTop, l, L)} computes, at forward time,
 *     {@code k_l = max(k_top, ceil((L - l) / L * s))} for convolutional layer {@code l} of
 *     {@code L}, where {@code s} is the length of <em>this layer's input</em> (its last
 *     dimension). The paper's {@code s} is the sentence length; after wide convolutions the
 *     input is longer ({@code s + m - 1} per wide layer), so a stack gets slightly larger k's
 *     than the paper's. The ceiling is computed exactly in integers: {@code ((L-l)*s + L-1) / L}.</li>
 * </ul>
 *
 * <p><b>Ties</b> (equal values competing for the last places) go to the lower index first, so the
 * result is deterministic; -0.0 and 0.0 are equal, NaN counts as larger than every number (as
 * {@code torch.sort}/{@code topk} order it). <b>k larger than the row</b> ({@code k > S}) is an
 * {@link IllegalArgumentException}, as {@code torch.topk} refuses it: the paper assumes
 * {@code s >= k_top} and pads shorter sentences, so callers pad to at least {@code k_top}.
 * With a dynamic k only {@code S < k_top} can fail, because {@code ceil((L-l)/L*S) <= S}.
 *
 * <p>oneDNN has no k-max (or top-k) primitive, so the "native" path is a Java kernel: per row,
 * a quickselect on order-preserving integer keys finds the k-th largest value in expected
 * O(S), then one in-order pass takes the values above it and, for the last places, the ties at
 * it from the left. The reference ({@link Backend#REFERENCE}) sorts the indices by (value
 * descending, index ascending), takes the first k and sorts them back into order: obvious, the
 * oracle. Both give bit-identical results. Every backend other than REFERENCE runs the kernel.
 * No parameters; thread-safe (each call uses its own scratch arrays).
 */
public final class KMaxPool1d extends Layer {
    private final int k;        // fixed k, or k_top when dynamic
    private final int layer;    // l (0 when fixed)
    private final int layers;   // L (0 when fixed)

    /**
     * Fixed k.
     *
     * @param k the number of largest values kept per row, in their original order
     * @throws IllegalArgumentException if {@code k < 1}
     */
    public KMaxPool1d(int k) {
        if (k < 1) throw new IllegalArgumentException("KMaxPool1d: expected k >= 1, got k=" + k);
        this.k = k;
        this.layer = 0;
        this.layers = 0;
    }

    private KMaxPool1d(int kTop, int layer, int layers) {
        if (kTop < 1) throw new IllegalArgumentException("KMaxPool1d: expected k_top >= 1, got k_top=" + kTop);
        if (layers < 1) throw new IllegalArgumentException("KMaxPool1d: expected L (number of convolutional layers) >= 1, got L=" + layers);
        if (layer < 1 || layer > layers) {
            throw new IllegalArgumentException("KMaxPool1d: expected l in [1, L=" + layers + "], got l=" + layer);
        }
        this.k = kTop;
        this.layer = layer;
        this.layers = layers;
    }

    /**
     * Dynamic k for convolutional layer {@code l} of {@code L}: {@code k = max(kTop, ceil((L-l)/L * s))}
     * with {@code s} the input's last dimension.
     *
     * @param kTop the smallest k, that of the top layer
     * @param l    this layer's index, 1 to L
     * @param L    the number of convolutional layers
     * @throws IllegalArgumentException if {@code kTop < 1}, {@code L < 1} or {@code l} is not in {@code [1, L]}
     * @return the layer
     */
    public static KMaxPool1d dynamic(int kTop, int l, int L) {
        return new KMaxPool1d(kTop, l, L);
    }

    /** {@return whether k depends on the input length} */
    public boolean isDynamic() {
        return layers > 0;
    }

    /**
     * {@return the k used for an input whose last dimension is {@code length}}
     *
     * @param length the input's last dimension, at least 1
     */
    public long k(long length) {
        if (length < 1) throw new IllegalArgumentException(this + ": expected an input length >= 1, got " + length);
        if (!isDynamic()) return k;
        // ceil((L - l) * length / L) without forming (L - l) * length, which can pass 2^63:
        // length = q * L + r, so it is (L - l) * q + ceil((L - l) * r / L), both terms in range.
        long q = length / layers, r = length % layers, share = layers - layer;
        long ceil = share * q + Math.ceilDiv(share * r, (long) layers);
        return Math.max(k, ceil);
    }

    @Override
    public long[] outputShape(long... inputShape) {
        checkShapeArgument(inputShape);
        if (inputShape.length != 2 && inputShape.length != 3) {
            throw new IllegalArgumentException(this + ": expected a 2-D [C, S] or 3-D [N, C, S] input, got shape "
                    + Arrays.toString(inputShape));
        }
        long s = inputShape[inputShape.length - 1];
        long kk = k(s);
        if (kk > s) {
            throw new IllegalArgumentException(this + ": expected an input length S >= k=" + kk + ", got S=" + s + " (input shape "
                    + Arrays.toString(inputShape) + "; pad sentences to at least k)");
        }
        long[] out = inputShape.clone();
        out[out.length - 1] = kk;
        return out;
    }

    @Override
    void computeInto(Tensor input, long[] outShape, Backend backend, Tensor out) {
        // Both paths select in Java arrays: bound the input first, which bounds S and k too.
        if (input.numel() > Sizes.MAX_ARRAY_LENGTH) Sizes.arrayLength(toString(), "the input " + Arrays.toString(input.shape()), input.numel());
        long[] shape = input.shape();
        int s = (int) shape[shape.length - 1];
        int kk = (int) outShape[outShape.length - 1];
        long rows = input.numel() / s;
        float[] x = input.toFloatArray();
        float[] y = new float[Math.toIntExact(rows * kk)];
        if (backend == Backend.REFERENCE) KMaxKernels.reference(x, s, kk, y);
        else KMaxKernels.select(x, s, kk, y);
        MemorySegment.copy(y, 0, out.segment(), ValueLayout.JAVA_FLOAT, 0, y.length);
    }

    @Override
    public String toString() {
        return isDynamic() ? "KMaxPool1d(k_top=" + k + ", l=" + layer + ", L=" + layers + ")" : "KMaxPool1d(k=" + k + ")";
    }
}
