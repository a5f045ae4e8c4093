package dev.panamadnn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Strict state_dict loading into a Module. */
class SafeTensorsLoadTest {
    @TempDir
    Path dir;

    /** A stand-in for Linear(3, 2): weight [2,3] and bias [2], forward y = x W^T + b in plain loops. */
    static final class TinyLinear implements Module {
        final Tensor weight = Tensor.zeros(2, 3);
        final Tensor bias = Tensor.zeros(2);

        @Override
        public Tensor forward(Tensor input) {
            float[] x = input.toFloatArray();
            float[] w = weight.toFloatArray();
            float[] y = new float[2];
            for (int o = 0; o < 2; o++) {
                y[o] = bias.getFloat(o);
                for (int i = 0; i < 3; i++) y[o] += w[o * 3 + i] * x[i];
            }
            return Tensor.of(y, 2);
        }

        @Override
        public Map<String, Tensor> parameters() {
            Map<String, Tensor> p = new LinkedHashMap<>();
            p.put("weight", weight);
            p.put("bias", bias);
            return p;
        }

        @Override
        public void close() {
            weight.close();
            bias.close();
        }
    }

    @Test
    void everyMismatchIsReportedInOneExceptionAndNothingIsCopied() throws IOException {
        Path file = dir.resolve("wrong.safetensors");
        try (Tensor w = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2); Tensor extra = Tensor.of(new float[] {7}, 1)) {
            SafeTensors.save(file, Map.of("weight", w, "running_mean", extra), null);
        }
        try (TinyLinear m = new TinyLinear()) {
            var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.load(m, file));
            String msg = e.getMessage();
            assertTrue(msg.contains("missing keys (1): bias"), msg);
            assertTrue(msg.contains("unexpected keys (1): running_mean"), msg);
            assertTrue(msg.contains("weight: shape expected [2, 3], found [3, 2]"), msg);
            assertTrue(msg.startsWith(file.toString()), msg);
            assertArrayEquals(new float[6], m.weight.toFloatArray(), "a failed load must not write anything");
        }
    }

    @Test
    void dtypeMismatchIsReported() throws IOException {
        Path file = dir.resolve("i32.safetensors");
        try (Arena arena = Arena.ofConfined(); Tensor b = Tensor.of(new float[] {1, 2}, 2)) {
            SafeTensors.save(file, Map.of("weight", Tensor.allocate(arena, DataType.I32, 2, 3), "bias", b), null);
        }
        try (TinyLinear m = new TinyLinear()) {
            var e = assertThrows(SafeTensorsException.class, () -> SafeTensors.load(m, file));
            assertTrue(e.getMessage().contains("weight: dtype expected F32 (or BF16, F16, F64, converted), found I32"), e.getMessage());
            assertArrayEquals(new float[2], m.bias.toFloatArray(), "a failed load must not write anything");
        }
    }

    @Test
    void matchingFileCopiesEveryValue() throws IOException {
        Path file = dir.resolve("good.safetensors");
        try (Tensor w = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3); Tensor b = Tensor.of(new float[] {0.5f, -0.5f}, 2)) {
            SafeTensors.save(file, Map.of("weight", w, "bias", b), Map.of("format", "pt"));
        }
        try (TinyLinear m = new TinyLinear()) {
            SafeTensors.load(m, file);
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, m.weight.toFloatArray());
            assertArrayEquals(new float[] {0.5f, -0.5f}, m.bias.toFloatArray());
            try (Tensor x = Tensor.of(new float[] {1, 1, 1}, 3); Tensor y = m.forward(x)) {
                assertArrayEquals(new float[] {6.5f, 14.5f}, y.toFloatArray(), "the loaded copy outlives the closed file");
            }
        }
    }
}
