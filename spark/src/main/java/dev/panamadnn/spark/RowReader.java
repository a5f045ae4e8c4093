package dev.panamadnn.spark;

import java.util.Arrays;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.util.ArrayData;
import org.apache.spark.unsafe.Platform;

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
        if (a instanceof UnsafeArrayData u) return readUnsafe(u, n, dst, at);
        for (int i = 0; i < n; i++) {
            if (a.isNullAt(i)) return "the input's value [" + i + "] is null";
            float x = a.getFloat(i);
            if (!Float.isFinite(x)) return nonFinite(i, x);
            dst[at + i] = x;
        }
        return null;
    }

    /**
     * An {@code UnsafeArrayData} (what Spark's scans and caches hold) read in bulk through its documented format: 8
     * bytes of element count, a null bit per element in 8-byte words, then the values. Measured on a 224x224 image
     * row (150,528 floats, one JVM, 2026-12-06), with the row's copy: the element-by-element null check (165-250 us
     * alone) and {@code toFloatArray()} with two more passes came to 590-760 us a row; the null words, one copy into
     * the batch and one finiteness scan to 165-230 us (docs/spark.md).
     */
    private static String readUnsafe(UnsafeArrayData a, int n, float[] dst, int at) {
        if (at < 0 || (long) at + n > dst.length || a.getSizeInBytes() < UnsafeArrayData.calculateHeaderPortionInBytes(n) + 4L * n) {
            throw new IllegalStateException("RowReader: " + n + " floats do not fit the batch at " + at + " (" + dst.length + ") or the array ("
                    + a.getSizeInBytes() + " bytes)");   // unreachable (the caller checked the length): never copy past either
        }
        Object base = a.getBaseObject();
        long offset = a.getBaseOffset();
        for (int w = 0, words = (n + 63) / 64; w < words; w++) {
            long bits = Platform.getLong(base, offset + 8 + 8L * w);
            if (w == words - 1 && n % 64 != 0) bits &= (1L << (n % 64)) - 1;   // only this array's elements
            if (bits != 0) return "the input's value [" + (64 * w + Long.numberOfTrailingZeros(bits)) + "] is null";
        }
        Platform.copyMemory(base, offset + UnsafeArrayData.calculateHeaderPortionInBytes(n), dst, Platform.FLOAT_ARRAY_OFFSET + 4L * at, 4L * n);
        int bad = PartitionScorer.firstNonFinite(dst, at, n);
        return bad < 0 ? null : nonFinite(bad, dst[at + bad]);
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
