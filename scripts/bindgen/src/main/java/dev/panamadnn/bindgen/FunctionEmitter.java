package dev.panamadnn.bindgen;

import java.util.ArrayList;
import java.util.List;

/**
 * Writes one C function into the header class, jextract style: a private holder class whose
 * DESC/ADDR/HANDLE are resolved on first use, then {@code name$descriptor()},
 * {@code name$handle()}, {@code name$address()} and {@code name(...)}; with
 * {@code --critical-function} also {@code name$critical(...)}.
 *
 * <p>A symbol missing from the library leaves ADDR null instead of failing the holder's
 * initialisation, so each call throws the same {@link UnsatisfiedLinkError} rather than a
 * one-time ExceptionInInitializerError followed by NoClassDefFoundErrors.
 */
final class FunctionEmitter {
    private final TypeMapper mapper;

    FunctionEmitter(TypeMapper mapper) {
        this.mapper = mapper;
    }

    void emit(JavaWriter w, Decl.Function f, boolean critical) {
        if (f.type().variadic()) {
            throw new BindgenException("function " + f.name() + " at " + f.location()
                    + " is variadic, which is not supported");
        }
        String name = f.name();
        CType.FunctionSig sig = f.type();
        String ret;
        List<String> layouts = new ArrayList<>();
        List<String> params = new ArrayList<>();
        List<String> args = new ArrayList<>();
        try {
            ret = mapper.carrier(sig.result());
            boolean byValueReturn = sig.result() instanceof CType.Record;
            if (byValueReturn) {
                params.add("SegmentAllocator allocator");
                args.add("allocator");
            }
            for (int i = 0; i < sig.params().size(); i++) {
                CType p = sig.params().get(i);
                String cName = i < f.paramNames().size() ? f.paramNames().get(i) : "";
                String javaName = cName.isEmpty() ? "x" + i : JavaWriter.identifier(cName);
                if (byValueReturn && javaName.equals("allocator")) {
                    javaName = "allocator_";
                }
                layouts.add(mapper.argumentLayout(p));
                params.add((p instanceof CType.Array ? "MemorySegment" : mapper.carrier(p)) + " " + javaName);
                args.add(javaName);
            }
        } catch (BindgenException e) {
            throw new BindgenException("function " + name + " at " + f.location() + ": " + e.getMessage());
        }
        String desc = sig.result() instanceof CType.Void
                ? "FunctionDescriptor.ofVoid(" + String.join(", ", layouts) + ")"
                : "FunctionDescriptor.of(" + String.join(", ", prepend(mapper.argumentLayout(sig.result()), layouts))
                        + ")";

        w.blank().open("private static final class " + name + " {");
        w.line("static final FunctionDescriptor DESC = " + desc + ";");
        w.line("static final MemorySegment ADDR = findOrNull(\"" + name + "\");");
        w.line("static final MethodHandle HANDLE = downcallOrNull(ADDR, DESC);");
        if (critical) {
            w.line("static final MethodHandle CRITICAL_HANDLE = downcallOrNull(ADDR, DESC, Linker.Option.critical(true));");
        }
        w.close("}");

        String decl = f.cText();
        w.blank().javadocWithC("Function descriptor for:", decl);
        w.open("public static FunctionDescriptor " + name + "$descriptor() {").line("return " + name + ".DESC;").close("}");
        w.blank().javadoc("Downcall method handle for:", "", JavaWriter.snippet(decl), "",
                "@throws UnsatisfiedLinkError if the library does not export {@code " + name + "}");
        w.open("public static MethodHandle " + name + "$handle() {")
                .line("return require(" + name + ".HANDLE, \"" + name + "\");").close("}");
        w.blank().javadoc("Address for:", "", JavaWriter.snippet(decl), "",
                "@throws UnsatisfiedLinkError if the library does not export {@code " + name + "}");
        w.open("public static MemorySegment " + name + "$address() {")
                .line("return require(" + name + ".ADDR, \"" + name + "\");").close("}");

        w.blank().javadoc(JavaWriter.snippet(decl), "",
                "@throws UnsatisfiedLinkError if the library does not export {@code " + name + "}");
        invoker(w, ret, name, params, args, name + "$handle()");
        if (critical) {
            w.blank().javadoc("Like {@link #" + name + "}, through a critical downcall ({@code Linker.Option.critical(true)}):",
                    "heap segments ({@code MemorySegment.ofArray}) may be passed. Only for short calls that",
                    "never call back into Java.", "", JavaWriter.snippet(decl), "",
                    "@throws UnsatisfiedLinkError if the library does not export {@code " + name + "}");
            invoker(w, ret, name + "$critical", params, args,
                    "require(" + name + ".CRITICAL_HANDLE, \"" + name + "\")");
        }
    }

    private static void invoker(JavaWriter w, String ret, String method, List<String> params, List<String> args,
            String handle) {
        w.open("public static " + ret + " " + method + "(" + String.join(", ", params) + ") {");
        w.line("var mh$ = " + handle + ";");
        String call = "mh$.invokeExact(" + String.join(", ", args) + ")";
        w.open("try {");
        w.line(ret.equals("void") ? call + ";" : "return (" + ret + ") " + call + ";");
        w.middle("} catch (Error | RuntimeException ex$) {").line("throw ex$;");
        w.middle("} catch (Throwable ex$) {").line("throw new AssertionError(\"should not reach here\", ex$);");
        w.close("}");
        w.close("}");
    }

    private static List<String> prepend(String first, List<String> rest) {
        List<String> all = new ArrayList<>();
        all.add(first);
        all.addAll(rest);
        return all;
    }
}
