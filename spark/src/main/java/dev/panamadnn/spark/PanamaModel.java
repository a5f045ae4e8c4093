package dev.panamadnn.spark;

import java.util.Arrays;
import java.util.Iterator;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.param.DoubleArrayParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntArrayParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.DefaultParamsReadable;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.ml.util.Identifiable;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.sql.Dataset;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.BinaryType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.FloatType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * A Spark ML {@link Transformer} that scores a column through a compiled Panama DNN model.
 * <pre>{@code
 * PanamaModel model = new PanamaModel().setModelPath("/models/digits.onnx")
 *         .setInputCol("features").setOutputCol("logits").setPredictionCol("digit").setBatchSize(64);
 * Dataset<Row> scored = model.transform(df);   // df.features: array<float> of 64 values per row
 * }</pre>
 *
 * <p><b>Input.</b> {@code inputCol} is {@code array<float>} with one sample's values in row-major
 * order ({@code inputShape}'s product of them), or {@code binary} image bytes decoded as
 * {@link ImageOptions} describes ({@code imageScale}, {@code imageMean}, {@code imageStd}).
 * <b>Output.</b> {@code outputCol}: {@code array<float>}, the model's output for the row; with
 * {@code predictionCol} set, also its argmax ({@code int}); with {@code errorCol} set, also a
 * {@code string} column, null for good rows.
 *
 * <p><b>Execution.</b> Each partition is scored in batches of exactly {@code batchSize} rows (the
 * last one padded), so outputs do not depend on the partitioning, and a retried task recomputes
 * the same outputs. Each executor JVM loads the model once per distinct set of (model path,
 * architecture, inputShape, batchSize, threadsPerTask), on first use, shares its plan between its
 * tasks, and closes it when the JVM exits. Each task runs its batches with {@code threadsPerTask}
 * intra-op threads: keep executor cores x threadsPerTask at or below the machine's cores (set
 * {@code spark.task.cpus} to threadsPerTask, so that Spark runs that many fewer tasks at once).
 *
 * <p><b>Bad rows</b> (null, wrong length, a NaN or infinite value in or out, an image that does not
 * decode) fail the job with a {@link PanamaRowException} naming the row's position in its partition
 * and the partition; with {@code errorCol} set, the row gets the message there, null outputs, and
 * the job goes on.
 *
 * <p>Saved and loaded with Spark ML's persistence ({@link #write()}, {@link #load(String)}): the
 * params, not the weights (the model file stays where modelPath points).
 */
public final class PanamaModel extends Transformer implements DefaultParamsWritable {
    private static final long serialVersionUID = 1L;

    private final String uid;
    private final Param<String> modelPath, architecture, inputCol, outputCol, predictionCol, errorCol;
    private final IntArrayParam inputShape;
    private final IntParam batchSize, threadsPerTask;
    private final DoubleParam imageScale;
    private final DoubleArrayParam imageMean, imageStd;

    public PanamaModel() {
        this(Identifiable.randomUID("panamaModel"));
    }

    /** With a given uid (Spark ML's persistence and {@link #copy} call this). */
    public PanamaModel(String uid) {
        this.uid = uid;
        modelPath = new Param<>(this, "modelPath", "a .onnx file, or a .safetensors file with architecture; readable on every executor");
        architecture = new Param<>(this, "architecture", "for safetensors: resnet18, resnet34, resnet50, or a class with a static model()");
        inputCol = new Param<>(this, "inputCol", "the input column: array<float> (one sample, row-major) or binary (an image)");
        outputCol = new Param<>(this, "outputCol", "the output column: array<float>");
        predictionCol = new Param<>(this, "predictionCol", "if not empty, a column with the output's argmax (int)");
        errorCol = new Param<>(this, "errorCol", "if not empty, bad rows get their error here (string) instead of failing the job");
        inputShape = new IntArrayParam(this, "inputShape", "one sample's shape without the batch, e.g. [3, 224, 224]; empty: the ONNX model's");
        batchSize = new IntParam(this, "batchSize", "rows per native call (the last batch of a partition is padded)");
        threadsPerTask = new IntParam(this, "threadsPerTask", "intra-op threads of each task's runs");
        imageScale = new DoubleParam(this, "imageScale", "binary images: a 0..255 value is multiplied by this");
        imageMean = new DoubleArrayParam(this, "imageMean", "binary images: subtracted per channel after scaling (empty: ImageNet's for RGB, 0 for grey)");
        imageStd = new DoubleArrayParam(this, "imageStd", "binary images: divided by per channel (empty: ImageNet's for RGB, 1 for grey)");
        setDefault(architecture, "");
        setDefault(inputCol, "features");
        setDefault(outputCol, "output");
        setDefault(predictionCol, "");
        setDefault(errorCol, "");
        setDefault(inputShape, new int[0]);
        setDefault(batchSize, (Object) 64);
        setDefault(threadsPerTask, (Object) 1);
        setDefault(imageScale, (Object) (1.0 / 255));
        setDefault(imageMean, new double[0]);
        setDefault(imageStd, new double[0]);
    }

