package dev.panamadnn.bindgen;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/** Runs the whole pipeline: parse, select, emit, write. The API entry point the tests use. */
public final class Generator {
    private Generator() {}

    /**
     * Generates the sources for {@code args} (same syntax as the command line).
     *
     * @return the Java files written, relative to the output directory, in sorted order
     *         (empty after {@code --dump-includes})
     * @throws BindgenException for any problem with the input, naming the symbol and where
     */
    public static List<Path> run(String... args) {
        Options o = Options.parse(List.of(args));
        Frontend frontend = new Frontend(o);
        Declarations decls = frontend.parse();
        if (o.dumpIncludes() != null) {
            write(o.dumpIncludes(), IncludeDumper.dump(decls, frontend));
            return List.of();
        }
        Map<String, String> files = emit(o, decls, frontend);
        Path dir = o.targetPackage().isEmpty() ? o.output() : o.output().resolve(o.targetPackage().replace('.', '/'));
        List<Path> written = new ArrayList<>();
        for (Map.Entry<String, String> file : files.entrySet()) {
            write(dir.resolve(file.getKey()), file.getValue());
            written.add(o.output().relativize(dir.resolve(file.getKey())));
        }
        return written;
    }

    /** File name to content, sorted by name. */
    static Map<String, String> emit(Options o, Declarations decls, Frontend frontend) {
        Selection sel = new Selection(o, decls, frontend);
        List<String> errors = new ArrayList<>(sel.errors);
        GenContext ctx = new GenContext(o.targetPackage(), o.headerClassName(), frontend.headerNames, decls,
                sel.layoutClasses, o.symbolLookup());
        Map<String, String> files = new TreeMap<>();
        StructEmitter structs = new StructEmitter(ctx);
        for (Selection.StructClass sc : sel.structClasses) {
            tryEmit(errors, files, sc.className(), () -> sc.superclass() == null
                    ? structs.emit(sc.className(), sc.struct(), sc.cText())
                    : structs.subclass(sc.className(), sc.superclass(), sc.cText()));
        }
        FunctionPointerEmitter pointers = new FunctionPointerEmitter(ctx);
        sel.functionPointers.forEach((t, sig) -> tryEmit(errors, files, t.name(), () -> pointers.emit(t, sig)));
        Set<String> functionNames = new HashSet<>();
        sel.functions.forEach(f -> functionNames.add(f.name()));
        HeaderClassEmitter header = new HeaderClassEmitter(ctx, functionNames);
        tryEmit(errors, files, o.headerClassName(),
                () -> header.emit(sel.layoutTypedefs, sel.constants, sel.functions, o.criticalFunctions()));
        if (!errors.isEmpty()) {
            throw new BindgenException(errors.size() + " problem(s) in the include list for " + frontend.headerNames
                    + ":\n  " + String.join("\n  ", errors));
        }
        return files;
    }

    private interface Source {
        String get();
    }

    private static void tryEmit(List<String> errors, Map<String, String> files, String className, Source source) {
        try {
            if (files.put(className + ".java", source.get()) != null) {
                errors.add("two generated classes are named " + className);
            }
        } catch (BindgenException e) {
            errors.add(e.getMessage());
        }
    }

    private static void write(Path file, String content) {
        try {
            if (file.getParent() != null) {
                Files.createDirectories(file.getParent());
            }
            Files.writeString(file, content, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }
}
