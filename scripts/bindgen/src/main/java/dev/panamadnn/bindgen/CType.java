package dev.panamadnn.bindgen;

import java.util.List;

/**
 * A C type reduced to what decides its FFM layout: typedefs, qualifiers and enums are gone
 * (enums become their integer type), pointers keep only a function signature when they point
 * to one, and anything FFM cannot carry is {@link Unsupported} so the error names it at use.
 */
sealed interface CType {

    /** The x86_64 Linux (LP64) scalars, each with its layout constant in the header class. */
    enum Prim implements CType {
        BOOL("C_BOOL", "boolean", "OfBoolean"),
        CHAR("C_CHAR", "byte", "OfByte"),
        SHORT("C_SHORT", "short", "OfShort"),
        INT("C_INT", "int", "OfInt"),
        LONG("C_LONG", "long", "OfLong"),
        LONG_LONG("C_LONG_LONG", "long", "OfLong"),
        FLOAT("C_FLOAT", "float", "OfFloat"),
        DOUBLE("C_DOUBLE", "double", "OfDouble");

        final String layout;
        final String carrier;
        final String layoutClass;

        Prim(String layout, String carrier, String layoutClass) {
            this.layout = layout;
            this.carrier = carrier;
            this.layoutClass = "ValueLayout." + layoutClass;
        }
    }

    record Void() implements CType {}

    /** {@code function} is the pointee's signature for function pointers, else null. */
    record Pointer(FunctionSig function) implements CType {}

    /** {@code count} is -1 for {@code T[]}. */
    record Array(CType element, long count) implements CType {}

    /** A struct or union by value, identified by its clang USR (anonymous ones have one too). */
    record Record(String usr, String spelling) implements CType {}

    record FunctionSig(CType result, List<CType> params, boolean variadic) implements CType {}

    /** A type FFM has no carrier for (long double, __int128, vectors, _Complex...). */
    record Unsupported(String spelling) implements CType {}

    Void VOID = new Void();
}
