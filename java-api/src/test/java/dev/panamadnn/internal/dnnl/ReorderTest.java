package dev.panamadnn.internal.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.bindings.dnnl.dnnl_h;

import dev.panamadnn.natives.ThreadControl;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

class ReorderTest {
    /**
     * A one-off reorder (weights at compile time) runs on the calling thread alone, but leaves that
     * thread's OpenMP team as it found it: the compiler creates the plan's primitives right after,
     * and oneDNN sizes each one's work split by the creating thread's team.
     */
    @Test
    void onceReordersAndLeavesTheCallersTeamAlone() {
        org.junit.jupiter.api.Assumptions.assumeTrue(ThreadControl.openmp(), "oneDNN is not on OpenMP: no team to leave alone");
        long n = 2, c = 3, h = 4, w = 5;
        for (int team : new int[] {2, 3}) {
            ThreadControl.applyToCurrentThread(team);
            try (Arena a = Arena.ofConfined();
                 MemoryDescriptor nchw = MemoryDescriptor.f32(Ops.plain(4), n, c, h, w);
                 MemoryDescriptor nhwc = MemoryDescriptor.f32(ConvOps.channelsLast4d(), n, c, h, w)) {
                MemorySegment src = a.allocate(nchw.byteSize(), 64), dst = a.allocate(nhwc.byteSize(), 64);
                for (int i = 0; i < n * c * h * w; i++) src.setAtIndex(ValueLayout.JAVA_FLOAT, i, i);
                Reorder.once(nchw, src, nhwc, dst, "test reorder");
                assertEquals(team, ThreadControl.openmpMaxThreads(), "the caller's OpenMP team after Reorder.once");
                for (long in = 0; in < n; in++)
                    for (long ic = 0; ic < c; ic++)
                        for (long y = 0; y < h; y++)
                            for (long x = 0; x < w; x++) {
                                float expected = ((in * c + ic) * h + y) * w + x;
                                float got = dst.getAtIndex(ValueLayout.JAVA_FLOAT, ((in * h + y) * w + x) * c + ic);
                                assertEquals(expected, got, "nhwc element n=" + in + " c=" + ic + " y=" + y + " x=" + x);
                            }
            }
        }
        ThreadControl.applyToCurrentThread();
    }

    /**
     * With per-slice scales (a batch norm folded into weights as the compiler reorders them), every element becomes
     * {@code w * scale} in F32, one rounding, bit for bit what Java's float multiplication gives: in plain, blocked and
     * output-channel-inner weight layouts, grouped ones ({@code [G, O/G, ...]}, the scales over both leading dims), and
     * with scales that overflow, are zero, negative, subnormal or NaN.
     */
    @Test
    void onceWithScalesMultipliesEverySliceInF32() {
        record Case(int tag, long[] dims, int slices) {}
        Case[] cases = {
            new Case(dnnl_h.dnnl_OIhw8i8o(), new long[] {16, 24, 3, 3}, 16),
            new Case(dnnl_h.dnnl_Ohwi8o(), new long[] {16, 5, 3, 3}, 16),
            new Case(dnnl_h.dnnl_hwio(), new long[] {12, 5, 1, 1}, 12),
            new Case(dnnl_h.dnnl_Acdb8a(), new long[] {24, 3, 7, 7}, 24),
            new Case(dnnl_h.dnnl_gOIhw8i8o(), new long[] {2, 8, 16, 3, 3}, 16),
            new Case(dnnl_h.dnnl_AB8b8a(), new long[] {10, 16}, 10),
        };
        java.util.SplittableRandom random = new java.util.SplittableRandom(5);
        for (Case c : cases) {
            long n = 1;
            for (long d : c.dims()) n *= d;
            int per = (int) (n / c.slices());
            float[] scales = new float[c.slices()];
            for (int o = 0; o < scales.length; o++) scales[o] = (float) (random.nextDouble(-4, 4));
            scales[0] = 3e38f;                // overflows to +-inf for |w| > ~1.13
            scales[1] = 0f;
            scales[2] = Float.MIN_VALUE * 3;  // subnormal products, most rounding to zero
            scales[3] = Float.NaN;
            try (Arena a = Arena.ofConfined();
                 MemoryDescriptor plain = MemoryDescriptor.f32(Ops.plain(c.dims().length), c.dims());
                 MemoryDescriptor to = MemoryDescriptor.f32(c.tag(), c.dims())) {
                MemorySegment src = a.allocate(plain.byteSize(), 64), dst = a.allocate(to.byteSize(), 64), back = a.allocate(plain.byteSize(), 64);
                float[] w = new float[(int) n];
                for (int i = 0; i < n; i++) {
                    w[i] = (float) random.nextDouble(-2, 2);
                    src.setAtIndex(ValueLayout.JAVA_FLOAT, i, w[i]);
                }
                Reorder.once(plain, src, to, dst, scales, "scaled reorder into " + to);
                Reorder.once(to, dst, plain, back, "back to plain");
                for (int i = 0; i < n; i++) {
                    float expected = w[i] * scales[i / per], got = back.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    assertEquals(Float.floatToIntBits(expected), Float.floatToIntBits(got),
                            "format " + c.tag() + " dims " + java.util.Arrays.toString(c.dims()) + " element " + i + ": " + w[i] + " * " + scales[i / per]
                                    + " = " + expected + ", the reorder gave " + got);
                }
            }
        }
    }

    @Test
    void scalesThatMatchNoLeadingDimsAreRefused() {
        try (Arena a = Arena.ofConfined(); MemoryDescriptor plain = MemoryDescriptor.f32(Ops.plain(4), 6, 4, 3, 3)) {
            MemorySegment src = a.allocate(plain.byteSize(), 64), dst = a.allocate(plain.byteSize(), 64);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Reorder.once(plain, src, plain, dst, new float[5], "weights of conv1"));
            assertTrue(e.getMessage().contains("weights of conv1") && e.getMessage().contains("5 scales")
                    && e.getMessage().contains("[6, 4, 3, 3]"), e.getMessage());
            assertEquals(0b11, Reorder.leadingMask(new long[] {6, 4, 3, 3}, 24, "x"));
            assertEquals(0b1, Reorder.leadingMask(new long[] {6, 4, 3, 3}, 6, "x"));
        }
    }
}
