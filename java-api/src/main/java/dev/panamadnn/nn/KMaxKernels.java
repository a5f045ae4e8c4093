package dev.panamadnn.nn;

import java.util.Arrays;
import java.util.Comparator;

/**
 * The two k-max pooling kernels of {@link KMaxPool1d} over row-major rows of length {@code s}:
 * {@link #select} (fast, expected O(s) per row) and {@link #reference} (sort, the oracle).
 * Both keep the k largest values of each row in their original order; ties go to the lower
 * index; -0.0 equals 0.0; NaN is larger than every number.
 */
final class KMaxKernels {
    private KMaxKernels() {}

    /**
     * An int whose signed order is the float order described above: the IEEE bits with the
     * magnitude bits flipped for negatives, -0.0 mapped to 0.0, every NaN to the maximum.
     */
    static int key(float v) {
        if (v != v) return Integer.MAX_VALUE;
        if (v == 0f) return 0;
        int bits = Float.floatToRawIntBits(v);
        return bits ^ ((bits >> 31) & 0x7FFFFFFF);
    }

    /** Quickselect on keys, then one in-order pass; {@code y} gets {@code k} values per row. */
    static void select(float[] x, int s, int k, float[] y) {
        int rows = x.length / s;
        int[] keys = new int[s], scratch = new int[s];
        for (int r = 0; r < rows; r++) {
            int base = r * s, out = r * k;
            if (k == s) {
                System.arraycopy(x, base, y, out, s);
                continue;
            }
            for (int i = 0; i < s; i++) keys[i] = key(x[base + i]);
            System.arraycopy(keys, 0, scratch, 0, s);
            int threshold = kthLargest(scratch, s, k);
            // Values above the threshold are all taken; of those equal to it, the leftmost ones fill the rest.
            int above = 0;
            for (int i = 0; i < s; i++) if (keys[i] > threshold) above++;
            int equalQuota = k - above;
            for (int i = 0, j = out; i < s; i++) {
                int key = keys[i];
                if (key > threshold || (key == threshold && equalQuota-- > 0)) y[j++] = x[base + i];
            }
        }
    }

    /** The k-th largest of {@code a[0..n)} (1-based k); reorders {@code a}. Hoare-style quickselect. */
    static int kthLargest(int[] a, int n, int k) {
        int target = n - k;          // index in ascending order
        int lo = 0, hi = n - 1;
        long seed = 0x9E3779B97F4A7C15L ^ n;   // fixed pivots: deterministic, no shared Random
        while (lo < hi) {
            seed = seed * 6364136223846793005L + 1442695040888963407L;
            int pivot = a[lo + (int) Long.remainderUnsigned(seed >>> 1, hi - lo + 1)];
            int i = lo, j = hi;
            while (i <= j) {
                while (a[i] < pivot) i++;
                while (a[j] > pivot) j--;
                if (i <= j) {
                    int t = a[i];
                    a[i] = a[j];
                    a[j] = t;
                    i++;
                    j--;
                }
            }
            if (target <= j) hi = j;
            else if (target >= i) lo = i;
            else return a[target];
        }
        return a[target];
    }

    /** The oracle: indices sorted by (value descending, index ascending), first k, back in order. */
    static void reference(float[] x, int s, int k, float[] y) {
        int rows = x.length / s;
        for (int r = 0; r < rows; r++) {
            int base = r * s;
            Integer[] order = new Integer[s];
            for (int i = 0; i < s; i++) order[i] = i;
            Comparator<Integer> byValueDescending = (a, b) -> compareValues(x[base + b], x[base + a]);
            Arrays.sort(order, byValueDescending.thenComparing(Comparator.naturalOrder()));
            Integer[] chosen = Arrays.copyOf(order, k);
            Arrays.sort(chosen);
            for (int j = 0; j < k; j++) y[r * k + j] = x[base + chosen[j]];
        }
    }

    /** Numeric order with -0.0 == 0.0 and NaN above everything (written out, not via keys). */
    static int compareValues(float a, float b) {
        boolean nanA = Float.isNaN(a), nanB = Float.isNaN(b);
        if (nanA || nanB) return nanA == nanB ? 0 : nanA ? 1 : -1;
        return a < b ? -1 : a > b ? 1 : 0;
    }
}
