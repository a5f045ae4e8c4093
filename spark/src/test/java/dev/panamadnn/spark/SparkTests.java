package dev.panamadnn.spark;

import dev.panamadnn.compile.CompileOptions;
import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.demo.Digits;
import dev.panamadnn.onnx.Onnx;
import dev.panamadnn.onnx.OnnxModel;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** The tests' one local[2] SparkSession, the bundled digits model as files, and digits rows built in code. */
final class SparkTests {
    private static SparkSession spark;
    private static Path dir;

    private SparkTests() {}

    static synchronized SparkSession spark() {
        if (spark == null) {
            spark = SparkSession.builder().master("local[2]").appName("panama-dnn-spark-tests")
                    .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "4")
                    .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
                    .getOrCreate();
            spark.sparkContext().setLogLevel("WARN");
        }
        return spark;
    }

    /** The bundled digits model as a file: digits_resnet.onnx or digits_resnet.safetensors. */
    static synchronized Path digitsFile(String name) {
        try {
            if (dir == null) {
                dir = Files.createTempDirectory("panama-spark-test");
                dir.toFile().deleteOnExit();
            }
            Path file = dir.resolve(name);
            if (!Files.exists(file)) {
                try (InputStream in = Digits.class.getResourceAsStream("digits/" + name)) {
                    if (in == null) throw new IOException("demo resource digits/" + name + " is missing");
                    Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
                }
                file.toFile().deleteOnExit();
            }
            return file;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * {@code n} digits images [64 values, pixel / 16]: rows below 360 are the held-out split as it is,
     * later rows one of them with seeded noise (so every row differs), clamped to [0, 1].
     */
    static float[][] digitsRows(int n) {
        Digits.TestSplit split;
        try {
            split = Digits.testSplit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        SplittableRandom random = new SplittableRandom(17);
        float[][] rows = new float[n][64];
        for (int i = 0; i < n; i++) {
            int src = i % split.count();
            for (int j = 0; j < 64; j++) {
                float v = split.images()[src * 64 + j];
                if (i >= split.count()) v = (float) Math.min(1, Math.max(0, v + random.nextGaussian() * 0.1));
                rows[i][j] = v;
            }
        }
        return rows;
    }

    static final StructType SCHEMA = new StructType().add("id", DataTypes.LongType, false)
            .add("features", DataTypes.createArrayType(DataTypes.FloatType, true), true);

    /** The cached DataFrame of each rows array the tests built (by identity), so that it is shipped to the executors once. */
    private static final java.util.Map<float[][], Dataset<Row>> FRAMES = java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());

    /** A DataFrame (id, features) of {@code rows} in {@code partitions} partitions (a shuffle of the cached rows). */
    static Dataset<Row> frame(float[][] rows, int partitions) {
        Dataset<Row> base = FRAMES.computeIfAbsent(rows, r -> {
            List<Row> list = new ArrayList<>(r.length);
            for (int i = 0; i < r.length; i++) list.add(RowFactory.create((long) i, r[i] == null ? null : boxed(r[i])));
            Dataset<Row> df = spark().createDataFrame(list, SCHEMA).cache();
            df.count();
            return df;
        });
        return base.repartition(partitions);
    }

    static Float[] boxed(float[] v) {
        Float[] b = new Float[v.length];
        for (int i = 0; i < v.length; i++) b[i] = v[i];
        return b;
    }

    static float[] floats(Row row, String col) {
        List<Float> l = row.getList(row.fieldIndex(col));
        float[] v = new float[l.size()];
        for (int i = 0; i < v.length; i++) v[i] = l.get(i);
        return v;
    }

    /** Output per id, from a scored DataFrame. */
    static float[][] byId(Dataset<Row> scored, String col, int n) {
        float[][] out = new float[n][];
        for (Row r : scored.select("id", col).collectAsList()) {
            int id = (int) r.getLong(0);
            if (out[id] != null) throw new AssertionError("row id " + id + " scored twice");
            out[id] = r.isNullAt(1) ? null : floats(r, col);
        }
        return out;
    }

    /**
     * The independent reference: the ONNX model compiled once in this JVM by {@link CompiledModel}
     * for [batch, 1, 8, 8] and warmed up, run over the rows in order, batch after batch (the last padded with zeros).
     */
    static float[][] compiledReference(float[][] rows, int batch) throws IOException {
        float[][] out = new float[rows.length][];
        try (OnnxModel onnx = Onnx.load(digitsFile("digits_resnet.onnx"));
             CompiledModel plan = CompiledModel.compile(onnx.toGraph(), CompileOptions.defaults().withThreads(1), batch, 1, 8, 8)) {
            plan.warmup();   // with Winograd steps: waits for their JIT, so every run takes the same path (as the transformer's)
            for (int from = 0; from < rows.length; from += batch) {
                float[] x = new float[batch * 64];
                int n = Math.min(batch, rows.length - from);
                for (int k = 0; k < n; k++) System.arraycopy(rows[from + k], 0, x, k * 64, 64);
                try (var in = dev.panamadnn.Tensor.of(x, batch, 1, 8, 8); var y = plan.run(in)) {
                    float[] all = new float[batch * 10];
                    MemorySegment.copy(y.segment(), ValueLayout.JAVA_FLOAT, 0, all, 0, all.length);
                    for (int k = 0; k < n; k++) out[from + k] = java.util.Arrays.copyOfRange(all, k * 10, k * 10 + 10);
                }
            }
        }
        return out;
    }
}
