package dev.panamadnn.internal.lowering;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** {@link InnerProductLowering}: nn.Linear(5, 7) on (2, 3, 5) gives (2, 3, 7) in PyTorch, i.e. 6 rows of 5 -> 7. */
class InnerProductLoweringTest {
    @Test
    void leadingDimensionsBecomeRows() {
        InnerProductLowering l = InnerProductLowering.of(new long[] {2, 3, 5}, 7, true);
        assertEquals(6, l.rows());
        assertArrayEquals(new long[] {6, 5}, l.srcDims());
        assertArrayEquals(new long[] {7, 5}, l.weightDims(), "PyTorch's [out, in], no transpose");
        assertArrayEquals(new long[] {7}, l.biasDims());
        assertArrayEquals(new long[] {6, 7}, l.dstDims());
    }

    @Test
    void withoutBiasTheBiasIsAbsent() {
        assertNull(InnerProductLowering.of(new long[] {5}, 7, false).biasDims());
        assertEquals(1, InnerProductLowering.of(new long[] {5}, 7, false).rows(), "an unbatched vector is one row");
    }

    @Test
    void emptySizesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> InnerProductLowering.of(new long[0], 7, false));
        assertThrows(IllegalArgumentException.class, () -> new InnerProductLowering(1, 0, 7, false));
    }
}
