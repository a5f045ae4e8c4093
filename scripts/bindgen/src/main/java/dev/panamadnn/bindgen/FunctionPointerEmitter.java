package dev.panamadnn.bindgen;

import java.util.ArrayList;
import java.util.List;

/**
 * Writes the class for a function pointer typedef, jextract style: a functional interface
 * {@code Function}, {@code descriptor()}, {@code allocate(Function, Arena)} for an upcall
 * stub that C can call, and {@code invoke(funcPtr, ...)} to call a pointer C handed out.
 */
final class FunctionPointerEmitter {
    private final GenContext ctx;
    private final TypeMapper mapper;

    FunctionPointerEmitter(GenContext ctx) {
        this.ctx = ctx;
        this.mapper = ctx.mapper();
    }

    String emit(Decl.Typedef t, CType.FunctionSig sig) {
        String where = "function pointer typedef " + t.name() + " at " + t.location();
        if (sig.variadic()) {
            throw new BindgenException(where + " is variadic, which is not supported");
        }
        List<String> layouts = new ArrayList<>();
        List<String> params = new ArrayList<>();
        List<String> names = new ArrayList<>();
        String ret;
        String retLayout;
        try {
            ret = mapper.carrier(sig.result());
            retLayout = sig.result() instanceof CType.Void ? null : mapper.argumentLayout(sig.result());
            for (int i = 0; i < sig.params().size(); i++) {
                CType p = sig.params().get(i);
                String cName = i < t.paramNames().size() ? t.paramNames().get(i) : "";
                String name = cName.isEmpty() || cName.equals("funcPtr") || cName.equals("allocator")
                        ? "x" + i : JavaWriter.identifier(cName);
                layouts.add(mapper.argumentLayout(p));
                params.add((p instanceof CType.Array ? "MemorySegment" : mapper.carrier(p)) + " " + name);
                names.add(name);
            }
        } catch (BindgenException e) {
            throw new BindgenException(where + ": " + e.getMessage());
        }
        String desc = retLayout == null ? "FunctionDescriptor.ofVoid(" + String.join(", ", layouts) + ")"
                : "FunctionDescriptor.of(" + retLayout + (layouts.isEmpty() ? "" : ", ") + String.join(", ", layouts)
                        + ")";
        String cls = t.name();
        String header = ctx.headerClass();

        JavaWriter w = ctx.writer();
        w.line("import java.lang.foreign.*;");
        w.line("import java.lang.invoke.*;").blank();
        w.javadocWithC(null, t.cText());
        w.line("@SuppressWarnings(\"restricted\")").open("public class " + cls + " {");
        w.open(cls + "() {").line("// static members only").close("}");
        w.blank().javadoc("The function pointer signature, expressed as a functional interface.");
        w.open("public interface Function {").line(ret + " apply(" + String.join(", ", params) + ");").close("}");
        w.blank().line("private static final FunctionDescriptor $DESC = " + desc + ";");
        w.blank().javadoc("The descriptor of this function pointer.");
        w.open("public static FunctionDescriptor descriptor() {").line("return $DESC;").close("}");
        w.blank().line("private static final MethodHandle UP$MH = " + header + ".upcallHandle(" + cls
                + ".Function.class, \"apply\", $DESC);");
        w.blank().javadoc("An upcall stub calling {@code fi}, valid while {@code arena} is alive.");
        w.open("public static MemorySegment allocate(" + cls + ".Function fi, Arena arena) {")
                .line("return Linker.nativeLinker().upcallStub(UP$MH.bindTo(fi), $DESC, arena);").close("}");
        w.blank().line("private static final MethodHandle DOWN$MH = Linker.nativeLinker().downcallHandle($DESC);");
        boolean byValue = sig.result() instanceof CType.Record;
        List<String> invokeParams = new ArrayList<>(List.of("MemorySegment funcPtr"));
        List<String> invokeArgs = new ArrayList<>(List.of("funcPtr"));
        if (byValue) {
            invokeParams.add("SegmentAllocator allocator");
            invokeArgs.add("allocator");
        }
        invokeParams.addAll(params);
        invokeArgs.addAll(names);
        w.blank().javadoc("Calls the function at {@code funcPtr}.");
        w.open("public static " + ret + " invoke(" + String.join(", ", invokeParams) + ") {");
        String call = "DOWN$MH.invokeExact(" + String.join(", ", invokeArgs) + ")";
        w.open("try {").line(ret.equals("void") ? call + ";" : "return (" + ret + ") " + call + ";");
        w.middle("} catch (Error | RuntimeException ex$) {").line("throw ex$;");
        w.middle("} catch (Throwable ex$) {").line("throw new AssertionError(\"should not reach here\", ex$);");
        w.close("}");
        w.close("}");
        w.close("}");
        return w.toString();
    }
}
