package dev.panamadnn.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A batcher worker's kept tensors: the same tensor for the same slot, dtype and shape (a caller's array changed later
 * changes nothing), another for any difference, at most {@link Staging#MAX_TENSORS} kept with the least recently used
 * freed first, and every one freed by close.
 */
class StagingTest {
    @Test
    void theSameSlotDtypeAndShapeGetTheSameTensorAndAnyDifferenceAnother() {
        try (Staging s = new Staging()) {
            long[] shape = {4, 1, 8, 8};
            Tensor a = s.input(0, DataType.F32, shape);
            shape[0] = 8;   // the key holds a copy
            assertSame(a, s.input(0, DataType.F32, new long[] {4, 1, 8, 8}));
            assertArrayEquals(new long[] {4, 1, 8, 8}, a.shape());
            assertEquals(DataType.F32, a.dtype());
            assertNotSame(a, s.input(1, DataType.F32, new long[] {4, 1, 8, 8}), "another input");
            assertNotSame(a, s.input(0, DataType.I64, new long[] {4, 1, 8, 8}), "another dtype");
            assertNotSame(a, s.input(0, DataType.F32, new long[] {8, 1, 8, 8}), "another batch");
            Tensor out0 = s.output(0, DataType.F32, new long[] {4, 1, 8, 8});
            assertNotSame(a, out0, "an output");
            assertSame(out0, s.output(0, DataType.F32, new long[] {4, 1, 8, 8}));
            assertNotSame(out0, s.output(1, DataType.F32, new long[] {4, 1, 8, 8}), "another output");
            assertEquals(6, s.size());
        }
    }

    /** Past the byte bound the least recently used go first, but never a tensor the running batch took. */
    @Test
    void aBatchKeepsItsTensorsPastTheByteBoundAndTheNextBatchFreesTheOldest() {
        long quarter = Staging.MAX_BYTES / 4 / Float.BYTES;   // elements of a quarter of the bound
        try (Staging s = new Staging()) {
            s.nextBatch();
            Tensor small = s.input(0, DataType.F32, new long[] {1, 4});
            s.nextBatch();   // one batch of three inputs of 3/8 of the bound each: 9/8, over the bound
            Tensor[] big = new Tensor[3];
            for (int i = 0; i < 3; i++) big[i] = s.input(i, DataType.F32, new long[] {quarter * 3 / 2});
            for (Tensor t : big) assertTrue(t.isAlive(), "the running batch's tensors stay");
            assertFalse(small.isAlive(), "the older tensor went first");
            assertTrue(s.bytes() > Staging.MAX_BYTES);
            s.nextBatch();
            Tensor next = s.input(0, DataType.F32, new long[] {1, 4});
            assertTrue(next.isAlive());
            assertFalse(big[0].isAlive(), "the next batch frees the least recently used until under the bound");
            assertTrue(big[1].isAlive() && big[2].isAlive());
            assertTrue(s.bytes() <= Staging.MAX_BYTES, s.bytes() + " bytes held");
        }
    }

    @Test
    void theLeastRecentlyUsedIsFreedPastTheBoundAndCloseFreesTheRest() {
        List<Tensor> made = new ArrayList<>();
        Tensor kept;
        try (Staging s = new Staging()) {
            for (int i = 0; i < Staging.MAX_TENSORS; i++) {
                s.nextBatch();
                made.add(s.input(0, DataType.F32, new long[] {i + 1, 3}));
            }
            s.nextBatch();
            kept = s.input(0, DataType.F32, new long[] {1, 3});   // used again: now the most recent
            assertSame(made.getFirst(), kept);
            s.nextBatch();
            Tensor extra = s.input(0, DataType.F32, new long[] {100, 3});
            assertEquals(Staging.MAX_TENSORS, s.size());
            assertFalse(made.get(1).isAlive(), "the least recently used ([2, 3]) is freed");
            assertTrue(kept.isAlive() && extra.isAlive() && made.get(2).isAlive());
            s.nextBatch();
            assertNotSame(made.get(1), s.input(0, DataType.F32, new long[] {2, 3}), "a freed shape asked again gets a new tensor");
        }
        assertFalse(kept.isAlive(), "closed with the staging");
        for (Tensor t : made) assertFalse(t.isAlive());
    }
}
