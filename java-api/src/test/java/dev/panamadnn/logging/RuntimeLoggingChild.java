package dev.panamadnn.logging;

import dev.panamadnn.Blas;
import dev.panamadnn.Tensor;
import dev.panamadnn.nn.Conv2d;
import java.lang.foreign.MemorySegment;

/**
 * Run by {@link RuntimeLoggingTest} in a fresh JVM (the records are once per JVM): uses BLAS and a
 * Conv2d twice each. The records reach the test through JUL, the JDK's default
 * {@link System.LoggerFinder} backend, configured by the test's logging.properties.
 */
public final class RuntimeLoggingChild {
    private RuntimeLoggingChild() {}

    public static void main(String[] args) {
        for (int i = 0; i < 2; i++) {
            float[] a = {1, 2, 3, 4};
            float[] c = new float[4];
            Blas.sgemm(false, false, 2, 2, 2, 1f, MemorySegment.ofArray(a), 2, MemorySegment.ofArray(a), 2,
                    0f, MemorySegment.ofArray(c), 2);
            try (Conv2d conv = new Conv2d(1, 2, 3); Tensor x = Tensor.zeros(1, 1, 5, 5); Tensor y = conv.forward(x)) {
                if (y.shape()[1] != 2) throw new AssertionError("unexpected shape");
            }
        }
        System.out.println("DONE");
    }
}
