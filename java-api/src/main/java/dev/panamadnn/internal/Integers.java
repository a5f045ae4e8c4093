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
}
