package dev.panamadnn.nn;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.ChildJvm;
import dev.panamadnn.Tensor;
import dev.panamadnn.compile.CompiledModel;
import java.lang.foreign.ValueLayout;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A convolution whose kernel is far longer than its input (a wide convolution, kernel 65,536 over 3 inputs, padding
 * 65,535: nearly every tap of every window lies in the padding) answers in milliseconds with PyTorch's values, eagerly,
 * through the reference and compiled. With oneDNN's AVX2 kernels only (an AMD EPYC VM without AVX-512, session 49)
 * oneDNN offers nothing but its reference kernel for it ({@code ref:any}, which visits every tap: 30 s at kernel
 * 16,384, past the CI fuzzer's 60 s limit at 65,536, its WideConv1d case 7); the layer now runs on the Java reference,
 * which visits only the taps inside the input. In a child JVM with a time limit, so a hang fails this test.
 */
class HugeKernelConvTest {
    static final int M = 65536;

    /** {@code w[o, i, k] = (((3k + 5o + 7i) % 11) - 5) / 8} (exact in float), bias {@code [0.125, -0.25]}. */
    static float weight(int o, int i, int k) {
        return (((3 * k + 5 * o + 7 * i) % 11) - 5) / 8f;
    }

    static final float[] INPUT = {1.5f, -2.0f, 0.25f, 0.5f, 3.0f, -1.0f};
    static final int[] POSITIONS = {0, 1, 2, 3, 100, 40000, 65535, 65536, 65537};

    /**
     * PyTorch 1.13 at {@code POSITIONS} of channels 0 and 1. {@code F.conv1d(x, w, b, padding=65535)} asks for a 34 GB
     * im2col buffer there, so the values come from the same full correlation written as a transposed convolution,
     * {@code F.conv_transpose1d(x, w.flip(-1).transpose(0, 1), b)} (the two agree exactly at kernel 16,384, checked).
     */
    static final float[] PYTORCH = {-0.1875f, 3.375f, -1.09375f, -1.59375f, 3.875f, -1.75f, 2.09375f, 1.4375f, -0.28125f,
        0.0f, -2.0f, -2.125f, 3.21875f, -1.96875f, -1.75f, -2.03125f, -1.53125f, 0.25f};

    /** The child: eager (whichever path it takes), the reference and compiled, each against PyTorch. */
    public static final class Child {
        public static void main(String[] args) {
            try (Conv1d conv = Conv1d.builder(2, 2, M).padding(M - 1).build(); Tensor x = Tensor.of(INPUT, 1, 2, 3)) {
                for (int o = 0; o < 2; o++) {
                    for (int i = 0; i < 2; i++) {
                        for (int k = 0; k < M; k++) {
                            conv.weight().segment().setAtIndex(ValueLayout.JAVA_FLOAT, ((long) o * 2 + i) * M + k, weight(o, i, k));
                        }
                    }
                }
                conv.bias().segment().setAtIndex(ValueLayout.JAVA_FLOAT, 0, 0.125f);
                conv.bias().segment().setAtIndex(ValueLayout.JAVA_FLOAT, 1, -0.25f);
                long t0 = System.nanoTime();
                try (Tensor y = conv.forward(x)) {
                    check("eager", y, t0);
                }
                t0 = System.nanoTime();
                try (Tensor y = conv.forward(x, Backend.REFERENCE)) {
                    check("reference", y, t0);
                }
                t0 = System.nanoTime();
                try (CompiledModel c = CompiledModel.compile(new Sequential(conv), 1, 2, 3); Tensor y = c.run(x)) {
                    check("compiled", y, t0);
                }
                String impl;
                try {
                    impl = conv.implementation(1, 2, 3);
                } catch (IllegalArgumentException e) {
                    impl = e.getMessage();
                }
                System.out.println("implementation: " + impl);
            }
        }

        private static void check(String what, Tensor y, long t0) {
            long ms = (System.nanoTime() - t0) / 1_000_000;
            if (y.shape().length != 3 || y.shape()[2] != M + 2) throw new AssertionError(what + ": shape " + java.util.Arrays.toString(y.shape()));
            for (int c = 0; c < 2; c++) {
                for (int j = 0; j < POSITIONS.length; j++) {
                    float got = y.segment().getAtIndex(ValueLayout.JAVA_FLOAT, (long) c * (M + 2) + POSITIONS[j]);
                    float want = PYTORCH[c * POSITIONS.length + j];
                    if (Math.abs(got - want) > 1e-5f) {
                        throw new AssertionError(what + ": y[0, " + c + ", " + POSITIONS[j] + "] = " + got + ", PyTorch gives " + want);
                    }
                }
            }
            System.out.println(what + " equal to PyTorch (" + ms + " ms)");
        }
    }

    @Test
    void aKernelFarLongerThanTheInputAnswersAtOnceWithPyTorchsValues() throws Exception {
        String out = ChildJvm.run(List.of("-Dpanamadnn.threads=1"), Child.class, 60);
        for (String what : new String[] {"eager", "reference", "compiled"}) assertTrue(out.contains(what + " equal to PyTorch"), out);
    }
}
