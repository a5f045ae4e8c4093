package dev.panamadnn.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import dev.panamadnn.demo.Digits;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * 10,000 digits rows through the transformer on a local[2] session against the same ONNX model
 * compiled in this JVM ({@code CompiledModel}), row by row, and across partitionings.
 */
class DigitsScoringTest {
    static final int N = 10_000, BATCH = 64;
    static float[][] rows, reference;

    @BeforeAll
    static void data() throws Exception {
        rows = SparkTests.digitsRows(N);
        reference = SparkTests.compiledReference(rows, BATCH);
    }

    static PanamaModel model() {
        return new PanamaModel().setModelPath(SparkTests.digitsFile("digits_resnet.onnx").toString())
                .setInputCol("features").setOutputCol("logits").setPredictionCol("digit").setBatchSize(BATCH);
    }

    /** Each partitioning is scored once and shared by the tests (the suite's time budget is minutes). */
    static final java.util.Map<Integer, float[][]> SCORED = new java.util.concurrent.ConcurrentHashMap<>();

    static float[][] score(int partitions) {
        return SCORED.computeIfAbsent(partitions, p -> {
            Dataset<Row> scored = model().transform(SparkTests.frame(rows, p));
            assertEquals(p, scored.rdd().getNumPartitions(), "partitions");
            return SparkTests.byId(scored, "logits", N);
        });
    }

    /**
     * Every row equals the single-JVM plan's output bit for bit: each row runs through the same plan
     * at the same batch size (the transformer pads its last batch, the reference its), and a row's
     * output does not depend on which rows share its batch (rows fall into other batches here than in
     * the reference, because repartition shuffles them).
     */
    @Test
    void tenThousandRowsEqualTheCompiledModelRowByRow() {
        float[][] out = score(3);
        for (int i = 0; i < N; i++) {
            assertNotNull(out[i], "row " + i + " missing");
            assertArrayEquals(reference[i], out[i], 0f, "row " + i + " differs from the CompiledModel's output");
        }
    }

    @Test
    void oneThreeAndSixteenPartitionsGiveIdenticalOutputs() {
        float[][] one = score(1), three = score(3), sixteen = score(16);
        for (int i = 0; i < N; i++) {
            assertArrayEquals(one[i], three[i], 0f, "row " + i + ": 1 vs 3 partitions");
            assertArrayEquals(one[i], sixteen[i], 0f, "row " + i + ": 1 vs 16 partitions");
        }
    }

    /**
     * Each scored row carries its own input: the scorer copies the rows of a batch into buffers it reuses batch after
     * batch (157 batches of 64 here), so a row handed on must not be overwritten by a later batch before Spark has
     * consumed it.
     */
    @Test
    void theInputColumnsPassThroughUnchanged() {
        float[][] features = SparkTests.byId(model().transform(SparkTests.frame(rows, 3)), "features", N);
        for (int i = 0; i < N; i++) {
            assertNotNull(features[i], "row " + i + " missing");
            assertArrayEquals(rows[i], features[i], 0f, "row " + i + ": its features column differs from the input's");
        }
    }

    /** The held-out split's rows (the first 360) are classified as PyTorch classified them. */
    @Test
    void predictionsOfTheHeldOutSplitArePyTorchs() throws Exception {
        Digits.TestSplit split = Digits.testSplit();
        List<Row> scored = model().transform(SparkTests.frame(rows, 2)).where("id < " + split.count()).select("id", "digit").collectAsList();
        assertEquals(split.count(), scored.size());
        for (Row r : scored) {
            int id = (int) r.getLong(0);
            assertEquals(split.torchPredictions()[id], r.getInt(1), "row " + id + ": prediction differs from PyTorch's");
        }
    }

    /** Tasks share the executor's plan set: scoring again with an equal spec loads nothing more. */
    @Test
    void tasksShareOneLoadedModelPerSpec() {
        Dataset<Row> small = SparkTests.frame(SparkTests.digitsRows(500), 4);
        model().transform(small).count();
        long before = ExecutorModels.loads();
        assertEquals(500, model().transform(small).count());
        assertEquals(before, ExecutorModels.loads(), "a second job with the same spec loaded the model again");
    }
}
