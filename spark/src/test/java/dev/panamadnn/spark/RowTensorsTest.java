package dev.panamadnn.spark;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.panamadnn.Tensor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The SQL function's per-thread row tensors: one pair per thread and model, shaped [1, sample] and [1, output sample],
 * kept from row to row; another thread gets its own; and rows scored on four threads at once, each through its own
 * pair, equal the same rows scored one by one on one thread.
 */
class RowTensorsTest {
    @Test
    void onePairPerThreadAndModelKeptFromRowToRow() throws Exception {
        LoadedModel model = ExecutorModels.get(TwoModelsAndSqlTest.onnx().spec().withBatchSize(1));
        Tensor[] mine = RowTensors.of(model);
        assertSame(mine, RowTensors.of(model));
        assertArrayEquals(new long[] {1, 1, 8, 8}, mine[0].shape());
        assertArrayEquals(new long[] {1, 10}, mine[1].shape());
        ExecutorService other = Executors.newSingleThreadExecutor();
        try {
            Tensor[] theirs = other.submit(() -> RowTensors.of(model)).get();
            assertNotSame(mine, theirs);
            assertNotSame(mine[0], theirs[0]);
        } finally {
            other.shutdown();
        }
    }

    @Test
    void rowsScoredOnFourThreadsAtOnceEqualRowsScoredOneByOne() throws Exception {
        PanamaModel m = TwoModelsAndSqlTest.onnx();
        ModelSpec spec = m.spec().withBatchSize(1);
        ImageOptions image = m.imageOptions();
        float[][] rows = new float[64][64];
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(46);
        for (float[] r : rows) for (int i = 0; i < r.length; i++) r[i] = (float) rnd.nextDouble(0, 1);
        float[][] alone = new float[rows.length][];
        for (int k = 0; k < rows.length; k++) alone[k] = PanamaFunctions.score("p", spec, image, rows[k]);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            for (int round = 0; round < 5; round++) {
                java.util.List<Future<float[]>> got = new java.util.ArrayList<>();
                for (float[] r : rows) got.add(pool.submit(() -> PanamaFunctions.score("p", spec, image, r)));
                for (int k = 0; k < rows.length; k++) assertArrayEquals(alone[k], got.get(k).get(), 0f, "row " + k + ", round " + round);
            }
        } finally {
            pool.shutdown();
        }
        assertArrayEquals(alone[0], PanamaFunctions.score("p", spec, image, rows[0]), 0f, "row 0 again on this thread");
    }
}
