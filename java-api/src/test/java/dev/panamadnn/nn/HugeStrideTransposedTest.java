package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.ChildJvm;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompiledModel;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * An ungrouped transposed convolution with a stride past {@code ConvOps.MAX_DECONVOLUTION_STRIDE} runs on the reference
 * (oneDNN takes minutes to set it up), and such a layer's output is mostly bias and far larger than its input. The
 * reference used to scatter into a {@code double[]} of the whole output and copy a {@code float[]} of it, 12 bytes of
 * heap per output element: {@code scripts/fuzz --long --seed 4850} (ConvTranspose2d cases 487, 1496, 2770, stride
 * 65536) ended in OutOfMemoryError. It now computes each output element in place in the native output. Checked in a
 * child JVM with a 64 MB heap on a 134 MB output (the old code needed 400 MB of heap), eagerly, through the reference
 * and compiled, against PyTorch's values.
 */
class HugeStrideTransposedTest {
    /** Weights [in 3, out 2, kernel 3]: {@code (torch.arange(18.).reshape(3, 2, 3) - 8) / 10}; bias {@code [0.25, -0.5]}. */
    static float weight(int i) {
        return (i - 8) / 10f;
    }

    static final float[] BIAS = {0.25f, -0.5f};

    /** The input's columns repeat with period 2: {@code x[i, r] = COLUMNS[i][r % 2]}. */
    static final float[][] COLUMNS = {{1.5f, -2.0f}, {0.5f, 3.0f}, {-1.0f, 0.75f}};

    /**
     * PyTorch 1.13: with {@code x = torch.tensor(COLUMNS).reshape(1, 3, 2)},
     * {@code y = F.conv_transpose1d(x, w, b, stride=1025, output_padding=1)}, the windows
     * {@code [y[0, o, r * 1025 + p] for o in range(2) for r in range(2) for p in range(3)]}. Input column r reaches
     * outputs r * stride + p only, whatever the stride (>= the kernel), so these are the windows at stride 65,536 too;
     * every other output is the bias (PyTorch: {@code y[0, :, 500]} and {@code y[0, :, 1028]} give {@code [0.25, -0.5]}).
     */
    static final float[] PYTORCH_WINDOWS = {-1.4500000476837158f, -1.3499999046325684f, -1.25f, 1.5499999523162842f,
        1.7249999046325684f, 1.9000000953674316f, -1.899999976158142f, -1.7999999523162842f, -1.7000000476837158f,
        1.3249999284744263f, 1.5f, 1.6749999523162842f};

    static final int STRIDE = 65536, WIDTH = 256;

    /** The child: a 64 MB heap, an output of 2 x 16,711,684 floats. */
    public static final class Child {
        public static void main(String[] args) {
            float[] x = new float[3 * WIDTH];
            for (int i = 0; i < 3; i++) for (int r = 0; r < WIDTH; r++) x[i * WIDTH + r] = COLUMNS[i][r % 2];
            try (ConvTranspose1d layer = ConvTranspose1d.builder(3, 2, 3).stride(STRIDE).outputPadding(1).build();
                 Tensor in = Tensor.of(x, 1, 3, WIDTH)) {
                for (int i = 0; i < 18; i++) layer.weight().segment().setAtIndex(ValueLayout.JAVA_FLOAT, i, weight(i));
                for (int o = 0; o < 2; o++) layer.bias().segment().setAtIndex(ValueLayout.JAVA_FLOAT, o, BIAS[o]);
                try (Tensor y = layer.forward(in)) {
                    check("eager", y);
                }
                try (Tensor y = layer.forward(in, Backend.REFERENCE)) {
                    check("reference", y);
                }
                try (CompiledModel c = CompiledModel.compile(new Sequential(layer), 1, 3, WIDTH); Tensor y = c.run(in)) {
                    check("compiled", y);
                }
            }
        }

        private static void check(String what, Tensor y) {
            long width = (WIDTH - 1L) * STRIDE + 3 + 1;
            if (y.shape().length != 3 || y.shape()[1] != 2 || y.shape()[2] != width) {
                throw new AssertionError(what + ": shape " + java.util.Arrays.toString(y.shape()) + ", want [1, 2, " + width + "]");
            }
            MemorySegment s = y.segment();
            long windows = 0, biases = 0;
            for (int o = 0; o < 2; o++) {
                for (long k = 0; k < width; k++) {
                    float got = s.getAtIndex(ValueLayout.JAVA_FLOAT, o * width + k);
                    long r = k / STRIDE, p = k % STRIDE;
                    float want;
                    if (p < 3 && r < WIDTH) {
                        want = PYTORCH_WINDOWS[(int) (o * 6 + (r % 2) * 3 + p)];
                        windows++;
                    } else {
                        want = BIAS[o];
                        biases++;
                    }
                    if (Math.abs(got - want) > 1e-6f * Math.max(1, Math.abs(want))) {
                        throw new AssertionError(what + ": y[0, " + o + ", " + k + "] = " + got + ", PyTorch gives " + want);
                    }
                }
            }
            System.out.println(what + " equal to PyTorch (" + windows + " window outputs, " + biases + " bias-only)");
        }
    }

    @Test
    void anOutputFarLargerThanTheHeapIsComputedInTheNativeOutput() throws Exception {
        String out = ChildJvm.run(List.of("-Xmx64m", "-Dpanamadnn.threads=1"), Child.class, 120);
        for (String what : new String[] {"eager", "reference", "compiled"}) {
            assertTrue(out.contains(what + " equal to PyTorch (1536 window outputs, 33421832 bias-only)"), out);
        }
    }
}
