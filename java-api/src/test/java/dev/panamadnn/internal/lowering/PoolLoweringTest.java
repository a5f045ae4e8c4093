package dev.panamadnn.internal.lowering;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.internal.dnnl.PoolOps;
import org.junit.jupiter.api.Test;

/**
 * {@link PoolLowering} against PyTorch's output shapes, and the lowered geometry against oneDNN's
 * floor-mode size formula {@code (in + padL + padR - reach) / stride + 1}: if both hold, oneDNN
 * computes PyTorch's windows. Pure arithmetic, no native library.
 *
 * <p>Expected shapes from PyTorch 1.13 ({@code /usr/bin/python3}):
 * <pre>
 * import torch, torch.nn as nn; x = lambda *s: torch.zeros(*s)
 * nn.MaxPool2d(3, 2, 1, ceil_mode=True)(x(1, 1, 8, 8)).shape                          # (1, 1, 5, 5)
 * nn.MaxPool2d(2, 2, 1, ceil_mode=True)(x(1, 1, 5, 5)).shape                          # (1, 1, 3, 3)
 * nn.MaxPool2d(2, 2, 1, ceil_mode=False)(x(1, 1, 5, 5)).shape                         # (1, 1, 3, 3)
 * nn.AvgPool2d(3, 2, 0, ceil_mode=True)(x(1, 1, 6, 6)).shape                          # (1, 1, 3, 3)
 * nn.MaxPool1d(3, 2, 1, dilation=2, ceil_mode=True)(x(1, 1, 10)).shape                # (1, 1, 5)
 * nn.AvgPool2d((3, 2), (2, 3), (1, 1), ceil_mode=True)(x(1, 1, 7, 8)).shape           # (1, 1, 4, 3)
 * nn.AdaptiveAvgPool2d((2, 3))(x(1, 1, 8, 9)).shape                                   # (1, 1, 2, 3)
 * </pre>
 */
class PoolLoweringTest {
    private static long[] l(long... v) {
        return v;
    }

    private static PoolLowering windowed(boolean ceil, long[] in, long[] k, long[] s, long[] p, long[] d) {
        return PoolLowering.windowed(true, false, in, k, s, p, d, ceil);
    }

    /** oneDNN's output size per axis for the lowered geometry: floor((in + padL + padR - reach) / stride) + 1. */
    private static void assertOneDnnAgrees(PoolLowering g) {
        for (PoolLowering.Axis a : g.axes()) {
            assertEquals(a.out(), Math.floorDiv(a.in() + a.padLeft() + a.padRight() - a.reach(), a.stride()) + 1,
                    "oneDNN's size formula on " + a);
            assertTrue(a.padRight() >= a.padLeft(), "ceil_mode only ever adds right padding: " + a);
        }
    }

    /** The definition {@link PoolLowering.Axis#firstOverhanging()} computes in closed form. */
    private static long firstOverhangingByScan(PoolLowering.Axis a) {
        for (long o = 0; o < a.out(); o++) if (o * a.stride() - a.padLeft() + a.reach() > a.in() + a.padLeft()) return o;
        return a.out();
    }

    @Test
    void ceilModeWhoseLastWindowHangsIntoThePaddingGetsMoreRightPadding() {
        PoolLowering g = windowed(true, l(8, 8), l(3, 3), l(2, 2), l(1, 1), l(1, 1));
        assertArrayEquals(l(5, 5), g.outputSize(), "PyTorch (1, 1, 5, 5)");
        assertArrayEquals(l(1, 1), g.padLeft());
        // Window 4 covers input indices 7..9: 8 is PyTorch's padding, 9 lies past it, so oneDNN needs a right padding of 2.
        assertArrayEquals(l(2, 2), g.padRight());
        assertArrayEquals(l(0, 0), g.dilates());
        assertTrue(g.overhangs());
        assertEquals(4, g.axes().get(0).firstOverhanging());
        assertOneDnnAgrees(g);
    }

