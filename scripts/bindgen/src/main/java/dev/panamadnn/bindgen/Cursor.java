package dev.panamadnn.bindgen;

import dev.panamadnn.bindgen.LibClang.Fn;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/** A CXCursor copied into its translation unit's arena. */
record Cursor(TranslationUnit tu, MemorySegment segment) {
    // CXCursorKind values used here (clang-c/Index.h).
    static final int STRUCT_DECL = 2;
    static final int UNION_DECL = 3;
    static final int ENUM_DECL = 5;
    static final int FIELD_DECL = 6;
    static final int ENUM_CONSTANT_DECL = 7;
    static final int FUNCTION_DECL = 8;
    static final int VAR_DECL = 9;
    static final int PARM_DECL = 10;
    static final int TYPEDEF_DECL = 20;
    static final int MACRO_DEFINITION = 501;

    int kind() {
        return (int) LibClang.call(Fn.getCursorKind, segment);
    }

    String spelling() {
        return LibClang.stringCall(Fn.getCursorSpelling, tu.arena(), segment);
    }

    /** Unified symbol resolution: a stable key, also for anonymous structs. */
    String usr() {
        return LibClang.stringCall(Fn.getCursorUSR, tu.arena(), segment);
    }

    ClangType type() {
        return new ClangType(tu, byValue(Fn.getCursorType));
    }

    Location location() {
        return LibClang.expansionLocation(tu.arena(), byValue(Fn.getCursorLocation));
    }

    /** The declaration's text as written in the header, or null if it is not in one file. */
    String sourceText() {
        MemorySegment range = byValue(Fn.getCursorExtent);
        Location start = LibClang.expansionLocation(tu.arena(),
                (MemorySegment) LibClang.call(Fn.getRangeStart, tu.arena(), range));
        Location end = LibClang.expansionLocation(tu.arena(),
                (MemorySegment) LibClang.call(Fn.getRangeEnd, tu.arena(), range));
        return tu.text(start, end);
    }

    List<Cursor> children() {
        List<Cursor> result = new ArrayList<>();
        LibClang.visitChildren(segment, child -> result.add(
                new Cursor(tu, tu.arena().allocate(LibClang.CURSOR).copyFrom(child))));
        return result;
    }

    boolean isDefinition() {
        return LibClang.isTrue(Fn.isCursorDefinition, segment);
    }

    /** A struct/union/enum with neither a tag nor a typedef name. */
    boolean isAnonymous() {
        return LibClang.isTrue(Fn.isAnonymous, segment);
    }

    /** An unnamed struct/union member ({@code struct { union { int a; float b; }; }}). */
    boolean isAnonymousRecordDecl() {
        return LibClang.isTrue(Fn.isAnonymousRecordDecl, segment);
    }

    boolean isBitField() {
        return LibClang.isTrue(Fn.isBitField, segment);
    }

    long fieldOffsetBits() {
        return (long) LibClang.call(Fn.getOffsetOfField, segment);
    }

    boolean isMacroFunctionLike() {
        return LibClang.isTrue(Fn.isMacroFunctionLike, segment);
    }

    boolean isMacroBuiltin() {
        return LibClang.isTrue(Fn.isMacroBuiltin, segment);
    }

    List<Cursor> arguments() {
        int n = (int) LibClang.call(Fn.getNumArguments, segment);
        List<Cursor> result = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            result.add(new Cursor(tu, (MemorySegment) LibClang.call(Fn.getArgument, tu.arena(), segment, i)));
        }
        return result;
    }

    long enumConstantValue() {
        return (long) LibClang.call(Fn.getEnumConstantDeclValue, segment);
    }

    ClangType enumIntegerType() {
        return new ClangType(tu, byValue(Fn.getEnumDeclIntegerType));
    }

    ClangType typedefUnderlyingType() {
        return new ClangType(tu, byValue(Fn.getTypedefDeclUnderlyingType));
    }

    /** A cursor function returning a struct by value (CXType, CXSourceLocation...), into the unit's arena. */
    private MemorySegment byValue(MethodHandle function) {
        return (MemorySegment) LibClang.call(function, tu.arena(), segment);
    }
}
