package dev.panamadnn.compile;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The element-wise Java steps whose scalar form is slow (a transcendental function per element, 6-15 ns) on the Vector
 * API, whose EXP, LOG and LOG1P the JIT backs with its vector math library (within an ulp or two, as the accuracy goldens
 * check): {@code Log} and {@code Softplus}. Only loaded where {@code jdk.incubator.vector} is present
 * ({@link Winograd#available()}); elsewhere the scalar kernels of {@link MathKernels} run. The tail of a buffer that
 * fills no whole vector runs the scalar form.
 */
final class VectorMath {
    private VectorMath() {}

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;
    private static final ByteOrder ORDER = ByteOrder.nativeOrder();

    /** {@code dst[i] = log(src[i])} over {@code count} floats (NaN and negatives give NaN, 0 gives -inf). */
    static JavaStep.Kernel log(long count) {
        return (src, dst) -> {
            long i = 0, bound = S.loopBound(count);
            for (; i < bound; i += S.length()) {
                FloatVector.fromMemorySegment(S, src, i * 4, ORDER).lanewise(VectorOperators.LOG).intoMemorySegment(dst, i * 4, ORDER);
            }
            for (; i < count; i++) dst.setAtIndex(F, i, (float) Math.log(src.getAtIndex(F, i)));
        };
    }

    /**
     * {@code dst[i] = softplus(src[i])} over {@code count} floats as {@code max(x, 0) + log1p(exp(-|x|))}: no cancellation
     * for x below 0 (where oneDNN's soft_relu lost its relative accuracy), no overflow above; NaN gives NaN (Java's max),
     * +inf gives +inf, -inf gives 0.
     */
    static JavaStep.Kernel softplus(long count) {
        return (src, dst) -> {
            long i = 0, bound = S.loopBound(count);
            for (; i < bound; i += S.length()) {
                FloatVector x = FloatVector.fromMemorySegment(S, src, i * 4, ORDER);
                FloatVector tail = x.abs().neg().lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P);
                x.max(0f).add(tail).intoMemorySegment(dst, i * 4, ORDER);
            }
            for (; i < count; i++) dst.setAtIndex(F, i, (float) MathKernels.softplus(src.getAtIndex(F, i)));
        };
    }
}
