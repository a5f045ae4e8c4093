package dev.panamadnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.panamadnn.internal.lifetime.OwnedMemory;
import dev.panamadnn.nn.ReLU;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link Tensor#close()} of a tensor that owns its memory: dead at once for every use through the
 * tensor and its views, the memory itself freed by the background closer (never under a native
 * call), and an allocation that finds direct memory taken by pending releases waits for them
 * instead of failing.
 */
class TensorReleaseTest {
    @Test
    void aClosedTensorAndItsViewsAreDeadAtOnce() {
        Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        Tensor view = t.reshape(3, 2), slice = t.slice(0, 1, 2);
        MemorySegment raw = t.segment();
        t.close();
        assertFalse(t.isAlive());
        assertFalse(view.isAlive());
        assertFalse(slice.isAlive());
        var e = assertThrows(IllegalStateException.class, t::segment);
        assertTrue(e.getMessage().contains("Tensor[2, 3]: its memory was freed"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> view.getFloat(0, 0));
        assertThrows(IllegalStateException.class, slice::toFloatArray);
        try (ReLU relu = new ReLU()) {
            var s = assertThrows(IllegalStateException.class, () -> relu.forward(view));
            assertTrue(s.getMessage().contains("freed"), s.getMessage());
        }
        t.close();   // idempotent
        // The raw segment taken before close stays valid only until the closer has freed it.
        OwnedMemory.awaitPendingReleases();
        assertFalse(raw.scope().isAlive(), "the arena is closed once the pending releases are done");
        assertThrows(IllegalStateException.class, () -> raw.get(ValueLayout.JAVA_FLOAT, 0));
    }

    @Test
    void viewsAndBorrowedMemoryDoNotFreeTheOwnersMemory() {
        try (Tensor t = Tensor.of(new float[] {1, 2, 3, 4}, 4)) {
            t.reshape(2, 2).close();
            t.slice(0, 0, 2).close();
            assertTrue(t.isAlive());
            assertEquals(4f, t.getFloat(3));
        }
    }

    /**
     * A child JVM with 64 MiB of direct memory allocates three 16 MiB tensors, closes them and
     * allocates again, 100 times: the closes are still pending when the next allocations come, so
     * those must wait for the releases (the JDK's own reservation retry, then
     * {@code OwnedMemory.awaitPendingReleases}) rather than fail with an OutOfMemoryError.
     */
    @Test
    void allocationWaitsForPendingReleasesUnderMaxDirectMemorySize() throws Exception {
        String text = ChildJvm.run(List.of("-XX:MaxDirectMemorySize=64m"), Churn.class, 120);
        assertTrue(text.contains("churn: 300 tensors of 16 MiB allocated and closed"), text);
    }

    /** The child of {@link #allocationWaitsForPendingReleasesUnderMaxDirectMemorySize}. */
    public static final class Churn {
        public static void main(String[] args) {
            for (int i = 0; i < 100; i++) {
                Tensor[] live = new Tensor[3];
                for (int k = 0; k < live.length; k++) {
                    live[k] = Tensor.zeros(4L << 20);   // 16 MiB each: 48 of the 64 MiB
                    live[k].setFloat(i, 0);
                }
                for (Tensor t : live) t.close();
            }
            System.out.println("churn: 300 tensors of 16 MiB allocated and closed");
        }
    }
}
