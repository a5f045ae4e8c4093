package dev.panamadnn.bindgen;

import dev.panamadnn.bindgen.LibClang.Fn;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.ArrayList;
import java.util.List;

/** A CXType copied into its translation unit's arena. */
record ClangType(TranslationUnit tu, MemorySegment segment) {
    // CXTypeKind values used here (clang-c/Index.h).
    static final int VOID = 2;
    static final int BOOL = 3;
    static final int CHAR_U = 4;
    static final int UCHAR = 5;
    static final int USHORT = 8;
    static final int UINT = 9;
    static final int ULONG = 10;
    static final int ULONGLONG = 11;
    static final int CHAR_S = 13;
    static final int SCHAR = 14;
    static final int SHORT = 16;
    static final int INT = 17;
    static final int LONG = 18;
    static final int LONGLONG = 19;
    static final int FLOAT = 21;
    static final int DOUBLE = 22;
    static final int POINTER = 101;
    static final int RECORD = 105;
    static final int ENUM = 106;
    static final int FUNCTION_NO_PROTO = 110;
    static final int FUNCTION_PROTO = 111;
    static final int CONSTANT_ARRAY = 112;
    static final int INCOMPLETE_ARRAY = 114;

    int kind() {
        return segment.get(java.lang.foreign.ValueLayout.JAVA_INT, 0);
    }

    ClangType canonical() {
        return derived(Fn.getCanonicalType);
    }

    String spelling() {
        return LibClang.stringCall(Fn.getTypeSpelling, tu.arena(), segment);
    }

    ClangType pointee() {
        return derived(Fn.getPointeeType);
    }

    ClangType resultType() {
        return derived(Fn.getResultType);
    }

    List<ClangType> argTypes() {
        int n = (int) LibClang.call(Fn.getNumArgTypes, segment);
        List<ClangType> result = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            result.add(new ClangType(tu, (MemorySegment) LibClang.call(Fn.getArgType, tu.arena(), segment, i)));
        }
        return result;
    }

    boolean isVariadic() {
        return LibClang.isTrue(Fn.isFunctionTypeVariadic, segment);
    }

    Cursor declaration() {
        return new Cursor(tu, (MemorySegment) LibClang.call(Fn.getTypeDeclaration, tu.arena(), segment));
    }

    ClangType elementType() {
        return derived(Fn.getArrayElementType);
    }

    long arraySize() {
        return (long) LibClang.call(Fn.getArraySize, segment);
    }

    /** Bytes; negative for incomplete or dependent types. */
    long sizeOf() {
        return (long) LibClang.call(Fn.typeSizeOf, segment);
    }

    long alignOf() {
        return (long) LibClang.call(Fn.typeAlignOf, segment);
    }

    /** A type-to-type libclang function applied to this type. */
    private ClangType derived(MethodHandle function) {
        return new ClangType(tu, (MemorySegment) LibClang.call(function, tu.arena(), segment));
    }
}
