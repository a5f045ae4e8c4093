package dev.panamadnn.bindgen;

import dev.panamadnn.bindgen.LibClang.Fn;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns object-like macros into constants by letting clang evaluate them, never by reading
 * tokens: a synthetic file includes the headers and declares
 * {@code __auto_type pdnn_macro_NAME = NAME;} per macro, and clang_Cursor_Evaluate gives the
 * value while the declared type gives the Java type. Pointer-valued macros (like
 * {@code ((void *)(size_t)-1)}) are evaluated again as {@code (long long)(NAME)}: they become
 * {@code MemorySegment.ofAddress(value)}, as in jextract.
 */
final class MacroEvaluator {
    private static final String PREFIX = "pdnn_macro_";
    private static final int EVAL_INT = 1;
    private static final int EVAL_FLOAT = 2;
    private static final int EVAL_STRING = 4;

    /** Evaluated constants, and for each macro that is not a constant, why. */
    record Outcome(Map<String, Decl.Constant> constants, Map<String, String> failures) {}

    private final String fileName;
    private final String prelude;
    private final List<String> clangArgs;

    MacroEvaluator(String fileName, String prelude, List<String> clangArgs) {
        this.fileName = fileName;
        this.prelude = prelude;
        this.clangArgs = clangArgs;
    }

    Outcome evaluate(List<Decl.Macro> macros) {
        Map<String, Decl.Constant> constants = new LinkedHashMap<>();
        Map<String, String> failures = new LinkedHashMap<>();
        List<Decl.Macro> pointers = new ArrayList<>();
        run(macros, "__auto_type %s = %s;", failures, (macro, var) -> {
            ClangType type = var.type().canonical();
            EvalResult r = EvalResult.of(var);
            if (r.kind == EVAL_STRING) {
                return constant(macro, Decl.Constant.Kind.STRING, r.string);
            } else if (type.kind() == ClangType.POINTER) {
                pointers.add(macro);
                return null;
            } else if (r.kind == EVAL_INT) {
                boolean wide = type.sizeOf() > 4;
                return constant(macro, wide ? Decl.Constant.Kind.LONG : Decl.Constant.Kind.INT, r.integer);
            } else if (r.kind == EVAL_FLOAT && type.kind() == ClangType.FLOAT) {
                return constant(macro, Decl.Constant.Kind.FLOAT, r.real);
            } else if (r.kind == EVAL_FLOAT && type.kind() == ClangType.DOUBLE) {
                return constant(macro, Decl.Constant.Kind.DOUBLE, r.real);
            }
            failures.put(macro.name(), "not a constant of a supported type (" + type.spelling() + ")");
            return null;
        }, constants);
        if (!pointers.isEmpty()) {
            run(pointers, "long long %s = (long long)(%s);", failures, (macro, var) -> {
                EvalResult r = EvalResult.of(var);
                if (r.kind == EVAL_INT) {
                    return constant(macro, Decl.Constant.Kind.ADDRESS, r.integer);
                }
                failures.put(macro.name(), "pointer value is not a constant address");
                return null;
            }, constants);
        }
        return new Outcome(constants, failures);
    }

    private interface Mapper {
        Decl.Constant map(Decl.Macro macro, Cursor var);
    }

    private void run(List<Decl.Macro> macros, String template, Map<String, String> failures, Mapper mapper,
            Map<String, Decl.Constant> constants) {
        StringBuilder source = new StringBuilder(prelude);
        int firstLine = (int) prelude.lines().count() + 1;
        Map<String, Decl.Macro> byVar = new LinkedHashMap<>();
        for (Decl.Macro m : macros) {
            source.append(template.formatted(PREFIX + m.name(), m.name())).append('\n');
            byVar.put(PREFIX + m.name(), m);
        }
        try (TranslationUnit tu = TranslationUnit.parse(fileName, source.toString(), clangArgs,
                TranslationUnit.SKIP_FUNCTION_BODIES)) {
            for (TranslationUnit.Diagnostic d : tu.diagnostics()) {
                int index = d.location().line() - firstLine;
                if (d.severity() >= TranslationUnit.SEVERITY_ERROR && d.location().file().equals(fileName)
                        && index >= 0 && index < macros.size()) {
                    failures.putIfAbsent(macros.get(index).name(), d.message());
                }
            }
            for (Cursor c : tu.cursor().children()) {
                Decl.Macro macro = c.kind() == Cursor.VAR_DECL ? byVar.get(c.spelling()) : null;
                if (macro != null && !failures.containsKey(macro.name())) {
                    Decl.Constant constant = mapper.map(macro, c);
                    if (constant != null) {
                        constants.put(macro.name(), constant);
                    }
                }
            }
        }
    }

    private static Decl.Constant constant(Decl.Macro m, Decl.Constant.Kind kind, Object value) {
        return new Decl.Constant(m.name(), kind, value, null, m.location(), m.cText());
    }

    /** One clang_Cursor_Evaluate result, copied out and disposed. */
    private record EvalResult(int kind, long integer, double real, String string) {
        static EvalResult of(Cursor var) {
            var result = (java.lang.foreign.MemorySegment) LibClang.call(Fn.evaluate, var.segment());
            if (result.equals(java.lang.foreign.MemorySegment.NULL)) {
                return new EvalResult(0, 0, 0, null);
            }
            try {
                int kind = (int) LibClang.call(Fn.evalGetKind, result);
                return switch (kind) {
                    case EVAL_INT -> new EvalResult(kind, (long) LibClang.call(Fn.evalGetAsLongLong, result), 0, null);
                    case EVAL_FLOAT -> new EvalResult(kind, 0, (double) LibClang.call(Fn.evalGetAsDouble, result), null);
                    case EVAL_STRING -> new EvalResult(kind, 0, 0,
                            LibClang.cString((java.lang.foreign.MemorySegment) LibClang.call(Fn.evalGetAsStr, result)));
                    default -> new EvalResult(kind, 0, 0, null);
                };
            } finally {
                LibClang.call(Fn.evalDispose, result);
            }
        }
    }
}
