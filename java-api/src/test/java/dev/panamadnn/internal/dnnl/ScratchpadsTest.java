package dev.panamadnn.internal.dnnl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Conv2d;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScratchpadsTest {
    @Test
    void sizeClassesArePowersOfTwoThatFit() {
        assertEquals(6, Scratchpads.sizeClass(0));
        assertEquals(6, Scratchpads.sizeClass(64));
        assertEquals(7, Scratchpads.sizeClass(65));
        assertEquals(20, Scratchpads.sizeClass(1 << 20));
        assertEquals(21, Scratchpads.sizeClass((1 << 20) + 1));
        for (long b : new long[] {1, 100, 4095, 4096, 1_600_000, 123_456_789}) {
            int k = Scratchpads.sizeClass(b);
            assertTrue((1L << k) >= b && (1L << (k - 1)) < Math.max(64, b), b + " -> class " + k);
        }
    }

    @Test
    void borrowedBuffersAreNeverSharedAndAreReused() {
        List<MemorySegment> held = new ArrayList<>();
        for (int i = 0; i < 5; i++) held.add(Scratchpads.borrow(10_000));
        for (int i = 0; i < held.size(); i++) {
            assertTrue(held.get(i).byteSize() >= 10_000);
            assertEquals(0, held.get(i).address() % 64, "64-byte aligned");
            for (int j = 0; j < i; j++) assertNotSame(held.get(i), held.get(j));
        }
        held.forEach(Scratchpads::giveBack);
        int created = Scratchpads.created();
        for (int i = 0; i < 100; i++) Scratchpads.giveBack(Scratchpads.borrow(9_000));   // same class: reused
        assertEquals(created, Scratchpads.created());
    }

    @Test
    void idleBuffersPerClassAreCapped() {
        List<MemorySegment> held = new ArrayList<>();
        for (int i = 0; i < Scratchpads.KEPT_PER_CLASS + 10; i++) held.add(Scratchpads.borrow(3_000_000));
        held.forEach(Scratchpads::giveBack);
        int created = Scratchpads.created();
        for (int i = 0; i < Scratchpads.KEPT_PER_CLASS; i++) held.set(i, Scratchpads.borrow(3_000_000));
        assertEquals(created, Scratchpads.created(), "the kept ones are handed out again");
        Scratchpads.borrow(3_000_000);
        assertEquals(created + 1, Scratchpads.created(), "the ones beyond the cap were dropped");
    }

    /**
     * Idle scratchpads kept after a big call give way to the next allocation: the JDK counts automatic arenas' memory
     * (scratchpads come from {@code Arena.ofAuto()}) against -XX:MaxDirectMemorySize, and under 64m three idle 16 MiB
     * scratchpads (48 MiB, kept for the next call) and a 32 MiB one do not fit together; the failed allocation drops the
     * idle buffers and succeeds (before, it threw an OutOfMemoryError: "Cannot reserve ... direct buffer memory"). In a
     * child JVM, for its own memory limit.
     */
    @Test
    void idleScratchpadsAreDroppedWhenAnAllocationFails() throws Exception {
        String text = dev.panamadnn.ChildJvm.run(List.of("-XX:MaxDirectMemorySize=64m"), HeldScratchpads.class, 120);
        assertTrue(text.contains("borrowed 32 MiB beside 48 MiB of idle scratchpads; the idle ones are gone: true"), text);
    }

    /** The child of {@link #idleScratchpadsAreDroppedWhenAnAllocationFails}. */
    public static final class HeldScratchpads {
        public static void main(String[] args) {
            List<MemorySegment> held = new ArrayList<>();
            for (int i = 0; i < 3; i++) held.add(Scratchpads.borrow(16 << 20));
            held.forEach(Scratchpads::giveBack);
            held.clear();
            MemorySegment big = Scratchpads.borrow(24 << 20);   // class 25: 32 MiB
            int created = Scratchpads.created();
            Scratchpads.giveBack(Scratchpads.borrow(16 << 20));   // the 16 MiB class was emptied: a new buffer
            System.out.println("borrowed " + (big.byteSize() >> 20) + " MiB beside 48 MiB of idle scratchpads; the idle ones are gone: "
                    + (Scratchpads.created() == created + 1));
        }
    }

    /**
     * An eager convolution called many times creates no new scratchpads and no new oneDNN memory
     * objects once warm (its bound call is reused, re-pointed at each call's buffers), and stays correct
     * when the input changes between calls.
     */
    @Test
    void eagerCallsReuseScratchpadsAndBoundCalls() {
        try (Conv2d conv = Conv2d.builder(64, 64, 3).padding(1).build(); Tensor x = Tensor.zeros(1, 64, 28, 28);
             Tensor x2 = Tensor.zeros(1, 64, 28, 28); Tensor first = conv.forward(x)) {
            MemorySegment s2 = x2.segment();
            for (long i = 0; i < x2.numel(); i++) s2.setAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, i, (i % 13) * 0.1f);
            float[] expected = first.toFloatArray(), expected2 = conv.forward(x2, dev.panamadnn.nn.Backend.REFERENCE).toFloatArray();
            int created = Scratchpads.created();
            long memories = Execution.memoryObjectsCreated();
            for (int i = 0; i < 50; i++) {
                try (Tensor y = conv.forward(i % 2 == 0 ? x : x2)) {
                    if (i % 2 == 0) assertArrayEquals(expected, y.toFloatArray());
                    else {
                        float[] got = y.toFloatArray();
                        for (int j = 0; j < got.length; j++) assertEquals(expected2[j], got[j], 1e-4f, "element " + j);
                    }
                }
            }
            assertEquals(created, Scratchpads.created());
            assertEquals(memories, Execution.memoryObjectsCreated(), "no oneDNN memory objects created by warm eager calls");
        }
    }
}
