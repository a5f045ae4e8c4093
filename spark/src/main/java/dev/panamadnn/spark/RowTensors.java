package dev.panamadnn.spark;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.util.Map;
import java.util.WeakHashMap;

/**
 * The batch-1 input and output tensors the SQL function ({@link PanamaFunctions}) runs a row through, one pair per task
 * thread and loaded model, kept from row to row. A pair of new owned tensors per row, as before, cost two closes of a
 * shared arena per row, each a JDK handshake with every thread of the executor JVM. Their memory is an automatic arena's:
 * freed by the garbage collector once the thread or the model (a weak key: {@link ExecutorModels} may drop it) is gone.
 */
final class RowTensors {
    private RowTensors() {}

    private static final ThreadLocal<Map<LoadedModel, Tensor[]>> PER_THREAD = ThreadLocal.withInitial(WeakHashMap::new);

    /** {@code [input, output]} for one row of {@code model} on this thread ({@code [1, sample...]} each). */
    static Tensor[] of(LoadedModel model) {
        return PER_THREAD.get().computeIfAbsent(model, m -> {
            Arena arena = Arena.ofAuto();
            return new Tensor[] {Tensor.allocate(arena, DataType.F32, withBatchOfOne(m.sampleShape)),
                Tensor.allocate(arena, DataType.F32, withBatchOfOne(m.outputSample))};
        });
    }

    private static long[] withBatchOfOne(long[] sample) {
        long[] shape = new long[sample.length + 1];
        shape[0] = 1;
        System.arraycopy(sample, 0, shape, 1, sample.length);
        return shape;
    }
}
