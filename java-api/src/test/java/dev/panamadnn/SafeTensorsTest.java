package dev.panamadnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SafeTensors: save/open round trips, the API around one file, ownership. */
class SafeTensorsTest {
    @TempDir
    Path dir;

    static Tensor random(Random rng, long... shape) {
        long n = 1;
        for (long d : shape) n *= d;
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = (float) rng.nextGaussian();
        return Tensor.of(v, shape);
    }

    @Test
    void roundTripPreservesValuesShapesDtypesAndMetadata() throws IOException {
        Random rng = new Random(42);
        Path file = dir.resolve("model.safetensors");
        try (Arena arena = Arena.ofConfined();
             Tensor w = random(rng, 4, 3, 2);
             Tensor b = random(rng, 7);
             Tensor s = random(rng)) {                 // rank 0
            Tensor ids = Tensor.allocate(arena, DataType.I64, 3);
            for (int i = 0; i < 3; i++) ids.segment().setAtIndex(ValueLayout.JAVA_LONG, i, Long.MIN_VALUE + 7L * i);
            Tensor half = Tensor.allocate(arena, DataType.BF16, 2, 2);
            for (int i = 0; i < 4; i++) half.segment().setAtIndex(ValueLayout.JAVA_SHORT, i, (short) (0x3f80 + i));
            Map<String, String> meta = Map.of("format", "pt", "quote\"and\\slash", "é✓\n\u0001");
            SafeTensors.save(file, Map.of("w", w, "b", b, "s", s, "ids", ids, "half", half), meta);

            try (SafeTensors st = SafeTensors.open(file)) {
                assertEquals(List.of("b", "half", "ids", "s", "w"), List.copyOf(st.names()));
                assertEquals(meta, st.metadata());
                assertArrayEquals(new long[] {4, 3, 2}, st.shape("w"));
                assertArrayEquals(new long[] {}, st.shape("s"));
                assertEquals(DataType.I64, st.dtype("ids"));
                assertEquals(DataType.BF16, st.dtype("half"));
                assertArrayEquals(w.toFloatArray(), st.get("w").toFloatArray());
                assertArrayEquals(b.toFloatArray(), st.get("b").toFloatArray());
                assertEquals(s.toFloatArray()[0], st.get("s").getFloat());
                assertEquals(-1L, ids.segment().mismatch(st.get("ids").segment()), "i64 bytes differ");
                assertEquals(-1L, half.segment().mismatch(st.get("half").segment()), "bf16 bytes differ");
            }
        }
    }

    @Test
    void saveWritesStridedViewsRowMajor() throws IOException {
        Path file = dir.resolve("view.safetensors");
        float[] iota = new float[24];
        for (int i = 0; i < iota.length; i++) iota[i] = i;
        try (Tensor t = Tensor.of(iota, 2, 3, 4)) {
            Tensor middle = t.slice(1, 1, 3).slice(2, 1, 3);              // [2,2,2], strides [12,4,1]
            Tensor column = t.reshape(6, 4).slice(1, 3, 4);               // [6,1], strides [4,1]
            SafeTensors.save(file, Map.of("middle", middle, "column", column), null);
            try (SafeTensors st = SafeTensors.open(file)) {
                assertArrayEquals(new long[] {2, 2, 2}, st.shape("middle"));
                assertArrayEquals(new float[] {5, 6, 9, 10, 17, 18, 21, 22}, st.get("middle").toFloatArray());
                assertArrayEquals(new float[] {3, 7, 11, 15, 19, 23}, st.get("column").toFloatArray());
            }
        }
    }

