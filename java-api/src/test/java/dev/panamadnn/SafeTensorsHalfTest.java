package dev.panamadnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * BF16, F16 and F64 checkpoints loading into F32 parameters. safetensors/half.safetensors and
 * half.expected.safetensors were written by scripts/goldens/safetensors_half.py: the stored
 * tensors and torch's {@code .float()} of each (every f16 bit pattern, bf16 and f64 edge values).
 * The comparison is bit for bit, NaN payloads included: the conversion is exact, so no tolerance.
 */
class SafeTensorsHalfTest {
    @TempDir
    Path dir;

    /** Parameters named and shaped like half.safetensors' tensors; F32 unless a test says otherwise. */
    static final class Params implements Module {
        final Map<String, Tensor> params = new LinkedHashMap<>();

        Params(Tensor f16All, Tensor bf16Edges, Tensor f64Edges) {
            params.put("f16.all", f16All);
            params.put("bf16.edges", bf16Edges);
            params.put("f64.edges", f64Edges);
        }

        static Params zeros() {
            return new Params(Tensor.zeros(256, 256), Tensor.zeros(4, 64), Tensor.zeros(8, 32));
        }

        @Override
        public Tensor forward(Tensor input) {
            throw new UnsupportedOperationException("a parameter holder");
        }

        @Override
        public Map<String, Tensor> parameters() {
            return params;
        }

        @Override
        public void close() {
            params.values().forEach(Tensor::close);
        }
    }

    @Test
    void storedDtypesAreWhatTheScriptWrote() throws Exception {
        try (SafeTensors st = SafeTensors.open(resource("half.safetensors"))) {
            assertEquals(DataType.F16, st.dtype("f16.all"));
            assertEquals(DataType.BF16, st.dtype("bf16.edges"));
            assertEquals(DataType.F64, st.dtype("f64.edges"));
        }
    }

    @Test
    void halfAndDoubleLoadAsTorchFloatBitForBit() throws Exception {
        try (Params loaded = Params.zeros(); Params expected = Params.zeros()) {
            SafeTensors.load(loaded, resource("half.safetensors"));
            SafeTensors.load(expected, resource("half.expected.safetensors"));   // F32 into F32: a plain copy
            for (String name : expected.params.keySet()) {
                assertSameBits(name, expected.params.get(name), loaded.params.get(name));
            }
        }
    }

    @Test
    void aStridedParameterIsFilledThroughItsStrides() throws Exception {
        try (Tensor wide = Tensor.zeros(8, 40); Params loaded = new Params(Tensor.zeros(256, 256), Tensor.zeros(4, 64),
                wide.slice(1, 4, 36)); Params expected = Params.zeros()) {
            assertTrue(!loaded.params.get("f64.edges").isContiguous(), "the test needs a non-contiguous parameter");
            SafeTensors.load(loaded, resource("half.safetensors"));
            SafeTensors.load(expected, resource("half.expected.safetensors"));
            assertSameBits("f64.edges", expected.params.get("f64.edges"), loaded.params.get("f64.edges"));
            for (int r = 0; r < 8; r++) {
                for (int c : new int[] {0, 1, 2, 3, 36, 37, 38, 39}) {
                    assertEquals(0, Float.floatToRawIntBits(wide.getFloat(r, c)), "outside the view, [" + r + ", " + c + "]");
                }
            }
        }
    }

    @Test
    void otherDtypesStillMismatchAndNothingIsWritten() throws IOException {
        Path file = dir.resolve("mixed.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            Tensor f16 = Tensor.allocate(arena, DataType.F16, 256, 256);
            f16.segment().fill((byte) 0x3C);                   // 0x3C3C = 1.0546875 in f16: a non-zero value
            SafeTensors.save(file, Map.of("f16.all", f16, "bf16.edges", Tensor.allocate(arena, DataType.I32, 4, 64),
                    "f64.edges", Tensor.allocate(arena, DataType.I64, 8, 32)), null);
        }
        try (Params m = Params.zeros()) {
            var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.load(m, file));
            String msg = e.getMessage();
            assertTrue(msg.contains("bf16.edges: dtype expected F32 (or BF16, F16, F64, converted), found I32"), msg);
            assertTrue(msg.contains("f64.edges: dtype expected F32 (or BF16, F16, F64, converted), found I64"), msg);
            assertTrue(!msg.contains("f16.all"), "the convertible tensor is not a mismatch: " + msg);
            assertArrayEquals(new float[256 * 256], m.params.get("f16.all").toFloatArray(), "a failed load must not write anything");
        }
    }

    @Test
    void aHalfTensorDoesNotLoadIntoANonF32Parameter() throws IOException {
        Path file = dir.resolve("f16.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            SafeTensors.save(file, Map.of("f16.all", Tensor.allocate(arena, DataType.F16, 256, 256),
                    "bf16.edges", Tensor.allocate(arena, DataType.BF16, 4, 64), "f64.edges", Tensor.allocate(arena, DataType.F64, 8, 32)), null);
            Params m = new Params(Tensor.allocate(arena, DataType.I32, 256, 256), Tensor.allocate(arena, DataType.BF16, 4, 64),
                    Tensor.allocate(arena, DataType.F32, 8, 32));
            var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.load(m, file));
            assertTrue(e.getMessage().contains("f16.all: dtype expected I32, found F16"), e.getMessage());
            assertTrue(!e.getMessage().contains("bf16.edges") && !e.getMessage().contains("f64.edges"), e.getMessage());
        }
    }

    private static void assertSameBits(String name, Tensor expected, Tensor actual) {
        float[] e = expected.toFloatArray();
        float[] a = actual.toFloatArray();
        assertEquals(e.length, a.length, name);
        int bad = 0;
        StringBuilder first = new StringBuilder();
        for (int i = 0; i < e.length; i++) {
            int eb = Float.floatToRawIntBits(e[i]);
            int ab = Float.floatToRawIntBits(a[i]);
            if (eb != ab && bad++ < 5) {
                first.append(String.format("%n  %s[%d]: torch 0x%08x (%s), loaded 0x%08x (%s)", name, i, eb, e[i], ab, a[i]));
            }
        }
        if (bad > 0) fail(bad + " of " + e.length + " elements differ from torch's .float():" + first);
    }

    private static Path resource(String name) throws URISyntaxException {
        var url = SafeTensorsHalfTest.class.getResource("/safetensors/" + name);
        if (url == null) throw new IllegalStateException("missing test resource safetensors/" + name
                + " (scripts/goldens/safetensors_half.py writes it)");
        return Path.of(url.toURI());
    }
}
