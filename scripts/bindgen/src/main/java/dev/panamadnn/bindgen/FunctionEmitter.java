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
 *
 * <p><b>Shared downcall shapes</b> (a scripts/bindgen extension): where the x86-64 System V
 * calling convention makes it exact ({@link SharedShape}), {@code name(...)} calls the function
 * through one of a few address-taking downcall handles shared by every function of its shape,
 * not through a handle of its own: each distinct {@code FunctionDescriptor} costs a fresh JVM
 * 5-15 ms to link and first call (generated classes and stubs), and the ~100 functions of
 * bindings/ (dnnl_h, cblas_h) have ~65 distinct ones. {@code name$handle()} still links the exact descriptor, on first use.
 */
final class FunctionEmitter {
    private final TypeMapper mapper;
    /** The shared shapes the emitted functions call through, each with whether a critical variant uses it. */
    private final java.util.TreeMap<SharedShape, Boolean> sharedShapes = new java.util.TreeMap<>();

    FunctionEmitter(TypeMapper mapper) {
        this.mapper = mapper;
    }

    /** The shared shapes used so far: shape to whether it is also called with {@code critical(true)}. */
    java.util.SortedMap<SharedShape, Boolean> sharedShapes() {
        return java.util.Collections.unmodifiableSortedMap(sharedShapes);
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
        SharedShape shared = SharedShape.of(sig);
        if (shared != null) {
            sharedShapes.merge(shared, critical, Boolean::logicalOr);
        }
        String desc = sig.result() instanceof CType.Void
                ? "FunctionDescriptor.ofVoid(" + String.join(", ", layouts) + ")"
                : "FunctionDescriptor.of(" + String.join(", ", prepend(mapper.argumentLayout(sig.result()), layouts))
                        + ")";

        w.blank().open("private static final class " + name + " {");
        w.line("static final FunctionDescriptor DESC = " + desc + ";");
        w.line("static final MemorySegment ADDR = findOrNull(\"" + name + "\");");
        String holder = name;
        if (shared != null) {   // the exact handles in a holder of their own: linked only if asked for
            holder = name + ".Exact";
            w.open("static final class Exact {");
        }
        w.line("static final MethodHandle HANDLE = downcallOrNull(ADDR, DESC);");
        if (critical) {
            w.line("static final MethodHandle CRITICAL_HANDLE = downcallOrNull(ADDR, DESC, Linker.Option.critical(true));");
        }
        if (shared != null) {
            w.close("}");
        }
        w.close("}");

        String decl = f.cText();
        w.blank().javadocWithC("Function descriptor for:", decl);
        w.open("public static FunctionDescriptor " + name + "$descriptor() {").line("return " + name + ".DESC;").close("}");
        w.blank().javadoc("Downcall method handle for:", "", JavaWriter.snippet(decl), "",
                "@throws UnsatisfiedLinkError if the library does not export {@code " + name + "}");
        w.open("public static MethodHandle " + name + "$handle() {")
                .line("return require(" + holder + ".HANDLE, \"" + name + "\");").close("}");
        w.blank().javadoc("Address for:", "", JavaWriter.snippet(decl), "",
                "@throws UnsatisfiedLinkError if the library does not export {@code " + name + "}");
        w.open("public static MemorySegment " + name + "$address() {")
                .line("return require(" + name + ".ADDR, \"" + name + "\");").close("}");

        w.blank().javadoc(JavaWriter.snippet(decl), "",
                "@throws UnsatisfiedLinkError if the library does not export {@code " + name + "}");
        invoker(w, ret, name, params, args, name + "$handle()", shared == null ? null : shared.call(false, name, sig, args));
        if (critical) {
            w.blank().javadoc("Like {@link #" + name + "}, through a critical downcall ({@code Linker.Option.critical(true)}):",
                    "heap segments ({@code MemorySegment.ofArray}) may be passed. Only for short calls that",
                    "never call back into Java.", "", JavaWriter.snippet(decl), "",
                    "@throws UnsatisfiedLinkError if the library does not export {@code " + name + "}");
            invoker(w, ret, name + "$critical", params, args,
                    "require(" + holder + ".CRITICAL_HANDLE, \"" + name + "\")", shared == null ? null : shared.call(true, name, sig, args));
        }
    }

    /**
     * The public wrapper: through the function's own handle ({@code handle}), or, with a
     * {@code sharedCall}, through its shared shape unless {@code SHARED_DOWNCALLS} is off.
     */
    private static void invoker(JavaWriter w, String ret, String method, List<String> params, List<String> args,
            String handle, String sharedCall) {
        w.open("public static " + ret + " " + method + "(" + String.join(", ", params) + ") {");
        if (sharedCall != null) {
            w.open("if (SHARED_DOWNCALLS) {");
            guarded(w, SharedShape.statement(ret, sharedCall));
            w.close("}");
        }
        w.line("var mh$ = " + handle + ";");
        String call = "mh$.invokeExact(" + String.join(", ", args) + ")";
        guarded(w, ret.equals("void") ? call + ";" : "return (" + ret + ") " + call + ";");
        w.close("}");
    }

    private static void guarded(JavaWriter w, String statement) {
        w.open("try {");
        w.line(statement);
        w.middle("} catch (Error | RuntimeException ex$) {").line("throw ex$;");
        w.middle("} catch (Throwable ex$) {").line("throw new AssertionError(\"should not reach here\", ex$);");
        w.close("}");
    }

    private static List<String> prepend(String first, List<String> rest) {
        List<String> all = new ArrayList<>();
        all.add(first);
        all.addAll(rest);
        return all;
    }
}