    @Override
    public String uid() {
        return uid;
    }

    // Spark ML finds params by their public no-argument accessors.
    public Param<String> modelPath() { return modelPath; }
    public Param<String> architecture() { return architecture; }
    public Param<String> inputCol() { return inputCol; }
    public Param<String> outputCol() { return outputCol; }
    public Param<String> predictionCol() { return predictionCol; }
    public Param<String> errorCol() { return errorCol; }
    public IntArrayParam inputShape() { return inputShape; }
    public IntParam batchSize() { return batchSize; }
    public IntParam threadsPerTask() { return threadsPerTask; }
    public DoubleParam imageScale() { return imageScale; }
    public DoubleArrayParam imageMean() { return imageMean; }
    public DoubleArrayParam imageStd() { return imageStd; }

    public PanamaModel setModelPath(String v) { set(modelPath, v); return this; }
    public PanamaModel setArchitecture(String v) { set(architecture, v); return this; }
    public PanamaModel setInputCol(String v) { set(inputCol, v); return this; }
    public PanamaModel setOutputCol(String v) { set(outputCol, v); return this; }
    public PanamaModel setPredictionCol(String v) { set(predictionCol, v); return this; }
    public PanamaModel setErrorCol(String v) { set(errorCol, v); return this; }
    public PanamaModel setInputShape(int... v) { set(inputShape, v.clone()); return this; }
    public PanamaModel setBatchSize(int v) { set(batchSize, (Object) v); return this; }
    public PanamaModel setThreadsPerTask(int v) { set(threadsPerTask, (Object) v); return this; }
    public PanamaModel setImageScale(double v) { set(imageScale, (Object) v); return this; }
    public PanamaModel setImageMean(double... v) { set(imageMean, v.clone()); return this; }
    public PanamaModel setImageStd(double... v) { set(imageStd, v.clone()); return this; }

    public String getModelPath() { return value(modelPath); }
    public String getInputCol() { return value(inputCol); }
    public String getOutputCol() { return value(outputCol); }
    public String getPredictionCol() { return value(predictionCol); }
    public String getErrorCol() { return value(errorCol); }
    public int[] getInputShape() { return this.<int[]>value(inputShape).clone(); }
    public int getBatchSize() { return (Integer) value(batchSize); }
    public int getThreadsPerTask() { return (Integer) value(threadsPerTask); }

    @SuppressWarnings("unchecked")
    private <T> T value(Param<?> p) {
        return (T) getOrDefault(p);
    }

    /** The model spec these params name (checked: the message names the param). */
    ModelSpec spec() {
        if (!isDefined(modelPath)) throw new IllegalArgumentException("PanamaModel: modelPath must be set (a .onnx or .safetensors file)");
        int[] shape = getInputShape();
        return new ModelSpec(getModelPath(), this.<String>value(architecture), Arrays.stream(shape).asLongStream().toArray(), getBatchSize(), getThreadsPerTask());
    }

    ImageOptions imageOptions() {
        return new ImageOptions(this.<Double>value(imageScale), this.<double[]>value(imageMean), this.<double[]>value(imageStd));
    }

