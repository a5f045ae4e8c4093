package dev.panamadnn.compile;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.function.DoubleUnaryOperator;

/**
 * The Java kernels of the math ops oneDNN has no primitive for: Erf, Floor, Ceil (element-wise),
 * and the expansion of a broadcast operand that must come first (Div, Pow, two broadcast
 * operands). Plain loops over plain buffers; no allocation per run, no state (a plan's runs may
 * overlap on many threads).
 */
final class MathKernels {
    private MathKernels() {}

    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT;

    /** {@code dst[i] = f(src[i])} over {@code count} floats, computed in double and rounded once. */
    static JavaStep.Kernel elementwise(long count, DoubleUnaryOperator f) {
        return (src, dst) -> {
            for (long i = 0; i < count; i++) dst.setAtIndex(F, i, (float) f.applyAsDouble(src.getAtIndex(F, i)));
        };
    }

    /**
     * ONNX's {@code Softplus}, {@code log(exp(x) + 1)}, without cancellation or overflow: {@code log1p(exp(x))},
     * as {@code x + log1p(exp(-x))} for positive x; NaN stays NaN, +inf gives +inf, -inf gives 0.
     */
    static double softplus(double x) {
        return x > 0 ? x + log1pOfExp(Math.exp(-x)) : log1pOfExp(Math.exp(x));
    }

    /**
     * {@code log1p(e)} for {@code e} in [0, 1] (or NaN) on the JIT's intrinsic {@code Math.log} (Math.log1p is not one: 3x
     * slower per element): {@code log(1 + e)}, whose rounding of {@code 1 + e} in double costs at most 1e-12 relatively from
     * e = 1e-4, and below that {@code e - e^2/2 + e^3/3}, off by at most e^3/4 relatively.
     */
    private static double log1pOfExp(double e) {
        return e > 1e-4 ? Math.log(1 + e) : e * (1 - e * (0.5 - e / 3));
    }

    /**
     * The element-wise op {@code op} in double (ONNX's definitions; NaN stays NaN): trig and
     * hyperbolic functions (asinh, acosh, atanh by log1p forms accurate near 0), Sign (as {@code torch.sign}: 0 for
     * NaN, where NumPy gives NaN), Softsign
     * x/(1+|x|), ThresholdedRelu (x if x > alpha, else 0), Celu
     * max(0,x) + min(0, alpha*(exp(x/alpha)-1)), Shrink (x+bias if x < -lambd, x-bias if x > lambd, else 0).
     */
    static DoubleUnaryOperator unary(String op, dev.panamadnn.graph.Attributes a) {
        return switch (op) {
            case "Sin" -> Math::sin;
            case "Cos" -> Math::cos;
            case "Tan" -> Math::tan;
            case "Asin" -> Math::asin;
            case "Acos" -> Math::acos;
            case "Atan" -> Math::atan;
            case "Sinh" -> Math::sinh;
            case "Cosh" -> Math::cosh;
            case "Asinh" -> x -> Double.isInfinite(x) ? x : Math.copySign(Math.log1p(Math.abs(x) + x * x / (1 + Math.sqrt(x * x + 1))), x);
            case "Acosh" -> x -> x < 1 ? Double.NaN : Math.log(x + Math.sqrt((x - 1) * (x + 1)));
            case "Atanh" -> x -> 0.5 * Math.log1p(2 * x / (1 - x));
            case "Sign" -> x -> x > 0 ? 1 : x < 0 ? -1 : Double.isNaN(x) ? 0 : x;   // torch.sign: NaN gives 0 (Math.signum: NaN)
            case "Softsign" -> x -> x / (1 + Math.abs(x));
            case "ThresholdedRelu" -> {
                double alpha = a.real("alpha", 1);
                yield x -> x > alpha ? x : Double.isNaN(x) ? x : 0;
            }
            case "Celu" -> {
                double alpha = a.real("alpha", 1);
                yield x -> Math.max(0, x) + Math.min(0, alpha * Math.expm1(x / alpha));
            }
            case "Shrink" -> {
                double bias = a.real("bias", 0), lambd = a.real("lambd", 0.5);
                yield x -> x < -lambd ? x + bias : x > lambd ? x - bias : Double.isNaN(x) ? x : 0;
            }
            default -> throw new IllegalArgumentException("no Java kernel for " + op);
        };
    }

