package dev.panamadnn.internal.safetensors;

import dev.panamadnn.DataType;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Widens stored bf16, f16 and f64 weights to f32 on load, bit for bit as PyTorch's
 * {@code tensor.float()} does on x86-64, so a half-precision checkpoint loads into f32
 * parameters with exactly the values PyTorch would compute with.
 *
 * <ul>
 *   <li>bf16: the upper half of an f32, so {@code bits << 16}; exact for every pattern, NaN
 *       payloads included (not quieted, as PyTorch does not).
 *   <li>f16: exact for every pattern: normals re-biased (15 to 127), subnormals normalised,
 *       &plusmn;0, &plusmn;Inf; a NaN keeps its sign and payload and is quieted, as x86's
 *       {@code vcvtph2ps} (what PyTorch runs) does.
 *   <li>f64: round to nearest, ties to even (Java's {@code (float)} cast is IEEE's), so values
 *       beyond f32's range become &plusmn;Inf and tiny ones f32 subnormals or &plusmn;0; a NaN
 *       keeps its sign and the top 22 payload bits and is quieted, as {@code cvtsd2ss} does.
 * </ul>
 * Reads are unaligned (a mapped file's tensors need not be aligned); the target is an f32
 * buffer of {@code numel * 4} bytes.
 */
public final class ToFloat {
    private static final ValueLayout.OfShort SHORT = ValueLayout.JAVA_SHORT_UNALIGNED;
    private static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE_UNALIGNED;
    private static final ValueLayout.OfFloat FLOAT = ValueLayout.JAVA_FLOAT_UNALIGNED;

    private ToFloat() {
    }

    /** {@return whether stored {@code dtype} widens to f32 on load} */
    public static boolean widens(DataType dtype) {
        return dtype == DataType.BF16 || dtype == DataType.F16 || dtype == DataType.F64;
    }

    /**
     * Converts {@code numel} elements of {@code dtype} from {@code src} into f32 in {@code dst}.
     *
     * @throws IllegalArgumentException if {@code dtype} does not widen to f32 or a buffer is too small
     */
    public static void convert(DataType dtype, MemorySegment src, MemorySegment dst, long numel) {
        if (!widens(dtype)) throw new IllegalArgumentException("no conversion from " + dtype.safetensorsName() + " to F32");
        if (src.byteSize() < numel * dtype.byteSize() || dst.byteSize() < numel * 4) {
            throw new IllegalArgumentException("conversion of " + numel + " " + dtype.safetensorsName() + " elements: source has "
                    + src.byteSize() + " bytes, target " + dst.byteSize());
        }
        switch (dtype) {
            case BF16 -> {
                for (long i = 0; i < numel; i++) dst.set(FLOAT, 4 * i, bf16ToFloat(src.get(SHORT, 2 * i)));
            }
            case F16 -> {
                for (long i = 0; i < numel; i++) dst.set(FLOAT, 4 * i, f16ToFloat(src.get(SHORT, 2 * i)));
            }
            default -> {
                for (long i = 0; i < numel; i++) dst.set(FLOAT, 4 * i, f64ToFloat(src.get(DOUBLE, 8 * i)));
            }
        }
    }

    /** {@return the f32 whose upper 16 bits are {@code bits}: bf16's exact value} */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat((bits & 0xFFFF) << 16);
    }

    /** {@return the exact f32 value of the IEEE half {@code bits} (a NaN quieted, payload kept)} */
    public static float f16ToFloat(short bits) {
        int h = bits & 0xFFFF;
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1F;
        int mant = h & 0x3FF;
        if (exp == 0x1F) {                                     // Inf (mant 0) or NaN: quiet bit set, payload kept
            return Float.intBitsToFloat(sign | 0x7F800000 | (mant == 0 ? 0 : 0x400000 | (mant << 13)));
        }
        if (exp != 0) return Float.intBitsToFloat(sign | ((exp + 127 - 15) << 23) | (mant << 13));
        if (mant == 0) return Float.intBitsToFloat(sign);       // +-0
        // Subnormal: mant * 2^-24; shift the leading 1 up to bit 10 and lower the exponent to match.
        int shift = Integer.numberOfLeadingZeros(mant) - 21;   // mant < 2^10, so shift in [1, 10]
        int e = 127 - 15 + 1 - shift;
        return Float.intBitsToFloat(sign | (e << 23) | (((mant << shift) & 0x3FF) << 13));
    }

    /** {@return {@code d} rounded to the nearest f32, ties to even (a NaN quieted, top payload bits kept)} */
    public static float f64ToFloat(double d) {
        if (d != d) {                                           // NaN: the (float) cast's payload is not specified by Java
            long b = Double.doubleToRawLongBits(d);
            int sign = (int) (b >>> 32) & 0x80000000;
            int payload = (int) ((b & 0xFFFFFFFFFFFFFL) >>> 29);
            return Float.intBitsToFloat(sign | 0x7FC00000 | payload);
        }
        return (float) d;
    }
}
