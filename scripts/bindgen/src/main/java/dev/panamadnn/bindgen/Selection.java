package dev.panamadnn.bindgen;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Resolves the include lists to declarations. Every problem (missing symbol, function-like
 * macro, opaque struct, global variable...) is collected, so one run reports them all.
 */
final class Selection {
    /** A struct class: {@code superclass} is set for a typedef of a struct with its own class. */
    record StructClass(String className, Decl.Struct struct, String superclass, String cText) {}

    final List<Decl.Function> functions = new ArrayList<>();
    final List<Decl.Constant> constants = new ArrayList<>();
    final List<Decl.Typedef> layoutTypedefs = new ArrayList<>();
    final Map<Decl.Typedef, CType.FunctionSig> functionPointers = new LinkedHashMap<>();
    final List<StructClass> structClasses = new ArrayList<>();
    /** Struct USR to the class whose layout() other code references. */
    final Map<String, String> layoutClasses = new LinkedHashMap<>();
    final List<String> errors = new ArrayList<>();

    Selection(Options o, Declarations decls, Frontend frontend) {
        Map<Options.Kind, Set<String>> inc = o.includes();
        for (String name : inc.get(Options.Kind.FUNCTION)) {
            add(functions, decls.functions.get(name), "--include-function " + name + ": no function of that name");
        }
        constants(inc.get(Options.Kind.CONSTANT), decls, frontend);
        for (String name : inc.get(Options.Kind.STRUCT)) {
            struct(decls.struct(name, false), "struct", name);
        }
        for (String name : inc.get(Options.Kind.UNION)) {
            struct(decls.struct(name, true), "union", name);
        }
        // In header order, so which typedef of a struct gets the class never depends on list order.
        Comparator<Decl> headerOrder = headerOrder(decls);
        List<String> typedefNames = new ArrayList<>(inc.get(Options.Kind.TYPEDEF));
        typedefNames.sort(Comparator.comparing((String n) -> decls.typedefs.get(n), Comparator.nullsLast(headerOrder))
                .thenComparing(Comparator.naturalOrder()));
        for (String name : typedefNames) {
            typedef(decls.typedefs.get(name), name, decls);
        }
        for (String name : inc.get(Options.Kind.VAR)) {
            Decl.Var v = decls.vars.get(name);
            errors.add(v == null ? "--include-var " + name + ": no global variable of that name"
                    : "--include-var " + name + ": global variable at " + v.location()
                            + " is not supported (bind a function that returns it instead)");
        }
        for (String name : o.criticalFunctions()) {
            if (!inc.get(Options.Kind.FUNCTION).contains(name)) {
                errors.add("--critical-function " + name + ": not listed with --include-function");
            }
        }
        functions.sort(headerOrder);
        constants.sort(headerOrder);
        layoutTypedefs.sort(headerOrder);
    }

    private void constants(Set<String> names, Declarations decls, Frontend frontend) {
        List<Decl.Macro> macros = new ArrayList<>();
        for (String name : names) {
            Decl.Constant c = decls.constants.get(name);
            Decl.Macro m = decls.macros.get(name);
            if (c != null) {
                constants.add(c);
            } else if (m == null) {
                errors.add("--include-constant " + name + ": no enum constant or macro of that name");
            } else if (m.functionLike()) {
                errors.add("--include-constant " + name + ": " + m.location()
                        + " is a function-like macro, which has no value to bind");
            } else {
                macros.add(m);
            }
        }
        if (macros.isEmpty()) {
            return;
        }
        MacroEvaluator.Outcome outcome = frontend.macroEvaluator().evaluate(macros);
        for (Decl.Macro m : macros) {
            Decl.Constant c = outcome.constants().get(m.name());
            if (c != null) {
                constants.add(c);
            } else {
                errors.add("--include-constant " + m.name() + ": macro at " + m.location()
                        + " is not a constant: " + outcome.failures().getOrDefault(m.name(), "no value"));
            }
        }
    }

    private void struct(Decl.Struct s, String kind, String name) {
        if (s == null) {
            errors.add("--include-" + kind + " " + name + ": no " + kind + " of that name");
        } else if (!s.complete()) {
            errors.add("--include-" + kind + " " + name + ": " + s.location()
                    + " is only declared (opaque), so it has no layout; bind a pointer typedef instead");
        } else if (layoutClasses.putIfAbsent(s.usr(), name) == null) {
            structClasses.add(new StructClass(name, s, null, s.cText()));
        }
    }

    private void typedef(Decl.Typedef t, String name, Declarations decls) {
        if (t == null) {
            errors.add("--include-typedef " + name + ": no typedef of that name");
            return;
        }
        switch (t.target()) {
            case CType.Pointer p when p.function() != null -> functionPointers.put(t, p.function());
            case CType.FunctionSig f -> functionPointers.put(t, f);
            case CType.Prim p -> layoutTypedefs.add(t);
            case CType.Pointer p -> layoutTypedefs.add(t);
            case CType.Array a -> layoutTypedefs.add(t);
            case CType.Record r -> {
                Decl.Struct s = decls.structsByUsr.get(r.usr());
                String existing = layoutClasses.get(r.usr());
                if (s == null || !s.complete()) {
                    errors.add("--include-typedef " + name + ": " + t.location() + " names " + r.spelling()
                            + ", which is only declared (opaque); bind a pointer typedef instead");
                } else if (existing == null) {
                    layoutClasses.put(r.usr(), name);
                    structClasses.add(new StructClass(name, s, null, t.cText()));
                } else if (!existing.equals(name)) {
                    structClasses.add(new StructClass(name, s, existing, t.cText()));
                }
            }
            default -> errors.add("--include-typedef " + name + ": " + t.location() + " names "
                    + describe(t.target()) + ", which has no layout");
        }
    }

    private static String describe(CType type) {
        return type instanceof CType.Unsupported u ? "'" + u.spelling() + "'" : "void";
    }

    private <D extends Decl> void add(List<D> list, D decl, String error) {
        if (decl == null) {
            errors.add(error);
        } else {
            list.add(decl);
        }
    }

    private static Comparator<Decl> headerOrder(Declarations decls) {
        Map<Decl, Integer> position = new IdentityHashMap<>();
        List<Decl> all = decls.all();
        for (int i = 0; i < all.size(); i++) {
            position.put(all.get(i), i);
        }
        // Evaluated macros are new objects: they sort by their macro's position.
        return Comparator.comparingInt(d -> position.getOrDefault(d,
                position.getOrDefault(decls.macros.get(d.name()), Integer.MAX_VALUE)));
    }
}
