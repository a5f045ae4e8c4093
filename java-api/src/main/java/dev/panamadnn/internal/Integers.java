package dev.panamadnn.internal;

import dev.panamadnn.DataType;

/** Integer values of the narrower types, for the graph's exact arithmetic and the compiled casts alike. */
public final class Integers {
    private Integers() {}

    /**
     * {@code v} wrapped to integer type {@code t}: its low bits read as {@code t} (sign-extended for I8/I16/I32,
     * zero-extended for U8/U16/U32), as C, numpy's {@code astype} and ONNX's integer ops do; I64, U64 (held as
     * its bits) and other types unchanged.
     *
     * @param t the integer type
     * @param v the value
     * @return the value as {@code t} holds it
     */
    public static long narrow(DataType t, long v) {
        return switch (t) {
            case I32 -> (int) v;
            case I16 -> (short) v;
            case I8 -> (byte) v;
            case U32 -> v & 0xffffffffL;
            case U16 -> v & 0xffff;
            case U8 -> v & 0xff;
            default -> v;
        };
    }

    /**
     * A float cast to integer type {@code t} as this machine's x86 truncating conversion gives it, which is what
     * PyTorch's {@code .long()}/{@code .int()}, numpy's {@code astype} and ONNX Runtime compute: toward zero; NaN, and a
     * value beyond the range of the conversion's width (64 bits for I64, U64 and U32, else 32), gives that width's most
     * negative integer ({@code torch.tensor(float('nan')).long()} is -2^63); then wrapped to {@code t} as {@link #narrow}.
     * ONNX leaves these cases undefined; Java's own casts saturate and give 0 for NaN.
     *
     * @param t the integer type
     * @param v the float value
     * @return the value as {@code t} holds it
     */
    public static long truncate(DataType t, double v) {
        if (t == DataType.I64 || t == DataType.U64 || t == DataType.U32) {
            return narrow(t, Double.isNaN(v) || v >= 0x1p63 || v < -0x1p63 ? Long.MIN_VALUE : (long) v);
        }
        return narrow(t, Double.isNaN(v) || v >= 0x1p31 || v < -0x1p31 ? Integer.MIN_VALUE : (long) v);
    }
}
