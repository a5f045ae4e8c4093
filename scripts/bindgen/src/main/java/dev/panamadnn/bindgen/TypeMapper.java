package dev.panamadnn.bindgen;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Maps {@link CType}s to Java: the layout expression (C_INT, C_POINTER, a struct's layout()),
 * the carrier type (int, MemorySegment...) and the layout class of a field. Throws
 * {@link BindgenException} for what FFM cannot carry; the caller adds which symbol it was.
 */
final class TypeMapper {
    private final String layoutPrefix;
    private final Declarations decls;
    private final Map<String, String> structClasses;
    private final String structPrefix;

    /**
     * @param layoutPrefix  "" inside the header class, "fixture_h." elsewhere
     * @param structClasses struct USR to the generated class that holds its layout; structs
     *                      not in it are laid out inline
     * @param structPrefix  "" or a package prefix where a simple class name could be shadowed
     */
    TypeMapper(String layoutPrefix, Declarations decls, Map<String, String> structClasses, String structPrefix) {
        this.layoutPrefix = layoutPrefix;
        this.decls = decls;
        this.structClasses = structClasses;
        this.structPrefix = structPrefix;
    }

    String layout(CType type) {
        return switch (type) {
            case CType.Prim p -> layoutPrefix + p.layout;
            case CType.Pointer p -> layoutPrefix + "C_POINTER";
            case CType.Array a -> "MemoryLayout.sequenceLayout(" + Math.max(0, a.count()) + "L, "
                    + layout(a.element()) + ")";
            case CType.Record r -> {
                String cls = structClasses.get(r.usr());
                yield cls != null ? structPrefix + cls + ".layout()" : groupLayout(struct(r), false, "");
            }
            case CType.Void v -> throw new BindgenException("'void' has no layout");
            case CType.FunctionSig f -> throw new BindgenException("a function type is not a value");
            case CType.Unsupported u -> throw unsupported(u);
        };
    }

    /** Parameters and return values: arrays decay to pointers as in C. */
    String argumentLayout(CType type) {
        return type instanceof CType.Array ? layoutPrefix + "C_POINTER" : layout(type);
    }

    String carrier(CType type) {
        return switch (type) {
            case CType.Prim p -> p.carrier;
            case CType.Void v -> "void";
            case CType.Pointer p -> "MemorySegment";
            case CType.Array a -> "MemorySegment";
            case CType.Record r -> "MemorySegment";
            case CType.FunctionSig f -> throw new BindgenException("a function type is not a value");
            case CType.Unsupported u -> throw unsupported(u);
        };
    }

    /** The static type of a field's layout constant. */
    String layoutClass(CType type) {
        return switch (type) {
            case CType.Prim p -> p.layoutClass;
            case CType.Pointer p -> "AddressLayout";
            case CType.Array a -> "SequenceLayout";
            case CType.Record r -> "GroupLayout";
            default -> {
                carrier(type); // throws the precise message for unsupported types
                throw new BindgenException("no layout for " + type);
            }
        };
    }

    /**
     * The struct or union layout with clang's offsets: explicit padding wherever clang's next
     * field offset is past the end of the previous one, and at the end up to sizeof.
     */
    String groupLayout(Decl.Struct s, boolean multiLine, String indent) {
        String where = s.kindName() + " " + (s.name() == null ? "<anonymous>" : s.name()) + " at " + s.location();
        if (!s.complete()) {
            throw new BindgenException(where + " is only declared (opaque): it has no layout");
        }
        List<String> members = new ArrayList<>();
        long position = 0;
        long naturalAlign = 1;
        for (Decl.Field f : s.fields()) {
            if (f.bitField()) {
                throw new BindgenException(where + ": bit-field '" + f.name() + "' (" + f.location()
                        + ") is not supported");
            }
            if (f.anonymousMember()) {
                throw new BindgenException(where + ": anonymous struct/union member at " + f.location()
                        + " is not supported");
            }
            long offset = f.offsetBits() / 8;
            if (!s.union() && offset > position) {
                members.add("MemoryLayout.paddingLayout(" + (offset - position) + "L)");
            }
            String member;
            try {
                member = layout(f.type());
            } catch (BindgenException e) {
                throw new BindgenException(where + ": field '" + f.name() + "': " + e.getMessage());
            }
            boolean misaligned = f.align() > 0 && offset % f.align() != 0; // packed structs
            members.add(member + ".withName(\"" + f.name() + "\")" + (misaligned ? ".withByteAlignment(1)" : ""));
            naturalAlign = Math.max(naturalAlign, misaligned ? 1 : f.align());
            position = s.union() ? Math.max(position, f.size()) : offset + f.size();
        }
        if (position < s.size()) {
            // FFM's linker wants a union's tail padding as one member spanning the whole union.
            long padding = s.union() ? s.size() : s.size() - position;
            members.add("MemoryLayout.paddingLayout(" + padding + "L)");
        }
        String sep = multiLine ? ",\n" + indent + "    " : ", ";
        String open = multiLine ? "(\n" + indent + "    " : "(";
        String close = multiLine ? "\n" + indent + ")" : ")";
        String result = "MemoryLayout." + (s.union() ? "unionLayout" : "structLayout") + open
                + String.join(sep, members) + close;
        if (s.name() != null) {
            result += ".withName(\"" + s.name() + "\")";
        }
        if (s.align() != naturalAlign) {
            result += ".withByteAlignment(" + s.align() + ")"; // aligned(N) or packed
        }
        return result;
    }

    Decl.Struct struct(CType.Record r) {
        Decl.Struct s = decls.structsByUsr.get(r.usr());
        if (s == null) {
            throw new BindgenException("no declaration found for " + r.spelling());
        }
        return s;
    }

    private static BindgenException unsupported(CType.Unsupported u) {
        return new BindgenException("type '" + u.spelling() + "' is not supported (FFM has no carrier for it)");
    }
}