    @Test
    void ceilModeDropsALastWindowThatWouldStartInThePadding() {
        // ceil((5 + 2 - 2) / 2) + 1 = 4 windows, but window 3 would start at 3 * 2 = 6 >= in + padding = 6 (padded
        // coordinates), wholly in the right padding: PyTorch drops it, leaving 3, as in floor mode.
        PoolLowering ceil = windowed(true, l(5, 5), l(2, 2), l(2, 2), l(1, 1), l(1, 1));
        PoolLowering floor = windowed(false, l(5, 5), l(2, 2), l(2, 2), l(1, 1), l(1, 1));
        assertArrayEquals(l(3, 3), ceil.outputSize(), "PyTorch (1, 1, 3, 3)");
        assertArrayEquals(l(3, 3), floor.outputSize(), "PyTorch (1, 1, 3, 3)");
        assertEquals(ceil, floor, "the same geometry once the dropped window is gone");
        assertArrayEquals(l(1, 1), ceil.padRight(), "the symmetric padding is enough");
        assertFalse(ceil.overhangs());
        assertOneDnnAgrees(ceil);
    }

    @Test
    void ceilModeWithoutPadding() {
        PoolLowering g = PoolLowering.windowed(false, true, l(6, 6), l(3, 3), l(2, 2), l(0, 0), l(1, 1), true);
        assertArrayEquals(l(3, 3), g.outputSize(), "PyTorch (1, 1, 3, 3)");
        assertArrayEquals(l(0, 0), g.padLeft());
        assertArrayEquals(l(1, 1), g.padRight());
        assertEquals(2, g.axes().get(1).firstOverhanging(), "the last window (4..6) passes in = 6");
        assertEquals(PoolOps.Algorithm.AVG_INCLUDE_PADDING, g.algorithm());
        assertOneDnnAgrees(g);
    }

    @Test
    void dilationBecomesZeroBasedAndWidensTheCeilPadding() {
        PoolLowering g = windowed(true, l(1, 10), l(1, 3), l(1, 2), l(0, 1), l(1, 2));
        assertArrayEquals(l(1, 5), g.outputSize(), "PyTorch (1, 1, 5); the lifted height stays 1");
        assertArrayEquals(l(0, 1), g.dilates());
        assertArrayEquals(l(0, 1), g.padLeft());
        assertArrayEquals(l(0, 2), g.padRight(), "window 4 covers 7..11: 10 is the padding, 11 lies past it");
        assertOneDnnAgrees(g);
    }

    @Test
    void perAxisKernelStrideAndPadding() {
        PoolLowering g = PoolLowering.windowed(false, true, l(7, 8), l(3, 2), l(2, 3), l(1, 1), l(1, 1), true);
        assertArrayEquals(l(4, 3), g.outputSize(), "PyTorch (1, 1, 4, 3)");
        assertArrayEquals(l(1, 1), g.padRight());
        assertArrayEquals(l(3, 2), g.kernel());
        assertArrayEquals(l(2, 3), g.strides());
        assertFalse(g.overhangs());
        assertOneDnnAgrees(g);
    }

    @Test
    void algorithms() {
        assertEquals(PoolOps.Algorithm.MAX, PoolLowering.algorithm(true, true));
        assertEquals(PoolOps.Algorithm.MAX, PoolLowering.algorithm(true, false));
        assertEquals(PoolOps.Algorithm.AVG_INCLUDE_PADDING, PoolLowering.algorithm(false, true));
        assertEquals(PoolOps.Algorithm.AVG_EXCLUDE_PADDING, PoolLowering.algorithm(false, false));
    }

    @Test
    void adaptivePoolingIsWindowedWhenTheInputDivides() {
        PoolLowering g = PoolLowering.adaptive(false, l(8, 9), l(2, 3));
        assertArrayEquals(l(2, 3), g.outputSize(), "PyTorch (1, 1, 2, 3)");
        assertArrayEquals(l(4, 3), g.kernel());
        assertArrayEquals(l(4, 3), g.strides());
        assertArrayEquals(l(0, 0), g.padLeft());
        assertArrayEquals(l(0, 0), g.padRight());
        assertEquals(PoolOps.Algorithm.AVG_EXCLUDE_PADDING, g.algorithm());
        assertEquals(PoolOps.Algorithm.MAX, PoolLowering.adaptive(true, l(4), l(1)).algorithm());
        assertOneDnnAgrees(g);
        assertNull(PoolLowering.adaptive(false, l(8, 9), l(3, 3)), "8 / 3: windows of varying size, no oneDNN pooling");
    }

