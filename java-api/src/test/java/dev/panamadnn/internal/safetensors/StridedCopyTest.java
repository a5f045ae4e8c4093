package dev.panamadnn.internal.safetensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/** StridedCopy with an innermost stride other than 1 (a transpose), which Tensor cannot make yet. */
class StridedCopyTest {
    @Test
    void gathersAndScattersATransposedLayout() {
        try (Arena arena = Arena.ofConfined()) {
            // m is 2x3 row-major; its transpose is shape [3,2] with strides [1,3].
            MemorySegment m = arena.allocateFrom(ValueLayout.JAVA_INT, 0, 1, 2, 10, 11, 12);
            MemorySegment dense = arena.allocate(ValueLayout.JAVA_INT, 6);
            StridedCopy.copy(m, new long[] {3, 2}, new long[] {1, 3}, 4, dense, true);
            assertArrayEquals(new int[] {0, 10, 1, 11, 2, 12}, dense.toArray(ValueLayout.JAVA_INT));

            MemorySegment back = arena.allocate(ValueLayout.JAVA_INT, 6);
            StridedCopy.copy(back, new long[] {3, 2}, new long[] {1, 3}, 4, dense, false);
            assertArrayEquals(m.toArray(ValueLayout.JAVA_INT), back.toArray(ValueLayout.JAVA_INT));
        }
    }
}
