package dev.panamadnn.bindgen;

import static java.lang.foreign.MemoryLayout.paddingLayout;
import static java.lang.foreign.MemoryLayout.sequenceLayout;
import static java.lang.foreign.MemoryLayout.structLayout;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_DOUBLE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SegmentAllocator;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.MethodType;
import java.util.function.Consumer;

/**
 * Hand-written downcalls into the part of the libclang C API (clang-c/Index.h) the generator uses.
 * CXCursor, CXType, CXString and CXSourceLocation are passed and returned by value, so the
 * functions returning them take a {@link SegmentAllocator} first.
 */
@SuppressWarnings("restricted") // calling native code is this class's purpose
final class LibClang {
    // Struct layouts from clang-c/Index.h and CXString.h (x86_64, LP64).
    static final StructLayout STRING = structLayout(ADDRESS, JAVA_INT, paddingLayout(4));
    static final StructLayout CURSOR = structLayout(JAVA_INT, JAVA_INT, sequenceLayout(3, ADDRESS));
    static final StructLayout TYPE = structLayout(JAVA_INT, paddingLayout(4), sequenceLayout(2, ADDRESS));
    static final StructLayout LOCATION = structLayout(sequenceLayout(2, ADDRESS), JAVA_INT, paddingLayout(4));
    static final StructLayout RANGE = structLayout(sequenceLayout(2, ADDRESS), JAVA_INT, JAVA_INT);
    static final StructLayout UNSAVED_FILE = structLayout(ADDRESS, ADDRESS, JAVA_LONG);

    private static LibClangLocator.Found found;
    private static SymbolLookup lookup;

    private LibClang() {}

    /** Locates and loads libclang once; throws {@link BindgenException} listing what was tried. */
    static synchronized LibClangLocator.Found load() {
        if (found == null) {
            LibClangLocator.Found f = LibClangLocator.locate();
            disableCrashRecovery();
            try {
                lookup = SymbolLookup.libraryLookup(f.library(), Arena.global());
            } catch (IllegalArgumentException e) {
                throw new BindgenException("cannot load libclang " + f.library() + ": " + e.getMessage());
            }
            found = f;
        }
        return found;
    }

