package dev.panamadnn.bindgen;

import java.util.ArrayList;
import java.util.List;

/** Walks a translation unit's top-level cursors into {@link Declarations}. */
final class HeaderParser {
    private final Declarations decls = new Declarations();

    private HeaderParser() {}

    static Declarations parse(TranslationUnit tu) {
        HeaderParser parser = new HeaderParser();
        for (Cursor c : tu.cursor().children()) {
            parser.topLevel(c);
        }
        return parser.decls;
    }

    private void topLevel(Cursor c) {
        switch (c.kind()) {
            case Cursor.MACRO_DEFINITION -> macro(c);
            case Cursor.FUNCTION_DECL -> function(c);
            case Cursor.STRUCT_DECL, Cursor.UNION_DECL -> struct(c);
            case Cursor.ENUM_DECL -> enumConstants(c);
            case Cursor.TYPEDEF_DECL -> typedef(c);
            case Cursor.VAR_DECL -> decls.add(new Decl.Var(c.spelling(), type(c.type()), c.location(), text(c)));
            default -> { } // inclusion directives, macro expansions, static asserts: nothing to bind
        }
    }

    private void macro(Cursor c) {
        if (c.isMacroBuiltin()) {
            return;
        }
        String name = c.spelling();
        String text = text(c);
        // The extent is "NAME body" or "NAME(args) body"; the body is what follows the name (and args).
        String rest = text.startsWith(name) ? text.substring(name.length()) : "";
        if (c.isMacroFunctionLike()) {
            rest = rest.substring(Math.min(rest.length(), rest.indexOf(')') + 1));
        }
        decls.add(new Decl.Macro(name, c.isMacroFunctionLike(), rest.strip(), c.location(), "#define " + text));
    }

    private void function(Cursor c) {
        List<String> names = new ArrayList<>();
        for (Cursor arg : c.arguments()) {
            names.add(arg.spelling());
        }
        // K&R "int f();" has no prototype: its parameters are unknown, so no descriptor can be right.
        CType.FunctionSig sig = type(c.type()) instanceof CType.FunctionSig proto ? proto
                : new CType.FunctionSig(CType.VOID, List.of(new CType.Unsupported("function without prototype")), false);
        decls.add(new Decl.Function(c.spelling(), sig, names, c.location(), text(c)));
    }

    private void struct(Cursor c) {
        String name = c.isAnonymous() ? null : c.spelling();
        if (!c.isDefinition()) {
            decls.add(new Decl.Struct(c.usr(), name, c.kind() == Cursor.UNION_DECL, false, -1, -1, List.of(),
                    c.location(), text(c)));
            return;
        }
        List<Decl.Field> fields = new ArrayList<>();
        for (Cursor child : c.children()) {
            if (child.kind() == Cursor.STRUCT_DECL || child.kind() == Cursor.UNION_DECL) {
                struct(child); // a struct defined inside another is still a file-scope type in C
            } else if (child.kind() == Cursor.FIELD_DECL) {
                ClangType t = child.type();
                boolean anonymousMember = child.spelling().isEmpty()
                        || (t.canonical().kind() == ClangType.RECORD && t.canonical().declaration().isAnonymousRecordDecl());
                fields.add(new Decl.Field(child.spelling(), type(t), child.fieldOffsetBits(), t.sizeOf(), t.alignOf(),
                        child.isBitField(), anonymousMember, child.location(), text(child)));
            }
        }
        ClangType t = c.type();
        decls.add(new Decl.Struct(c.usr(), name, c.kind() == Cursor.UNION_DECL, true, t.sizeOf(), t.alignOf(),
                List.copyOf(fields), c.location(), text(c)));
    }

    private void enumConstants(Cursor c) {
        ClangType integer = c.enumIntegerType().canonical();
        Decl.Constant.Kind kind = integer.sizeOf() > 4 ? Decl.Constant.Kind.LONG : Decl.Constant.Kind.INT;
        String enumName = c.isAnonymous() ? "<anonymous>" : c.spelling();
        for (Cursor k : c.children()) {
            if (k.kind() == Cursor.ENUM_CONSTANT_DECL) {
                long value = k.enumConstantValue();
                decls.add(new Decl.Constant(k.spelling(), kind, value, enumName, k.location(),
                        "enum " + enumName + "." + k.spelling() + " = " + value));
            }
        }
    }

    private void typedef(Cursor c) {
        List<String> params = new ArrayList<>();
        for (Cursor child : c.children()) {
            if (child.kind() == Cursor.PARM_DECL) {
                params.add(child.spelling());
            }
        }
        decls.add(new Decl.Typedef(c.spelling(), type(c.typedefUnderlyingType()), List.copyOf(params), c.location(),
                text(c)));
    }

    /** Maps a clang type to the layout-relevant {@link CType}; never throws, see {@link CType.Unsupported}. */
    static CType type(ClangType declared) {
        ClangType t = declared.canonical();
        return switch (t.kind()) {
            case ClangType.VOID -> CType.VOID;
            case ClangType.BOOL -> CType.Prim.BOOL;
            case ClangType.CHAR_U, ClangType.UCHAR, ClangType.CHAR_S, ClangType.SCHAR -> CType.Prim.CHAR;
            case ClangType.SHORT, ClangType.USHORT -> CType.Prim.SHORT;
            case ClangType.INT, ClangType.UINT -> CType.Prim.INT;
            case ClangType.LONG, ClangType.ULONG -> CType.Prim.LONG;
            case ClangType.LONGLONG, ClangType.ULONGLONG -> CType.Prim.LONG_LONG;
            case ClangType.FLOAT -> CType.Prim.FLOAT;
            case ClangType.DOUBLE -> CType.Prim.DOUBLE;
            case ClangType.ENUM -> type(t.declaration().enumIntegerType());
            case ClangType.POINTER -> {
                ClangType pointee = t.pointee().canonical();
                boolean isFunction = pointee.kind() == ClangType.FUNCTION_PROTO
                        || pointee.kind() == ClangType.FUNCTION_NO_PROTO;
                yield new CType.Pointer(isFunction && type(pointee) instanceof CType.FunctionSig sig ? sig : null);
            }
            case ClangType.CONSTANT_ARRAY -> new CType.Array(type(t.elementType()), t.arraySize());
            case ClangType.INCOMPLETE_ARRAY -> new CType.Array(type(t.elementType()), -1);
            case ClangType.RECORD -> new CType.Record(t.declaration().usr(), t.spelling());
            case ClangType.FUNCTION_PROTO -> {
                List<CType> params = new ArrayList<>();
                for (ClangType p : t.argTypes()) {
                    params.add(type(p));
                }
                yield new CType.FunctionSig(type(t.resultType()), List.copyOf(params), t.isVariadic());
            }
            case ClangType.FUNCTION_NO_PROTO -> new CType.Unsupported(declared.spelling() + " (no prototype)");
            default -> new CType.Unsupported(declared.spelling());
        };
    }

    private static String text(Cursor c) {
        String text = c.sourceText();
        return text != null ? text : c.spelling();
    }
}
