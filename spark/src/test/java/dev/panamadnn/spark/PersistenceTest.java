package dev.panamadnn.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.ml.Pipeline;
import org.apache.spark.ml.PipelineModel;
import org.apache.spark.ml.PipelineStage;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Spark ML persistence: the params (not the weights) save and load, alone and inside a pipeline. */
class PersistenceTest {
    @TempDir
    Path dir;

    static PanamaModel model() {
        return new PanamaModel().setModelPath(SparkTests.digitsFile("digits_resnet.onnx").toString()).setInputCol("features")
                .setOutputCol("logits").setPredictionCol("digit").setErrorCol("err").setBatchSize(32).setThreadsPerTask(1)
                .setInputShape(1, 8, 8).setImageScale(1.0 / 16);
    }

    @Test
    void saveAndLoadKeepEveryParamAndTheOutputs() throws Exception {
        PanamaModel saved = model();
        Path where = dir.resolve("panama-model");
        saved.write().save(where.toString());
        PanamaModel loaded = PanamaModel.load(where.toString());
        assertEquals(saved.uid(), loaded.uid());
        assertEquals(saved.getModelPath(), loaded.getModelPath());
        assertEquals("features", loaded.getInputCol());
        assertEquals("logits", loaded.getOutputCol());
        assertEquals("digit", loaded.getPredictionCol());
        assertEquals("err", loaded.getErrorCol());
        assertEquals(32, loaded.getBatchSize());
        assertEquals(1, loaded.getThreadsPerTask());
        assertArrayEquals(new int[] {1, 8, 8}, loaded.getInputShape());
        assertEquals(1.0 / 16, (Double) loaded.getOrDefault(loaded.imageScale()));
        assertEquals(saved.spec(), loaded.spec());

        float[][] rows = SparkTests.digitsRows(300);
        Dataset<Row> df = SparkTests.frame(rows, 2);
        float[][] a = SparkTests.byId(saved.transform(df), "logits", rows.length), b = SparkTests.byId(loaded.transform(df), "logits", rows.length);
        for (int i = 0; i < rows.length; i++) assertArrayEquals(a[i], b[i], 0f, "row " + i);
    }

    @Test
    void aPipelineWithThePanamaStageSavesAndLoads() throws Exception {
        PipelineModel pipeline = new Pipeline().setStages(new PipelineStage[] {model()}).fit(SparkTests.frame(SparkTests.digitsRows(4), 1));
        Path where = dir.resolve("pipeline");
        pipeline.write().save(where.toString());
        PipelineModel loaded = PipelineModel.load(where.toString());
        assertEquals(PanamaModel.class, loaded.stages()[0].getClass());
        assertEquals(model().spec(), ((PanamaModel) loaded.stages()[0]).spec());
        assertEquals(true, Files.isDirectory(where.resolve("stages")));
        float[][] rows = SparkTests.digitsRows(100);
        float[][] reference = SparkTests.compiledReference(rows, 32);
        float[][] out = SparkTests.byId(loaded.transform(SparkTests.frame(rows, 3)), "logits", rows.length);
        for (int i = 0; i < rows.length; i++) assertArrayEquals(reference[i], out[i], 0f, "row " + i);
    }
}
