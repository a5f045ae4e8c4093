package dev.panamadnn.spark;

import org.apache.spark.sql.Row;

/** Reads one row's features into a batch, or says what is wrong with them. */
final class RowReader {
    private RowReader() {}

    /**
     * Writes the features of {@code row} to {@code dst[at, at + size)}.
     *
     * @return null when the row is good, else what is wrong with it (the caller adds where)
     */
    static String read(Row row, PartitionScorer.Settings settings, long[] shape, float[] dst, int at, int size) {
        int col = settings.featuresIndex();
        if (row.isNullAt(col)) return "the input is null";
        Object v = row.get(col);
        if (settings.binaryImages()) {
            if (!(v instanceof byte[] bytes)) return "expected image bytes (binary), got " + v.getClass().getName();
            return settings.image().decode(bytes, shape, dst, at);
        }
        return readFloats(v, dst, at, size, shape);
    }

    static String readFloats(Object v, float[] dst, int at, int size, long[] shape) {
        if (v instanceof scala.collection.Seq<?> seq) {
            int n = seq.length();
            if (n != size) return "the input has " + n + " values, expected " + size + " (one sample " + java.util.Arrays.toString(shape) + ")";
            for (int i = 0; i < n; i++) {
                Object e = seq.apply(i);
                if (!(e instanceof Float f)) return "the input's value [" + i + "] is " + (e == null ? "null" : e.getClass().getName());
                float x = f;
                if (!Float.isFinite(x)) return "the input's value [" + i + "] is " + x + " (NaN or infinite values make NaN outputs)";
                dst[at + i] = x;
            }
            return null;
        }
        if (v instanceof float[] a) {
            if (a.length != size) return "the input has " + a.length + " values, expected " + size + " (one sample " + java.util.Arrays.toString(shape) + ")";
            for (int i = 0; i < a.length; i++) {
                if (!Float.isFinite(a[i])) return "the input's value [" + i + "] is " + a[i] + " (NaN or infinite values make NaN outputs)";
            }
            System.arraycopy(a, 0, dst, at, a.length);
            return null;
        }
        return "expected array<float>, got " + v.getClass().getName();
    }

}
