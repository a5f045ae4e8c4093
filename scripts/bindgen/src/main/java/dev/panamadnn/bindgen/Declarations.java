package dev.panamadnn.bindgen;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Everything found in a translation unit, in header order (the order clang reports, which is
 * stable), indexed by kind and name. The first declaration of a name wins, except that a
 * struct's definition replaces an earlier forward declaration.
 */
final class Declarations {
    final Map<String, Decl.Function> functions = new LinkedHashMap<>();
    final Map<String, Decl.Constant> constants = new LinkedHashMap<>();
    final Map<String, Decl.Macro> macros = new LinkedHashMap<>();
    final Map<String, Decl.Struct> structsByUsr = new LinkedHashMap<>();
    final Map<String, Decl.Typedef> typedefs = new LinkedHashMap<>();
    final Map<String, Decl.Var> vars = new LinkedHashMap<>();
    private final List<Decl> all = new ArrayList<>();

    void add(Decl decl) {
        switch (decl) {
            case Decl.Function f -> putFirst(functions, f.name(), f);
            case Decl.Constant c -> putFirst(constants, c.name(), c);
            case Decl.Macro m -> putFirst(macros, m.name(), m);
            case Decl.Typedef t -> putFirst(typedefs, t.name(), t);
            case Decl.Var v -> putFirst(vars, v.name(), v);
            case Decl.Struct s -> {
                Decl.Struct old = structsByUsr.get(s.usr());
                if (old == null) {
                    structsByUsr.put(s.usr(), s);
                    all.add(s);
                } else if (!old.complete() && s.complete()) {
                    structsByUsr.put(s.usr(), s);
                    all.set(all.indexOf(old), s);
                }
            }
        }
    }

    private <D extends Decl> void putFirst(Map<String, D> map, String name, D decl) {
        if (map.putIfAbsent(name, decl) == null) {
            all.add(decl);
        }
    }

    List<Decl> all() {
        return Collections.unmodifiableList(all);
    }

    /** A named struct or union by tag (or by the typedef name of an anonymous one). */
    Decl.Struct struct(String name, boolean union) {
        Decl.Struct found = null;
        for (Decl.Struct s : structsByUsr.values()) {
            if (name.equals(s.name()) && s.union() == union && (found == null || s.complete())) {
                found = s;
            }
        }
        return found;
    }
}
