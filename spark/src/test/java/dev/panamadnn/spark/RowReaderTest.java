package dev.panamadnn.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.Arrays;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeProjection;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.sql.catalyst.util.GenericArrayData;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/**
 * The features read straight from Spark's internal rows: an {@code UnsafeArrayData} (the bulk path over its null
 * words and values) and a generic array give the same values and the same complaints, at any element (past the
 * first 64-bit null word too), into any slot of the batch.
 */
class RowReaderTest {
    static final int N = 150;
    static final long[] SHAPE = {N};
    static final PartitionScorer.Settings SETTINGS = new PartitionScorer.Settings(null, 1, false, null, false, false);
    static final StructType SCHEMA = new StructType().add("id", DataTypes.LongType).add("features", DataTypes.createArrayType(DataTypes.FloatType, true));

    /** The row (id, values) in Spark's unsafe form (as scans produce it) or with a generic array. */
    static InternalRow row(Float[] values, boolean unsafe) {
        GenericInternalRow generic = new GenericInternalRow(new Object[] {7L, new GenericArrayData(values)});
        if (!unsafe) return generic;
        UnsafeRow u = UnsafeProjection.create(SCHEMA).apply(generic).copy();
        assertEquals("UnsafeArrayData", u.getArray(1).getClass().getSimpleName());
        return u;
    }

    static Float[] values() {
        Float[] v = new Float[N];
        for (int i = 0; i < N; i++) v[i] = i * 0.5f - 20;
        return v;
    }

    @Test
    void goodValuesLandInTheirSlotOfTheBatch() {
        for (boolean unsafe : new boolean[] {true, false}) {
            float[] dst = new float[3 * N];
            Arrays.fill(dst, -1);
            assertNull(RowReader.read(row(values(), unsafe), SETTINGS, SHAPE, dst, N, N));
            float[] want = new float[N];
            for (int i = 0; i < N; i++) want[i] = i * 0.5f - 20;
            assertArrayEquals(want, Arrays.copyOfRange(dst, N, 2 * N), 0f, "unsafe " + unsafe);
            for (int i = 0; i < N; i++) assertEquals(-1f, dst[i], "slot 0 untouched");
            for (int i = 2 * N; i < 3 * N; i++) assertEquals(-1f, dst[i], "slot 2 untouched");
        }
    }

    @Test
    void aNullElementIsNamedByItsIndexInAnyNullWord() {
        for (int at : new int[] {0, 63, 64, 130, N - 1}) {
            for (boolean unsafe : new boolean[] {true, false}) {
                Float[] v = values();
                v[at] = null;
                assertEquals("the input's value [" + at + "] is null", RowReader.read(row(v, unsafe), SETTINGS, SHAPE, new float[N], 0, N),
                        "null at " + at + ", unsafe " + unsafe);
            }
        }
    }

    @Test
    void aNonFiniteElementIsNamedByItsIndex() {
        for (float bad : new float[] {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY}) {
            for (boolean unsafe : new boolean[] {true, false}) {
                Float[] v = values();
                v[100] = bad;
                String got = RowReader.read(row(v, unsafe), SETTINGS, SHAPE, new float[N], 0, N);
                assertEquals("the input's value [100] is " + bad + " (NaN or infinite values make NaN outputs)", got, "unsafe " + unsafe);
            }
        }
    }

    @Test
    void aWrongLengthIsRefusedBeforeAnythingIsCopied() {
        Float[] v = Arrays.copyOf(values(), N - 1);
        float[] dst = new float[N];
        Arrays.fill(dst, -1);
        assertEquals("the input has 149 values, expected 150 (one sample [150])", RowReader.read(row(v, true), SETTINGS, SHAPE, dst, 0, N));
        for (float x : dst) assertEquals(-1f, x);
    }
}
