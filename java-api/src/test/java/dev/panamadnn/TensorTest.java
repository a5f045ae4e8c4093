package dev.panamadnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tensor: construction (empty tensors too), views without copies, ownership and use-after-free. */
class TensorTest {
    @Test
    void ofCopiesRowMajorAndReadsBack() {
        try (Tensor t = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3)) {
            assertArrayEquals(new long[] {2, 3}, t.shape());
            assertArrayEquals(new long[] {3, 1}, t.strides());
            assertEquals(6.0f, t.getFloat(1, 2));
            assertEquals(3, t.dim(-1));
            assertTrue(t.segment().isNative());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, t.toFloatArray());
        }
    }

    @Test
    void reshapeAndSliceAreViewsOfTheSameMemory() {
        try (Tensor t = Tensor.of(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 3, 4)) {
            Tensor r = t.reshape(2, -1);
            assertArrayEquals(new long[] {2, 6}, r.shape());
            Tensor cols = t.slice(1, 1, 3);               // columns 1..2: strided
            assertFalse(cols.isContiguous());
            assertArrayEquals(new float[] {1, 2, 5, 6, 9, 10}, cols.toFloatArray());
            cols.setFloat(-1f, 2, 0);                      // writes through to t[2][1]
            assertEquals(-1f, t.getFloat(2, 1));
            assertEquals(-1f, r.getFloat(1, 3));
            Tensor rows = t.slice(0, 1, 2);
            assertTrue(rows.isContiguous());
            assertEquals(16, rows.segment().byteSize());
            var e = assertThrows(IllegalStateException.class, () -> cols.reshape(6));
            assertTrue(e.getMessage().contains("not contiguous"), e.getMessage());
        }
    }

    @Test
    void wrapAdoptsAMemoryMappedFileWithoutCopying(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("floats.bin");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1.5f, 2.5f, 3.5f, 4.5f);
            Files.write(file, src.toArray(ValueLayout.JAVA_BYTE));
        }
        try (Arena arena = Arena.ofConfined();
             FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
            MemorySegment mapped = ch.map(FileChannel.MapMode.READ_WRITE, 0, 16, arena);
            Tensor t = Tensor.wrap(mapped, DataType.F32, 2, 2);
            assertEquals(4.5f, t.getFloat(1, 1));
            t.setFloat(9f, 0, 0);
            assertEquals(9f, mapped.get(ValueLayout.JAVA_FLOAT_UNALIGNED, 0), "the tensor is the mapped memory");
        }
    }

    @Test
    void useAfterCloseIsAnIllegalStateExceptionForTheTensorAndItsViews() {
        Tensor t = Tensor.zeros(2, 2);
        Tensor view = t.reshape(4);
        t.close();
        t.close();   // idempotent
        assertFalse(t.isAlive());
        var e = assertThrows(IllegalStateException.class, () -> t.getFloat(0, 0));
        assertTrue(e.getMessage().contains("freed"), e.getMessage());
        assertThrows(IllegalStateException.class, view::toFloatArray);
        assertThrows(IllegalStateException.class, view::segment);
    }

    @Test
    void closingAViewOrABorrowedTensorFreesNothing() {
        try (Arena arena = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(arena, DataType.F32, 3);
            t.reshape(3).close();
            t.close();
            t.setFloat(1f, 2);
            assertEquals(1f, t.getFloat(2));
        }
    }

    @Test
    void badShapesAndIndicesAreRejectedWithTheValues() {
        assertMessage(IllegalArgumentException.class, () -> Tensor.zeros(2, -1), "every size must be >= 0, got shape [2, -1]");
        assertMessage(IllegalArgumentException.class, () -> Tensor.zeros(0, 1L << 30, 1L << 30), "is empty but its other sizes multiply past");
        assertMessage(IllegalArgumentException.class, () -> Tensor.of(new float[5], 2, 3), "shape [2, 3] needs 6 values, got 5");
        assertMessage(IllegalArgumentException.class, () -> Tensor.wrap(MemorySegment.ofArray(new float[3]), DataType.F32, 2, 2),
                "needs 16 bytes, got a segment of 12");
        try (Tensor t = Tensor.zeros(2, 3)) {
            assertMessage(IllegalArgumentException.class, () -> t.reshape(4, -1), "cannot infer -1 in [4, -1] for 6 elements");
            assertMessage(IllegalArgumentException.class, () -> t.reshape(7), "[7] holds 7 elements, the tensor has 6");
            assertMessage(IllegalArgumentException.class, () -> t.slice(2, 0, 1), "dim 2 out of range for rank 2");
            assertMessage(IllegalArgumentException.class, () -> t.slice(1, 2, 1), "expected 0 <= start <= end <= 3 on dim 1, got [2, 1)");
            assertMessage(IllegalArgumentException.class, () -> t.slice(1, 2, 4), "expected 0 <= start <= end <= 3 on dim 1, got [2, 4)");
            assertArrayEquals(new long[] {t.shape()[0], 0}, t.slice(1, 2, 2).shape(), "t[:, 2:2] is empty, as PyTorch's");
            assertEquals(0, t.slice(1, 3, 3).numel(), "t[:, 3:3] too");
            assertMessage(IndexOutOfBoundsException.class, () -> t.getFloat(2, 0), "index [2, 0] out of bounds for shape [2, 3]");
            assertMessage(IllegalArgumentException.class, () -> t.getFloat(0), "has 1 coordinates, tensor [2, 3] has rank 2");
        }
        try (Arena arena = Arena.ofConfined()) {
            Tensor ints = Tensor.allocate(arena, DataType.I32, 2);
            assertMessage(IllegalStateException.class, ints::toFloatArray, "expected an f32 tensor, got I32");
        }
    }

    @Test
    void emptyTensorsOfEveryDtypeHaveNoElementsAndNoBytes() {
        try (Arena arena = Arena.ofConfined()) {
            for (DataType d : DataType.values()) {
                Tensor a = Tensor.allocate(arena, d, 3, 0, 5);   // numpy.empty((3, 0, 5)): size 0, nbytes 0
                assertEquals(0, a.numel(), d::toString);
                assertEquals(0, a.segment().byteSize(), d::toString);
                assertArrayEquals(new long[] {3, 0, 5}, a.shape());
                assertTrue(a.isContiguous());
                Tensor w = Tensor.wrap(arena.allocate(0, 8), d, 0);
                assertEquals(0, w.numel());
                assertMessage(IllegalArgumentException.class, () -> Tensor.wrap(arena.allocate(8, 8), d, 0), "needs 0 bytes, got a segment of 8");
            }
        }
        try (Tensor z = Tensor.zeros(2, 0); Tensor o = Tensor.of(new float[0], 0, 4)) {
            assertArrayEquals(new float[0], z.toFloatArray());
            assertArrayEquals(new float[0], o.toFloatArray());
            assertEquals(0, z.slice(0, 1, 2).numel());   // z[1:2] of a (2, 0) array: shape (1, 0)
            assertArrayEquals(new long[] {1, 0}, z.slice(0, 1, 2).shape());
            assertMessage(IndexOutOfBoundsException.class, () -> z.getFloat(0, 0), "out of bounds for shape [2, 0]");
            assertMessage(IllegalArgumentException.class, () -> z.reshape(-1), "cannot infer -1 in [-1] for 0 elements");
            assertMessage(IllegalArgumentException.class, () -> Tensor.of(new float[1], 0, 4), "shape [0, 4] needs 0 values, got 1");
        }
    }

    @Test
    void layersRefuseAnEmptyInputBeforeAnyNativeCall() {
        try (var linear = new dev.panamadnn.nn.Linear(4, 2, true); Tensor x = Tensor.zeros(0, 4)) {
            assertMessage(IllegalArgumentException.class, () -> linear.forward(x), "expected sizes > 0, got input shape [0, 4]");
        }
    }

    private static void assertMessage(Class<? extends RuntimeException> type, Runnable r, String fragment) {
        RuntimeException e = assertThrows(type, r::run);
        assertTrue(e.getMessage().contains(fragment), () -> "expected '" + fragment + "' in: " + e.getMessage());
    }

    /** Another thread's confined arena: each accessor names the tensor and says why (was the JDK's bare WrongThreadException). */
    @Test
    void accessorsOnAnotherThreadsConfinedArenaNameTheTensor() throws Exception {
        try (Arena confined = Arena.ofConfined()) {
            Tensor t = Tensor.allocate(confined, DataType.F32, 2, 3);
            t.setFloat(1.5f, 1, 2);
            java.util.List<String> messages = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            Thread other = new Thread(() -> {
                for (Runnable access : new Runnable[] {() -> t.getFloat(1, 2), () -> t.setFloat(2f, 0, 0), t::toFloatArray}) {
                    try {
                        access.run();
                        messages.add("no exception");
                    } catch (RuntimeException e) {
                        messages.add(e.getClass().getSimpleName() + ": " + e.getMessage());
                    }
                }
            });
            other.start();
            other.join();
            assertEquals(3, messages.size(), messages.toString());
            for (String m : messages) {
                assertTrue(m.startsWith("IllegalStateException: Tensor[2, 3].") && m.contains("confined arena of another thread"), m);
            }
            assertEquals(1.5f, t.getFloat(1, 2), "the owner still reads it, unchanged");
            assertEquals(0f, t.getFloat(0, 0));
        }
    }
}
