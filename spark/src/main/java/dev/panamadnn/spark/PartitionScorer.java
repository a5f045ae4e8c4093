package dev.panamadnn.spark;

import java.io.Serializable;
import java.util.Iterator;
import java.util.NoSuchElementException;
import org.apache.spark.TaskContext;
import org.apache.spark.sql.catalyst.InternalRow;
import org.apache.spark.sql.catalyst.expressions.GenericInternalRow;
import org.apache.spark.sql.catalyst.expressions.JoinedRow;
import org.apache.spark.sql.catalyst.expressions.UnsafeArrayData;
import org.apache.spark.sql.catalyst.expressions.UnsafeRow;
import org.apache.spark.unsafe.types.UTF8String;

/**
 * Scores one partition: reads up to {@code batchSize} rows, packs the good ones into one batch,
 * runs it and hands the rows back, in order, each with its output (and prediction, and error)
 * appended. Rows are read lazily, one batch ahead, so a partition of any size needs one batch of
 * memory. A bad row (null, wrong length, a non-finite value in or out, an undecodable image) either
 * fails the task with a {@link PanamaRowException} naming the row's position in the partition and
 * the partition, or, with an error column, gets its message there and null outputs.
 *
 * <p>It works on Spark's internal rows: the features are copied out of their {@code UnsafeArrayData}
 * in one go and the input row is passed through untouched, where the public {@code Row} API would box
 * every value twice (measured: ResNet-18's 150,528 values a row cost Spark more time than the model).
 */
final class PartitionScorer implements Iterator<InternalRow> {
    /** What the task closure carries from the driver: the model spec and the columns. */
    record Settings(ModelSpec spec, int featuresIndex, boolean binaryImages, ImageOptions image, boolean withPrediction, boolean withError)
            implements Serializable {}

    private final Settings settings;
    private final Iterator<InternalRow> in;
    private final int partition;
    private final BatchRunner runner;
    private final InternalRow[] rows;
    /** Per slot of the batch, the buffer its row is copied into ({@link #keep}). */
    private final UnsafeRow[] buffers;
    private final String[] errors;
    /** For each row of the batch, its slot in the packed batch, or -1 for a bad row. */
    private final int[] slot;
    private float[] outputs;
    private int count, next;
    private long position;

    PartitionScorer(Settings settings, Iterator<InternalRow> in) {
        this.settings = settings;
        this.in = in;
        TaskContext task = TaskContext.get();
        this.partition = task == null ? -1 : task.partitionId();
        LoadedModel model = ExecutorModels.get(settings.spec());
        if (settings.binaryImages()) settings.image().check(model.sampleShape);
        this.runner = new BatchRunner(model);
        if (task != null) task.addTaskCompletionListener((org.apache.spark.util.TaskCompletionListener) t -> runner.close());
        int b = settings.spec().batchSize();
        this.rows = new InternalRow[b];
        this.buffers = new UnsafeRow[b];
        this.errors = new String[b];
        this.slot = new int[b];
    }

    @Override
    public boolean hasNext() {
        if (next < count) return true;
        if (!in.hasNext()) {
            runner.close();
            return false;
        }
        fill();
        return next < count;
    }

    @Override
    public InternalRow next() {
        if (!hasNext()) throw new NoSuchElementException();
        int k = next++;
        InternalRow row = rows[k];
        rows[k] = null;
        Object[] extra = new Object[1 + (settings.withPrediction() ? 1 : 0) + (settings.withError() ? 1 : 0)];
        if (errors[k] == null) {
            int n = runner.outputSize();
            float[] out = new float[n];
            System.arraycopy(outputs, slot[k] * n, out, 0, n);
            extra[0] = UnsafeArrayData.fromPrimitiveArray(out);
            if (settings.withPrediction()) extra[1] = argmax(out);
        }
        if (settings.withError()) extra[extra.length - 1] = errors[k] == null ? null : UTF8String.fromString(errors[k]);
        return new JoinedRow(row, new GenericInternalRow(extra));
    }

    /** Reads the next batch of rows, packs the good ones and runs them. */
    private void fill() {
        count = 0;
        next = 0;
        int good = 0, size = runner.sampleSize();
        float[] staging = runner.staging();
        while (count < rows.length && in.hasNext()) {
            InternalRow row = keep(count, in.next());
            long at = position++;
            String error = RowReader.read(row, settings, runner.sampleShape(), staging, good * size, size);
            if (error != null) {
                error = fail(at, error);
                slot[count] = -1;
            } else {
                slot[count] = good++;
            }
            rows[count] = row;
            errors[count] = error;
            count++;
        }
        outputs = good == 0 ? null : runner.run(good);
        // A row whose output overflows can disturb the other rows of its batch (measured: a row of
        // 3e38 changed its 15 neighbours' logits), so such rows are dropped and the batch runs again
        // without them: the good rows' outputs are then what they would be in any other batch.
        while (good > 0 && dropOverflowingRows()) {
            good = repack();
            outputs = good == 0 ? null : runner.run(good);
        }
    }

    /**
     * Row {@code k} of the batch as a copy of its own: the scan may reuse its row object, and a batch holds several.
     * An {@code UnsafeRow} (what Spark's scans produce) is copied into this slot's buffer, reused batch after batch
     * (grown when a row is larger): {@code row.copy()} allocated every row anew, 600 KB for a 224x224 image, a G1
     * humongous object each. A row handed on by {@link #next()} stays valid until this iterator's next batch is read,
     * which is what Spark's iterators promise (a consumer that keeps a row copies it).
     */
    private InternalRow keep(int k, InternalRow row) {
        if (!(row instanceof UnsafeRow u)) return row.copy();
        UnsafeRow buffer = buffers[k];
        if (buffer == null || buffer.numFields() != u.numFields()) {
            buffer = buffers[k] = new UnsafeRow(u.numFields());
            buffer.pointTo(new byte[Math.max(8, u.getSizeInBytes())], Math.max(8, u.getSizeInBytes()));
        }
        buffer.copyFrom(u);
        return buffer;
    }

    /** Marks the rows whose outputs are not finite as bad; true if there were any. */
    private boolean dropOverflowingRows() {
        int n = runner.outputSize();
        boolean any = false;
        for (int k = 0; k < count; k++) {
            if (slot[k] < 0) continue;
            int bad = firstNonFinite(outputs, slot[k] * n, n);
            if (bad >= 0) {
                String error = "the model's output [" + bad + "] is " + outputs[slot[k] * n + bad] + " (the input is finite: it overflows the model)";
                errors[k] = fail(position - count + k, error);
                slot[k] = -1;
                any = true;
            }
        }
        return any;
    }

    /** Moves the remaining good rows' inputs together in the staging array, in order; returns how many. */
    private int repack() {
        float[] staging = runner.staging();
        int size = runner.sampleSize(), good = 0;
        for (int k = 0; k < count; k++) {
            if (slot[k] < 0) continue;
            if (slot[k] != good) System.arraycopy(staging, slot[k] * size, staging, good * size, size);
            slot[k] = good++;
        }
        return good;
    }

    /** Throws the row's error, or (with an error column) returns its message for the column. */
    private String fail(long at, String problem) {
        PanamaRowException e = new PanamaRowException(at, partition, problem);
        if (!settings.withError()) throw e;
        return e.getMessage();
    }

    static int firstNonFinite(float[] v, int from, int n) {
        for (int i = 0; i < n; i++) if (!Float.isFinite(v[from + i])) return i;
        return -1;
    }

    /** The first index of the largest value (PyTorch's argmax on a tie). */
    static int argmax(float[] v) {
        int best = 0;
        for (int i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
        return best;
    }
}