    /**
     * libclang's crash recovery installs SIGSEGV/SIGBUS handlers that re-raise any signal
     * arriving outside a clang call, but the JVM uses SIGSEGV on purpose (null checks,
     * safepoints), so the re-raised signal aborts the JVM. The variable must be set before
     * clang_createIndex, which is where libclang enables recovery.
     */
    private static void disableCrashRecovery() {
        Linker linker = Linker.nativeLinker();
        MethodHandle setenv = linker.downcallHandle(linker.defaultLookup().find("setenv").orElseThrow(),
                FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT));
        try (Arena tmp = Arena.ofConfined()) {
            call(setenv, tmp.allocateFrom("LIBCLANG_DISABLE_CRASH_RECOVERY"), tmp.allocateFrom("1"), 1);
        }
    }

    private static MethodHandle fn(String name, MemoryLayout ret, MemoryLayout... args) {
        MemorySegment address = lookup.find(name).orElseThrow(
                () -> new BindgenException("libclang " + found.library() + " lacks " + name + " (too old?)"));
        FunctionDescriptor desc = ret == null ? FunctionDescriptor.ofVoid(args) : FunctionDescriptor.of(ret, args);
        return Linker.nativeLinker().downcallHandle(address, desc);
    }

    /** The handles, created on first use (after {@link #load()} has set the lookup); one per C function. */
    static final class Fn {
        static final MethodHandle createIndex = fn("clang_createIndex", ADDRESS, JAVA_INT, JAVA_INT);
        static final MethodHandle toggleCrashRecovery = fn("clang_toggleCrashRecovery", null, JAVA_INT);
        static final MethodHandle disposeIndex = fn("clang_disposeIndex", null, ADDRESS);
        static final MethodHandle parseTranslationUnit2 = fn("clang_parseTranslationUnit2", JAVA_INT,
                ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS);
        static final MethodHandle disposeTranslationUnit = fn("clang_disposeTranslationUnit", null, ADDRESS);
        static final MethodHandle getNumDiagnostics = fn("clang_getNumDiagnostics", JAVA_INT, ADDRESS);
        static final MethodHandle getDiagnostic = fn("clang_getDiagnostic", ADDRESS, ADDRESS, JAVA_INT);
        static final MethodHandle getDiagnosticSeverity = fn("clang_getDiagnosticSeverity", JAVA_INT, ADDRESS);
        static final MethodHandle getDiagnosticSpelling = fn("clang_getDiagnosticSpelling", STRING, ADDRESS);
        static final MethodHandle getDiagnosticLocation = fn("clang_getDiagnosticLocation", LOCATION, ADDRESS);
        static final MethodHandle disposeDiagnostic = fn("clang_disposeDiagnostic", null, ADDRESS);
        static final MethodHandle getTranslationUnitCursor = fn("clang_getTranslationUnitCursor", CURSOR, ADDRESS);
        static final MethodHandle visitChildren = fn("clang_visitChildren", JAVA_INT, CURSOR, ADDRESS, ADDRESS);
        static final MethodHandle getCString = fn("clang_getCString", ADDRESS, STRING);
        static final MethodHandle disposeString = fn("clang_disposeString", null, STRING);
        static final MethodHandle getFileName = fn("clang_getFileName", STRING, ADDRESS);
        static final MethodHandle getExpansionLocation = fn("clang_getExpansionLocation", null,
                LOCATION, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        static final MethodHandle getRangeStart = fn("clang_getRangeStart", LOCATION, RANGE);
        static final MethodHandle getRangeEnd = fn("clang_getRangeEnd", LOCATION, RANGE);
        static final MethodHandle getCursorKind = fn("clang_getCursorKind", JAVA_INT, CURSOR);
        static final MethodHandle getCursorSpelling = fn("clang_getCursorSpelling", STRING, CURSOR);
        static final MethodHandle getCursorUSR = fn("clang_getCursorUSR", STRING, CURSOR);
        static final MethodHandle getCursorType = fn("clang_getCursorType", TYPE, CURSOR);
        static final MethodHandle getCursorLocation = fn("clang_getCursorLocation", LOCATION, CURSOR);
        static final MethodHandle getCursorExtent = fn("clang_getCursorExtent", RANGE, CURSOR);
        static final MethodHandle isCursorDefinition = fn("clang_isCursorDefinition", JAVA_INT, CURSOR);
        static final MethodHandle isAnonymous = fn("clang_Cursor_isAnonymous", JAVA_INT, CURSOR);
        static final MethodHandle isAnonymousRecordDecl = fn("clang_Cursor_isAnonymousRecordDecl", JAVA_INT, CURSOR);
        static final MethodHandle isBitField = fn("clang_Cursor_isBitField", JAVA_INT, CURSOR);
        static final MethodHandle getOffsetOfField = fn("clang_Cursor_getOffsetOfField", JAVA_LONG, CURSOR);
        static final MethodHandle isMacroFunctionLike = fn("clang_Cursor_isMacroFunctionLike", JAVA_INT, CURSOR);
        static final MethodHandle isMacroBuiltin = fn("clang_Cursor_isMacroBuiltin", JAVA_INT, CURSOR);
        static final MethodHandle getNumArguments = fn("clang_Cursor_getNumArguments", JAVA_INT, CURSOR);
        static final MethodHandle getArgument = fn("clang_Cursor_getArgument", CURSOR, CURSOR, JAVA_INT);
        static final MethodHandle getEnumConstantDeclValue = fn("clang_getEnumConstantDeclValue", JAVA_LONG, CURSOR);
        static final MethodHandle getEnumDeclIntegerType = fn("clang_getEnumDeclIntegerType", TYPE, CURSOR);
        static final MethodHandle getTypedefDeclUnderlyingType =
                fn("clang_getTypedefDeclUnderlyingType", TYPE, CURSOR);
        static final MethodHandle evaluate = fn("clang_Cursor_Evaluate", ADDRESS, CURSOR);
        static final MethodHandle evalGetKind = fn("clang_EvalResult_getKind", JAVA_INT, ADDRESS);
        static final MethodHandle evalGetAsLongLong = fn("clang_EvalResult_getAsLongLong", JAVA_LONG, ADDRESS);
        static final MethodHandle evalGetAsDouble = fn("clang_EvalResult_getAsDouble", JAVA_DOUBLE, ADDRESS);
        static final MethodHandle evalGetAsStr = fn("clang_EvalResult_getAsStr", ADDRESS, ADDRESS);
        static final MethodHandle evalDispose = fn("clang_EvalResult_dispose", null, ADDRESS);
        static final MethodHandle getCanonicalType = fn("clang_getCanonicalType", TYPE, TYPE);
        static final MethodHandle getTypeSpelling = fn("clang_getTypeSpelling", STRING, TYPE);
        static final MethodHandle getPointeeType = fn("clang_getPointeeType", TYPE, TYPE);
        static final MethodHandle getResultType = fn("clang_getResultType", TYPE, TYPE);
        static final MethodHandle getNumArgTypes = fn("clang_getNumArgTypes", JAVA_INT, TYPE);
        static final MethodHandle getArgType = fn("clang_getArgType", TYPE, TYPE, JAVA_INT);
        static final MethodHandle isFunctionTypeVariadic = fn("clang_isFunctionTypeVariadic", JAVA_INT, TYPE);
        static final MethodHandle getTypeDeclaration = fn("clang_getTypeDeclaration", CURSOR, TYPE);
        static final MethodHandle getArrayElementType = fn("clang_getArrayElementType", TYPE, TYPE);
        static final MethodHandle getArraySize = fn("clang_getArraySize", JAVA_LONG, TYPE);
        static final MethodHandle typeSizeOf = fn("clang_Type_getSizeOf", JAVA_LONG, TYPE);
        static final MethodHandle typeAlignOf = fn("clang_Type_getAlignOf", JAVA_LONG, TYPE);

        // One upcall stub for clang_visitChildren; it hands each child to the thread's current sink.
        static final ThreadLocal<Consumer<MemorySegment>> SINK = new ThreadLocal<>();
        static final MemorySegment VISITOR = visitorStub();

        private static MemorySegment visitorStub() {
            try {
                MethodHandle target = MethodHandles.lookup().findStatic(Fn.class, "visit",
                        MethodType.methodType(int.class, MemorySegment.class, MemorySegment.class, MemorySegment.class));
                return Linker.nativeLinker().upcallStub(target,
                        FunctionDescriptor.of(JAVA_INT, CURSOR, CURSOR, ADDRESS), Arena.global());
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(e);
            }
        }

        /** Must not throw (an exception escaping an upcall kills the JVM): the sink only copies. */
        private static int visit(MemorySegment cursor, MemorySegment parent, MemorySegment data) {
            SINK.get().accept(cursor);
            return 1; // CXChildVisit_Continue: siblings only, the caller recurses where it wants
        }
    }

    /**
     * Calls a handle with boxed arguments. invokeWithArguments is slower than invokeExact, but a
     * run makes only some tens of thousands of calls and this keeps each wrapper one line.
     */
    static Object call(MethodHandle handle, Object... args) {
        try {
            return handle.invokeWithArguments(args);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static MemorySegment createIndex() {
        MemorySegment index = (MemorySegment) call(Fn.createIndex, 0, 0);
        call(Fn.toggleCrashRecovery, 0); // in case the environment variable was not honoured
        return index;
    }

    /** Each child cursor is only valid during the callback: the sink must copy it. */
    static void visitChildren(MemorySegment cursor, Consumer<MemorySegment> sink) {
        Consumer<MemorySegment> outer = Fn.SINK.get();
        Fn.SINK.set(sink);
        try {
            call(Fn.visitChildren, cursor, Fn.VISITOR, MemorySegment.NULL);
        } finally {
            Fn.SINK.set(outer);
        }
    }

    /** Copies and disposes a CXString. */
    static String string(MemorySegment cxString) {
        String s = cString((MemorySegment) call(Fn.getCString, cxString));
        call(Fn.disposeString, cxString);
        return s;
    }

    /** A NUL-terminated C string owned by libclang, copied; "" for NULL. */
    static String cString(MemorySegment chars) {
        return chars.equals(MemorySegment.NULL) ? "" : chars.reinterpret(Long.MAX_VALUE).getString(0);
    }

    /** A CXString-returning handle called with {@code args}, as a Java string. */
    static String stringCall(MethodHandle handle, Object... args) {
        return string((MemorySegment) call(handle, args));
    }

    /** file name ("" when none, e.g. predefined macros), line, column, byte offset. */
    static Location expansionLocation(Arena arena, MemorySegment location) {
        MemorySegment out = arena.allocate(ADDRESS);
        MemorySegment ints = arena.allocate(JAVA_INT, 3);
        call(Fn.getExpansionLocation, location, out, ints, ints.asSlice(4), ints.asSlice(8));
        MemorySegment file = out.get(ADDRESS, 0);
        String name = file.equals(MemorySegment.NULL) ? "" : stringCall(Fn.getFileName, arena, file);
        return new Location(name, ints.getAtIndex(JAVA_INT, 0), ints.getAtIndex(JAVA_INT, 1),
                ints.getAtIndex(JAVA_INT, 2));
    }

    static boolean isTrue(MethodHandle handle, Object... args) {
        return (int) call(handle, args) != 0;
    }
}
