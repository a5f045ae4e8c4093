package dev.panamadnn.bindgen;

/**
 * Writes one class per struct or union, jextract style: {@code layout()}, {@code sizeof()},
 * {@code allocate}, {@code allocateArray}, {@code asSlice}, {@code reinterpret}, and per field
 * a getter, a setter, {@code name$layout()} and {@code name$offset()} (offsets are clang's).
 * Array and nested struct fields are slices; 1-D arrays of scalars also get indexed accessors.
 * A typedef of a struct that has its own class becomes an empty subclass, as in jextract.
 */
final class StructEmitter {
    private final GenContext ctx;
    private final TypeMapper mapper;

    StructEmitter(GenContext ctx) {
        this.ctx = ctx;
        this.mapper = ctx.mapper();
    }

    /** A class for a typedef naming a struct that already has its class. */
    String subclass(String className, String superclass, String cText) {
        JavaWriter w = ctx.writer();
        w.line("import java.lang.foreign.*;").blank();
        w.javadocWithC(null, cText);
        w.open("public class " + className + " extends " + superclass + " {");
        w.open(className + "() {").line("// static members only").close("}");
        w.close("}");
        return w.toString();
    }

    String emit(String className, Decl.Struct s, String cText) {
        String layout = mapper.groupLayout(s, true, "    "); // validates every field first
        JavaWriter w = ctx.writer();
        w.line("import static java.lang.foreign.MemoryLayout.PathElement.groupElement;").blank();
        w.line("import java.lang.foreign.*;");
        w.line("import java.util.Objects;");
        w.line("import java.util.function.Consumer;").blank();
        w.javadocWithC(null, cText);
        w.line("@SuppressWarnings(\"restricted\")").open("public class " + className + " {");
        w.open(className + "() {").line("// static members only; typedefs of this " + s.kindName() + " subclass it")
                .close("}");
        w.blank().line("private static final GroupLayout $LAYOUT = " + layout + ";");
        w.blank().javadoc("The layout of this " + s.kindName() + ".");
        w.open("public static final GroupLayout layout() {").line("return $LAYOUT;").close("}");
        for (Decl.Field f : s.fields()) {
            field(w, f);
        }
        helpers(w, s.kindName());
        w.close("}");
        return w.toString();
    }

    private void field(JavaWriter w, Decl.Field f) {
        String n = JavaWriter.identifier(f.name());
        String layoutClass = mapper.layoutClass(f.type());
        String offset = n + "$OFFSET";
        String fieldLayout = n + "$LAYOUT";
        w.blank().line("private static final " + layoutClass + " " + fieldLayout + " = (" + layoutClass
                + ") $LAYOUT.select(groupElement(\"" + f.name() + "\"));");
        w.blank().javadocWithC("Layout for field:", f.cText());
        w.open("public static final " + layoutClass + " " + n + "$layout() {").line("return " + fieldLayout + ";")
                .close("}");
        w.blank().line("private static final long " + offset + " = " + f.offsetBits() / 8 + "L;");
        w.blank().javadocWithC("Offset for field:", f.cText());
        w.open("public static final long " + n + "$offset() {").line("return " + offset + ";").close("}");

        if (f.type() instanceof CType.Prim || f.type() instanceof CType.Pointer) {
            String carrier = mapper.carrier(f.type());
            w.blank().javadocWithC("Getter for field:", f.cText());
            w.open("public static " + carrier + " " + n + "(MemorySegment struct) {")
                    .line("return struct.get(" + fieldLayout + ", " + offset + ");").close("}");
            w.blank().javadocWithC("Setter for field:", f.cText());
            w.open("public static void " + n + "(MemorySegment struct, " + carrier + " fieldValue) {")
                    .line("struct.set(" + fieldLayout + ", " + offset + ", fieldValue);").close("}");
            return;
        }
        // Arrays and nested structs: the getter is a view, the setter copies the whole field.
        w.blank().javadocWithC("Getter for field (a slice of {@code struct}, not a copy):", f.cText());
        w.open("public static MemorySegment " + n + "(MemorySegment struct) {")
                .line("return struct.asSlice(" + offset + ", " + fieldLayout + ".byteSize());").close("}");
        w.blank().javadocWithC("Setter for field (copies the whole field):", f.cText());
        w.open("public static void " + n + "(MemorySegment struct, MemorySegment fieldValue) {")
                .line("MemorySegment.copy(fieldValue, 0L, struct, " + offset + ", " + fieldLayout + ".byteSize());")
                .close("}");
        if (f.type() instanceof CType.Array a && a.count() > 0
                && (a.element() instanceof CType.Prim || a.element() instanceof CType.Pointer)) {
            String carrier = mapper.carrier(a.element());
            String elem = mapper.layout(a.element());
            String at = offset + " + Objects.checkIndex(index, " + a.count() + "L) * " + elem + ".byteSize()";
            w.blank().javadocWithC("Indexed getter for field:", f.cText());
            w.open("public static " + carrier + " " + n + "(MemorySegment struct, long index) {")
                    .line("return struct.get(" + elem + ", " + at + ");").close("}");
            w.blank().javadocWithC("Indexed setter for field:", f.cText());
            w.open("public static void " + n + "(MemorySegment struct, long index, " + carrier + " fieldValue) {")
                    .line("struct.set(" + elem + ", " + at + ", fieldValue);").close("}");
        }
    }

    private static void helpers(JavaWriter w, String kind) {
        w.blank().javadoc("Element {@code index} of an array of this " + kind + ".");
        w.open("public static MemorySegment asSlice(MemorySegment array, long index) {")
                .line("return array.asSlice(layout().byteSize() * index, layout().byteSize());").close("}");
        w.blank().javadoc("The size of this " + kind + " in bytes.");
        w.open("public static long sizeof() {").line("return layout().byteSize();").close("}");
        w.blank().javadoc("Allocates one " + kind + " (zeroed if the allocator zeroes, as arenas do).");
        w.open("public static MemorySegment allocate(SegmentAllocator allocator) {")
                .line("return allocator.allocate(layout());").close("}");
        w.blank().javadoc("Allocates an array of {@code elementCount} of this " + kind + ".");
        w.open("public static MemorySegment allocateArray(long elementCount, SegmentAllocator allocator) {")
                .line("return allocator.allocate(MemoryLayout.sequenceLayout(elementCount, layout()));").close("}");
        w.blank().javadoc("Gives a native pointer to one " + kind + " its size, arena and cleanup.");
        w.open("public static MemorySegment reinterpret(MemorySegment addr, Arena arena, Consumer<MemorySegment> cleanup) {")
                .line("return reinterpret(addr, 1, arena, cleanup);").close("}");
        w.blank().javadoc("Gives a native pointer to {@code elementCount} of this " + kind + " their size, arena and cleanup.");
        w.open("public static MemorySegment reinterpret(MemorySegment addr, long elementCount, Arena arena, "
                + "Consumer<MemorySegment> cleanup) {")
                .line("return addr.reinterpret(layout().byteSize() * elementCount, arena, cleanup);").close("}");
    }
}