    /**
     * Hardmax over the middle dim of {@code [outer, axis, inner]}: 1 at the first maximum, 0 elsewhere;
     * a NaN counts as the maximum (numpy.argmax, ONNX's reference).
     */
    static JavaStep.Kernel hardmax(long outer, long axis, long inner) {
        return (src, dst) -> {
            for (long o = 0; o < outer; o++) {
                for (long i = 0; i < inner; i++) {
                    long base = o * axis * inner + i, best = 0;
                    float max = src.getAtIndex(F, base);
                    for (long k = 1; k < axis && !Float.isNaN(max); k++) {
                        float v = src.getAtIndex(F, base + k * inner);
                        if (v > max || Float.isNaN(v)) {
                            max = v;
                            best = k;
                        }
                    }
                    for (long k = 0; k < axis; k++) dst.setAtIndex(F, base + k * inner, k == best ? 1f : 0f);
                }
            }
        };
    }

    /**
     * The error function in double: its Maclaurin series below |x| = 4 (at most ~70 terms; the
     * largest term there is about 1e7, so cancellation leaves an error near 1e-9, far below a
     * float's half ulp of 3e-8), and +-1 beyond (erfc(4) = 1.5e-8 rounds away in float: erf(x)
     * is 1.0f from x = 3.92). NaN stays NaN, +-inf give +-1.
     */
    static double erf(double x) {
        if (Double.isNaN(x)) return x;
        double ax = Math.abs(x);
        if (ax >= 4) return Math.copySign(1, x);
        double sum = x, term = x, x2 = x * x;   // term_n = (-1)^n x^(2n+1) / n!
        for (int k = 1; k < 200; k++) {
            term *= -x2 / k;
            double add = term / (2 * k + 1);
            sum += add;
            if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
        }
        return Math.min(1, Math.max(-1, 2 / Math.sqrt(Math.PI) * sum));
    }

    /** Row-major strides of {@code dims}, with 0 where the dim is 1 (a broadcast source's strides over the target). */
    static long[] broadcastStrides(long[] dims) {
        long[] s = new long[dims.length];
        long step = 1;
        for (int i = dims.length - 1; i >= 0; i--) {
            s[i] = dims[i] == 1 ? 0 : step;
            step *= dims[i];
        }
        return s;
    }

    /**
     * Expands a plain {@code from} (same rank, sizes equal or 1) into the plain {@code to} (NumPy
     * broadcasting). Stateless (plans run on many threads at once) and allocation-free: each
     * target index is split into coordinates by division.
     */
    static JavaStep.Kernel expand(long[] from, long[] to) {
        long[] strides = broadcastStrides(from), outStrides = new long[to.length];
        long total = 1;
        for (int d = to.length - 1; d >= 0; d--) {
            outStrides[d] = total;
            total *= to[d];
        }
        long count = total;
        return (src, dst) -> {
            for (long i = 0; i < count; i++) {
                long offset = 0;
                for (int d = 0; d < to.length; d++) offset += (i / outStrides[d]) % to[d] * strides[d];
                dst.setAtIndex(F, i, src.getAtIndex(F, offset));
            }
        };
    }

    /** {@code values} (plain, dims {@code from}) expanded to {@code to}, now. */
    static float[] expand(float[] values, long[] from, long[] to) {
        long total = 1;
        for (long d : to) total *= d;
        float[] out = new float[Math.toIntExact(total)];
        try (java.lang.foreign.Arena tmp = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment src = tmp.allocateFrom(F, values), dst = tmp.allocate(F, out.length);
            expand(from, to).run(src, dst);
            MemorySegment.copy(dst, F, 0, out, 0, out.length);
        }
        return out;
    }

    /** {@code dst = src ^ exponent[i]} with a constant exponent of the output's size, in double (Java's pow is C's). */
    /**
     * {@code dst[0] = pow(base, exponent)} element by element (C's pow in double, as the constant form): the exponent is
     * the last input, the base the first, or {@code base} (its values, the output's size) when that is a constant.
     */
    /**
     * C's {@code pow} (what PyTorch and NumPy compute), in double: {@code Math.pow} except that a base of 1 gives 1 for every
     * exponent, NaN included, and a base of -1 gives 1 for an infinite exponent, where {@code Math.pow} gives NaN.
     */
    static double pow(double base, double exponent) {
        if (base == 1 || base == -1 && Double.isInfinite(exponent)) return 1;
        return Math.pow(base, exponent);
    }

    static JavaStep.MultiKernel powOf(float[] base) {
        return (src, dst) -> {
            MemorySegment e = src[src.length - 1];
            long count = dst[0].byteSize() / 4;
            for (long i = 0; i < count; i++) {
                float b = base != null ? base[(int) i] : src[0].getAtIndex(F, i);
                dst[0].setAtIndex(F, i, (float) pow(b, e.getAtIndex(F, i)));
            }
        };
    }

    static JavaStep.Kernel pow(float[] exponent) {
        return (src, dst) -> {
            for (int i = 0; i < exponent.length; i++) dst.setAtIndex(F, i, (float) pow(src.getAtIndex(F, i), exponent[i]));
        };
    }
}
