package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import dev.panamadnn.compile.BufferAssignment.Buffer;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Memory planning by liveness, as a pure function: which buffers share a slot and how big slots grow. */
class BufferAssignmentTest {
    @Test
    void aChainReusesTwoSlots() {
        // a -> b -> c -> d, each buffer written by one step and read by the next: two slots ping-pong.
        List<Buffer> chain = List.of(new Buffer(100, 0, 1), new Buffer(100, 1, 2), new Buffer(100, 2, 3), new Buffer(100, 3, 4));
        BufferAssignment.Assignment a = BufferAssignment.assign(chain, -1);
        assertArrayEquals(new int[] {0, 1, 0, 1}, a.slotOf());
        assertArrayEquals(new long[] {100, 100}, a.slotBytes());
    }

    @Test
    void overlappingLifetimesNeverShare() {
        // A shortcut alive across three steps while two other buffers come and go.
        List<Buffer> b = List.of(new Buffer(64, 0, 3), new Buffer(32, 1, 2), new Buffer(32, 2, 3));
        BufferAssignment.Assignment a = BufferAssignment.assign(b, -1);
        assertNotEquals(a.slotOf()[0], a.slotOf()[1]);
        assertNotEquals(a.slotOf()[0], a.slotOf()[2]);
        assertNotEquals(a.slotOf()[1], a.slotOf()[2]);   // buffer 1's last step (2) is buffer 2's first
        assertEquals(3, a.slotBytes().length);
    }

    @Test
    void theSmallestFreeSlotThatFitsIsChosenElseTheLargestGrows() {
        List<Buffer> b = List.of(new Buffer(1000, 0, 1), new Buffer(10, 0, 1),   // two slots, 1000 and 10, free after step 1
                new Buffer(8, 2, 3),     // fits both: takes the 10-byte slot
                new Buffer(2000, 2, 3)); // fits neither free one (the 10 is taken): grows the 1000-byte slot
        BufferAssignment.Assignment a = BufferAssignment.assign(b, -1);
        assertEquals(a.slotOf()[1], a.slotOf()[2]);
        assertEquals(a.slotOf()[0], a.slotOf()[3]);
        assertEquals(2000, a.slotBytes()[a.slotOf()[3]]);
        assertEquals(10, a.slotBytes()[a.slotOf()[2]]);
    }

    @Test
    void skippedAndUnusedBuffersGetNoSlot() {
        List<Buffer> b = List.of(new Buffer(16, 0, 0), new Buffer(16, -1, -1), new Buffer(16, 1, 1));
        BufferAssignment.Assignment a = BufferAssignment.assign(b, 2);
        assertArrayEquals(new int[] {0, -1, -1}, a.slotOf());
        assertArrayEquals(new long[] {16}, a.slotBytes());
    }
}
