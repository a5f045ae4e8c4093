package dev.panamadnn.internal.lifetime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;

/**
 * {@link ZeroPages}: zeroed memory of the size asked for, page-aligned where mapped (64-byte aligned below
 * {@link ZeroPages#MIN_BYTES}), writable, and gone when its arena closes (an access then is the JDK's
 * {@code IllegalStateException}, never a fault); many made and closed leave no address space behind.
 */
class ZeroPagesTest {
    @Test
    void zeroedWritableAlignedAndUnmappedWithItsArena() {
        for (long bytes : new long[] {0, 1, 4096, ZeroPages.MIN_BYTES - 1, ZeroPages.MIN_BYTES, ZeroPages.MIN_BYTES + 1, 3L << 20}) {
            MemorySegment m;
            try (Arena arena = Arena.ofShared()) {
                m = ZeroPages.allocate(arena, bytes);
                assertEquals(bytes, m.byteSize());
                assertEquals(0, m.address() % (bytes >= ZeroPages.MIN_BYTES ? 4096 : 64), "aligned: " + bytes);
                for (long i = 0; i < bytes; i += 4093) assertEquals(0, m.get(ValueLayout.JAVA_BYTE, i), "zero at " + i + " of " + bytes);
                if (bytes > 0) {
                    assertEquals(0, m.get(ValueLayout.JAVA_BYTE, bytes - 1));
                    m.set(ValueLayout.JAVA_BYTE, 0, (byte) 9);
                    m.set(ValueLayout.JAVA_BYTE, bytes - 1, (byte) 7);
                    assertEquals(7, m.get(ValueLayout.JAVA_BYTE, bytes - 1));
                    assertEquals(bytes == 1 ? 7 : 9, m.get(ValueLayout.JAVA_BYTE, 0));
                }
            }
            MemorySegment closed = m;
            if (bytes > 0) assertThrows(IllegalStateException.class, () -> closed.get(ValueLayout.JAVA_BYTE, 0));
        }
    }

    @Test
    void manyMappingsAreUnmapped() throws Exception {
        long before = virtualKb();
        for (int i = 0; i < 2_000; i++) {   // 2,000 to 10,000 MB mapped in all
            try (Arena arena = Arena.ofShared()) {
                MemorySegment m = ZeroPages.allocate(arena, (1L << 20) + i * 4096L);
                m.set(ValueLayout.JAVA_LONG, 8, i);   // touched: a page of its own
            }
        }
        long after = virtualKb();
        assertTrue(after < before + (512 << 10), "virtual memory before " + before + " kB, after 2,000 allocations and closes " + after + " kB");
    }

    /** {@return the process's virtual size (VmSize in /proc/self/status), kB; 0 where there is no such file} */
    private static long virtualKb() throws Exception {
        java.nio.file.Path status = java.nio.file.Path.of("/proc/self/status");
        if (!java.nio.file.Files.exists(status)) return 0;
        for (String line : java.nio.file.Files.readAllLines(status)) {
            if (line.startsWith("VmSize:")) return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
        return 0;
    }
}
