package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.DataType;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import org.junit.jupiter.api.Test;

/**
 * What {@code forwardInto} refuses, before any native call, and the in-place and copy-back cases
 * it accepts. Each refusal names the layer and the expected and given value; after a refusal the
 * caller's out is untouched.
 */
class ForwardIntoValidationTest {
    private static Conv2d conv() {
        return Conv2d.builder(2, 3, 3).padding(1).build();
    }

    private static Tensor input() {
        float[] v = new float[2 * 2 * 4 * 4];
        for (int i = 0; i < v.length; i++) v[i] = (i % 7) - 3;
        return Tensor.of(v, 2, 2, 4, 4);
    }

    @Test
    void wrongShapeIsRefusedNamingBoth() {
        try (Conv2d c = conv(); Tensor x = input(); Tensor out = Tensor.zeros(2, 3, 4, 5)) {
            var e = assertThrows(IllegalArgumentException.class, () -> c.forwardInto(x, out));
            assertTrue(e.getMessage().contains("expected out of shape [2, 3, 4, 4] for input [2, 2, 4, 4], got [2, 3, 4, 5]"), e.getMessage());
            assertTrue(e.getMessage().startsWith("Conv2d("), e.getMessage());
        }
    }

    @Test
    void wrongDtypeIsRefused() {
        try (Conv2d c = conv(); Tensor x = input(); Arena arena = Arena.ofConfined()) {
            Tensor out = Tensor.allocate(arena, DataType.I32, 2, 3, 4, 4);
            var e = assertThrows(IllegalArgumentException.class, () -> c.forwardInto(x, out));
            assertTrue(e.getMessage().contains("expected an F32 out, got I32"), e.getMessage());
        }
    }

    @Test
    void nullAndFreedOutAreRefused() {
        try (Conv2d c = conv(); Tensor x = input()) {
            var e = assertThrows(IllegalArgumentException.class, () -> c.forwardInto(x, null));
            assertTrue(e.getMessage().contains("out must not be null"), e.getMessage());
            Tensor out = Tensor.zeros(2, 3, 4, 4);
            out.close();
            var s = assertThrows(IllegalStateException.class, () -> c.forwardInto(x, out));
            assertTrue(s.getMessage().contains("expected a live out tensor"), s.getMessage());
        }
    }

    @Test
    void readOnlyOutIsRefused() {
        try (Conv2d c = conv(); Tensor x = input(); Tensor backing = Tensor.zeros(2, 3, 4, 4)) {
            Tensor out = Tensor.wrap(backing.segment().asReadOnly(), DataType.F32, 2, 3, 4, 4);
            var e = assertThrows(IllegalArgumentException.class, () -> c.forwardInto(x, out));
            assertTrue(e.getMessage().contains("expected a writable out"), e.getMessage());
        }
    }

    @Test
    void stridedOutIsRefused() {
        try (Conv2d c = conv(); Tensor x = input(); Tensor wide = Tensor.zeros(2, 3, 4, 8)) {
            Tensor out = wide.slice(3, 0, 4);
            var e = assertThrows(IllegalArgumentException.class, () -> c.forwardInto(x, out));
            assertTrue(e.getMessage().contains("expected a contiguous out"), e.getMessage());
        }
    }

    @Test
    void outOverlappingTheInputIsRefusedWhereTheLayerCannotRunInPlace() {
        try (MaxPool2d pool = new MaxPool2d(1, 1, 0); Tensor x = input()) {   // out shape == in shape: x itself fits
            var e = assertThrows(IllegalArgumentException.class, () -> pool.forwardInto(x, x));
            assertTrue(e.getMessage().contains("overlaps the input") && e.getMessage().contains("cannot run in place"), e.getMessage());
        }
    }

    @Test
    void anActivationRunsInPlaceButNotOnAPartialOverlap() {
        float[] v = {-2, -1, 0, 1, 2, 3, -4, 5};
        try (ReLU relu = new ReLU(); Tensor x = Tensor.of(v, 8)) {
            relu.forwardInto(x, x);
            assertArrayEquals(new float[] {0, 0, 0, 1, 2, 3, 0, 5}, x.toFloatArray(), 0f);   // oneDNN gives -0.0 for negatives (docs/numerics.md)
            Tensor head = x.slice(0, 0, 4), shifted = x.slice(0, 2, 6);
            var e = assertThrows(IllegalArgumentException.class, () -> relu.forwardInto(head, shifted));
            assertTrue(e.getMessage().contains("runs in place only when out is exactly the input's memory"), e.getMessage());
        }
    }

    @Test
    void aHeapOutReceivesACopy() {
        float[] heap = new float[2 * 3 * 4 * 4];
        java.util.Arrays.fill(heap, Float.NaN);
        try (Conv2d c = conv(); Tensor x = input(); Tensor expected = Tensor.zeros(2, 3, 4, 4)) {
            c.forwardInto(x, expected);                         // off-heap, written by the kernel directly
            Tensor out = Tensor.wrap(MemorySegment.ofArray(heap), DataType.F32, 2, 3, 4, 4);
            c.forwardInto(x, out);
            assertArrayEquals(expected.toFloatArray(), heap, "a heap out gets the same values, by copy");
        }
    }

    @Test
    void aClosedLayerIsRefused() {
        Conv2d c = conv();
        c.close();
        try (Tensor x = input(); Tensor out = Tensor.zeros(2, 3, 4, 4)) {
            var e = assertThrows(IllegalStateException.class, () -> c.forwardInto(x, out));
            assertTrue(e.getMessage().contains("is closed"), e.getMessage());
            assertEquals(0f, out.getFloat(0, 0, 0, 0));
        }
    }
}