    @Override
    public StructType transformSchema(StructType schema) {
        spec();
        String in = getInputCol();
        StructField field = Arrays.stream(schema.fields()).filter(f -> f.name().equals(in)).findFirst().orElseThrow(() ->
                new IllegalArgumentException("PanamaModel: inputCol '" + in + "' is not a column of " + schema.simpleString()));
        boolean floats = field.dataType() instanceof ArrayType a && a.elementType() instanceof FloatType;
        if (!floats && !(field.dataType() instanceof BinaryType)) {
            throw new IllegalArgumentException("PanamaModel: inputCol '" + in + "' must be array<float> or binary (an image), got "
                    + field.dataType().simpleString() + " (cast it, e.g. col.cast(\"array<float>\"))");
        }
        if (!floats) {
            ImageOptions image = imageOptions();
            if (getInputShape().length > 0) image.check(spec().inputShape());
        }
        StructType out = schema;
        out = add(out, getOutputCol(), DataTypes.createArrayType(DataTypes.FloatType, false), "outputCol");
        if (!getPredictionCol().isEmpty()) out = add(out, getPredictionCol(), DataTypes.IntegerType, "predictionCol");
        if (!getErrorCol().isEmpty()) out = add(out, getErrorCol(), DataTypes.StringType, "errorCol");
        return out;
    }

    private static StructType add(StructType schema, String name, org.apache.spark.sql.types.DataType type, String param) {
        if (name == null || name.isEmpty()) throw new IllegalArgumentException("PanamaModel: " + param + " must not be empty");
        if (Arrays.asList(schema.fieldNames()).contains(name)) {
            throw new IllegalArgumentException("PanamaModel: " + param + " '" + name + "' is already a column of " + schema.simpleString());
        }
        return schema.add(name, type, true);
    }

    @Override
    public Dataset<Row> transform(Dataset<?> dataset) {
        StructType outSchema = transformSchema(dataset.schema());
        int features = dataset.schema().fieldIndex(getInputCol());
        boolean binary = dataset.schema().fields()[features].dataType() instanceof BinaryType;
        PartitionScorer.Settings settings = new PartitionScorer.Settings(spec(), features, binary, binary ? imageOptions() : null,
                !getPredictionCol().isEmpty(), !getErrorCol().isEmpty());
        if (dataset.isStreaming()) {
            throw new UnsupportedOperationException("PanamaModel: streaming Datasets are not scored directly; score each micro-batch "
                    + "with writeStream().foreachBatch((batch, id) -> model.transform(batch)...)");
        }
        // Spark's internal rows in and out: the public Row encoders would box each of an image's
        // 150,528 floats on the way in and again on the way out (the input column passes through).
        Dataset<Row> df = dataset.toDF();
        if (!(df.sparkSession() instanceof org.apache.spark.sql.classic.SparkSession session)) {
            throw new UnsupportedOperationException("PanamaModel: needs a classic SparkSession (not Spark Connect), got "
                    + df.sparkSession().getClass().getName());
        }
        FlatMapFunction<Iterator<InternalRow>, InternalRow> score = rows -> new PartitionScorer(settings, rows);
        RDD<InternalRow> scored = df.queryExecution().toRdd().toJavaRDD().mapPartitions(score).rdd();
        return session.internalCreateDataFrame(scored, outSchema, false);
    }

    @Override
    public PanamaModel copy(ParamMap extra) {
        return defaultCopy(extra);
    }

    /** Spark ML's reader for saved transformers (what {@code PipelineModel.load} calls by reflection). */
    public static MLReader<PanamaModel> read() {
        return new DefaultParamsReadable<PanamaModel>() {}.read();
    }

    /** Loads a transformer saved with {@code write().save(path)}. */
    public static PanamaModel load(String path) {
        return read().load(path);
    }

    /**
     * Closes every model loaded in this JVM (the driver's, which in local mode is also the executor);
     * the next task loads again. Executors close theirs when they exit.
     */
    public static void closeLoadedModels() {
        ExecutorModels.closeAll();
    }

    @Override
    public String toString() {
        return "PanamaModel[" + uid + ", " + (isDefined(modelPath) ? getModelPath() : "no modelPath") + "]";
    }
}
