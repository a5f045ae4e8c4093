package dev.panamadnn.spark;

import dev.panamadnn.Tensor;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;

/**
 * SQL functions over a {@link PanamaModel}:
 * <pre>{@code
 * PanamaFunctions.register(spark, "panama_predict", model);
 * spark.sql("SELECT id, panama_predict(features) AS logits, panama_argmax(panama_predict(features)) AS digit FROM t");
 * }</pre>
 * {@code name(features)} scores one {@code array<float>} (or {@code binary} image, decoded with the
 * model's image options) into {@code array<float>}; a null input gives null, any other bad input
 * fails the query naming the partition and the problem. {@code panama_argmax(array<float>)} gives
 * the index of the largest value (the first on a tie). Spark calls a Java UDF once per row, so this
 * runs the model at batch 1 (its own plan in the executor's cache); for throughput score with
 * {@link PanamaModel#transform}, which runs whole batches.
 */
public final class PanamaFunctions {
    private PanamaFunctions() {}

    /** Registers {@code name(features)} for {@code model} and {@code panama_argmax(array<float>)} in {@code spark}'s session. */
    public static void register(SparkSession spark, String name, PanamaModel model) {
        if (spark == null || model == null) throw new IllegalArgumentException("PanamaFunctions.register: spark and model must not be null");
        if (name == null || !name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw new IllegalArgumentException("PanamaFunctions.register: expected a SQL function name like panama_predict, got '" + name + "'");
        }
        ModelSpec spec = model.spec().withBatchSize(1);
        ImageOptions image = model.imageOptions();
        spark.udf().register(name, (UDF1<Object, float[]>) v -> score(name, spec, image, v),
                DataTypes.createArrayType(DataTypes.FloatType, false));
        spark.udf().register("panama_argmax", (UDF1<scala.collection.Seq<?>, Integer>) PanamaFunctions::argmax, DataTypes.IntegerType);
    }

    static float[] score(String name, ModelSpec spec, ImageOptions image, Object v) {
        if (v == null) return null;
        LoadedModel model = ExecutorModels.get(spec);
        float[] x = new float[model.sampleSize];
        String error;
        if (v instanceof byte[] bytes) {
            image.check(model.sampleShape);
            error = image.decode(bytes, model.sampleShape, x, 0);
        } else {
            error = RowReader.readFloats(v, x, 0, x.length, model.sampleShape);
        }
        TaskContext task = TaskContext.get();
        String where = name + ": partition " + (task == null ? -1 : task.partitionId()) + ": ";
        if (error != null) throw new IllegalArgumentException(where + error);
        Tensor[] io = RowTensors.of(model);
        java.lang.foreign.MemorySegment.copy(x, 0, io[0].segment(), java.lang.foreign.ValueLayout.JAVA_FLOAT, 0, x.length);
        model.plans.run(io[0], io[1]);
        float[] out = io[1].toFloatArray();
        int bad = PartitionScorer.firstNonFinite(out, 0, out.length);
        if (bad >= 0) throw new IllegalArgumentException(where + "the model's output [" + bad + "] is " + out[bad] + " (the input is finite: it overflows the model)");
        return out;
    }

    static Integer argmax(scala.collection.Seq<?> v) {
        if (v == null || v.isEmpty()) return null;
        int best = -1;
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < v.length(); i++) {
            if (v.apply(i) instanceof Float f && (best < 0 || f > max)) {
                best = i;
                max = f;
            }
        }
        return best < 0 ? null : best;
    }
}
