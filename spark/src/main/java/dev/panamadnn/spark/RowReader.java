package dev.panamadnn.spark;

import java.util.Arrays;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.util.ArrayData;

/** Reads one row's features into a batch, or says what is wrong with them. */
final class RowReader {
    private RowReader() {}

    /**
     * Writes the features of {@code row} (Spark's internal form: an {@code array<float>} is read
     * straight from its {@code UnsafeArrayData}, never as boxed values) to {@code dst[at, at + size)}.
     *
     * @return null when the row is good, else what is wrong with it (the caller adds where)
     */
    static String read(InternalRow row, PartitionScorer.Settings settings, long[] shape, float[] dst, int at, int size) {
        int col = settings.featuresIndex();
        if (row.isNullAt(col)) return "the input is null";
        if (settings.binaryImages()) return settings.image().decode(row.getBinary(col), shape, dst, at);
        ArrayData a = row.getArray(col);
        int n = a.numElements();
        if (n != size) return wrongLength(n, size, shape);
        for (int i = 0; i < n; i++) {
            if (a.isNullAt(i)) return "the input's value [" + i + "] is null";
        }
        float[] v = a.toFloatArray();
        int bad = PartitionScorer.firstNonFinite(v, 0, n);
        if (bad >= 0) return nonFinite(bad, v[bad]);
        System.arraycopy(v, 0, dst, at, n);
        return null;
    }

    /** The same for a value as a user-defined function receives it (a Scala {@code Seq} of boxed floats, or a {@code float[]}). */
    static String readFloats(Object v, float[] dst, int at, int size, long[] shape) {
        if (v instanceof scala.collection.Seq<?> seq) {
            int n = seq.length();
            if (n != size) return wrongLength(n, size, shape);
            for (int i = 0; i < n; i++) {
                Object e = seq.apply(i);
                if (!(e instanceof Float f)) return "the input's value [" + i + "] is " + (e == null ? "null" : e.getClass().getName());
                float x = f;
                if (!Float.isFinite(x)) return nonFinite(i, x);
                dst[at + i] = x;
            }
            return null;
        }
        if (v instanceof float[] a) {
            if (a.length != size) return wrongLength(a.length, size, shape);
            int bad = PartitionScorer.firstNonFinite(a, 0, a.length);
            if (bad >= 0) return nonFinite(bad, a[bad]);
            System.arraycopy(a, 0, dst, at, a.length);
            return null;
        }
        return "expected array<float>, got " + v.getClass().getName();
    }

    private static String wrongLength(int n, int size, long[] shape) {
        return "the input has " + n + " values, expected " + size + " (one sample " + Arrays.toString(shape) + ")";
    }

    private static String nonFinite(int i, float x) {
        return "the input's value [" + i + "] is " + x + " (NaN or infinite values make NaN outputs)";
    }
}
