package dev.panamadnn.spark;

import dev.panamadnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;

/**
 * Runs full batches of one model for one task: an input and an output tensor of exactly
 * {@code [batchSize, ...]}, reused for every batch of the task and closed with it. A batch with fewer
 * rows is padded with zeros, so every row runs through the same plan at the same batch size: a
 * row's output depends on that row only, never on how rows fall into partitions or batches
 * (checked by the tests: 1, 3 and 16 partitions give identical outputs), and a retried task
 * recomputes exactly what it computed before. Confined to one thread (a task's).
 */
final class BatchRunner implements AutoCloseable {
    private final LoadedModel model;
    private final Tensor input, output;
    /** Rows packed here (valid rows first), then copied to the input tensor in one go. */
    private final float[] staging, results;
    private boolean closed;

    BatchRunner(LoadedModel model) {
        this.model = model;
        int b = model.spec.batchSize();
        this.input = Tensor.zeros(withBatch(b, model.sampleShape));
        try {
            this.output = Tensor.zeros(withBatch(b, model.outputSample));
        } catch (RuntimeException | Error e) {
            input.close();
            throw e;
        }
        this.staging = new float[Math.multiplyExact(b, model.sampleSize)];
        this.results = new float[Math.multiplyExact(b, model.outputSize)];
    }

    /** Where row {@code k} of the next batch goes: {@code staging[k * sampleSize, (k + 1) * sampleSize)}. */
    float[] staging() {
        return staging;
    }

    int sampleSize() {
        return model.sampleSize;
    }

    long[] sampleShape() {
        return model.sampleShape;
    }

    int outputSize() {
        return model.outputSize;
    }

    int batchSize() {
        return model.spec.batchSize();
    }

    /**
     * Runs the batch whose first {@code rows} rows are in {@link #staging()} (the rest of the batch
     * zeros) and returns the outputs, row {@code k} at {@code [k * outputSize, (k + 1) * outputSize)};
     * the array is reused by the next call.
     */
    float[] run(int rows) {
        if (closed) throw new IllegalStateException("PanamaModel: batch runner used after its task ended");
        int used = rows * model.sampleSize;
        Arrays.fill(staging, used, staging.length, 0f);
        MemorySegment.copy(staging, 0, input.segment(), ValueLayout.JAVA_FLOAT, 0, staging.length);
        model.plans.run(input, output);
        MemorySegment.copy(output.segment(), ValueLayout.JAVA_FLOAT, 0, results, 0, results.length);
        return results;
    }

    private static long[] withBatch(int batch, long[] sample) {
        long[] s = new long[sample.length + 1];
        s[0] = batch;
        System.arraycopy(sample, 0, s, 1, sample.length);
        return s;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        try {
            input.close();
        } finally {
            output.close();
        }
    }
}
