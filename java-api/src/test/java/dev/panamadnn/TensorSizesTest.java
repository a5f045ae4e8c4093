package dev.panamadnn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.compile.CompiledModel;
import dev.panamadnn.nn.ReLU;
import dev.panamadnn.nn.Sequential;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sizes are validated in bytes, before any allocation or native call (issue 11, defects 5 and 6):
 * every refusal is an IllegalArgumentException naming the operation, the shape and the limit
 * (2^48 bytes per tensor, dev.panamadnn.internal.Sizes).
 */
class TensorSizesTest {
    private static void assertMentions(Throwable e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "expected '" + p + "' in: " + e.getMessage());
    }

    @Test
    void zerosOfMoreElementsThanBytesCanCountIsRefusedNotTruncated() {
        // Before: a 0-byte tensor of 2^62 elements, and a 4-byte one of 2^62 + 1.
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(1L << 62));
        assertMentions(e, "Tensor.zeros", "[4611686018427387904]", "281474976710656");
        e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros((1L << 62) + 1));
        assertMentions(e, "Tensor.zeros", "281474976710656");
    }

    @Test
    void zerosWhoseBytesPassTheLimitIsRefused() {
        // 2^46 elements are 2^48 bytes: the limit itself is fine to describe, one more element is not.
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros((1L << 46) + 1));
        assertMentions(e, "Tensor.zeros", "4-byte elements", "281474976710656");
    }

    @Test
    void shapesWhoseElementCountOverflowsALongAreIllegalArguments() {
        // Before: a bare ArithmeticException("long overflow").
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.zeros(Long.MAX_VALUE, 2));
        assertMentions(e, "Tensor.zeros", "18446744073709551614");
        try (Arena arena = Arena.ofConfined()) {
            assertThrows(IllegalArgumentException.class, () -> Tensor.allocate(arena, DataType.I64, 1L << 46));
        }
    }

    @Test
    void wrapRefusesAShapeWhoseBytesWrapToTheSegmentSize() {
        // Before: 2^62 f32 elements "need" 2^64 = 0 bytes, which NULL has.
        var e = assertThrows(IllegalArgumentException.class, () -> Tensor.wrap(MemorySegment.NULL, DataType.F32, 1L << 62, 1));
        assertMentions(e, "Tensor.wrap", "281474976710656");
    }

    @Test
    void reshapeToAShapeWhoseProductOverflowsIsAnIllegalArgument() {
        try (Tensor t = Tensor.zeros(4)) {
            // Before: ArithmeticException from the product 2^64 (which also wrapped to 0 while inferring).
            var e = assertThrows(IllegalArgumentException.class, () -> t.reshape(1L << 32, 1L << 32));
            assertMentions(e, "reshape", "more than 2^48", "4 (shape [4])");
            e = assertThrows(IllegalArgumentException.class, () -> t.reshape(1L << 32, 1L << 32, -1));
            assertMentions(e, "cannot infer -1");
            assertEquals(2, t.reshape(2, -1).dim(1));
        }
    }

    @Test
    void anAllocationThatDoesNotFitSaysWhereTheLimitComesFrom() {
        // 2^47 bytes pass the size check (a valid size) but exceed any MaxDirectMemorySize here:
        // the JDK's "Cannot reserve ... direct buffer memory" now comes with what and how to fix it.
        var e = assertThrows(OutOfMemoryError.class, () -> Tensor.zeros(1L << 45));
        assertMentions(e, "Tensor.zeros", "f32[35184372088832]", "MaxDirectMemorySize");
    }

    @Test
    void compileRefusesAnInputOverTheLimitBeforeOneDnn() {
        try (Sequential model = new Sequential(new ReLU())) {
            var e = assertThrows(IllegalArgumentException.class, () -> CompiledModel.compile(model, 1L << 46, 4));
            assertMentions(e, "CompiledModel.compile", "281474976710656");
            // Inside the byte limit but refused by oneDNN 3.13's descriptor checks: an argument error, not a DnnlException.
            assertThrows(IllegalArgumentException.class, () -> CompiledModel.compile(model, 1L << 40, 4));
        }
    }

    @Test
    void saveRefusesAHeaderThatOpenWouldRefuse(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("big-header.safetensors");
        try (Tensor t = Tensor.zeros(1)) {
            String huge = "x".repeat(100_000_000);   // the header limit readers enforce is 100,000,000 bytes
            var e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.save(file, Map.of("t", t), Map.of("note", huge)));
            assertMentions(e, "SafeTensors.save", "100000000");
        }
        assertTrue(Files.notExists(file), "nothing written");
    }
}
