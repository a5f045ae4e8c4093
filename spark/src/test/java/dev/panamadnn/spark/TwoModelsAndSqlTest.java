package dev.panamadnn.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.demo.Digits;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;

/** Two models in one session and one query, the SQL function, and binary (PNG) images. */
class TwoModelsAndSqlTest {
    static final String ONNX = "digits_resnet.onnx", SAFETENSORS = "digits_resnet.safetensors";

    static PanamaModel onnx() {
        return new PanamaModel().setModelPath(SparkTests.digitsFile(ONNX).toString()).setOutputCol("onnx").setPredictionCol("onnxDigit").setBatchSize(64);
    }

    /** The same trained network from its safetensors file and the demo's architecture class, at another batch size. */
    static PanamaModel safetensors() {
        return new PanamaModel().setModelPath(SparkTests.digitsFile(SAFETENSORS).toString()).setArchitecture(Digits.class.getName())
                .setInputShape(1, 8, 8).setOutputCol("st").setPredictionCol("stDigit").setBatchSize(48);
    }

    /**
     * Both models score every row in one query; each matches its own single-JVM reference, and the
     * two (the same weights, imported two ways) agree within {@link Digits#LOGIT_TOLERANCE}.
     */
    @Test
    void twoModelsInOneSessionAndQuery() throws Exception {
        int n = 1000;
        float[][] rows = SparkTests.digitsRows(n);
        Dataset<Row> both = safetensors().transform(onnx().transform(SparkTests.frame(rows, 3)));
        float[][] a = SparkTests.byId(both, "onnx", n), b = SparkTests.byId(both, "st", n);
        float[][] reference = SparkTests.compiledReference(rows, 64);
        for (int i = 0; i < n; i++) {
            assertArrayEquals(reference[i], a[i], 0f, "onnx row " + i);
            assertArrayEquals(a[i], b[i], (float) Digits.LOGIT_TOLERANCE, "safetensors vs onnx, row " + i);
        }
        assertTrue(ExecutorModels.loaded() >= 2, "both models are loaded in this JVM");
        List<Row> disagree = both.where("onnxDigit != stDigit").collectAsList();
        assertEquals(List.of(), disagree, "the two models' predictions");
    }

    @Test
    void theSqlFunctionScoresLikeTheTransformer() {
        int n = 200;
        float[][] rows = SparkTests.digitsRows(n);
        PanamaFunctions.register(SparkTests.spark(), "panama_predict", onnx());
        SparkTests.frame(rows, 2).createOrReplaceTempView("digits");
        Dataset<Row> sql = SparkTests.spark().sql("SELECT id, panama_predict(features) AS logits,"
                + " panama_argmax(panama_predict(features)) AS digit FROM digits");
        float[][] viaSql = SparkTests.byId(sql, "logits", n);
        float[][] viaTransformer = SparkTests.byId(onnx().transform(SparkTests.frame(rows, 2)), "onnx", n);
        for (int i = 0; i < n; i++) {
            // batch 1 (the SQL function's plan) and batch 64 may sum in other orders: within the logit tolerance
            assertArrayEquals(viaTransformer[i], viaSql[i], (float) Digits.LOGIT_TOLERANCE, "row " + i);
        }
        for (Row r : sql.select("id", "digit").collectAsList()) {
            assertEquals(PartitionScorer.argmax(viaTransformer[(int) r.getLong(0)]), r.getInt(1), "argmax of row " + r.getLong(0));
        }
        Row nullRow = SparkTests.spark().sql("SELECT panama_predict(CAST(NULL AS array<float>))").first();
        assertNull(nullRow.get(0), "a null input scores to null");
    }

    /** Grey PNGs of the held-out split (values 0..16, imageScale 1/16) score exactly as their arrays. */
    @Test
    void binaryImagesDecodeToTheSameInputs() throws Exception {
        Digits.TestSplit split = Digits.testSplit();
        StructType schema = new StructType().add("id", DataTypes.LongType).add("image", DataTypes.BinaryType);
        List<Row> images = new ArrayList<>();
        for (int i = 0; i < split.count(); i++) {
            BufferedImage img = new BufferedImage(8, 8, BufferedImage.TYPE_BYTE_GRAY);
            for (int p = 0; p < 64; p++) img.getRaster().setSample(p % 8, p / 8, 0, Math.round(split.images()[i * 64 + p] * 16));
            ByteArrayOutputStream png = new ByteArrayOutputStream();
            ImageIO.write(img, "png", png);
            images.add(RowFactory.create((long) i, png.toByteArray()));
        }
        images.add(RowFactory.create((long) split.count(), new byte[] {1, 2, 3}));
        Dataset<Row> df = SparkTests.spark().createDataFrame(images, schema).repartition(2);
        Dataset<Row> scored = onnx().setInputCol("image").setImageScale(1.0 / 16).setErrorCol("error").transform(df);
        float[][] fromPng = SparkTests.byId(scored, "onnx", split.count() + 1);
        float[][] rows = SparkTests.digitsRows(split.count());
        float[][] reference = SparkTests.compiledReference(rows, 64);
        for (int i = 0; i < split.count(); i++) assertArrayEquals(reference[i], fromPng[i], 0f, "image " + i);
        assertNull(fromPng[split.count()], "bytes that are no image score to null");
        String error = scored.where("id = " + split.count()).select("error").first().getString(0);
        assertTrue(error.contains("the image does not decode"), error);
    }
}