    @Test
    void savedLayoutIsSortedPaddedAndContiguous() throws IOException {
        Path file = dir.resolve("layout.safetensors");
        try (Tensor a = Tensor.of(new float[] {1, 2, 3}, 3); Tensor z = Tensor.of(new float[] {4}, 1)) {
            SafeTensors.save(file, Map.of("z", z, "a", a), Map.of("k", "v"));
        }
        byte[] bytes = Files.readAllBytes(file);
        long n = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getLong(0);
        assertEquals(0, (8 + n) % 8, "the data area must start 8-byte aligned, header length " + n);
        String header = new String(bytes, 8, (int) n, StandardCharsets.UTF_8);
        assertEquals("{\"__metadata__\":{\"k\":\"v\"},"
                + "\"a\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,12]},"
                + "\"z\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[12,16]}}", header.stripTrailing());
        assertTrue(header.substring(header.stripTrailing().length()).chars().allMatch(c -> c == ' '), "padding must be spaces");
        assertEquals(8 + n + 16, bytes.length);
        assertEquals(4f, ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN).getFloat((int) (8 + n + 12)));
    }

    @Test
    void saveReplacesAnOpenFileAtomicallyAndLeavesNoTemporaryFile() throws IOException {
        Path file = dir.resolve("w.safetensors");
        try (Tensor one = Tensor.of(new float[] {1}, 1); Tensor two = Tensor.of(new float[] {2, 2}, 2)) {
            SafeTensors.save(file, Map.of("x", one), Map.of());
            try (SafeTensors old = SafeTensors.open(file)) {
                Tensor x = old.get("x");
                SafeTensors.save(file, Map.of("x", two), Map.of());
                assertEquals(1f, x.getFloat(0), "a mapped reader keeps the old contents");
            }
            try (SafeTensors now = SafeTensors.open(file); Stream<Path> files = Files.list(dir)) {
                assertArrayEquals(new float[] {2, 2}, now.get("x").toFloatArray());
                assertEquals(List.of(file), files.toList(), "temporary files left behind");
            }
        }
    }

    @Test
    void getIsAZeroCopyReadOnlyViewOfTheMapping() throws IOException {
        Path file = dir.resolve("m.safetensors");
        try (Tensor t = Tensor.of(new float[] {1, 2}, 2)) {
            SafeTensors.save(file, Map.of("t", t), Map.of());
        }
        try (SafeTensors st = SafeTensors.open(file)) {
            MemorySegment s = st.get("t").segment();
            assertTrue(s.isMapped(), "expected a slice of the file mapping");
            assertTrue(s.isReadOnly());
            assertThrows(IllegalArgumentException.class, () -> st.get("t").setFloat(9f, 0), "the JDK rejects writes to read-only segments");
        }
    }

    @Test
    void unknownNameListsAvailableNames() throws IOException {
        Path file = dir.resolve("n.safetensors");
        try (Tensor t = Tensor.of(new float[] {1}, 1)) {
            SafeTensors.save(file, Map.of("encoder.weight", t, "encoder.bias", t), Map.of());
        }
        try (SafeTensors st = SafeTensors.open(file)) {
            var e = assertThrows(IllegalArgumentException.class, () -> st.get("decoder.weight"));
            assertTrue(e.getMessage().contains("'decoder.weight'") && e.getMessage().contains("encoder.bias, encoder.weight"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> st.shape("nope"));
        }
    }

    @Test
    void tensorFromClosedFileThrowsIllegalStateException() throws IOException {
        Path file = dir.resolve("c.safetensors");
        try (Tensor t = Tensor.of(new float[] {1, 2, 3}, 3)) {
            SafeTensors.save(file, Map.of("t", t), Map.of());
        }
        SafeTensors st = SafeTensors.open(file);
        Tensor t = st.get("t");
        st.close();
        st.close();                                                    // idempotent
        assertThrows(IllegalStateException.class, () -> t.getFloat(0));
        assertThrows(IllegalStateException.class, t::toFloatArray);
        var e = assertThrows(IllegalStateException.class, () -> st.get("t"));
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
        assertArrayEquals(new long[] {3}, st.shape("t"), "header queries work after close");
    }

    @Test
    void zeroSizeTensorsReadAsEmptyTensorsAndSaveBack() throws IOException {
        // As the format allows and PyTorch's safetensors writes them: a dim of 0, data_offsets [k, k]
        Path file = dir.resolve("zero.safetensors");
        String header = "{\"empty\":{\"dtype\":\"F32\",\"shape\":[0,3],\"data_offsets\":[0,0]},"
                + "\"ids\":{\"dtype\":\"I64\",\"shape\":[2,0],\"data_offsets\":[4,4]},"
                + "\"x\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
        Files.write(file, SafeTensorsMalformedTest.file(header, 4));
        Path copy = dir.resolve("zero-copy.safetensors");
        try (SafeTensors st = SafeTensors.open(file)) {
            assertArrayEquals(new long[] {0, 3}, st.shape("empty"));
            Tensor empty = st.get("empty"), ids = st.get("ids");
            assertArrayEquals(new long[] {0, 3}, empty.shape());
            assertEquals(0, empty.numel());
            assertEquals(0, empty.toFloatArray().length);
            assertEquals(DataType.I64, ids.dtype());
            assertArrayEquals(new long[] {2, 0}, ids.shape());
            assertEquals(0f, st.get("x").getFloat(0));
            SafeTensors.save(copy, Map.of("empty", empty, "ids", ids, "x", st.get("x")), null);
        }
        try (SafeTensors st = SafeTensors.open(copy)) {
            assertEquals(java.util.List.of("empty", "ids", "x"), java.util.List.copyOf(st.names()));
            assertArrayEquals(new long[] {0, 3}, st.get("empty").shape());
            assertArrayEquals(new long[] {2, 0}, st.get("ids").shape());
            assertEquals(0f, st.get("x").getFloat(0));
        }
    }

    @Test
    void saveRejectsReservedNameNullsAndFreedTensors() {
        Path file = dir.resolve("bad.safetensors");
        Tensor freed = Tensor.of(new float[] {1}, 1);
        freed.close();
        try (Tensor t = Tensor.of(new float[] {1}, 1)) {
            var e = assertThrows(IllegalArgumentException.class, () -> SafeTensors.save(file, Map.of("__metadata__", t), null));
            assertTrue(e.getMessage().contains("__metadata__"), e.getMessage());
            Map<String, String> nullValue = new LinkedHashMap<>();
            nullValue.put("k", null);
            assertThrows(IllegalArgumentException.class, () -> SafeTensors.save(file, Map.of("t", t), nullValue));
            assertThrows(IllegalStateException.class, () -> SafeTensors.save(file, Map.of("t", freed), null));
        }
        assertTrue(Files.notExists(file), "nothing may be written on bad input");
    }
}