    @Test
    void windowsWhollyInThePadding() {
        // kernel 2, dilation 2, padding 1 on a size-1 input: taps at -1 and 1, both outside (PyTorch gives -inf there).
        PoolLowering g = windowed(false, l(1), l(2), l(1), l(1), l(2));
        assertArrayEquals(l(1), g.outputSize());
        assertTrue(g.axes().get(0).inPaddingOnly(0));
        PoolLowering dense = windowed(false, l(4), l(3), l(1), l(1), l(1));
        for (long o = 0; o < 4; o++) assertFalse(dense.axes().get(0).inPaddingOnly(o), "output " + o);
    }

    @Test
    void anEmptyOutputIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> windowed(false, l(3), l(5), l(1), l(0), l(1)));
    }

    /**
     * Every MaxPool1d for in 1..7, kernel 1..3, padding 0..kernel/2, stride 1..3, dilation 1..2,
     * ceil_mode off/on, in that nesting order; PyTorch's output length, '-' where it refuses (0 where
     * it returns an empty tensor):
     * <pre>
     * import torch, torch.nn.functional as F; r = []
     * for i in range(1, 8):
     *  for k in range(1, 4):
     *   for p in range(0, k // 2 + 1):
     *    for s in range(1, 4):
     *     for d in (1, 2):
     *      for c in (0, 1):
     *       try: r.append(str(F.max_pool1d(torch.zeros(1, 1, i), k, s, p, d, bool(c)).shape[-1]))
     *       except RuntimeError: r.append("-")
     * print("".join(r))
     * </pre>
     */
    private static final String MAXPOOL1D = "11111111111100--01000101221111111111----00--01-011--1100110122221111111111001101110133222212"
            + "111100--01-0010022001201110133332222111122111211111144332222221211--1100110133112211121144442222222233222212121255443323"
            + "2222220012011201442223122212555533332222443323222212665533332222331122111211553333222212666633332222554433232222776644343"
            + "323442223122212664434232322777744443333665534332323887744443333553333222312775544333323";

    @Test
    void outputSizesAndCeilPaddingMatchPyTorchOnAGrid() {
        int at = 0, overhanging = 0;
        for (long i = 1; i <= 7; i++)
            for (long k = 1; k <= 3; k++)
                for (long p = 0; p <= k / 2; p++)
                    for (long s = 1; s <= 3; s++)
                        for (long d = 1; d <= 2; d++)
                            for (int c = 0; c <= 1; c++) {
                                char want = MAXPOOL1D.charAt(at++);
                                boolean ceil = c == 1;
                                String where = "in " + i + ", kernel " + k + ", padding " + p + ", stride " + s + ", dilation " + d
                                        + ", ceil_mode " + ceil;
                                long out = PoolLowering.outputSize(i, k, s, p, d, ceil);
                                if (want == '-') {
                                    assertTrue(out <= 0, where + ": PyTorch refuses, got " + out);
                                    continue;
                                }
                                assertEquals(want - '0', out, where);
                                if (out == 0) continue;   // PyTorch 1.13 returns an empty tensor here; the layers refuse it
                                PoolLowering g = windowed(ceil, l(i), l(k), l(s), l(p), l(d));
                                assertOneDnnAgrees(g);
                                PoolLowering.Axis a = g.axes().get(0);
                                assertTrue((out - 1) * s - p < i + p, where + ": every window starts before the right padding ends");
                                assertEquals(firstOverhangingByScan(a), a.firstOverhanging(), where);
                                if (!ceil) assertEquals(out, a.firstOverhanging(), where + ": floor mode never overhangs");
                                if (a.firstOverhanging() < out) overhanging++;
                            }
        assertEquals(MAXPOOL1D.length(), at);
        assertTrue(overhanging > 0, "the grid reaches ceil_mode windows past the padding");
    }

    @Test
    void loweringsAreValuesUsableAsCacheKeys() {
        PoolLowering a = windowed(true, l(8, 8), l(3, 3), l(2, 2), l(1, 1), l(1, 1));
        PoolLowering b = windowed(true, l(8, 8), l(3, 3), l(2, 2), l(1, 1), l(1, 1));
        assertEquals(a, b);
        assertEquals(a.hashCode(), b.hashCode());
        assertFalse(a.equals(windowed(false, l(8, 8), l(3, 3), l(2, 2), l(1, 1), l(1, 1))));
    }
}
