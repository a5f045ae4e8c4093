package dev.panamadnn.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Null, short, NaN and overflowing rows: a job error naming the row and partition, or an error column and the job goes on. */
class BadRowsTest {
    static final int N = 200;

    /** Row {@code at} made bad in the way {@code kind} names; the rest are digits rows. */
    static Object[] bad(String kind) {
        float[] ok = SparkTests.digitsRows(1)[0];
        return switch (kind) {
            case "null" -> null;
            case "short" -> SparkTests.boxed(Arrays.copyOf(ok, 63));
            case "nan" -> { Float[] v = SparkTests.boxed(ok); v[7] = Float.NaN; yield v; }
            case "nullElement" -> { Float[] v = SparkTests.boxed(ok); v[3] = null; yield v; }
            case "overflow" -> { Float[] v = SparkTests.boxed(ok); Arrays.fill(v, 3e38f); yield v; }
            default -> throw new IllegalArgumentException(kind);
        };
    }

    /** One partition, in order (coalesce does not shuffle), so row {@code i} is at position {@code i}. */
    static Dataset<Row> frame(float[][] good, int[] at, String[] kinds) {
        List<Row> list = new ArrayList<>();
        for (int i = 0; i < good.length; i++) {
            Object v = SparkTests.boxed(good[i]);
            for (int k = 0; k < at.length; k++) if (at[k] == i) v = bad(kinds[k]);
            list.add(RowFactory.create((long) i, v));
        }
        return SparkTests.spark().createDataFrame(list, SparkTests.SCHEMA).coalesce(1);
    }

    static PanamaModel model() {
        return new PanamaModel().setModelPath(SparkTests.digitsFile("digits_resnet.onnx").toString()).setOutputCol("logits").setBatchSize(16);
    }

    @ParameterizedTest
    @ValueSource(strings = {"null", "short", "nan", "nullElement", "overflow"})
    void aBadRowFailsTheJobNamingItsPositionAndPartition(String kind) {
        Dataset<Row> df = frame(SparkTests.digitsRows(40), new int[] {37}, new String[] {kind});
        Exception e = assertThrows(Exception.class, () -> model().transform(df).collectAsList());
        String msg = String.valueOf(e.getMessage());
        assertTrue(msg.contains("PanamaModel: row 37 of partition 0: "), "the message names the row and partition: " + msg);
        String expected = switch (kind) {
            case "null" -> "the input is null";
            case "short" -> "the input has 63 values, expected 64";
            case "nan" -> "the input's value [7] is NaN";
            case "nullElement" -> "the input's value [3] is null";
            default -> "the model's output [";
        };
        assertTrue(msg.contains(expected), "the message says what is wrong (" + expected + "): " + msg);
    }

    @Test
    void withAnErrorColumnBadRowsGetTheirErrorAndTheJobGoesOn() throws Exception {
        float[][] good = SparkTests.digitsRows(N);
        int[] at = {3, 50, 51, 120, 199};
        String[] kinds = {"null", "short", "nan", "overflow", "nullElement"};
        Dataset<Row> scored = model().setErrorCol("error").setPredictionCol("digit").transform(frame(good, at, kinds));
        List<Row> rows = scored.collectAsList();
        assertEquals(N, rows.size(), "every row comes back once");
        float[][] reference = SparkTests.compiledReference(good, 16);
        for (Row r : rows) {
            int id = (int) r.getLong(0);
            int k = Arrays.stream(at).boxed().toList().indexOf(id);
            if (k >= 0) {
                String error = r.getString(r.fieldIndex("error"));
                assertTrue(error != null && error.startsWith("PanamaModel: row " + id + " of partition 0: "), "row " + id + " (" + kinds[k] + "): " + error);
                assertTrue(r.isNullAt(r.fieldIndex("logits")) && r.isNullAt(r.fieldIndex("digit")), "row " + id + ": outputs must be null");
            } else {
                assertNull(r.getString(r.fieldIndex("error")), "row " + id);
                assertArrayEquals(reference[id], SparkTests.floats(r, "logits"), 0f, "row " + id + " (a good row among bad ones)");
                assertEquals(PartitionScorer.argmax(reference[id]), r.getInt(r.fieldIndex("digit")), "row " + id);
            }
        }
    }

    @Test
    void wrongParamsFailBeforeAnyTaskRuns() {
        Dataset<Row> df = frame(SparkTests.digitsRows(4), new int[0], new String[0]);
        String path = SparkTests.digitsFile("digits_resnet.onnx").toString();
        assertMessage(() -> new PanamaModel().transform(df), "modelPath must be set");
        assertMessage(() -> model().setInputCol("pixels").transform(df), "inputCol 'pixels' is not a column");
        assertMessage(() -> model().setInputCol("id").transform(df), "inputCol 'id' must be array<float> or binary (an image), got bigint");
        assertMessage(() -> model().setBatchSize(0).transform(df), "batchSize must be from 1 to 4096, got 0");
        assertMessage(() -> model().setOutputCol("id").transform(df), "outputCol 'id' is already a column");
        assertMessage(() -> new PanamaModel().setModelPath(path.replace(".onnx", ".safetensors")).transform(df), "set architecture");
        assertMessage(() -> new PanamaModel().setModelPath("/no/such/model.pt").transform(df), "must end in .onnx or .safetensors");
    }

    @Test
    void aMissingFileFailsTheJobNamingIt() {
        Dataset<Row> df = frame(SparkTests.digitsRows(4), new int[0], new String[0]);
        Exception e = assertThrows(Exception.class, () -> new PanamaModel().setModelPath("/no/such/model.onnx").transform(df).collectAsList());
        assertTrue(String.valueOf(e.getMessage()).contains("no such file: /no/such/model.onnx"), e.getMessage());
    }

    static void assertMessage(org.junit.jupiter.api.function.Executable call, String part) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().contains(part), "expected a message containing '" + part + "', got: " + e.getMessage());
    }
}
