package dev.panamadnn.internal.dnnl;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
}
