package dev.panamadnn.bindgen;

import java.util.List;

/** The declarations the generator knows, as read from the header by {@link HeaderParser}. */
sealed interface Decl {
    String name();

    Location location();

    /** The declaration as written in the header (for Javadoc); never null. */
    String cText();

    record Function(String name, CType.FunctionSig type, List<String> paramNames, Location location, String cText)
            implements Decl {}

    /** An enum constant ({@code enumName} set, "<anonymous>" for unnamed enums), or an evaluated macro. */
    record Constant(String name, Kind kind, Object value, String enumName, Location location, String cText)
            implements Decl {
        /** INT/LONG/ADDRESS hold a Long, FLOAT/DOUBLE a Double, STRING a String. */
        enum Kind { INT, LONG, FLOAT, DOUBLE, STRING, ADDRESS }
    }

    /** A macro definition, not yet evaluated; {@code body} is its replacement text. */
    record Macro(String name, boolean functionLike, String body, Location location, String cText) implements Decl {}

    /**
     * A struct or union. {@code name} is its tag, or the typedef name clang gives an anonymous
     * typedef'd struct, or null. Size and alignment in bytes; both -1 when only declared.
     */
    record Struct(String usr, String name, boolean union, boolean complete, long size, long align,
            List<Field> fields, Location location, String cText) implements Decl {
        String kindName() {
            return union ? "union" : "struct";
        }
    }

    /** {@code anonymousMember}: an unnamed nested struct/union whose fields belong to the parent. */
    record Field(String name, CType type, long offsetBits, long size, long align, boolean bitField,
            boolean anonymousMember, Location location, String cText) {}

    /** {@code paramNames} are filled for function pointer typedefs. */
    record Typedef(String name, CType target, List<String> paramNames, Location location, String cText)
            implements Decl {}

    record Var(String name, CType type, Location location, String cText) implements Decl {}
}
