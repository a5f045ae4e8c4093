package dev.panamadnn.compile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.panamadnn.SafeTensors;
import dev.panamadnn.Tensor;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Path;
import java.util.function.DoubleUnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * The scalar Log and Softplus kernels, which plans run where {@code jdk.incubator.vector} is absent (the tests run with it,
 * so the compiled goldens exercise {@link VectorMath}): PyTorch's values of the accuracy goldens (math.safetensors,
 * scripts/goldens/generate_math.py), each within 2e-6 of itself, and the special values.
 */
class ScalarMathKernelsTest {
    private static void check(String golden, DoubleUnaryOperator f) throws Exception {
        try (SafeTensors g = SafeTensors.open(Path.of(ScalarMathKernelsTest.class.getResource("/goldens/math.safetensors").toURI()))) {
            Tensor in = g.get(golden + "/input"), want = g.get(golden + "/output");
            float[] x = in.toFloatArray(), y = want.toFloatArray();
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment src = arena.allocateFrom(ValueLayout.JAVA_FLOAT, x), dst = arena.allocate(4L * x.length, 4);
                MathKernels.elementwise(x.length, f).run(src, dst);
                for (int i = 0; i < x.length; i++) {
                    float got = dst.getAtIndex(ValueLayout.JAVA_FLOAT, i);
                    assertTrue(Math.abs(got - y[i]) <= 2e-6 * Math.abs(y[i]), golden + "[" + i + "]: x = " + x[i] + ": " + got + ", PyTorch " + y[i]);
                }
            }
        }
    }

    @Test
    void logAndSoftplusMatchPyTorchWhereTheirResultsAreSmall() throws Exception {
        check("log_near_one_tight", Math::log);
        check("softplus_tail_tight", MathKernels::softplus);
    }

    @Test
    void softplusSpecialValues() {
        assertTrue(Double.isNaN(MathKernels.softplus(Double.NaN)));
        assertEquals(Double.POSITIVE_INFINITY, MathKernels.softplus(Double.POSITIVE_INFINITY));
        assertEquals(0.0, MathKernels.softplus(Double.NEGATIVE_INFINITY));
        assertEquals(3e38, MathKernels.softplus(3e38));   // no overflow
        assertEquals(Math.log(2), MathKernels.softplus(0), 1e-16);
    }
}
