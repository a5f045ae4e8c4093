package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.ChildJvm;
import dev.panamadnn.Tensor;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A convolution whose padding is applied explicitly before oneDNN runs (reflect, replicate, circular, or zeros where a
 * window lies wholly in the padding) used to copy the input into a Java array and pad it into a second one, on the
 * native path too: {@code scripts/fuzz --long --seed 5003 --threads 2 --family Conv2d --case 1573} (a 282 MB input,
 * the fuzzer's child JVMs have 512 MB of heap) ended in OutOfMemoryError. The native path now pads from native memory
 * into native memory. Checked in a child JVM with a 64 MB heap: 262,144 copies of one 8x8 image (a 67 MB input, a 105
 * MB padded copy, a 67 MB output), reflect padding 1, a 3x3 kernel, every output against PyTorch's for the one image;
 * then the same images as a strided view (8 of every 9 columns), whose contiguous copy for the native kernels
 * ({@code Layer.nativeReady}) was a Java array too.
 */
class LargePaddedInputTest {
    static final int IMAGES = 262_144;

    /**
     * PyTorch 1.13: {@code x = torch.tensor([[((i*8+j)%7-3)/4 for j in range(8)] for i in range(8)]).reshape(1, 1, 8, 8)},
     * {@code m = nn.Conv2d(1, 1, 3, padding=1, padding_mode='reflect')} with weight {@code (torch.arange(9.)-4)/8} and
     * bias {@code 0.125}: {@code m(x).flatten()}.
     */
    static final float[] PYTORCH = {0.125f, 0.3125f, 0.3125f, 0.3125f, 0.3125f, -0.125f, -0.34375f, 0.125f, 0.6875f, 0.875f,
        0.875f, 0.875f, 0.0f, -0.875f, -0.875f, -0.625f, 0.6875f, 0.875f, 0.875f, 0.0f, -0.875f, -0.875f, 0.0f, 0.6875f, 0.6875f,
        0.875f, 0.0f, -0.875f, -0.875f, 0.0f, 0.875f, 0.6875f, 0.6875f, 0.0f, -0.875f, -0.875f, 0.0f, 0.875f, 0.875f, 0.6875f,
        -0.625f, -0.875f, -0.875f, 0.0f, 0.875f, 0.875f, 0.875f, 0.6875f, -1.28125f, -0.875f, 0.0f, 0.875f, 0.875f, 0.875f, 0.0f,
        0.03125f, 0.125f, -0.125f, 0.3125f, 0.3125f, 0.3125f, 0.3125f, 0.09375f, 0.125f};

    /** The child: a 64 MB heap; the input is written element by element into native memory. */
    public static final class Child {
        public static void main(String[] args) {
            try (Conv2d conv = Conv2d.builder(1, 1, 3).padding(1).paddingMode(PaddingMode.REFLECT).build()) {
                for (int k = 0; k < 9; k++) conv.weight().segment().setAtIndex(ValueLayout.JAVA_FLOAT, k, (k - 4) / 8f);
                conv.bias().segment().setAtIndex(ValueLayout.JAVA_FLOAT, 0, 0.125f);
                try (Tensor x = images(8); Tensor y = conv.forward(x)) {
                    check(y);
                }
                System.out.println("all " + IMAGES + " images equal to PyTorch");
                // A strided view (each 8-wide row inside a 9-wide one, 75 MB): its contiguous copy for the native kernels
                // was a Java array of the input's size until 2026-12-06; now it is made in native memory.
                try (Tensor wide = images(9)) {
                    Tensor view = wide.slice(3, 0, 8);
                    if (view.isContiguous()) throw new AssertionError("the view should be strided");
                    try (Tensor y = conv.forward(view)) {
                        check(y);
                    }
                }
                System.out.println("all " + IMAGES + " images of the strided view equal to PyTorch");
            }
        }

        /** {@code [IMAGES, 1, 8, rowWidth]} whose first 8 columns hold the image of {@link #PYTORCH}, written into native memory. */
        private static Tensor images(int rowWidth) {
            Tensor t = Tensor.zeros(IMAGES, 1, 8, rowWidth);
            MemorySegment s = t.segment();
            for (long n = 0; n < IMAGES; n++)
                for (int i = 0; i < 64; i++) s.setAtIndex(ValueLayout.JAVA_FLOAT, (n * 8 + i / 8) * rowWidth + i % 8, ((i % 7) - 3) / 4f);
            return t;
        }

        private static void check(Tensor y) {
            MemorySegment out = y.segment();
            for (long n = 0; n < IMAGES; n++)
                for (int i = 0; i < 64; i++) {
                    float got = out.getAtIndex(ValueLayout.JAVA_FLOAT, n * 64 + i);
                    if (Math.abs(got - PYTORCH[i]) > 1e-6f) {
                        throw new AssertionError("image " + n + ", output " + i + ": " + got + ", PyTorch gives " + PYTORCH[i]);
                    }
                }
        }
    }

    @Test
    void anExplicitlyPaddedInputLargerThanTheHeapRunsNatively() throws Exception {
        // The heap stays at 64 MB: no copy of the input may live there. oneDNN's scratchpads are the JDK's native memory,
        // counted against -XX:MaxDirectMemorySize (by default -Xmx); how much this convolution asks for depends on the CPU's
        // kernel (172 MB for this input on a Xeon with AVX-512 + AMX, oneDNN 3.13; under 64 MB on an AVX2-only EPYC), so the
        // direct-memory limit is set on its own.
        String out = ChildJvm.run(List.of("-Xmx64m", "-XX:MaxDirectMemorySize=1g", "-Dpanamadnn.threads=1"), Child.class, 120);
        assertTrue(out.contains("all " + IMAGES + " images equal to PyTorch"), out);
        assertTrue(out.contains("all " + IMAGES + " images of the strided view equal to PyTorch"), out);
    }
}
